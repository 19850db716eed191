/**
 * The local runtime (emulators + the deployed handlers in-process + Firehose stand-ins) under a steady
 * synthetic load. These figures measure this machine's local runtime, NOT AWS: kinesis-local, dynalite and
 * s3rver are single-process emulators sharing the CPU with the handlers.
 *
 * - sustained throughput: events/s the pipeline validated over a fixed-rate load, with the largest
 *   validation iterator age seen (bounded means it kept up)
 * - peak memory: resident set size of the runtime process (handlers, runners, DuckDB), not the emulators
 * - PutRecords -> profile readable: for probe events of their own users, the time from the PutRecords
 *   acknowledgement until GetItem returns the profile, at the default `npm start` window (5 s)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../adapters/dynamodb/document-client';
import { LocalRuntime } from '../local/runtime/local-runtime';
import { DEFAULT_OPTIONS } from '../local/runtime/options';
import { SyntheticProducer } from '../local/runtime/synthetic-producer';
import { EventProducer } from '@personalization-data-platform/producer';
import { Workload } from '../workload/generator';
import { median, percentile, type Figure } from './harness';

const RATE = 300;
const LOAD_MS = 15_000;
const PROBE_EVERY_MS = 500;

export async function localRuntimeBench(): Promise<Figure[]> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pdp-bench-'));
  // Other suites of the same `npm run bench` leave their data in this process: the runtime's own footprint is
  // what the RSS grows by from here.
  const rssBefore = process.memoryUsage().rss;
  const runtime = await LocalRuntime.start({
    dataDir,
    windowSeconds: DEFAULT_OPTIONS.windowSeconds,
    bufferMs: DEFAULT_OPTIONS.bufferSeconds * 1000,
    bufferBytes: 1024 * 1024,
    pollIntervalMs: 250,
  });
  try {
    const producer = new SyntheticProducer({ streamName: runtime.names.rawStream, rate: RATE, workload: { users: 1000, seed: 1, meanGapMs: 1000 / RATE } });
    const probes = new EventProducer({ streamName: runtime.names.rawStream });
    const probeEvents = new Workload({ seed: 99, users: 1 });
    let peakRss = process.memoryUsage().rss;
    let maxIteratorAge = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      maxIteratorAge = Math.max(maxIteratorAge, runtime.iteratorAges().validate);
    }, 100);
    const latencies: Promise<number>[] = [];
    const started = Date.now();
    const probing = (async () => {
      for (let i = 0; Date.now() - started < LOAD_MS; i++) {
        const event = { ...probeEvents.nextEvent(), user_id: `probe-${i}` };
        const result = await probes.send([event]);
        const ackAt = Date.now();
        if (result.sent === 1) latencies.push(readableAfter(runtime, event.user_id, ackAt));
        await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
      }
    })();
    await Promise.all([producer.run(LOAD_MS), probing]);
    const loadSeconds = (Date.now() - started) / 1000;
    const validatedDuringLoad = runtime.stats().validation.recordsIn;
    const waits = (await Promise.all(latencies)).filter((ms) => Number.isFinite(ms));
    clearInterval(sampler);
    return [
      { name: 'local runtime: offered load', value: RATE, unit: 'events/s' },
      { name: 'local runtime: validated during the load', value: Math.round(validatedDuringLoad / loadSeconds), unit: 'events/s' },
      { name: 'local runtime: max validation iterator age', value: maxIteratorAge, unit: 'ms' },
      { name: 'local runtime: peak RSS growth (runtime process)', value: Math.round((peakRss - rssBefore) / 1024 / 1024), unit: 'MB' },
      { name: `local runtime: PutRecords->profile p50 (window ${DEFAULT_OPTIONS.windowSeconds}s)`, value: Math.round(median(waits)), unit: 'ms' },
      { name: `local runtime: PutRecords->profile p95 (window ${DEFAULT_OPTIONS.windowSeconds}s)`, value: Math.round(percentile(waits, 95)), unit: 'ms' },
    ];
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Milliseconds from ackAt until the user's profile is readable (Infinity after 60 s). */
async function readableAfter(runtime: LocalRuntime, userId: string, ackAt: number): Promise<number> {
  while (Date.now() - ackAt < 60_000) {
    const got = await documentClient().send(new GetCommand({ TableName: runtime.names.profileTable, Key: { user_id: userId } }));
    if (got.Item) return Date.now() - ackAt;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Infinity;
}
