import { describe, expect, it } from 'vitest';
import {
  PUT_RECORDS_LIMITS,
  chunkForPutRecords,
  entryBytes,
  putRecordsWithRetry,
  type EntryOutcome,
  type PutEntry,
} from '../../core/ingest/put-records';
import { backoffCeilingMs, checkRetryPolicy, fullJitterDelayMs, mayRetry, type RetryPolicy } from '../../core/retry-policy';

const entry = (key: string, bytes: number): PutEntry => ({ partitionKey: key, data: Buffer.alloc(bytes, 0x61) });
const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('retry policy', () => {
  it('caps the exponential ceiling at maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 40].map((n) => backoffCeilingMs(policy, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('draws full jitter uniformly below the ceiling', () => {
    expect(fullJitterDelayMs(policy, 3, () => 0)).toBe(0);
    expect(fullJitterDelayMs(policy, 3, () => 0.5)).toBe(200);
    expect(fullJitterDelayMs(policy, 3, () => 0.999999)).toBe(399);
  });

  it('allows retries until maxAttempts attempts were made', () => {
    expect([1, 2, 3, 4].map((a) => mayRetry(policy, a))).toEqual([true, true, true, false]);
  });

  it('rejects policies that cannot work', () => {
    expect(() => checkRetryPolicy({ ...policy, maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => checkRetryPolicy({ ...policy, maxDelayMs: 10 })).toThrow(/maxDelayMs/);
  });
});

describe('chunkForPutRecords', () => {
  it('counts partition key bytes (UTF-8) with the data', () => {
    expect(entryBytes({ partitionKey: 'ü', data: Buffer.alloc(10) })).toBe(12);
  });

  it('puts at most 500 records in a call', () => {
    const chunks = chunkForPutRecords(Array.from({ length: 1_201 }, (_, i) => entry(`u${i}`, 10)));
    expect(chunks.map((c) => c.length)).toEqual([500, 500, 201]);
  });

  it('puts at most 5 MiB in a call, partition keys included, keeping order', () => {
    // 6 records of 1 MiB - 4 bytes with a 4-byte key: exactly 1 MiB each, so 5 fit in a call.
    const entries = Array.from({ length: 6 }, (_, i) => entry(`k00${i}`, 1024 * 1024 - 4));
    const chunks = chunkForPutRecords(entries);
    expect(chunks.map((c) => c.length)).toEqual([5, 1]);
    expect(chunks.flat()).toEqual(entries);
    for (const c of chunks) expect(c.reduce((n, e) => n + entryBytes(e), 0)).toBeLessThanOrEqual(PUT_RECORDS_LIMITS.maxBytes);
  });

  it('gives an entry larger than the call limit a call of its own', () => {
    const chunks = chunkForPutRecords([entry('a', 10), entry('b', 100), entry('c', 10)], { maxRecords: 500, maxBytes: 50 });
    expect(chunks.map((c) => c.map((e) => e.partitionKey))).toEqual([['a'], ['b'], ['c']]);
  });
});

describe('putRecordsWithRetry', () => {
  const ok = (i: number): EntryOutcome => ({ ok: true, sequenceNumber: String(1000 + i), shardId: 'shardId-000000000000' });
  const throttled: EntryOutcome = { ok: false, errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'slow down', kind: 'throttling' };
  const run = (entries: PutEntry[], call: (batch: readonly PutEntry[]) => Promise<EntryOutcome[]>, extra: Partial<Parameters<typeof putRecordsWithRetry>[2]> = {}) => {
    const sleeps: number[] = [];
    return putRecordsWithRetry(entries, call, { policy, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms), ...extra }).then((r) => ({ ...r, sleeps }));
  };

  it('resends only the rejected entries, with full-jitter backoff between rounds', async () => {
    const calls: string[][] = [];
    let round = 0;
    const report = await run([entry('a', 1), entry('b', 1), entry('c', 1)], async (batch) => {
      calls.push(batch.map((e) => e.partitionKey));
      round++;
      return batch.map((e, i) => (round === 1 && e.partitionKey === 'b' ? throttled : ok(i)));
    });
    expect(calls).toEqual([['a', 'b', 'c'], ['b']]);
    expect(report.sleeps).toEqual([50]);
    expect(report.results.map((r) => r.ok && r.attempts)).toEqual([1, 2, 1]);
    expect(report).toMatchObject({ calls: 2, retriedEntries: 1, throttledEntries: 1, succeeded: 3, failed: 0 });
  });

  it('gives up after maxAttempts and reports the entry as failed and throttled', async () => {
    const report = await run([entry('a', 1)], async (batch) => batch.map(() => throttled));
    expect(report.calls).toBe(4);
    expect(report.sleeps).toEqual([50, 100, 200]);
    expect(report.results[0]).toEqual({ ok: false, errorCode: 'ProvisionedThroughputExceededException', errorMessage: 'slow down', attempts: 4, throttled: true });
  });

  it('does not retry failures marked permanent', async () => {
    const report = await run([entry('a', 1)], async (batch) =>
      batch.map(() => ({ ok: false as const, errorCode: 'ResourceNotFoundException', errorMessage: 'no stream', kind: 'permanent' as const })),
    );
    expect(report.calls).toBe(1);
    expect(report.results[0]).toMatchObject({ ok: false, errorCode: 'ResourceNotFoundException', throttled: false });
  });

  it('treats a call that throws as a retryable failure of all its entries', async () => {
    let n = 0;
    const report = await run([entry('a', 1), entry('b', 1)], async (batch) => {
      if (n++ === 0) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return batch.map((_, i) => ok(i));
    });
    expect(report).toMatchObject({ calls: 2, succeeded: 2, retriedEntries: 2 });
  });

  it('starts no retry whose delay would pass the deadline', async () => {
    const report = await run([entry('a', 1)], async (batch) => batch.map(() => throttled), { now: () => 1_000, deadlineMs: 1_040 });
    expect(report.calls).toBe(1);
    expect(report.failed).toBe(1);
  });

  it('splits a round into calls within the limits', async () => {
    const sizes: number[] = [];
    const report = await run(Array.from({ length: 1_100 }, (_, i) => entry(`u${i}`, 5)), async (batch) => {
      sizes.push(batch.length);
      return batch.map((_, i) => ok(i));
    });
    expect(sizes).toEqual([500, 500, 100]);
    expect(report.succeeded).toBe(1_100);
  });
});
