/**
 * The freshness canary end to end on the local runtime (real emulators, the deployed handlers):
 *
 * - healthy: probes put while a skewed workload runs are measured on both paths, within the objectives,
 *   and the run's books (accounting, profile drift) are those of the workload alone;
 * - the deployed handler (createFreshnessCanaryHandler) puts a probe, waits for its profile and publishes
 *   the EMF metrics the alarms and the dashboard read;
 * - stalled: probes put on a stream nobody consumes never reach a profile: each counts as missing at its
 *   deadline, the p95 is the deadline, the objective is not met, and the handler publishes exactly that.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStreamCommand } from '@aws-sdk/client-kinesis';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureStdout } from '../ingestion/support';
import { kinesisClient } from '../../adapters/aws-clients';
import { FRESHNESS_METRICS, freshnessVerdict } from '../../core/canary/freshness';
import { FreshnessCanary } from '../../lambdas/freshness-canary/canary';
import { awsCanaryPorts, createFreshnessCanaryHandler } from '../../lambdas/freshness-canary/handler';
import { LakeQueryRunner } from '../../local/lake/query-runner';
import { account } from '../../local/runtime/accounting';
import { LocalFreshnessProbes } from '../../local/runtime/freshness-probes';
import { LocalRuntime } from '../../local/runtime/local-runtime';
import { readLakeContents } from '../../local/runtime/summary';
import { SyntheticProducer } from '../../local/runtime/synthetic-producer';

const RATE = 40;
let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pdp-canary-'));
  runtime = await LocalRuntime.start({ dataDir, windowSeconds: 2, bufferMs: 1_500, bufferBytes: 1024 * 1024, pollIntervalMs: 100 });
}, 60_000);

afterAll(async () => {
  await runtime?.stop({ timeoutMs: 5_000 });
  await rm(dataDir, { recursive: true, force: true });
});


describe('the freshness canary on the local runtime', () => {
  it('measures probes on both paths within the objectives, and the books stay those of the workload', async () => {
    const probes = new LocalFreshnessProbes(runtime.names, { windowSeconds: 2, bufferSeconds: 1.5 });
    const producer = new SyntheticProducer({
      streamName: runtime.names.rawStream,
      rate: RATE,
      // Skewed: a few users send most events; some invalid, some duplicates.
      workload: { users: 40, seed: 11, invalidRatio: 0.05, duplicateRatio: 0.05, meanGapMs: 1000 / RATE },
    });
    probes.start();
    await producer.run(12_000);
    probes.pause();
    await runtime.settle(60_000);
    const report = await probes.report();

    expect(report.probes).toBeGreaterThanOrEqual(3);
    expect(report.failed).toBe(0);
    expect(report.profile.samples).toBe(report.probes);
    expect(report.lake.samples).toBe(report.probes);
    expect(report.profile.missing + report.lake.missing).toBe(0);
    expect(report.slo).toEqual({ profileSeconds: 62, lakeSeconds: 121.5 });
    expect(report.profile.met && report.lake.met).toBe(true);
    // A profile cannot be readable before its event happened, nor a lake object hold it before it was put.
    expect(report.profile.p50!).toBeGreaterThan(0);
    expect(report.lake.p50!).toBeGreaterThanOrEqual(0);

    const runner = await LakeQueryRunner.open(runtime.lakeDir);
    try {
      const books = account(producer.sent, await readLakeContents(runner));
      expect(books.checks.filter((c) => !c.ok)).toEqual([]);
      const probesInLake = await runner.run("SELECT count(DISTINCT event_id) AS n FROM curated_events WHERE starts_with(user_id, 'pdp-canary:')");
      expect(Number(probesInLake[0]!.n)).toBe(report.probes);
    } finally {
      runner.close();
    }
  }, 180_000);

  it('the deployed handler puts a probe, waits for its profile and publishes its metrics', async () => {
    const config = { rawStream: runtime.names.rawStream, profileTable: runtime.names.profileTable, curatedBucket: runtime.names.curatedBucket, intervalSeconds: 60, profileSloSeconds: 62, lakeSloSeconds: 121 };
    const out = captureStdout();
    try {
      const metrics = new Metrics({ namespace: 'PersonalizationPlatform', serviceName: 'freshness-canary' });
      const handler = createFreshnessCanaryHandler({ config, metrics, logger: new Logger({ logLevel: 'SILENT' }) });
      const result = await handler({ scheduledTime: new Date().toISOString() });
      expect(result.profileMissing).toBe(false);
      expect(result.profileSeconds).toBeGreaterThan(0);
      expect(result.profileSeconds).toBeLessThan(62);
      const emf = out.lines().filter((l) => l._aws !== undefined);
      const published = emf.flatMap((e) => ((e._aws as { CloudWatchMetrics: { Metrics: { Name: string }[]; Dimensions: string[][] }[] }).CloudWatchMetrics).flatMap((m) => m.Metrics.map((x) => ({ name: x.Name, dims: m.Dimensions, value: e[x.Name], service: e.service }))));
      expect(published).toContainEqual({ name: FRESHNESS_METRICS.profileSeconds, dims: [['service']], value: result.profileSeconds, service: 'freshness-canary' });
      expect(published).toContainEqual({ name: FRESHNESS_METRICS.profileMissing, dims: [['service']], value: 0, service: 'freshness-canary' });
    } finally {
      out.restore();
    }
  }, 120_000);

  it('a stalled pipeline: probes never readable count as missing at the deadline and breach the objective', async () => {
    // A stream nobody consumes: the probes are accepted and go nowhere, as when a consumer is stuck or paused.
    const dead = `${runtime.names.rawStream}-unconsumed`;
    await kinesisClient().send(new CreateStreamCommand({ StreamName: dead, ShardCount: 1 }));
    await new Promise((r) => setTimeout(r, 500));
    const config = { rawStream: dead, profileTable: runtime.names.profileTable, curatedBucket: runtime.names.curatedBucket, intervalSeconds: 1, profileSloSeconds: 1, lakeSloSeconds: 1 };
    const canary = new FreshnessCanary(config, awsCanaryPorts(config));
    const samples = [];
    for (let i = 0; i < 3; i++) {
      const probe = await canary.putProbe(Date.now() + i * 1000);
      samples.push(await canary.profileFreshness(probe, 200));
    }
    expect(samples).toEqual([0, 1, 2].map(() => ({ seconds: 2, missing: true })));
    expect(freshnessVerdict(samples, 1)).toMatchObject({ met: false, p95: 2, missing: 3 });
    // The lake path skips a probe that never reached a profile: it was counted on the profile path already.
    expect(await canary.lakeFreshness(canary.lakeSlotAt(Math.floor(Date.now() / 1000)))).toBeUndefined();
  }, 60_000);
});
