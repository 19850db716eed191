/**
 * Where the end-to-end suite runs. By default it starts the local runtime itself (emulators, handlers,
 * Firehose stand-ins) and stops it afterwards. With PDP_E2E_TARGET=external it uses whatever the standard
 * AWS variables and the PDP_* name variables point at (LocalStack after `cdklocal deploy`: see
 * localstack/run-e2e.sh) and starts nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRuntime, type RuntimeFaults } from '../../../local/runtime/local-runtime';
import { namesFromEnv, type Names } from '../../../scripts/verify/black-box';

export const EXTERNAL = process.env.PDP_E2E_TARGET === 'external';

export interface Target {
  names: Names;
  /** How long to wait for the pipeline to converge (windows, Firehose buffers). */
  settleMs: number;
  /** The local runtime, when the suite started one (fault-injection tests need it). */
  local?: LocalRuntime;
  stop(): Promise<void>;
}

export async function startTarget(options: { faults?: RuntimeFaults; windowSeconds?: number } = {}): Promise<Target> {
  if (EXTERNAL) {
    // Deployed defaults: 30 s windows and 60 s Firehose buffers, plus LocalStack's own delays.
    const settleMs = Number(process.env.PDP_E2E_SETTLE_SECONDS ?? 240) * 1000;
    return { names: namesFromEnv(), settleMs, stop: async () => undefined };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'pdp-e2e-'));
  try {
    const local = await LocalRuntime.start({
      dataDir,
      // Short windows and buffers keep the suite fast; the semantics are the deployed ones.
      windowSeconds: options.windowSeconds ?? 2,
      bufferMs: 1_000,
      bufferBytes: 1024 * 1024,
      pollIntervalMs: 100,
      ...(options.faults ? { faults: options.faults } : {}),
    });
    return {
      names: namesFromEnv(local.env),
      settleMs: 45_000,
      local,
      stop: async () => {
        await local.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
