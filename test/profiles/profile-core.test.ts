/** The profile core: feature definitions, bounds and pruning, item size, window state, read-time features. */
import { describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
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
  applyLedgerWrites,
  lastIdEntries,
  lastIdsOf,
  ledgerExpiry,
  ledgerHas,
  ledgerReadsNeeded,
  ledgerRetentionHours,
  ledgerSettingsOf,
  ledgerSlot,
  mergeSegment,
  planLedgerWrites,
  readProfileEvent,
  writeSegments,
  type LedgerView,
  type Profile,
  type ProfileEvent,
  type Segment,
} from '../../core/profiles';
import { CATEGORIES } from '../../workload/generator';
import { MemoryProfileStore } from '../../local/memory/profile-store';

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
  const segment = (events: BehaviouralEvent[]): Segment => ({ userId: 'u-1', events: events.map(pe) });
  const write = async (store: MemoryProfileStore, events: BehaviouralEvent[], settings = S) =>
    writeSegments(store, [segment(events)], { settings, now: () => T0 });

  it('applies new events once, then recognizes every one of them again (a retried or redriven window)', async () => {
    const store = new MemoryProfileStore();
    const events = [event(), event({ at: T0 + 1000 })];
    expect(await write(store, events)).toMatchObject({ written: 1, appliedEvents: 2, duplicates: 0 });
    expect(await write(store, events)).toMatchObject({ written: 0, alreadyApplied: 1, appliedEvents: 0, duplicates: 2 });
    expect(store.items.get('u-1')).toMatchObject({ events: 2, version: 1 });
  });

  it('recognizes a copy however many events of the user were applied since (no count horizon)', async () => {
    const store = new MemoryProfileStore();
    const first = event({ at: T0 });
    await write(store, [first]);
    for (let w = 0; w < 10; w++) await write(store, Array.from({ length: 100 }, (_, i) => event({ at: T0 + w * 100_000 + i * 1000 })));
    expect(await write(store, [first, event({ at: T0 + 5 })])).toMatchObject({ appliedEvents: 1, duplicates: 1 });
    expect(store.items.get('u-1')!.events).toBe(1002);
  });

  it('recognizes a late copy whose event time is days before everything else the user sent', async () => {
    const store = new MemoryProfileStore();
    const old = event({ at: T0 - 6 * DAY_MS });
    await write(store, [old]);
    await write(store, Array.from({ length: 300 }, (_, i) => event({ at: T0 + i * 1000 })));
    expect(await write(store, [old])).toMatchObject({ alreadyApplied: 1, duplicates: 1 });
  });

  it('bumps the version and writes on top of exactly the profile read', async () => {
    const store = new MemoryProfileStore();
    await write(store, [event()]);
    await write(store, [event()]);
    expect(store.items.get('u-1')!.version).toBe(2);
  });

  it('keeps the ids of its latest write in the profile until the ledger has them, and repairs the ledger first', async () => {
    const store = new MemoryProfileStore();
    const a = event();
    // The ledger write after the profile write fails: the profile alone records a's id.
    const failing = Object.assign(Object.create(store) as MemoryProfileStore, { writeLedger: () => Promise.reject(new Error('ledger down')) });
    const report = await writeSegments(failing, [segment([a])], { settings: S, now: () => T0 });
    expect(report).toMatchObject({ written: 1, ledgerDeferred: 1 });
    expect(store.ledgerStats().ids).toBe(0);
    expect(Object.values(store.items.get('u-1')!.last_ids).join('')).toContain(pe(a).id);
    // A copy is still recognized; the next write puts a's id in the ledger before replacing last_ids.
    expect(await write(store, [a, event()])).toMatchObject({ appliedEvents: 1, duplicates: 1, ledgerRepairs: 1 });
    expect(await write(store, [a])).toMatchObject({ alreadyApplied: 1, duplicates: 1 });
    expect(store.items.get('u-1')!.events).toBe(2);
  });

  it('sets the TTL to last_seen plus the configured days, and none when expiry is off', async () => {
    const withTtl = new MemoryProfileStore();
    await write(withTtl, [event({ at: T0 })]);
    expect(withTtl.items.get('u-1')!.expires_at).toBe(T0 / 1000 + S.ttlDays * 86_400);
    const without = new MemoryProfileStore();
    await write(without, [event({ at: T0 })], { ...S, ttlDays: 0 });
    expect(without.items.get('u-1')!.expires_at).toBeUndefined();
  });

  it('is a pure function of the stored profile and the ledger view', () => {
    const view = new Map([[ledgerSlot(T0, pe(event()).id, 0), null]]);
    const e = pe(event());
    view.set(ledgerSlot(e.t, e.id, 0), null);
    const out = mergeSegment(undefined, view, { userId: 'u-1', events: [e] }, S, 7);
    expect(out).toMatchObject({ kind: 'write', applied: 1, expectedVersion: 0, repairs: [] });
    if (out.kind === 'write') expect(out.ledger).toEqual([{ slot: ledgerSlot(e.t, e.id, 0), add: [e.id], split: false, expiresAt: ledgerExpiry(e.t, ledgerSettingsOf(S)) }]);
  });
});

