/**
 * Outage drills: one dependency at a time goes away under a running pipeline, then comes back. The runtime
 * must keep going, show the outage (growing iterator age, retries, an incident), recover by itself once the
 * dependency is back, lose nothing silently, and still stop within seconds.
 *
 * - DynamoDB paused with SIGSTOP: it accepts connections and answers nothing, the way a hung dependency
 *   looks. Profile writes time out (client-limits.ts) and are retried instead of holding the invocation
 *   until the function's timeout.
 * - S3 killed, then started again on its port with its data (s3rver keeps its buckets on disk): lake uploads
 *   and quarantine writes fail meanwhile and are retried.
 */
import { subjectKey } from '@personalization-data-platform/contract';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { inRange } from '../../../core/ingest/redrive';
import { s3Client } from '../../../adapters/aws-clients';
import { LakeQueryRunner } from '../../../local/lake/query-runner';
import { account } from '../../../local/runtime/accounting';
import { LocalRuntime } from '../../../local/runtime/local-runtime';
import { profileDrift } from '../../../local/runtime/profile-view';
import { readLakeContents } from '../../../local/runtime/summary';
import { SyntheticProducer } from '../../../local/runtime/synthetic-producer';

const RATE = 25;
let current: { runtime: LocalRuntime; dataDir: string } | undefined;

afterEach(async () => {
  if (!current) return;
  await current.runtime.stop({ timeoutMs: 5_000 });
  await rm(current.dataDir, { recursive: true, force: true });
  current = undefined;
});

async function start(): Promise<{ runtime: LocalRuntime; producer: SyntheticProducer }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pdp-drill-'));
  const runtime = await LocalRuntime.start({ dataDir, windowSeconds: 1, bufferMs: 1_000, bufferBytes: 1024 * 1024, pollIntervalMs: 100 });
  current = { runtime, dataDir };
  const producer = new SyntheticProducer({
    streamName: runtime.names.rawStream,
    rate: RATE,
    workload: { users: 30, seed: 7, invalidRatio: 0.05, duplicateRatio: 0.05, meanGapMs: 1000 / RATE },
  });
  return { runtime, producer };
}

/** Samples the iterator ages every 250 ms while `during` runs. */
async function sampleAges(runtime: LocalRuntime, during: Promise<unknown>): Promise<{ atMs: number; aggregate: number; lake: number }[]> {
  const samples: { atMs: number; aggregate: number; lake: number }[] = [];
  const started = Date.now();
  const timer = setInterval(() => samples.push({ atMs: Date.now() - started, ...runtime.iteratorAges() }), 250);
  try {
    await during;
  } finally {
    clearInterval(timer);
  }
  return samples;
}

async function lakeOf(runtime: LocalRuntime) {
  const runner = await LakeQueryRunner.open(runtime.lakeDir);
  try {
    return await readLakeContents(runner);
  } finally {
    runner.close();
  }
}

