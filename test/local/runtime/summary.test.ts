import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveFeatures } from '../../../core/profiles/derive';
import { DAY_MS, dayKey, emptyProfile, type Profile } from '../../../core/profiles/model';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { LakeQueryRunner } from '../../../local/lake/query-runner';
import { LocalLake } from '../../../local/lake/local-lake';
import { account } from '../../../local/runtime/accounting';
import { describeProfile, expectedCounts, profileDrift } from '../../../local/runtime/profile-view';
import {
  GOLDEN_RECONCILIATION_QUERY,
  lastEventDay,
  localExportSnapshotDay,
  reconciliationVerdict,
  renderSummary,
  runNamedQueries,
  summaryOk,
  type NamedQueryResult,
  type SummaryInput,
} from '../../../local/runtime/summary';
import { Workload } from '../../../workload/generator';
import { AnonymousVisitors } from '../../../workload/anonymous-visitors';
import { expectedOwners, uniqueByUser } from '../../../core/profiles/expected-owners';

const golden = (rows: NamedQueryResult['rows'], error?: string): NamedQueryResult => ({
  id: GOLDEN_RECONCILIATION_QUERY,
  name: 'Golden dataset reconciliation',
  rows,
  ms: 1,
  ...(error ? { error } : {}),
});
const row = (user_id: string, event_type: string, lake: number, profile: number, status: string) => ({
  user_id,
  event_type,
  lake_count: String(lake),
  profile_count: String(profile),
  difference: String(profile - lake),
  status,
});

describe('the local profile export snapshot', () => {
  it('is the UTC day after the last event, across month and year ends', () => {
    expect(localExportSnapshotDay('2026-03-14')).toBe('2026-03-15');
    expect(localExportSnapshotDay('2026-02-28')).toBe('2026-03-01');
    expect(localExportSnapshotDay('2026-12-31')).toBe('2027-01-01');
  });

  it('is the day after the clock when the lake holds no event, and rejects what is not a day', () => {
    expect(localExportSnapshotDay(undefined, new Date('2026-05-01T23:59:59Z'))).toBe('2026-05-02');
    expect(() => localExportSnapshotDay('2026-5-1')).toThrow(/YYYY-MM-DD/);
  });
});

describe('the golden-dataset verdict', () => {
  it('is ok when every counter of every sampled user matches', () => {
    const r = reconciliationVerdict(golden([row('u1', 'click', 2, 2, 'match'), row('u1', 'purchase', 1, 1, 'match'), row('u2', 'click', 5, 5, 'match')]), '2026-03-15');
    expect(r).toMatchObject({ ok: true, users: 2, counters: 3, mismatched: [], unsettled: [], snapshot: '2026-03-15' });
  });

  it('names the users that mismatch or are unsettled', () => {
    const r = reconciliationVerdict(
      golden([row('u3', 'click', 2, 3, 'mismatch'), row('u4', 'click', 0, 1, 'unsettled'), row('u1', 'click', 2, 2, 'match'), row('u3', 'search', 1, 1, 'match')]),
      '2026-03-15',
    );
    expect(r).toMatchObject({ ok: false, users: 3, mismatched: ['u3'], unsettled: ['u4'] });
  });

  it('has no verdict when the query fails, returns nothing or is not deployed', () => {
    expect(reconciliationVerdict(golden([], 'Binder Error: x'), 'd')).toMatchObject({ ok: false, problem: 'the query failed: Binder Error: x' });
    expect(reconciliationVerdict(golden([]), 'd')).toMatchObject({ ok: false, problem: 'the query returned no rows' });
    expect(reconciliationVerdict(undefined, 'd')).toMatchObject({ ok: false, problem: expect.stringContaining('not deployed') });
  });
});