describe('ledger of applied event ids', () => {
  const L = { retentionHours: 240, itemCapacity: 4 };
  const entry = (id: string, t: number) => ({ id, t });

  it('slots an event by its hour, minute, second, then by characters of its id hash', () => {
    const t = Date.parse('2026-03-01T14:23:05.678Z');
    expect([0, 1, 2, 3, 4, 10, 11].map((level) => ledgerSlot(t, 'Qb3x9Z_-', level))).toEqual([
      '2026-03-01T14',
      '2026-03-01T14:23',
      '2026-03-01T14:23:05',
      '2026-03-01T14:23:05#Q',
      '2026-03-01T14:23:05#Qb',
      '2026-03-01T14:23:05#Qb3x9Z_-',
      '2026-03-01T14:23:05#Qb3x9Z_-',
    ]);
  });

  it('splits an item that would outgrow its capacity and sends its new ids one level down', () => {
    const view: LedgerView = new Map([['2026-03-01T14', { ids: new Set(['aaaaaaaa', 'bbbbbbbb']), split: false }]]);
    const t = Date.parse('2026-03-01T14:00:00Z');
    const writes = planLedgerWrites(view, ['cccccccc', 'dddddddd', 'eeeeeeee'].map((id, i) => entry(id, t + i * 61_000)), L);
    expect(writes.map((w) => [w.slot, w.add, w.split])).toEqual([
      ['2026-03-01T14', [], true],
      ['2026-03-01T14:00', ['cccccccc'], false],
      ['2026-03-01T14:01', ['dddddddd'], false],
      ['2026-03-01T14:02', ['eeeeeeee'], false],
    ]);
    applyLedgerWrites(view, writes);
    // Ids written before the split are still found, and so are the new ones.
    for (const [id, at] of [['aaaaaaaa', t], ['dddddddd', t + 61_000]] as const) {
      expect(ledgerReadsNeeded(view, [entry(id, at)])).toEqual([]);
      expect(ledgerHas(view, entry(id, at))).toBe(true);
    }
    expect(ledgerReadsNeeded(view, [entry('ffffffff', t + 180_000)])).toEqual(['2026-03-01T14:03']);
  });

  it('bounds every item whatever the rate: a burst of ids in one second splits by id hash', () => {
    const view: LedgerView = new Map();
    const t = Date.parse('2026-03-01T14:00:00Z');
    const ids = Array.from({ length: 200 }, (_, i) => pe(event({ event_id: `burst-${i}`, at: t })).id);
    const writes = planLedgerWrites(view, ids.map((id) => entry(id, t)), L);
    applyLedgerWrites(view, writes);
    expect(Math.max(...writes.map((w) => w.add.length))).toBeLessThanOrEqual(L.itemCapacity);
    for (const id of ids) {
      expect(ledgerReadsNeeded(view, [entry(id, t)])).toEqual([]);
      expect(ledgerHas(view, entry(id, t))).toBe(true);
    }
  });

  it('keeps a slot until no copy of its events can be accepted, forwarded and read any more', () => {
    expect(ledgerRetentionHours({ maxPastAgeSeconds: 7 * 86_400, rawRetentionHours: 168, validatedRetentionHours: 168 })).toBe(168 + 168 + 168 + 24);
    const t = Date.parse('2026-03-01T14:59:59Z');
    expect(ledgerExpiry(t, L)).toBe(Date.parse('2026-03-01T14:00:00Z') / 1000 + (240 + 1) * 3600);
  });

  it('stores the ids of a write compactly with their second, and reads them back', () => {
    const events = [pe(event({ at: Date.parse('2026-03-01T14:59:59.999Z') })), pe(event({ at: Date.parse('2026-03-01T15:00:00Z') }))];
    const last = lastIdsOf(events);
    expect(Object.keys(last)).toEqual(['2026-03-01T14', '2026-03-01T15']);
    expect(lastIdEntries(last)).toEqual(events.map((e) => ({ id: e.id, t: Math.floor(e.t / 1000) * 1000 })));
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
    const p = applyEvents(emptyProfile('user-with-a-long-identifier-0000000000001'), events.map(pe), S);
    // The ids of the latest write: a window of one event per second of one hour.
    p.last_ids = lastIdsOf(Array.from({ length: 120 }, (_, i) => ({ id: pe(event()).id, t: T0 + i * 1000 })));
    expect(Object.keys(p.days)).toHaveLength(ACTIVITY_DAYS);
    expect(Object.keys(p.affinity)).toHaveLength(S.topCategories);
    expect(p.recent_content).toHaveLength(S.recentContent);
    expect(p.recent_sessions).toHaveLength(S.sessionsKept);
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
    expect(state.add('u-1', e)).toBe('added');
    const reloaded = new WindowState(JSON.parse(JSON.stringify(state.toJSON())));
    expect(reloaded.hasPending('u-1', e.id)).toBe(true);
  });

  it('never lets the state outgrow its budget: it names users to flush first, the largest first', () => {
    const limits = { budgetBytes: 4000, maxEventsPerUser: 1000 };
    let state = new WindowState(undefined, limits);
    const flushed: string[][] = [];
    for (let i = 0; i < 400; i++) {
      const user = i % 3 === 0 ? 'heavy' : `light-${i}`;
      const e = read(event({ user_id: user, event_type: 'content_view', content_id: `sku-${i}`, category: 'books' }));
      const flush = state.flushBefore(user, e);
      if (flush.length > 0) {
        flushed.push(flush);
        state.markFlushed(flush);
      }
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
    for (let i = 0; i < 3; i++) state.add('u-1', read(event()));
    expect(state.flushBefore('u-1', read(event()))).toEqual(['u-1']);
  });

  it('flushes every pending user when the largest ones cannot make room, and starts the dictionary over', () => {
    const limits = { budgetBytes: 1500, maxEventsPerUser: 1000 };
    const state = new WindowState(undefined, limits);
    let full: string[] | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const user = `user-with-a-long-id-${i}`;
      const e = read(event({ user_id: user, device: { type: 'mobile', os: `os-${i}` } }));
      const flush = state.flushBefore(user, e);
      if (flush.length > 0) {
        state.markFlushed(flush);
        if (state.userCount === 0) full = flush;
      }
      state.add(user, e);
    }
    expect(full).toBeDefined();
    const json = state.toJSON();
    expect(json.x).toHaveLength(1);
    expect(JSON.stringify(json).length).toBeLessThanOrEqual(limits.budgetBytes);
  });

  it('holds only the events added after a user was flushed', () => {
    const state = new WindowState(undefined);
    state.add('u-1', read(event()));
    state.markFlushed(['u-1']);
    state.add('u-1', read(event()));
    const [s] = new WindowState(JSON.parse(JSON.stringify(state.toJSON()))).segments();
    expect(s).toMatchObject({ userId: 'u-1' });
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
