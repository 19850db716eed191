/**
 * `npm run verify` against `npm start -- --keep-running`, as a platform engineer runs them: the local runtime
 * writes its names in the `cdk deploy --outputs-file` shape, and verify resolves them from that file, sends its
 * canaries and checks them through the black box. What the local runtime does not model (CloudWatch alarms,
 * EventBridge Scheduler) must be reported as not available, never as passed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL } from './support/target';

const ROOT = join(__dirname, '..', '..');

let dataDir: string;
let runtime: ChildProcess | undefined;
let runtimeLog = '';
let runtimeExited: Promise<void> | undefined;
const runtimeEnv: Record<string, string> = {};

/** Stops the runtime's whole process group (npm, tsx, node) by its id; it stops its emulators on SIGTERM. */
async function stopRuntime(): Promise<void> {
  if (!runtime?.pid || runtime.exitCode !== null) return;
  const pid = runtime.pid;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const stopped = await Promise.race([runtimeExited!.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
  if (!stopped) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe.skipIf(EXTERNAL)('npm run verify against npm start -- --keep-running', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pdp-verify-'));
    runtime = spawn('npm', ['start', '--', '--keep-running', '--plain', '--duration', '3', '--rate', '20', '--window', '2', '--buffer', '1', '--data-dir', dataDir], {
      cwd: ROOT,
      detached: true, // its own process group, so the test can stop npm, tsx and node together
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    runtimeExited = new Promise((r) => runtime!.on('exit', () => r()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start did not reach --keep-running within 180 s:\n${runtimeLog}`)), 180_000);
      const onData = (d: Buffer) => {
        runtimeLog += d.toString();
        if (runtimeLog.includes('Press Ctrl-C to stop every process.')) {
          clearTimeout(timer);
          resolve();
        }
      };
      runtime!.stdout!.on('data', onData);
      runtime!.stderr!.on('data', onData);
      runtime!.on('exit', (code) => reject(new Error(`npm start exited (${code}) before keep-running:\n${runtimeLog}`)));
    });
    for (const m of runtimeLog.matchAll(/^\s+export (\w+)=(.*)$/gm)) runtimeEnv[m[1]!] = m[2]!;
  }, 200_000);

  afterAll(async () => {
    await stopRuntime();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('writes its names in the cdk deploy --outputs-file shape and says how to verify them', () => {
    expect(existsSync(join(dataDir, 'cdk-outputs.json'))).toBe(true);
    expect(runtimeLog).toContain(`npm run verify -- --stage dev --outputs-file`);
    expect(runtimeEnv.AWS_ENDPOINT_URL_KINESIS).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('passes: canaries profiled, curated, quarantined with their reason, cleaned up; alarms, schedule and freshness canary not available locally', async () => {
    const { code, out } = await run(['run', '-s', 'verify', '--', '--stage', 'dev', '--outputs-file', join(dataDir, 'cdk-outputs.json'), '--timeout', '120'], runtimeEnv);
    expect(code, out).toBe(0);
    const row = (check: string) => new RegExp(`^${check}\\s+(PASS|FAIL|N/A)\\s`, 'm').exec(out)?.[1];
    expect(row('canary events sent'), out).toBe('PASS');
    expect(row('canary profiles readable with their counts'), out).toBe('PASS');
    expect(row('canary events landed in the curated zone'), out).toBe('PASS');
    expect(row('invalid canary quarantined with its reason'), out).toBe('PASS');
    expect(row('canary profiles removed'), out).toBe('PASS');
    expect(row('alarms in OK state'), out).toBe('N/A');
    expect(row('profile export schedule enabled'), out).toBe('N/A');
    expect(row('freshness canary measuring'), out).toBe('N/A');
    expect(out).toMatch(/alarms in OK state\s+N\/A\s+[\d.]+\s+not available here: the local runtime has no CloudWatch/);
    expect(out).toMatch(/^5 passed, 0 failed, 3 not available$/m);
  });

  it('fails with a clear message when the outputs file lacks a name the target should have', async () => {
    const { code, out } = await run(['run', '-s', 'verify', '--', '--stage', 'prod', '--outputs-file', join(dataDir, 'cdk-outputs.json')], runtimeEnv);
    expect(code).toBe(2);
    expect(out).toMatch(/has no stack PersonalizationPlatform-prod/);
  });
});