describe('the summary', () => {
  const input = (rows: NamedQueryResult['rows']): SummaryInput => {
    const queries = [golden(rows)];
    return {
      accounting: account([], { rawLines: 0, curatedRows: 0, curatedEventIds: new Set(), quarantinedRecords: new Set() }),
      validatorDuplicates: 0,
      quarantinedByReason: {},
      profiles: { updates: 1, readAt: new Date('2026-03-14T12:00:00Z'), sample: [], drift: { users: 1, drifted: [] } },
      queries,
      reconciliation: reconciliationVerdict(queries[0], '2026-03-15'),
      onFailureRecords: 0,
      locations: [],
      elapsedMs: 1000,
    };
  };

  it('says that all sampled users match, why the snapshot is the next day, and that everything reconciles', () => {
    const s = input([row('u1', 'click', 2, 2, 'match')]);
    const text = renderSummary(s);
    expect(text).toContain('[ok  ] golden-dataset reconciliation: all 1 sampled users match the lake');
    expect(text).toContain('export snapshot 2026-03-15, the day after the last event: the local export is taken after the run, so every event is settled');
    expect(text).toContain('    all 1 sampled users match the lake (export snapshot 2026-03-15)');
    expect(summaryOk(s)).toBe(true);
    expect(text.trimEnd().endsWith('Everything reconciles.')).toBe(true);
  });

  it('fails the run when a sampled user does not match, or when there is no verdict', () => {
    for (const s of [input([row('u1', 'click', 2, 3, 'mismatch'), row('u2', 'click', 1, 1, 'match')]), input([])]) {
      const text = renderSummary(s);
      expect(summaryOk(s)).toBe(false);
      expect(text).toContain('[FAIL] golden-dataset reconciliation');
      expect(text).toContain('Something does not reconcile');
    }
    expect(renderSummary(input([row('u1', 'click', 2, 3, 'mismatch'), row('u2', 'click', 1, 1, 'match')]))).toContain('1 of 2 sampled users match the lake');
  });

  it('says how many planned records the producer did not send and why, without failing the run for it', () => {
    const s: SummaryInput = {
      ...input([row('u1', 'click', 2, 2, 'match')]),
      producer: {
        planned: 3000,
        attempted: 2960,
        accepted: 2950,
        failedByCode: { 'ProvisionedThroughputExceededException after 6 attempts': 10 },
        notSent: 40,
        notSentReason: 'the duration ended before they were sent: the stream took 98.3 records/s of the 100 asked for (the slowest PutRecords call took 3.7 s)',
        achievedRate: 98.3,
        slowestCallMs: 3700,
      },
    };
    const text = renderSummary(s);
    expect(text).toContain(
      '  producer: 2,950 of 3,000 planned records accepted by the stream; 40 not sent: the duration ended before they were sent: ' +
        'the stream took 98.3 records/s of the 100 asked for (the slowest PutRecords call took 3.7 s); ' +
        "10 failed after the client's retries (ProvisionedThroughputExceededException after 6 attempts: 10)",
    );
    expect(summaryOk(s)).toBe(true);
    expect(renderSummary({ ...s, producer: { ...s.producer!, failedByCode: {}, notSent: 0, accepted: 3000 } })).toContain(
      '  producer: all 3,000 planned records accepted by the stream',
    );
  });

  it('fails the run when lake objects are not in S3 or on-failure records did not reach their destination, and shows incidents', () => {
    const ok = input([row('u1', 'click', 2, 2, 'match')]);
    const retried = { ...ok, delivery: { uploadRetries: 3, pendingUploads: 0, objectsNotDelivered: 0 } };
    expect(renderSummary(retried)).toContain('[ok  ] every lake object is in the S3 emulator (3 failed upload attempt(s) were retried)');
    expect(summaryOk(retried)).toBe(true);

    const missing = { ...ok, delivery: { uploadRetries: 9, pendingUploads: 1, objectsNotDelivered: 1, lastUploadError: 'TimeoutError: socket hang up' } };
    expect(renderSummary(missing)).toContain('[FAIL] every lake object is in the S3 emulator — 2 object(s) not uploaded (TimeoutError: socket hang up)');
    expect(summaryOk(missing)).toBe(false);

    const lost = { ...ok, onFailureDeliveryErrors: 1, incidents: ['the s3 emulator exited (signal SIGKILL) 3.0 s into the run'] };
    const text = renderSummary(lost);
    expect(text).toContain('[FAIL] every on-failure record reached its destination — 1 did not');
    expect(text).toContain('  incident: the s3 emulator exited (signal SIGKILL) 3.0 s into the run');
    expect(summaryOk(lost)).toBe(false);
  });
});

