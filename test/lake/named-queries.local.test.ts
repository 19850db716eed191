/**
 * Every deployed named query runs with DuckDB over a lake written in the deployed layout, and its result is
 * compared with an independent computation over the same events in TypeScript.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canaryBatch } from '../../core/canary';
import { validateRecord, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { hourPartition, quarantineObjectKey } from '../../core/lake/layout';
import { loadNamedQueries } from '../../lib/lake/named-queries';
import { LocalLake, type QuarantineRecord } from '../../local/lake/local-lake';
import { LakeQueryRunner, type Row } from '../../local/lake/query-runner';
import { Workload } from '../../workload/generator';

const DAY = 86_400_000;
const NOW = new Date('2025-03-10T12:00:00.000Z');
const SNAPSHOT = '2025-03-10';
const START = NOW.getTime() - 9 * DAY;

interface Received { data: Buffer; arrivalMs: number }

let root: string;
let lake: LocalLake;
let runner: LakeQueryRunner;
const received: Received[] = [];
const curated: BehaviouralEvent[] = [];
const quarantined: { reason: string; arrivalMs: number }[] = [];
const profiles = new Map<string, Record<string, number>>();
const firstSeen = new Map<string, number>();
/** Users first seen at most 7 days before the snapshot: the golden query's sample. */
const recentlyAcquired = (u: string) => firstSeen.get(u)! >= Date.parse(SNAPSHOT) - 7 * DAY;
const tampered = { user: '', eventType: '' };