async function keysIn(bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

describe('outage drills', { timeout: 120_000 }, () => {
  it('DynamoDB paused for a while: the aggregator age grows, writes time out and are retried, profiles catch up exactly', async () => {
    const { runtime, producer } = await start();
    await producer.run(2_000);
    const pid = runtime.emulators.pid('dynamodb')!;
    const PAUSE_MS = 8_000;
    process.kill(pid, 'SIGSTOP');
    let samples: Awaited<ReturnType<typeof sampleAges>>;
    try {
      samples = await sampleAges(runtime, producer.run(PAUSE_MS));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await producer.run(1_000);
    await runtime.settle(60_000);

    // The hang shows: the aggregator's age kept growing through the pause instead of staying flat.
    const late = samples.filter((s) => s.atMs >= PAUSE_MS - 1_500);
    expect(Math.max(...late.map((s) => s.aggregate))).toBeGreaterThan(PAUSE_MS - 3_000);
    // Writes that hit the paused table timed out and were retried (by the SDK or the function).
    const p = runtime.stats().profiles;
    expect((p.metrics.ThrottleRetries ?? 0) + (p.metrics.TransientRetries ?? 0) + (p.runner?.retries ?? 0)).toBeGreaterThan(0);

    // Recovered: every record accounted for, every profile equal to its unique valid events.
    const accounting = account(producer.sent, await lakeOf(runtime));
    expect(accounting.checks.filter((c) => !c.ok)).toEqual([]);
    const users = [...new Set([...producer.uniqueValid.values()].map((e) => subjectKey(e)))];
    const profiles = await runtime.profiles.reader().getMany(users, { consistent: true });
    expect(profileDrift([...producer.uniqueValid.values()], profiles)).toEqual([]);
    expect(runtime.stats().onFailureRecords).toBe(0);

    const stopping = Date.now();
    expect(await runtime.stop({ timeoutMs: 5_000 })).toMatchObject({ orderly: true, objectsNotUploaded: 0 });
    expect(Date.now() - stopping).toBeLessThan(6_000);
  });

  it('S3 gone for a while: uploads are retried and reported, the lake in S3 is complete once it is back, nothing is lost silently', async () => {
    const { runtime, producer } = await start();
    let failed: Error | undefined;
    void runtime.failure.then((err) => (failed = err));
    await producer.run(2_000);
    const gone = runtime.emulators.pid('s3')!;
    process.kill(gone, 'SIGKILL');
    const samples = await sampleAges(runtime, producer.run(4_000));
    await runtime.emulators.restart('s3');
    await producer.run(1_000);
    await runtime.settle(60_000);

    expect(failed).toBeUndefined();
    expect(runtime.incidents()).toEqual([expect.stringMatching(new RegExp(`^the s3 emulator \\(pid ${gone}\\) exited \\(signal SIGKILL\\); uploads are retried until it is back`))]);
    const lake = runtime.stats().lake;
    expect(lake.raw.uploadRetries + lake.curated.uploadRetries).toBeGreaterThan(0);
    // The outage showed as data waiting to reach S3 for longer and longer.
    expect(Math.max(...samples.map((s) => s.lake))).toBeGreaterThan(2_500);

    // Recovered: nothing waits, and the buckets hold every object of the local lake.
    expect(lake.raw.pendingUploads + lake.curated.pendingUploads + lake.raw.objectsNotDelivered + lake.curated.objectsNotDelivered).toBe(0);
    expect(await keysIn(runtime.names.rawBucket)).toEqual(await runtime.lake.list('raw'));
    expect(await keysIn(runtime.names.curatedBucket)).toEqual(await runtime.lake.list('curated'));

    // The raw zone has every record; every other record is curated, quarantined, a dropped duplicate, or in
    // a range the validation function reported to its on-failure destination (issue: quarantine outages).
    const contents = await lakeOf(runtime);
    const accounting = account(producer.sent, contents);
    expect(accounting.rawLines).toBe(producer.sent.length);
    const ranges = runtime.onFailureRecords().filter((r) => r.KinesisBatchInfo.streamArn.endsWith(`/${runtime.names.rawStream}`)).map((r) => r.KinesisBatchInfo);
    const reported = (shardId: string, sequenceNumber: string) => ranges.some((r) => r.shardId === shardId && inRange(sequenceNumber, r));
    const unaccounted = producer.sent.filter((r) => {
      if (reported(r.shardId, r.sequenceNumber)) return false;
      if (r.kind === 'valid' || r.kind === 'duplicate') return !contents.curatedEventIds.has(r.eventId!);
      return !contents.quarantinedRecords.has(`${r.shardId}/${r.sequenceNumber}`);
    });
    expect(unaccounted).toEqual([]);

    const stopping = Date.now();
    expect(await runtime.stop({ timeoutMs: 5_000 })).toMatchObject({ orderly: true, objectsNotUploaded: 0 });
    expect(Date.now() - stopping).toBeLessThan(6_000);
  });
});