describe('profiles as the reader returns them', () => {
  const now = Date.parse('2026-03-14T12:00:00Z');
  const profile: Profile = {
    ...emptyProfile('user-7'),
    version: 3,
    updated_at: now - 60_000,
    first_seen: now - 10 * DAY_MS,
    last_seen: now - 90_000,
    events: 14,
    counts: { page_view: 9, content_view: 4, purchase: 1 },
    days: { [dayKey(now)]: 4, [dayKey(now - 3 * DAY_MS)]: 3, [dayKey(now - 10 * DAY_MS)]: 7 },
    session_count: 2,
    session_ms: 120_000,
    // Written 14 days ago: one half-life, so the scores read at `now` are halved.
    affinity: { shoes: 8, books: 2 },
    affinity_at: now - 14 * DAY_MS,
    recent_content: [['sku-1', now - 90_000]],
    purchase_count: 1,
    purchase_value_milli: { EUR: 49_990 },
  };

  it('prints the derived features: seconds since last seen, 7- and 30-day frequency, affinities decayed to now', () => {
    const lines = describeProfile(deriveFeatures(profile, now, 14));
    expect(lines).toEqual([
      'events 14 (page_view 9, content_view 4, purchase 1)',
      'last seen 2026-03-14T11:58:30Z, 90 s ago; first seen 2026-03-04T12:00:00Z',
      'last 7 days 7 events (1.00/day), last 30 days 14 (0.47/day)',
      'sessions 2, mean 60.0 s; purchases 1 (49.99 EUR)',
      'affinities decayed to now: shoes 4.00 (80%), books 1.00 (20%)',
      'recently viewed sku-1',
    ]);
  });

  it('finds no drift when the counters equal the unique valid events, and names the users that differ', () => {
    const events = new Workload({ seed: 4, users: 20, startMs: now }).take(300).map((r) => r.event!);
    const expected = expectedCounts(events);
    const profiles = new Map(
      [...expected].map(([userId, counts]) => [userId, { counts, lifetimeEvents: Object.values(counts).reduce((a, b) => a + b, 0) }]),
    );
    expect(profileDrift(events, profiles)).toEqual([]);
    const [first, second] = [...expected.keys()].sort();
    profiles.set(first!, { ...profiles.get(first!)!, lifetimeEvents: profiles.get(first!)!.lifetimeEvents + 1 });
    profiles.delete(second!);
    expect(profileDrift(events, profiles)).toEqual([first, second].sort());
  });
});

describe('the golden-dataset query on a local lake with the local export', () => {
  let root: string;
  let lake: LocalLake;
  let runner: LakeQueryRunner;
  let events: BehaviouralEvent[];
  const firstSeen = (user: string) => Math.min(...events.filter((e) => e.user_id === user).map((e) => Date.parse(e.event_time)));
  const counts = () => [...expectedCounts(events)].map(([user_id, c]) => ({ user_id, first_seen: firstSeen(user_id), counts: c }));
  // The query's clock: shortly after the run (the golden query reads only today's and yesterday's snapshots).
  const now = { now: new Date('2026-03-15T00:10:00Z') };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'summary-lake-'));
    lake = await LocalLake.open(root);
    // Events up to a few minutes before midnight UTC, as a run late in the day sends them.
    events = new Workload({ seed: 11, users: 40, startMs: Date.parse('2026-03-14T23:50:00Z'), meanGapMs: 1_000 }).take(400).map((r) => r.event!);
    await lake.writeCurated(events);
    runner = await LakeQueryRunner.open(root);
  });

  afterAll(async () => {
    runner?.close();
    await lake?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('has every sampled user match when the export is stamped with the day after the last event', async () => {
    const last = await lastEventDay(runner);
    expect(last).toBe(events.map((e) => e.event_time.slice(0, 10)).sort().at(-1));
    const snapshot = localExportSnapshotDay(last);
    await lake.writeProfileExport(snapshot, counts(), 'after-the-run');
    await runner.refresh(root);
    const verdict = reconciliationVerdict((await runNamedQueries(runner, now)).find((q) => q.id === GOLDEN_RECONCILIATION_QUERY), snapshot);
    expect(verdict).toMatchObject({ ok: true, users: expectedCounts(events).size, mismatched: [], unsettled: [] });
  });

  it('would call the users unsettled with an export stamped on the day of the events (why the local snapshot is the next day)', async () => {
    const sameDay = (await lastEventDay(runner))!;
    await rm(join(root, 'curated', 'profile-exports'), { recursive: true, force: true });
    await lake.writeProfileExport(sameDay, counts(), 'same-day');
    await runner.refresh(root);
    const verdict = reconciliationVerdict((await runNamedQueries(runner, now)).find((q) => q.id === GOLDEN_RECONCILIATION_QUERY), sameDay);
    expect(verdict.ok).toBe(false);
    expect(verdict.mismatched).toEqual([]);
    expect(verdict.unsettled.length).toBeGreaterThan(0);
  });
});

