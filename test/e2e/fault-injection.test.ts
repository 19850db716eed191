/**
 * The failure drill: the local runtime under a seeded fault schedule — function crashes after their side
 * effects, lost checkpoints (redelivered batches), Lambda throttles, slow invocations, DynamoDB throttling —
 * while the producer resends whole batches as if acknowledgements were lost. Seen from outside, nothing may
 * change: every record accounted for, and every profile equal to what the unique valid events imply.
 *
 * Needs the local runtime's fault injection, so it does not run against LocalStack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '../../lambdas/core/contract';
import { seededRandom, Workload, type WorkloadRecord } from '../../local/workload';
import { BlackBox, eventually } from './support/black-box';
import { EXTERNAL, startTarget, type Target } from './support/target';

const SEED = 20_261_123;

let target: Target;
let box: BlackBox;
/** Every record sent, resends included, with where the stream put it. */
const sent: { record: WorkloadRecord; shardId: string; sequenceNumber: string }[] = [];
const uniqueValid = new Map<string, BehaviouralEvent>();

describe.skipIf(EXTERNAL)('the pipeline under a seeded fault schedule', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    target = await startTarget({
      windowSeconds: 2,
      faults: {
        seed: SEED,
        crashAfterSideEffects: 0.2,
        redeliver: 0.3,
        throttle: 0.15,
        delay: 0.3,
        delayMs: [5, 60],
        dynamoDbThrottle: 0.15,
        // Each kind at least once, whatever the machine's speed does to the number of invocations.
        ensureEach: true,
      },
    });
    box = new BlackBox(target.names);
    // The profiles recognize a duplicate within the last 48 events of its user (recent_ids), and a redelivered
    // validation batch (up to 500 records) is forwarded again under new sequence numbers: with one user
    // holding more than 48 events of a batch, its copies fall outside that horizon and count twice. Flat
    // activity (no user near 48 events per batch) keeps this drill inside the documented guarantee.
    const workload = new Workload({ seed: SEED, users: 100, zipfExponent: 0.3, invalidRatio: 0.05, duplicateRatio: 0.03 });
    const random = seededRandom(SEED);
    // Several calls spread over time, so faults hit different batches and windows. Both functions gather
    // records for their deployed batching window (1 s), so a busy machine makes few, large batches: 24 calls
    // keep enough invocations for every kind of fault to be drawn.
    for (let call = 0; call < 24; call++) {
      const batch = workload.take(50);
      const copies = random() < 0.4 ? 2 : 1; // a lost acknowledgement: the producer sends the batch again
      for (let c = 0; c < copies; c++) {
        const at = await box.put(batch.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
        batch.forEach((record, i) => sent.push({ record, ...at[i]! }));
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const { record } of sent) {
      if (record.event && (record.kind === 'valid' || record.kind === 'duplicate') && !uniqueValid.has(record.event.event_id)) {
        uniqueValid.set(record.event.event_id, record.event);
      }
    }
  }, 90_000);

  afterAll(async () => {
    box?.destroy();
    await target?.stop();
  });

  it('shows zero profile drift against the oracle computed from the unique valid events', async () => {
    const oracle = new Map<string, { counts: Record<string, number>; first: number; last: number; purchases: number }>();
    for (const e of uniqueValid.values()) {
      const t = Date.parse(e.event_time);
      const p = oracle.get(e.user_id) ?? { counts: {}, first: Infinity, last: -Infinity, purchases: 0 };
      p.counts[e.event_type] = (p.counts[e.event_type] ?? 0) + 1;
      p.first = Math.min(p.first, t);
      p.last = Math.max(p.last, t);
      if (e.event_type === 'purchase') p.purchases++;
      oracle.set(e.user_id, p);
    }
    const users = [...oracle.keys()];
    const drift = (profiles: Map<string, Record<string, unknown>>) =>
      users.filter((u) => {
        const p = profiles.get(u);
        const o = oracle.get(u)!;
        return (
          !p ||
          JSON.stringify(normalized(p.counts)) !== JSON.stringify(normalized(o.counts)) ||
          Number(p.events) !== Object.values(o.counts).reduce((a, b) => a + b, 0) ||
          Number(p.first_seen) !== o.first ||
          Number(p.last_seen) !== o.last ||
          Number(p.purchase_count ?? 0) !== o.purchases
        );
      });
    const profiles = await eventually(() => box.profiles(users), (p) => drift(p).length === 0, target.settleMs, 'profiles converge to the oracle').catch(
      async () => box.profiles(users),
    );
    const drifted = drift(profiles).map((u) => ({ user: u, profile: normalized(profiles.get(u)?.counts), oracle: normalized(oracle.get(u)!.counts) }));
    const stats = target.local!.stats();
    expect(drifted, JSON.stringify({ drifted, onFailure: target.local!.onFailureRecords(), validation: { ...stats.validation.runner, shards: undefined }, profiles: { ...stats.profiles.runner, shards: stats.profiles.runner?.shards } })).toEqual([]);
  });

  it('accounts for every record: raw keeps all, curated holds each valid event, quarantine each invalid record', async () => {
    const raw = await eventually(() => box.rawRecords(), (l) => l.length >= sent.length, target.settleMs, 'raw complete');
    expect(raw.map((r) => r.toString('base64')).sort()).toEqual(sent.map((s) => s.record.data.toString('base64')).sort());

    const curated = await eventually(
      () => box.curatedRows(),
      (rs) => new Set(rs.map((r) => r.event_id)).size >= uniqueValid.size,
      target.settleMs,
      'curated complete',
    );
    expect(new Set(curated.map((r) => r.event_id))).toEqual(new Set(uniqueValid.keys()));

    const invalid = sent.filter((s) => s.record.kind !== 'valid' && s.record.kind !== 'duplicate');
    const quarantined = await eventually(() => box.quarantineLines(), (l) => l.length >= invalid.length, target.settleMs, 'quarantine complete');
    expect(new Set(quarantined.map(({ line }) => `${String(line.shard_id)}/${String(line.sequence_number)}`))).toEqual(
      new Set(invalid.map((s) => `${s.shardId}/${s.sequenceNumber}`)),
    );
  });

  it('really injected every kind of fault, and discarded nothing to the on-failure destination', async () => {
    const stats = target.local!.stats();
    const runners = [stats.validation.runner, stats.profiles.runner!];
    expect(runners.reduce((n, r) => n + r.injectedCrashes, 0)).toBeGreaterThan(0);
    expect(runners.reduce((n, r) => n + r.redeliveries, 0)).toBeGreaterThan(0);
    expect(runners.reduce((n, r) => n + r.throttles, 0)).toBeGreaterThan(0);
    expect(stats.dynamoDbThrottled).toBeGreaterThan(0);
    expect(stats.onFailureRecords).toBe(0);
    expect(target.local!.onFailureRecords()).toEqual([]);
  });
});

function normalized(counts: unknown): Record<string, number> {
  const c = (counts ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.keys(c).sort().map((k) => [k, Number(c[k])]));
}
