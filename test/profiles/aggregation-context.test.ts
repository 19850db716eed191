/**
 * Explicit state: the profile core keeps its caches and scratch buffers in an AggregationContext that the
 * handler creates per shard, never in module state, so shards running at once cannot see each other's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { AggregationContext, ShardContexts, aggregateInvocation, DEFAULT_PROFILE_SETTINGS, type InvocationResult, type ProfileStorePort, type WindowStateJson } from '../../core/profiles';
import { createAggregatorHandler, type AggregatorWindowEvent } from '../../lambdas/aggregate/handler';
import { MemoryProfileStore } from '../../local/memory/profile-store';
import { Workload } from '../../workload/generator';

const T0 = Date.parse('2026-05-10T12:00:00.000Z');
const LIMITS = { budgetBytes: 6_000, maxEventsPerUser: 4 };

type StreamRecord = { sequenceNumber: string; data: string };

/** Skewed traffic (a few users send most events, with resends) split over two shards; some users on both (a reshard). */
function shardRecords(seed: number): [StreamRecord[], StreamRecord[]] {
  const records = new Workload({ users: 40, seed, startMs: T0, duplicateRatio: 0.1 }).take(600);
  const shards: [StreamRecord[], StreamRecord[]] = [[], []];
  records.forEach((r, i) => {
    const rank = Number(r.partitionKey.replace(/\D/g, '')) || 0;
    // Users of rank < 3 (the heaviest) are on both shards, as during a reshard; the rest on one by rank.
    const targets = rank < 3 ? [0, 1] : [rank % 2];
    for (const s of targets) shards[s]!.push({ sequenceNumber: String(i + 1).padStart(8, '0'), data: r.data.toString('base64') });
  });
  return shards;
}

/** A store whose every call yields to the event loop, so invocations of two shards interleave at each write. */
class YieldingStore implements ProfileStorePort {
  constructor(readonly inner = new MemoryProfileStore()) {}
  private tick = () => new Promise<void>((resolve) => setImmediate(resolve));
  async read(...args: Parameters<ProfileStorePort['read']>) {
    await this.tick();
    return this.inner.read(...args);
  }
  async putIfVersion(...args: Parameters<ProfileStorePort['putIfVersion']>) {
    await this.tick();
    return this.inner.putIfVersion(...args);
  }
  async writeLedger(...args: Parameters<ProfileStorePort['writeLedger']>) {
    await this.tick();
    return this.inner.writeLedger(...args);
  }
  async writeLink(...args: Parameters<ProfileStorePort['writeLink']>) {
    await this.tick();
    return this.inner.writeLink(...args);
  }
  async deleteLink(...args: Parameters<ProfileStorePort['deleteLink']>) {
    await this.tick();
    return this.inner.deleteLink(...args);
  }
}

/** Runs one shard's window in batches of 50 with a carried state; returns every invocation's state as JSON. */
async function runShard(shardId: string, records: StreamRecord[], store: ProfileStorePort, context: AggregationContext): Promise<string[]> {
  const states: string[] = [];
  let state: WindowStateJson | undefined;
  for (let i = 0; i < records.length; i += 50) {
    const batch = records.slice(i, i + 50);
    const flushAll = i + 50 >= records.length;
    const result: InvocationResult = await aggregateInvocation(
      { shardId, records: batch, state: state === undefined ? undefined : JSON.parse(JSON.stringify(state)), flushAll, carriesState: true },
      { store, settings: DEFAULT_PROFILE_SETTINGS, now: () => T0, limits: LIMITS, context },
    );
    expect(result.failedSequenceNumber).toBeUndefined();
    state = result.state;
    states.push(JSON.stringify(result.state));
  }
  return states;
}

