/**
 * The deployed aggregator handler, driven by the Kinesis event-source runner against kinesis-local and
 * dynalite through the real SDK clients, with seeded faults (crashes after the DynamoDB writes, lost
 * checkpoints): the stored profiles equal the oracle of the unique events, and the reader returns them.
 */
import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { createAggregatorHandler } from '../../lambdas/aggregate/handler';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { DEFAULT_PROFILE_SETTINGS } from '../../core/profiles/model';
import { dynamoDbClient, kinesisClient } from '../../adapters/aws-clients';
import { ProfileReader } from '@personalization-data-platform/profile-reader';
import { useEmulators } from '../support/emulators';
import { KinesisEventSourceRunner, seededFaults, type FaultInjector, type KinesisEventSourceRunnerOptions } from '../../local/event-source/runner';
import { Workload } from '../../workload/generator';
import { expectedProfile, uniqueByUser } from './support/oracle';
import { LEDGER_TABLE_SHAPE, PROFILE_TABLE_SHAPE } from '../../local/runtime/profiles-stage';
import { createActiveTable } from '../support/tables';

useEmulators({ kinesis: true, dynamodb: true });
const runners: KinesisEventSourceRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

/** Collects metric totals instead of printing EMF lines. */
class MetricTotals extends Metrics {
  readonly totals = new Map<string, number>();
  constructor() {
    super({ namespace: 'test', serviceName: 'aggregate' });
  }
  override addMetric(name: string, _unit: Parameters<Metrics['addMetric']>[1], value: number): this {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    return this;
  }
  override publishStoredMetrics(): this {
    return this;
  }
}