const dayOf = (e: BehaviouralEvent) => e.event_time.slice(0, 10);
const ms = (e: BehaviouralEvent) => Date.parse(e.event_time);
const since = (days: number) => new Date(Date.parse(NOW.toISOString().slice(0, 10)) - days * DAY).toISOString().slice(0, 10);
const num = (v: unknown) => Number(v);
function countBy<T>(items: readonly T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lake-queries-'));
  lake = await LocalLake.open(root);
  // ~9.5 days of traffic ending just before NOW: 6,000 records, 3% invalid, 4% producer resends.
  const workload = new Workload({ users: 150, seed: 7, startMs: START, meanGapMs: (9.45 * DAY) / 6000, invalidRatio: 0.03, duplicateRatio: 0.04 });
  let sequence = 0;
  let lastArrivalMs = START;
  const quarantineBatch: QuarantineRecord[] = [];
  for (const record of workload.take(6000)) {
    // Records that are not events arrive between their neighbours; the rest shortly after their event time.
    const eventMs = record.event ? Date.parse(record.event.event_time) : lastArrivalMs;
    const arrivalMs = Math.max(eventMs, START) + 1500 + (record.kind === 'duplicate' ? 20_000 : 0);
    lastArrivalMs = arrivalMs;
    received.push({ data: record.data, arrivalMs });
    const result = validateRecord(record.data, arrivalMs, { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * DAY });
    sequence++;
    if (result.ok) curated.push(result.event);
    else {
      quarantined.push({ reason: result.reason, arrivalMs });
      quarantineBatch.push({
        reason: result.reason,
        errors: result.errors,
        payload_base64: record.data.toString('base64'),
        payload_bytes: record.data.length,
        payload_truncated: false,
        shard_id: 'shardId-000000000000',
        sequence_number: String(sequence),
        arrival_time: new Date(arrivalMs).toISOString(),
        validated_at: new Date(arrivalMs + 50).toISOString(),
        validator_version: 'test',
        contract_version: '1.0',
      });
    }
  }
  // The validator writes one quarantine object per batch; batches never span an hour here.
  const byHour = new Map<string, QuarantineRecord[]>();
  for (const q of quarantineBatch) {
    const p = hourPartition(Date.parse(q.arrival_time));
    const k = `${p.dt}${p.hour}`;
    byHour.set(k, [...(byHour.get(k) ?? []), q]);
  }
  for (const batch of byHour.values()) {
    await lake.writeQuarantine(quarantineObjectKey(Date.parse(batch[0]!.arrival_time), batch[0]!.shard_id, batch[0]!.sequence_number, batch.at(-1)!.sequence_number), batch);
  }
  // Two deliveries of each zone, as two Firehose buffers would make.
  const half = Math.floor(received.length / 2);
  await lake.writeRaw(received.slice(0, half));
  await lake.writeRaw(received.slice(half));
  // A few long-standing users: events 20 days back, outside every reconciliation read.
  const longStanding = curated.slice(0, 40).map((e, i) => ({ ...e, event_id: `old-${i}`, event_time: new Date(Date.parse(e.event_time) - 20 * DAY).toISOString() }));
  curated.push(...longStanding);
  const curatedHalf = Math.floor(curated.length / 2);
  await lake.writeCurated(curated.slice(0, curatedHalf));
  await lake.writeCurated(curated.slice(curatedHalf));
  // Canary events of a verification run five days ago: in the lake, in no KPI and no reconciliation.
  const canaries = canaryBatch('test', NOW.getTime() - 5 * DAY, 3);
  await lake.writeCurated(canaries.valid);

  // Profile counters: unique valid events per user and type, as the aggregator keeps them.
  const seen = new Set<string>();
  for (const e of curated) {
    const k = `${e.user_id!}\u0000${e.event_id}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const counts = profiles.get(e.user_id!) ?? {};
    counts[e.event_type] = (counts[e.event_type] ?? 0) + 1;
    profiles.set(e.user_id!, counts);
    firstSeen.set(e.user_id!, Math.min(firstSeen.get(e.user_id!) ?? Infinity, Date.parse(e.event_time)));
  }
  // One settled user of the sample has a counter that drifted by one: the reconciliation must report it.
  const settled = [...profiles.keys()].sort().find((u) => recentlyAcquired(u) && !curated.some((e) => e.user_id! === u && dayOf(e) >= SNAPSHOT))!;
  tampered.user = settled;
  tampered.eventType = Object.keys(profiles.get(settled)!)[0]!;
  profiles.get(settled)![tampered.eventType]! += 1;
  const items = [...profiles].map(([user_id, counts]) => ({ user_id, first_seen: firstSeen.get(user_id)!, counts }));
  const canaryItems = [...canaries.expectedCounts].map(([user_id, counts]) => ({ user_id, first_seen: NOW.getTime() - 5 * DAY, counts: { ...counts, page_view: 99 } }));
  const garbage = items.map((p) => ({ ...p, counts: { page_view: 12345 } }));
  // Yesterday's complete export, today's complete one, and a later one of today that never completed (no
  // manifest): only today's complete export may be compared.
  await lake.writeProfileExport('2025-03-09', garbage, '01741478400000-aaaaaaaa');
  await lake.writeProfileExport(SNAPSHOT, [...items, ...canaryItems], '01741572000000-bbbbbbbb');
  await lake.writeProfileExport(SNAPSHOT, garbage, '01741575600000-cccccccc', { complete: false });
  // A complete export from three days ago is outside the partitions the query reads.
  await lake.writeProfileExport('2025-03-07', garbage, '01741305600000-dddddddd');
  runner = await LakeQueryRunner.open(root);
});

afterAll(async () => {
  runner?.close();
  await lake?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('the local lake holds the workload', () => {
  it('has valid events, invalid records and resent duplicates spread over several days', () => {
    expect(curated.length).toBeGreaterThan(5000);
    expect(quarantined.length).toBeGreaterThan(50);
    expect(new Set(curated.map(dayOf)).size).toBeGreaterThanOrEqual(9);
    expect(curated.length - new Set(curated.map((e) => `${e.user_id!}/${e.event_id}`)).size).toBeGreaterThan(50);
  });

  it('every deployed named query has a local check in this file', () => {
    expect(loadNamedQueries().map((q) => q.id).sort()).toEqual(Object.keys(checked).sort());
  });
});

const checked: Record<string, true> = {};
const check = (id: string, fn: () => Promise<void>) => {
  checked[id] = true;
  it(`${id} matches an independent computation`, fn);
};

describe('named queries', () => {
  check('daily-active-users', async () => {
    const rows = await runner.runNamedQuery('daily-active-users', { now: NOW });
    const inWindow = curated.filter((e) => dayOf(e) >= since(30));
    const expected = [...new Set(inWindow.map(dayOf))].sort().map((day) => {
      const of = inWindow.filter((e) => dayOf(e) === day);
      return { day, active_users: new Set(of.map((e) => e.user_id!)).size, events: of.length };
    });
    expect(rows.map((r) => ({ day: r.day, active_users: num(r.active_users), events: num(r.events) }))).toEqual(expected);
  });

  check('weekly-active-users', async () => {
    const rows = await runner.runNamedQuery('weekly-active-users', { now: NOW });
    const weekStart = (t: number) => {
      const d = new Date(Math.floor(t / DAY) * DAY);
      return new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
    };
    const from = new Date(Date.parse(weekStart(NOW.getTime())) - 84 * DAY).toISOString().slice(0, 10);
    const inWindow = curated.filter((e) => dayOf(e) >= from);
    const expected = [...new Set(inWindow.map((e) => weekStart(ms(e))))].sort().map((week) => {
      const of = inWindow.filter((e) => weekStart(ms(e)) === week);
      return { week_start: week, active_users: new Set(of.map((e) => e.user_id!)).size, events: of.length };
    });
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(rows.map((r) => ({ week_start: String(r.week_start), active_users: num(r.active_users), events: num(r.events) }))).toEqual(expected);
  });

  check('events-by-type-per-day', async () => {
    const rows = await runner.runNamedQuery('events-by-type-per-day', { now: NOW });
    const inWindow = curated.filter((e) => dayOf(e) >= since(30));
    const keys = [...new Set(inWindow.map((e) => `${dayOf(e)}|${e.event_type}`))].sort();
    const expected = keys.map((k) => {
      const [day, type] = k.split('|') as [string, string];
      const of = inWindow.filter((e) => dayOf(e) === day && e.event_type === type);
      return { day, event_type: type, events: of.length, users: new Set(of.map((e) => e.user_id!)).size };
    });
    expect(rows.map((r) => ({ day: r.day, event_type: r.event_type, events: num(r.events), users: num(r.users) }))).toEqual(expected);
  });

  check('session-length-distribution', async () => {
    const rows = await runner.runNamedQuery('session-length-distribution', { now: NOW });
    const sessions = new Map<string, number[]>();
    for (const e of curated.filter((x) => dayOf(x) >= since(7))) {
      const k = `${e.user_id!}|${e.session_id}`;
      sessions.set(k, [...(sessions.get(k) ?? []), ms(e)]);
    }
    const bounds = [60, 300, 900, 1800, 3600];
    const buckets = new Map<number, { sessions: number; events: number }>();
    for (const times of sessions.values()) {
      const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
      const b = bounds.findIndex((x) => seconds < x) + 1 || 6;
      const cur = buckets.get(b) ?? { sessions: 0, events: 0 };
      buckets.set(b, { sessions: cur.sessions + 1, events: cur.events + times.length });
    }
    expect(buckets.size).toBeGreaterThanOrEqual(3);
    const expected = [...buckets.keys()].sort((a, b) => a - b).map((b) => ({ bucket: b, sessions: buckets.get(b)!.sessions }));
    expect(rows.map((r) => ({ bucket: num(r.bucket), sessions: num(r.sessions) }))).toEqual(expected);
    for (const r of rows) {
      const b = buckets.get(num(r.bucket))!;
      expect(num(r.share)).toBeCloseTo(b.sessions / sessions.size, 4);
      expect(num(r.events_per_session)).toBeCloseTo(b.events / b.sessions, 2);
    }
  });

  check('purchase-funnel', async () => {
    const rows = await runner.runNamedQuery('purchase-funnel', { now: NOW });
    const inWindow = curated.filter((e) => dayOf(e) >= since(30));
    const expected = new Map<string, { viewers: number; added_to_cart: number; purchasers: number }>();
    const byUserDay = new Map<string, BehaviouralEvent[]>();
    for (const e of inWindow) byUserDay.set(`${dayOf(e)}|${e.user_id!}`, [...(byUserDay.get(`${dayOf(e)}|${e.user_id!}`) ?? []), e]);
    for (const [k, events] of byUserDay) {
      const day = k.split('|')[0]!;
      const firstOf = (type: string, after: number) => Math.min(...events.filter((e) => e.event_type === type && ms(e) >= after).map(ms));
      const viewed = firstOf('content_view', -Infinity);
      if (!Number.isFinite(viewed)) continue;
      const carted = firstOf('add_to_cart', viewed);
      const bought = Number.isFinite(carted) && Number.isFinite(firstOf('purchase', carted));
      const cur = expected.get(day) ?? { viewers: 0, added_to_cart: 0, purchasers: 0 };
      expected.set(day, { viewers: cur.viewers + 1, added_to_cart: cur.added_to_cart + (Number.isFinite(carted) ? 1 : 0), purchasers: cur.purchasers + (bought ? 1 : 0) });
    }
    const want = [...expected.keys()].sort().map((day) => ({ day, ...expected.get(day)! }));
    expect(want.some((d) => d.purchasers > 0)).toBe(true);
    expect(rows.map((r) => ({ day: r.day, viewers: num(r.viewers), added_to_cart: num(r.added_to_cart), purchasers: num(r.purchasers) }))).toEqual(want);
    for (const r of rows) expect(num(r.view_to_purchase_rate)).toBeCloseTo(num(r.purchasers) / num(r.viewers), 4);
  });

  check('top-content-per-category', async () => {
    const rows = await runner.runNamedQuery('top-content-per-category', { now: NOW });
    const views = curated.filter((e) => dayOf(e) >= since(7) && e.event_type === 'content_view' && e.category && e.content_id);
    const expected: { category: string; rank: number; content_id: string; views: number }[] = [];
    for (const category of [...new Set(views.map((e) => e.category!))].sort()) {
      const counts = countBy(views.filter((e) => e.category === category), (e) => e.content_id!);
      [...counts]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 10)
        .forEach(([content_id, n], i) => expected.push({ category, rank: i + 1, content_id, views: n }));
    }
    expect(rows.map((r) => ({ category: r.category, rank: num(r.rank), content_id: r.content_id, views: num(r.views) }))).toEqual(expected);
  });

  check('quarantine-rate-by-reason', async () => {
    const rows = await runner.runNamedQuery('quarantine-rate-by-reason', { now: NOW });
    const day = (t: number) => new Date(t).toISOString().slice(0, 10);
    const receivedPerDay = countBy(received.filter((r) => day(r.arrivalMs) >= since(7)), (r) => day(r.arrivalMs));
    const q = countBy(quarantined.filter((r) => day(r.arrivalMs) >= since(7)), (r) => `${day(r.arrivalMs)}|${r.reason}`);
    const expected = [...q]
      .map(([k, n]) => ({ day: k.split('|')[0]!, reason: k.split('|')[1]!, quarantined: n }))
      .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : b.quarantined - a.quarantined || (a.reason < b.reason ? -1 : 1)));
    expect(new Set(expected.map((e) => e.reason)).size).toBeGreaterThanOrEqual(3);
    expect(rows.map((r) => ({ day: r.day, reason: r.reason, quarantined: num(r.quarantined) }))).toEqual(expected);
    for (const r of rows) {
      expect(num(r.received)).toBe(receivedPerDay.get(String(r.day)));
      expect(num(r.quarantine_rate)).toBeCloseTo(num(r.quarantined) / num(r.received), 6);
    }
  });

  check('duplicate-rate', async () => {
    const rows = await runner.runNamedQuery('duplicate-rate', { now: NOW });
    const inWindow = curated.filter((e) => dayOf(e) >= since(30));
    const expected = [...new Set(inWindow.map(dayOf))].sort().map((day) => {
      const of = inWindow.filter((e) => dayOf(e) === day);
      const unique = new Set(of.map((e) => `${e.user_id!}/${e.event_id}`)).size;
      return { day, total_rows: of.length, unique_events: unique, duplicates: of.length - unique };
    });
    expect(expected.reduce((s, d) => s + d.duplicates, 0)).toBeGreaterThan(0);
    expect(rows.map((r) => ({ day: r.day, total_rows: num(r.total_rows), unique_events: num(r.unique_events), duplicates: num(r.duplicates) }))).toEqual(expected);
  });

  check('data-freshness-per-partition', async () => {
    const rows = await runner.runNamedQuery('data-freshness-per-partition', { now: NOW });
    const recent = curated.filter((e) => dayOf(e) >= since(1));
    const groups = new Map<string, BehaviouralEvent[]>();
    for (const e of recent) groups.set(e.event_time.slice(0, 13), [...(groups.get(e.event_time.slice(0, 13)) ?? []), e]);
    const expected = [...groups.keys()].sort().reverse().map((k) => {
      const newest = Math.max(...groups.get(k)!.map(ms));
      return { day: k.slice(0, 10), hour: k.slice(11, 13), events: groups.get(k)!.length, lag_seconds: (NOW.getTime() - newest) / 1000 };
    });
    expect(expected.length).toBeGreaterThan(24);
    expect(rows.map((r) => ({ day: r.day, hour: r.hour, events: num(r.events), lag_seconds: num(r.lag_seconds) }))).toEqual(expected);
  });

  check('golden-reconciliation', async () => {
    const rows = await runner.runNamedQuery('golden-reconciliation', { now: NOW });
    const sample = [...profiles.keys()].filter(recentlyAcquired).sort().slice(0, 1000);
    expect(sample.length).toBeGreaterThan(10);
    expect(sample.length).toBeLessThan(profiles.size);
    const unsettled = new Set(curated.filter((e) => dayOf(e) >= SNAPSHOT).map((e) => e.user_id!));
    const expected: Row[] = [];
    for (const user of sample) {
      for (const type of ['add_to_cart', 'click', 'content_view', 'page_view', 'purchase', 'remove_from_cart', 'search']) {
        const lake = new Set(curated.filter((e) => e.user_id! === user && e.event_type === type && dayOf(e) < SNAPSHOT).map((e) => e.event_id)).size;
        const profile = profiles.get(user)![type] ?? 0;
        if (lake === 0 && profile === 0) continue;
        expected.push({ user_id: user, event_type: type, lake_count: lake, profile_count: profile, status: lake === profile ? 'match' : unsettled.has(user) ? 'unsettled' : 'mismatch' });
      }
    }
    const order = (r: Row) => `${r.status === 'match' ? 1 : 0}|${r.user_id}|${r.event_type}`;
    expected.sort((a, b) => (order(a) < order(b) ? -1 : 1));
    const got = rows.map((r) => ({ user_id: r.user_id, event_type: r.event_type, lake_count: num(r.lake_count), profile_count: num(r.profile_count), status: r.status }));
    expect(got).toEqual(expected);
    expect(got.filter((r) => r.status === 'mismatch')).toEqual([
      expect.objectContaining({ user_id: tampered.user, event_type: tampered.eventType }),
    ]);
    expect(got.some((r) => r.status === 'unsettled')).toBe(true);
    expect(got.filter((r) => r.status === 'match').length).toBeGreaterThan(20);
    expect(got.some((r) => String(r.user_id).startsWith('pdp-canary:'))).toBe(false);
  });
});

describe('partition pruning', () => {
  it('the golden reconciliation reads two snapshot days and eight days of curated partitions, nothing older', async () => {
    const curatedFiles = await lake.list('curated', 'events/');
    const inWindow = curatedFiles.filter((k) => k.slice('events/dt='.length, 'events/dt='.length + 10) >= since(8));
    const exportFiles = await lake.list('curated', 'profile-exports/');
    const recentExports = exportFiles.filter((k) => k >= 'profile-exports/snapshot=2025-03-09');
    expect(inWindow.length).toBeLessThan(curatedFiles.length);
    expect(recentExports.length).toBeLessThan(exportFiles.length);
    const { filesRead } = await runner.filesRead(runner.queries.get('golden-reconciliation')!.sql, { now: NOW });
    // The export CTE is read for the completed exports and for the sample, the curated partitions for the identify
    // links and for the events: each at most twice.
    expect(filesRead).toBeLessThanOrEqual(2 * inWindow.length + 2 * recentExports.length);
    expect(filesRead).toBeGreaterThanOrEqual(recentExports.length);
  });

  it('a one-day query reads only that day\'s curated files', async () => {
    const day = since(3);
    const all = await lake.list('curated', 'events/');
    const ofDay = all.filter((k) => k.startsWith(`events/dt=${day}/`));
    expect(ofDay.length).toBeGreaterThan(0);
    const { filesRead } = await runner.filesRead(`SELECT count(*) FROM curated_events WHERE dt = '${day}'`);
    expect(filesRead).toBe(ofDay.length);
    expect(filesRead).toBeLessThan(all.length / 5);
  });

  it('the deployed 30-day query reads only the partitions inside its window', async () => {
    const later = new Date(NOW.getTime() + 27 * DAY); // the window now starts 3 days before NOW
    const from = new Date(Date.parse(later.toISOString().slice(0, 10)) - 30 * DAY).toISOString().slice(0, 10);
    const all = await lake.list('curated', 'events/');
    const inWindow = all.filter((k) => k.slice('events/dt='.length, 'events/dt='.length + 10) >= from);
    expect(inWindow.length).toBeGreaterThan(0);
    expect(inWindow.length).toBeLessThan(all.length / 2);
    const { filesRead } = await runner.filesRead(runner.queries.get('daily-active-users')!.sql, { now: later });
    expect(filesRead).toBe(inWindow.length);
  });
});