describe('aggregation context', () => {
  it('two shards aggregating at once, each with its own context, get exactly what each gets alone', async () => {
    for (const seed of [1, 2, 3]) {
      const [a, b] = shardRecords(seed);
      const aloneA = await runShard('shard-a', a, new YieldingStore(), new AggregationContext());
      const aloneB = await runShard('shard-b', b, new YieldingStore(), new AggregationContext());

      const contextA = new AggregationContext();
      const contextB = new AggregationContext();
      const storeA = new YieldingStore();
      const storeB = new YieldingStore();
      const [togetherA, togetherB] = await Promise.all([runShard('shard-a', a, storeA, contextA), runShard('shard-b', b, storeB, contextB)]);
      expect(togetherA).toEqual(aloneA);
      expect(togetherB).toEqual(aloneB);
      // Mid-window flushes happened, so the two interleaved at their writes.
      expect(storeA.inner.writes).toBeGreaterThan(a.length / 50);
    }
  });

  it('each context caches the ids of its own shard\'s users only', async () => {
    const [a, b] = shardRecords(4);
    const users = (records: StreamRecord[]) => new Set(records.map((r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')).user_id as string));
    const contextA = new AggregationContext();
    const contextB = new AggregationContext();
    const invoke = (records: StreamRecord[], context: AggregationContext) =>
      aggregateInvocation({ shardId: 's', records, flushAll: false, carriesState: true }, { store: new YieldingStore(), settings: DEFAULT_PROFILE_SETTINGS, now: () => T0, limits: LIMITS, context });
    // Not the window's final invocation: the users stay pending, their ids cached for the next invocation.
    await Promise.all([invoke(a.slice(0, 100), contextA), invoke(b.slice(0, 100), contextB)]);
    const onlyA = [...users(a.slice(0, 100))].filter((u) => !users(b).has(u));
    const onlyB = [...users(b.slice(0, 100))].filter((u) => !users(a).has(u));
    expect(onlyA.filter((u) => contextA.idCache.has(u)).length).toBeGreaterThan(0);
    expect(onlyB.filter((u) => contextB.idCache.has(u)).length).toBeGreaterThan(0);
    expect(onlyB.filter((u) => contextA.idCache.has(u))).toEqual([]);
    expect(onlyA.filter((u) => contextB.idCache.has(u))).toEqual([]);
  });

  it('a handler keeps one context per shard: shards invoked at once through one handler equal the same shards invoked one after the other', async () => {
    const [a, b] = shardRecords(7);
    const run = async (concurrently: boolean) => {
      const store = new YieldingStore();
      const handler = createAggregatorHandler({
        config: { tableName: 'profiles', ledgerTableName: 'ledger', windowSeconds: 60, profiles: DEFAULT_PROFILE_SETTINGS },
        store,
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: quietMetrics(),
        now: () => T0,
        stateLimits: LIMITS,
      });
      const shard = async (shardId: string, records: StreamRecord[]) => {
        const states: unknown[] = [];
        let state: Record<string, unknown> | undefined;
        for (let i = 0; i < records.length; i += 50) {
          const event: AggregatorWindowEvent = {
            Records: records.slice(i, i + 50).map((r) => ({ kinesis: { ...r, kinesisSchemaVersion: '1.0', partitionKey: 'p', approximateArrivalTimestamp: T0 / 1000 }, eventID: `${shardId}:${r.sequenceNumber}` }) as never),
            window: { start: new Date(T0).toISOString(), end: new Date(T0 + 60_000).toISOString() },
            state: state === undefined ? {} : JSON.parse(JSON.stringify(state)),
            shardId,
            isFinalInvokeForWindow: i + 50 >= records.length,
          };
          const response = await handler(event);
          state = response.state;
          states.push(response.state);
        }
        return states;
      };
      const states = concurrently ? await Promise.all([shard('shard-a', a), shard('shard-b', b)]) : [await shard('shard-a', a), await shard('shard-b', b)];
      return { states, profiles: [...store.inner.items.entries()].sort(([x], [y]) => (x < y ? -1 : 1)) };
    };
    const sequential = await run(false);
    const concurrent = await run(true);
    expect(concurrent.states).toEqual(sequential.states);
    expect(concurrent.profiles.map(([u, p]) => [u, p.events])).toEqual(sequential.profiles.map(([u, p]) => [u, p.events]));
  });

  it('a shard keeps its context across invocations; an invocation overlapping a running one of its shard gets a fresh one', async () => {
    const contexts = new ShardContexts();
    const seen: AggregationContext[] = [];
    const use = (shardId: string) => contexts.run(shardId, async (context) => {
      seen.push(context);
      await new Promise((resolve) => setImmediate(resolve));
    });
    await use('a');
    await use('a');
    expect(seen[1]).toBe(seen[0]);
    await Promise.all([use('a'), use('a'), use('b')]);
    expect(seen[2]).toBe(seen[0]);
    expect(new Set(seen.slice(2)).size).toBe(3);
  });

  it('the profile core keeps no module-level mutable state', () => {
    const dir = join(__dirname, '..', '..', 'core', 'profiles');
    const offenders: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // A top-level `let`, or a top-level collection created empty (to be filled later: a cache).
          if (/^(export )?let /.test(line) || /^(export )?const \w+ = new (Map|Set|WeakMap)(<[^>]*>)?\(\)/.test(line)) offenders.push(`${file}:${i + 1}: ${line}`);
        });
    }
    expect(offenders).toEqual([]);
  });
});

/** Real Metrics whose output goes nowhere. */
function quietMetrics(): Metrics {
  const metrics = new Metrics({ namespace: 'test', serviceName: 'aggregate' });
  (metrics as unknown as { publishStoredMetrics: () => void }).publishStoredMetrics = () => undefined;
  return metrics;
}