async function createStream(shards: number): Promise<string> {
  const name = `validated-${randomUUID().slice(0, 8)}`;
  await kinesisClient().send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (;;) {
    const out = await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A profile table and its ledger, with the key schemas the stack gives them. */
async function createTable(): Promise<{ tableName: string; ledgerTableName: string }> {
  const id = randomUUID().slice(0, 8);
  const tableName = `profiles-${id}`;
  const ledgerTableName = `ledger-${id}`;
  for (const shape of [PROFILE_TABLE_SHAPE, LEDGER_TABLE_SHAPE]) {
    await createActiveTable(dynamoDbClient(), {
      TableName: shape === PROFILE_TABLE_SHAPE ? tableName : ledgerTableName,
      KeySchema: shape.keySchema,
      AttributeDefinitions: shape.attributes,
    });
  }
  return { tableName, ledgerTableName };
}

async function put(stream: string, payloads: { data: Buffer; partitionKey: string }[]): Promise<void> {
  for (let i = 0; i < payloads.length; i += 250) {
    const out = await kinesisClient().send(
      new PutRecordsCommand({ StreamName: stream, Records: payloads.slice(i, i + 250).map((p) => ({ Data: p.data, PartitionKey: p.partitionKey })) }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
  }
}

function startRunner(options: Omit<KinesisEventSourceRunnerOptions, 'startingPosition'>): Promise<KinesisEventSourceRunner> {
  const runner = new KinesisEventSourceRunner({
    startingPosition: 'TRIM_HORIZON',
    pollIntervalMs: 20,
    retryBackoffMs: 5,
    maxRetryBackoffMs: 20,
    windowCloseGraceMs: 100,
    batchSize: 40,
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: 20,
    ...options,
  });
  runners.push(runner);
  return runner.start().then(() => runner);
}

/**
 * 400 workload events of 30 users over two days, 15% of them sent twice by the producer. With so few users
 * a resend can repeat an event far back in one user's history: the ledger recognizes it however far.
 * Small ledger items, so that the ledger's tree splits on dynalite too.
 */
const PROFILES = { ledgerItemCapacity: 8 };
function workload(seed: number): { sent: { data: Buffer; partitionKey: string }[]; events: BehaviouralEvent[] } {
  const w = new Workload({ users: 30, seed, startMs: Date.parse('2026-04-01T00:00:00Z'), meanGapMs: 400_000, duplicateRatio: 0.15 });
  // Only what the validation stage forwards (the workload can corrupt a record that had nothing to duplicate).
  const records = w.take(400).filter((r) => r.kind === 'valid' || r.kind === 'duplicate');
  return { sent: records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })), events: records.map((r) => r.event!) };
}

async function expectProfilesMatchOracle(table: { tableName: string }, events: BehaviouralEvent[]): Promise<void> {
  const expected = uniqueByUser(events);
  const reader = new ProfileReader({ tableName: table.tableName });
  const profiles = await reader.getMany([...expected.keys()], { consistent: true });
  expect(profiles.size).toBe(expected.size);
  for (const [user, list] of expected) {
    const item = profiles.get(user)!.item;
    const want = expectedProfile(list, { ...DEFAULT_PROFILE_SETTINGS, ...PROFILES });
    const { affinity, ...exact } = want;
    expect({
      events: item.events,
      counts: item.counts,
      first_seen: item.first_seen,
      last_seen: item.last_seen,
      days: item.days,
      session_count: item.session_count,
      session_ms: item.session_ms,
      affinity_at: item.affinity_at,
      recent_content: item.recent_content,
      purchase_count: item.purchase_count,
      purchase_value_milli: item.purchase_value_milli,
      ...(item.device ? { device: item.device } : {}),
      ...(item.locale ? { locale: item.locale } : {}),
    }).toEqual(exact);
    const categories = Object.keys(affinity);
    if (categories.length <= DEFAULT_PROFILE_SETTINGS.topCategories) {
      for (const [category, score] of Object.entries(affinity)) expect(item.affinity[category]).toBeCloseTo(score, 9);
    } else {
      // More categories than kept: which ones survive depends on arrival (documented); a kept score never
      // exceeds the exact one (a category evicted and seen again restarts from its new events).
      expect(Object.keys(item.affinity)).toHaveLength(DEFAULT_PROFILE_SETTINGS.topCategories);
      for (const [category, score] of Object.entries(item.affinity)) expect(score).toBeLessThanOrEqual(affinity[category]! * (1 + 1e-9));
    }
  }
}

const silent = () => new Logger({ logLevel: 'SILENT' });

describe('aggregator on kinesis-local and dynalite', { timeout: 60_000 }, () => {
  it('with a tumbling window, under crashes after the writes and lost checkpoints, profiles equal the oracle of the unique events', async () => {
    const [stream, table] = await Promise.all([createStream(2), createTable()]);
    const { sent, events } = workload(101);
    await put(stream, sent);
    const metrics = new MetricTotals();
    const seeded = seededFaults({ seed: 7, crashAfterSideEffects: 0.25, redeliver: 0.2 });
    // Besides the seeded faults, every window's first final invocation crashes right after its writes.
    const crashedFinals = new Set<string>();
    const faults: FaultInjector = {
      beforeInvoke: (info) => seeded.beforeInvoke!(info),
      afterInvoke: (info, outcome) => {
        const key = `${info.shardId}:${info.firstSequenceNumber}`;
        if (info.isFinalInvokeForWindow && !crashedFinals.has(key)) {
          crashedFinals.add(key);
          return 'crash-after-side-effects';
        }
        return seeded.afterInvoke!(info, outcome);
      },
    };
    const runner = await startRunner({
      streamName: stream,
      handler: createAggregatorHandler({ config: { ...table, windowSeconds: 1, profiles: PROFILES }, logger: silent(), metrics }),
      tumblingWindowSeconds: 1,
      faults,
    });
    await runner.drain({ timeoutMs: 45_000, flushWindows: true });
    const stats = runner.stats();
    expect(stats.injectedCrashes + stats.redeliveries).toBeGreaterThan(0);
    expect(stats.discardedRecords).toBe(0);
    await expectProfilesMatchOracle(table, events);
    // Each retried final invocation found its users' writes already applied.
    expect(crashedFinals.size).toBeGreaterThan(0);
    expect(metrics.totals.get('ConditionalSkips') ?? 0).toBeGreaterThan(0);
  });

  it('in per-batch mode (no window), under the same faults, profiles equal the oracle of the unique events', async () => {
    const [stream, table] = await Promise.all([createStream(1), createTable()]);
    const { sent, events } = workload(202);
    await put(stream, sent);
    const runner = await startRunner({
      streamName: stream,
      handler: createAggregatorHandler({ config: { ...table, windowSeconds: 0, profiles: PROFILES }, logger: silent(), metrics: new MetricTotals() }),
      faults: seededFaults({ seed: 11, crashAfterSideEffects: 0.25, redeliver: 0.2 }),
    });
    await runner.drain({ timeoutMs: 45_000 });
    expect(runner.stats().injectedCrashes + runner.stats().redeliveries).toBeGreaterThan(0);
    await expectProfilesMatchOracle(table, events);
  });

  it('skips and counts records that are not validated events without failing the batch', async () => {
    const [stream, table] = await Promise.all([createStream(1), createTable()]);
    const { sent, events } = workload(303);
    const good = sent.slice(0, 40);
    await put(stream, [{ data: Buffer.from('{"not":"an event"'), partitionKey: 'x' }, ...good, { data: Buffer.from('{"user_id":"u"}'), partitionKey: 'u' }]);
    const metrics = new MetricTotals();
    const runner = await startRunner({
      streamName: stream,
      handler: createAggregatorHandler({ config: { ...table, windowSeconds: 0, profiles: PROFILES }, logger: silent(), metrics }),
    });
    await runner.drain({ timeoutMs: 30_000 });
    expect(runner.stats().functionErrors).toBe(0);
    expect(metrics.totals.get('MalformedRecords')).toBe(2);
    await expectProfilesMatchOracle(table, events.slice(0, 40));
  });
});
