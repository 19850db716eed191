/** The profile core: feature definitions, bounds and pruning, item size, window state, read-time features. */
import { describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '../../lambdas/core/contract';
import {
  ACTIVITY_DAYS,
  DAY_MS,
  DEFAULT_PROFILE_SETTINGS,
  WindowState,
  applyEvents,
  decodeEvents,
  deriveFeatures,
  emptyProfile,
  encodeEvent,
  itemSizeBytes,
  mergeSegment,
  readProfileEvent,
  type Profile,
  type ProfileEvent,
  type Segment,
} from '../../lambdas/core/profile';
import { CATEGORIES } from '../../local/workload';

const T0 = Date.parse('2026-05-10T12:00:00.000Z');
const S = DEFAULT_PROFILE_SETTINGS;
let n = 0;

function event(over: Partial<BehaviouralEvent> & { at?: number } = {}): BehaviouralEvent {
  const { at, ...rest } = over;
  return {
    schema_version: '1.0',
    event_id: `e-${++n}`,
    user_id: 'u-1',
    session_id: 's-1',
    event_type: 'page_view',
    event_time: new Date(at ?? T0).toISOString(),
    ...rest,
  };
}

function pe(e: BehaviouralEvent): ProfileEvent {
  const r = readProfileEvent(JSON.parse(JSON.stringify(e)));
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

function fold(events: BehaviouralEvent[], settings = S): Profile {
  return applyEvents(emptyProfile('u-1'), events.map(pe), settings);
}

describe('profile features', () => {
  it('counts events by type and in total, with first and last seen in event time', () => {
    const p = fold([event({ at: T0 + 5000 }), event({ event_type: 'click', at: T0 }), event({ event_type: 'click', at: T0 + 1000 })]);
    expect(p.events).toBe(3);
    expect(p.counts).toEqual({ page_view: 1, click: 2 });
    expect(p.first_seen).toBe(T0);
    expect(p.last_seen).toBe(T0 + 5000);
  });

  it('keeps day buckets for the 30 UTC days ending on the day of last_seen', () => {
    const p = fold([event({ at: T0 - 40 * DAY_MS }), event({ at: T0 - 29 * DAY_MS }), event({ at: T0 - 30 * DAY_MS }), event({ at: T0 })]);
    expect(p.days).toEqual({ '20260411': 1, '20260510': 1 });
    expect(Object.keys(p.days).length).toBeLessThanOrEqual(ACTIVITY_DAYS);
  });

  it('spans a session over every event of it, whichever batch brings them, and counts distinct sessions', () => {
    const p = fold([event({ at: T0 + 60_000 }), event({ session_id: 's-2', at: T0 + 10 * 60_000 })]);
    applyEvents(p, [pe(event({ at: T0 })), pe(event({ at: T0 + 120_000 }))], S);
    expect(p.session_count).toBe(2);
    expect(p.session_ms).toBe(120_000);
  });

  it('counts an event of a session evicted from the recent sessions as a new session (documented bound)', () => {
    const p = fold([event({ session_id: 'old', at: T0 })]);
    for (let i = 0; i < S.sessionsKept; i++) applyEvents(p, [pe(event({ session_id: `new-${i}`, at: T0 + (i + 1) * 3_600_000 }))], S);
    expect(p.recent_sessions).toHaveLength(S.sessionsKept);
    applyEvents(p, [pe(event({ session_id: 'old', at: T0 + 60_000 }))], S);
    expect(p.session_count).toBe(S.sessionsKept + 2);
  });

  it('scores category affinity with exponential decay: one half-life halves a score', () => {
    const h = S.affinityHalfLifeDays * DAY_MS;
    const p = fold([
      event({ event_type: 'content_view', category: 'shoes', at: T0 }),
      event({ event_type: 'content_view', category: 'books', at: T0 + h }),
      event({ event_type: 'purchase', category: 'books', value: 10, currency: 'EUR', at: T0 + h }),
      event({ event_type: 'page_view', category: 'toys', at: T0 + h }),
    ]);
    expect(p.affinity_at).toBe(T0 + h);
    expect(p.affinity.shoes).toBeCloseTo(0.5, 12);
    expect(p.affinity.books).toBeCloseTo(1 + 5, 12);
    expect(p.affinity.toys).toBeUndefined();
  });

  it('keeps the top categories by score, ties by name', () => {
    const events = CATEGORIES.map((c, i) => event({ event_type: 'content_view', category: c, at: T0 + i }));
    const p = fold(events, { ...S, topCategories: 3 });
    expect(Object.keys(p.affinity).sort()).toEqual([...CATEGORIES].slice(-3).sort());
  });

  it('keeps the last K distinct viewed content ids by event time', () => {
    const views = ['a', 'b', 'a', 'c', 'd'].map((c, i) => event({ event_type: 'content_view', content_id: c, at: T0 + i * 1000 }));
    const p = fold(views, { ...S, recentContent: 3 });
    expect(p.recent_content).toEqual([
      ['d', T0 + 4000],
      ['c', T0 + 3000],
      ['a', T0 + 2000],
    ]);
  });

  it('sums purchases exactly per currency in thousandths, in any order', () => {
    const values = [0.1, 0.2, 0.3, 19.99, 1_000_000];
    const forward = fold(values.map((v) => event({ event_type: 'purchase', value: v, currency: 'EUR' })));
    const backward = fold([...values].reverse().map((v) => event({ event_type: 'purchase', value: v, currency: 'EUR' })));
    expect(forward.purchase_count).toBe(5);
    expect(forward.purchase_value_milli).toEqual({ EUR: 1_000_020_590 });
    expect(backward.purchase_value_milli).toEqual(forward.purchase_value_milli);
  });

  it('takes device and locale from the latest event that names them', () => {
    const p = fold([
      event({ device: { type: 'desktop', os: 'Linux' }, context: { locale: 'de-DE' }, at: T0 + 2000 }),
      event({ device: { type: 'mobile', os: 'iOS', app_version: '5.1' }, context: { locale: 'fr-FR' }, at: T0 }),
      event({ at: T0 + 9000 }),
    ]);
    expect(p.device).toEqual({ type: 'desktop', os: 'Linux' });
    expect(p.device_at).toBe(T0 + 2000);
    expect(p.locale).toBe('de-DE');
  });

  it('reports, rather than crashes on, a record that is not an event', () => {
    expect(readProfileEvent('nope')).toEqual({ ok: false, reason: 'not_an_object' });
    expect(readProfileEvent({ ...event(), event_type: 'hover' })).toEqual({ ok: false, reason: 'event_type' });
    expect(readProfileEvent({ ...event(), event_time: 'yesterday' })).toEqual({ ok: false, reason: 'event_time' });
  });
});

describe('exactly-once merge', () => {
  const segment = (events: BehaviouralEvent[], first: string, to: string, extra: Partial<Segment> = {}): Segment => ({
    userId: 'u-1',
    shardId: 'shardId-000000000000',
    first,
    to,
    events: events.map(pe),
    ...extra,
  });

  it('skips a segment at or below the watermark (a retried window)', () => {
    const s = segment([event()], '10', '20');
    const first = mergeSegment(undefined, s, S, 1);
    if (first.kind !== 'write') throw new Error('expected a write');
    expect(first.profile.wm).toEqual({ 'shardId-000000000000': '20' });
    expect(mergeSegment(first.profile, s, S, 2)).toEqual({ kind: 'already-applied', events: 1 });
  });

  it('drops a producer duplicate whose id is among the recent ids, and bumps the version', () => {
    const e = event();
    const first = mergeSegment(undefined, segment([e], '10', '20'), S, 1);
    if (first.kind !== 'write') throw new Error('expected a write');
    const again = mergeSegment(first.profile, segment([e, event()], '21', '30'), S, 2);
    expect(again).toMatchObject({ kind: 'write', applied: 1, duplicates: 1, expectedVersion: 1, anomaly: false });
    if (again.kind === 'write') expect(again.profile.version).toBe(2);
  });

  it('applies a duplicate again once it is beyond the duplicate horizon (documented bound)', () => {
    const e = event();
    let p = (mergeSegment(undefined, segment([e], '10', '10'), { ...S, dedupEventIds: 2 }, 1) as { profile: Profile }).profile;
    p = (mergeSegment(p, segment([event(), event()], '11', '12'), { ...S, dedupEventIds: 2 }, 1) as { profile: Profile }).profile;
    const late = mergeSegment(p, segment([e], '13', '13'), { ...S, dedupEventIds: 2 }, 1);
    expect(late).toMatchObject({ kind: 'write', applied: 1, duplicates: 0 });
  });

  it('filters event by event when the segment carries sequence numbers (a re-read batch cut differently)', () => {
    const [a, b, c] = [event(), event(), event()];
    const first = mergeSegment(undefined, segment([a, b], '1', '2', { sequenceNumbers: ['1', '2'] }), { ...S, dedupEventIds: 1 }, 1) as { profile: Profile };
    const reread = mergeSegment(first.profile, segment([a, b, c], '1', '3', { sequenceNumbers: ['1', '2', '3'] }), { ...S, dedupEventIds: 1 }, 2);
    expect(reread).toMatchObject({ kind: 'write', applied: 1, anomaly: false });
  });

  it('compares sequence numbers numerically, not as text', () => {
    const first = mergeSegment(undefined, segment([event()], '9', '9'), S, 1) as { profile: Profile };
    expect(mergeSegment(first.profile, segment([event()], '10', '10'), S, 2).kind).toBe('write');
  });

  it('sets the TTL to last_seen plus the configured days, and none when expiry is off', () => {
    const withTtl = mergeSegment(undefined, segment([event({ at: T0 })], '1', '1'), S, 1) as { profile: Profile };
    expect(withTtl.profile.expires_at).toBe(T0 / 1000 + S.ttlDays * 86_400);
    const without = mergeSegment(undefined, segment([event({ at: T0 })], '1', '1'), { ...S, ttlDays: 0 }, 1) as { profile: Profile };
    expect(without.profile.expires_at).toBeUndefined();
  });
});

describe('item size budget', () => {
  it('keeps a profile with every bound full and long identifiers under 4 KB', () => {
    const long = (prefix: string, i: number) => `${prefix}-${String(i).padStart(3, '0')}-${'x'.repeat(20)}`;
    const events: BehaviouralEvent[] = [];
    for (let d = 0; d < 45; d++) {
      for (let i = 0; i < 4; i++) {
        const at = T0 - d * DAY_MS + i * 1000;
        events.push(
          event({
            user_id: 'user-with-a-long-identifier-0000000000001',
            session_id: long('session', d * 4 + i),
            event_type: i === 3 ? 'purchase' : 'content_view',
            content_id: long('content', d * 4 + i),
            category: `cat${d % 30}>sub${i}>leaf-category-name`,
            value: 123456.789,
            currency: ['EUR', 'USD', 'GBP', 'JPY', 'CHF', 'SEK'][d % 6]!,
            device: { type: 'mobile', os: 'Android 14 (Pixel 8 Pro)', app_version: '12.345.6789-beta' },
            context: { locale: 'en-GB' },
            at,
          }),
        );
      }
    }
    const merged = mergeSegment(undefined, { userId: 'u-1', shardId: 'shardId-000000000000', first: '1', to: '1', events: events.map(pe) }, S, T0);
    if (merged.kind !== 'write') throw new Error('expected a write');
    const p = merged.profile;
    for (let s = 1; s < 4; s++) p.wm[`shardId-00000000000${s}`] = '4'.repeat(56);
    expect(Object.keys(p.days)).toHaveLength(ACTIVITY_DAYS);
    expect(Object.keys(p.affinity)).toHaveLength(S.topCategories);
    expect(p.recent_content).toHaveLength(S.recentContent);
    expect(p.recent_sessions).toHaveLength(S.sessionsKept);
    expect(p.recent_ids).toHaveLength(S.dedupEventIds * 8);
    expect(Object.keys(p.purchase_value_milli)).toHaveLength(S.currencies);
    expect(itemSizeBytes(p as unknown as Record<string, unknown>)).toBeLessThanOrEqual(4096);
  });

  it('sizes items as DynamoDB bills them: names, UTF-8 strings, numbers by significant digits, containers', () => {
    expect(itemSizeBytes({ a: 'héllo' })).toBe(1 + 6);
    expect(itemSizeBytes({ n: 12345 })).toBe(1 + 4);
    expect(itemSizeBytes({ m: { k: 1 } })).toBe(1 + 3 + 1 + 1 + 2);
    expect(itemSizeBytes({ l: ['ab', 7] })).toBe(1 + 3 + 1 + 2 + 1 + 2);
  });
});

describe('window state', () => {
  const read = (e: BehaviouralEvent) => pe(e);

  it('round-trips events through the compact text form', () => {
    const ctx = { t0: T0, dict: [] as string[], dictIndex: new Map<string, number>() };
    const cursor = {};
    const events = [
      read(event({ event_type: 'content_view', content_id: 'sku-1', category: 'shoes>trail', device: { type: 'mobile', os: 'a|b:c~d%' }, context: { locale: 'en-US' } })),
      read(event({ event_type: 'purchase', category: 'shoes', value: 12.5, currency: 'EUR', at: T0 - 5000 })),
      read(event({ session_id: 's-2', at: T0 + 99_000 })),
    ];
    const text = events.map((e) => encodeEvent(e, ctx, cursor)).join('~');
    expect(decodeEvents(text, T0, ctx.dict)).toEqual(events);
  });

  it('recognizes a duplicate event id pending in the same window', () => {
    const state = new WindowState(undefined);
    const e = read(event());
    state.advance('1');
    expect(state.add('u-1', e)).toBe('added');
    const reloaded = new WindowState(JSON.parse(JSON.stringify(state.toJSON())));
    expect(reloaded.hasPending('u-1', e.id)).toBe(true);
  });

  it('never lets the state outgrow its budget: it names users to flush first, the largest first', () => {
    const limits = { budgetBytes: 4000, maxEventsPerUser: 1000 };
    let state = new WindowState(undefined, limits);
    let seq = 0;
    const flushed: string[][] = [];
    for (let i = 0; i < 400; i++) {
      const user = i % 3 === 0 ? 'heavy' : `light-${i}`;
      const e = read(event({ user_id: user, event_type: 'content_view', content_id: `sku-${i}`, category: 'books' }));
      const flush = state.flushBefore(user, e);
      if (flush.length > 0) {
        flushed.push(flush);
        state.markFlushed(flush);
      }
      state.advance(String(++seq));
      state.add(user, e);
      expect(JSON.stringify(state.toJSON()).length).toBeLessThanOrEqual(limits.budgetBytes);
      expect(state.estimatedBytes).toBeGreaterThanOrEqual(JSON.stringify(state.toJSON()).length);
      state = new WindowState(JSON.parse(JSON.stringify(state.toJSON())), limits);
    }
    expect(flushed.length).toBeGreaterThan(0);
    const withHeavy = flushed.filter((f) => f.includes('heavy'));
    expect(withHeavy.length).toBeGreaterThan(0);
    expect(withHeavy.every((f) => f[0] === 'heavy')).toBe(true);
  });

  it('flushes a user whose pending events reach the per-user limit', () => {
    const state = new WindowState(undefined, { budgetBytes: 1e9, maxEventsPerUser: 3 });
    for (let i = 0; i < 3; i++) {
      state.advance(String(i + 1));
      state.add('u-1', read(event()));
    }
    expect(state.flushBefore('u-1', read(event()))).toEqual(['u-1']);
  });

  it('flushes every pending user when flush records fill the budget, and one marker then bounds every segment', () => {
    const limits = { budgetBytes: 1500, maxEventsPerUser: 1000 };
    const state = new WindowState(undefined, limits);
    let seq = 0;
    let full: string[] | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const user = `user-with-a-long-id-${i}`;
      const e = read(event({ user_id: user }));
      const flush = state.flushBefore(user, e);
      if (flush.length > 0) {
        state.markFlushed(flush);
        if (state.userCount === 0) full = flush;
      }
      state.advance(String(++seq));
      state.add(user, e);
    }
    expect(full).toBeDefined();
    const json = state.toJSON();
    expect(json.fl).toEqual({});
    expect(json.fa).toBe(String(seq - 1));
    const [s] = state.segments('shard');
    expect(s).toMatchObject({ first: '1', after: String(seq - 1), to: String(seq) });
    expect(JSON.stringify(json).length).toBeLessThanOrEqual(limits.budgetBytes);
  });

  it('starts a flushed user’s next segment after the flush point', () => {
    const state = new WindowState(undefined);
    state.advance('1');
    state.add('u-1', read(event()));
    state.markFlushed(['u-1']);
    state.advance('2');
    state.add('u-1', read(event()));
    const [s] = new WindowState(JSON.parse(JSON.stringify(state.toJSON()))).segments('shard');
    expect(s).toMatchObject({ userId: 'u-1', first: '1', after: '1', to: '2' });
    expect(s!.events).toHaveLength(1);
  });
});

describe('read-time features', () => {
  it('derives recency, activity, frequency, decayed affinities and session means relative to the reader’s clock', () => {
    const p = fold([
      event({ event_type: 'content_view', category: 'shoes', at: T0 - 3 * DAY_MS }),
      event({ at: T0 - 10 * DAY_MS }),
      event({ session_id: 's-2', at: T0 - 60_000 }),
      event({ session_id: 's-2', at: T0 }),
    ]);
    const now = T0 + 14 * DAY_MS;
    const f = deriveFeatures(p, now, 14);
    expect(f.secondsSinceLastSeen).toBe(14 * 86_400);
    expect(f.activity).toEqual({ last1d: 0, last7d: 0, last30d: 4 });
    expect(f.frequency.perDay30d).toBeCloseTo(4 / 30, 12);
    expect(f.affinities[0]).toMatchObject({ category: 'shoes', share: 1 });
    // The view was 3 days before T0, read 14 days after it: 17 days of decay.
    expect(f.affinities[0]!.score).toBeCloseTo(Math.pow(2, -17 / 14), 12);
    expect(f.sessions).toEqual({ count: 2, totalSeconds: 60 + 7 * 86_400, meanSeconds: (60 + 7 * 86_400) / 2 });
  });
});