describe('with anonymous visitors (the default workload of npm start)', () => {
  let root: string;
  let lake: LocalLake;
  let runner: LakeQueryRunner;
  let events: BehaviouralEvent[];
  const now = { now: new Date('2026-03-15T00:10:00Z') };
  /** The export as the table holds it: every profile the events imply, and the frozen profiles of the linked anonymous ids. */
  const exportItems = (tamper?: (items: { user_id: string; first_seen: number; counts: Record<string, number> }[]) => void) => {
    const { owner, links } = expectedOwners(events);
    const items = [...uniqueByUser(events, owner)].map(([user_id, list]) => ({
      user_id,
      first_seen: Math.min(...list.map((e) => Date.parse(e.event_time))),
      counts: list.reduce<Record<string, number>>((c, e) => ({ ...c, [e.event_type]: (c[e.event_type] ?? 0) + 1 }), {}),
    }));
    for (const anonymousId of links.keys()) {
      const before = events.filter((e) => e.user_id === undefined && e.anonymous_id === anonymousId);
      // Frozen when it was merged: not compared (its user is).
      if (before.length) items.push({ user_id: `anon#${anonymousId}`, first_seen: Date.parse(before[0]!.event_time), counts: { page_view: before.length } });
    }
    tamper?.(items);
    return items;
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'summary-anonymous-'));
    lake = await LocalLake.open(root);
    const visitors = new AnonymousVisitors({ share: 0.5, seed: 3 });
    const records = visitors.apply(new Workload({ seed: 3, users: 40, startMs: Date.parse('2026-03-14T22:00:00Z'), meanGapMs: 1_000, duplicateRatio: 0.1 }).take(600));
    events = records.filter((r) => r.event && r.kind === 'valid').map((r) => r.event!);
    expect(visitors.stats().identified).toBeGreaterThan(3);
    expect(visitors.stats().visitors).toBeGreaterThan(visitors.stats().identified);
    await lake.writeCurated(records.filter((r) => r.event).map((r) => r.event!));
    runner = await LakeQueryRunner.open(root);
  });

  afterAll(async () => {
    runner?.close();
    await lake?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('expects each linked anonymous id\'s events on its user, and the others on their own anonymous profile', () => {
    const { links } = expectedOwners(events);
    const expected = expectedCounts(events);
    const unlinked = new Set(events.filter((e) => e.user_id === undefined && !links.has(e.anonymous_id!)).map((e) => `anon#${e.anonymous_id}`));
    expect(unlinked.size).toBeGreaterThan(0);
    for (const key of unlinked) expect(expected.has(key)).toBe(true);
    for (const [anonymousId, user] of links) {
      expect(expected.has(`anon#${anonymousId}`)).toBe(false);
      const own = events.filter((e) => e.user_id === user || (e.user_id === undefined && e.anonymous_id === anonymousId)).length;
      expect(Object.values(expected.get(user)!).reduce((a, b) => a + b, 0)).toBe(own);
    }
    // A profile that did not absorb its anonymous id's events drifts.
    const [anonymousId, user] = [...links].find(([id]) => events.some((e) => e.user_id === undefined && e.anonymous_id === id))!;
    const profiles = new Map([...expected].map(([k, counts]) => [k, { counts, lifetimeEvents: Object.values(counts).reduce((a, b) => a + b, 0) }]));
    const lost = events.filter((e) => e.user_id === undefined && e.anonymous_id === anonymousId).length;
    profiles.set(user, { counts: profiles.get(user)!.counts, lifetimeEvents: profiles.get(user)!.lifetimeEvents - lost });
    expect(profileDrift(events, profiles)).toEqual([user]);
  });

  it('the golden-dataset query counts a linked anonymous id\'s events on its user, and compares the unlinked visitors\' profiles', async () => {
    const snapshot = localExportSnapshotDay(await lastEventDay(runner));
    await lake.writeProfileExport(snapshot, exportItems(), 'stitched');
    await runner.refresh(root);
    const result = (await runNamedQueries(runner, now)).find((q) => q.id === GOLDEN_RECONCILIATION_QUERY)!;
    const verdict = reconciliationVerdict(result, snapshot);
    expect(verdict).toMatchObject({ ok: true, users: expectedCounts(events).size, mismatched: [], unsettled: [] });
    expect(result.rows.some((r) => r.event_type === 'identify')).toBe(true);
    expect(result.rows.some((r) => String(r.user_id).startsWith('anon#'))).toBe(true);
  });

  it('the golden-dataset query names a user whose profile lacks the events of its linked anonymous id', async () => {
    const { links } = expectedOwners(events);
    const user = [...links.values()].sort()[0]!;
    const snapshot = localExportSnapshotDay(await lastEventDay(runner));
    await rm(join(root, 'curated', 'profile-exports'), { recursive: true, force: true });
    await lake.writeProfileExport(snapshot, exportItems((items) => { const item = items.find((i) => i.user_id === user)!; item.counts.identify! += 1; }), 'tampered');
    await runner.refresh(root);
    const verdict = reconciliationVerdict((await runNamedQueries(runner, now)).find((q) => q.id === GOLDEN_RECONCILIATION_QUERY), snapshot);
    expect(verdict.mismatched).toEqual([user]);
  });
});
