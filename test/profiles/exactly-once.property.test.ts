import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '../../lambdas/core/contract';
import { DAY_MS, DEFAULT_PROFILE_SETTINGS, type Profile, type ProfileSettings } from '../../lambdas/core/profile/model';
import { MemoryProfileStore } from './support/memory-store';
import { expectedProfile, uniqueByUser } from './support/oracle';
import { seededRandom } from '../../local/workload';
import { sequenceNumber, simulateShard, type SimRecord } from './support/simulated-source';

/** A duplicate horizon wider than any user's history: every producer duplicate must be recognized. */
const WIDE: ProfileSettings = { ...DEFAULT_PROFILE_SETTINGS, dedupEventIds: 256 };
/** A horizon of one id: redeliveries must be recognized by the sequence-number watermark alone. */
const NARROW: ProfileSettings = { ...DEFAULT_PROFILE_SETTINGS, dedupEventIds: 1 };
const BASE_MS = Date.parse('2026-03-01T00:00:00.000Z');
const TYPES: BehaviouralEvent['event_type'][] = ['page_view', 'content_view', 'click', 'search', 'add_to_cart', 'remove_from_cart', 'purchase'];
const CATEGORIES = ['shoes', 'shoes>trail', 'books', 'home>garden', 'toys', 'beauty'];
const DEVICES: NonNullable<BehaviouralEvent['device']>[] = [{ type: 'mobile', os: 'iOS', app_version: '5.1' }, { type: 'desktop', os: 'Linux' }, { type: 'tablet' }];

/** An event of one of a few users; times spread over 40 days so day buckets get pruned. */
const eventArb = fc.record({
  user: fc.integer({ min: 0, max: 3 }),
  session: fc.integer({ min: 0, max: 2 }),
  type: fc.constantFrom(...TYPES),
  offsetMs: fc.integer({ min: 0, max: 40 * DAY_MS }),
  category: fc.option(fc.constantFrom(...CATEGORIES), { nil: undefined }),
  content: fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
  value: fc.integer({ min: 0, max: 500_000 }),
  device: fc.option(fc.constantFrom(...DEVICES), { nil: undefined }),
  locale: fc.option(fc.constantFrom('en-US', 'de-DE', 'fr-FR'), { nil: undefined }),
  duration: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
});

type EventSpec = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function toEvent(e: EventSpec, id: number): BehaviouralEvent {
  const event: BehaviouralEvent = {
    schema_version: '1.0',
    event_id: `evt-${id}`,
    user_id: `user-${e.user}`,
    session_id: `s-${e.user}-${e.session}`,
    event_type: e.type,
    event_time: new Date(BASE_MS + e.offsetMs).toISOString(),
  };
  if (e.category) event.category = e.category;
  if (e.content !== undefined) event.content_id = `sku-${e.content}`;
  if (e.type === 'purchase') {
    event.value = e.value / 100;
    event.currency = e.value % 3 === 0 ? 'USD' : 'EUR';
  }
  if (e.device) event.device = { ...e.device };
  if (e.locale) event.context = { locale: e.locale };
  if (e.duration !== undefined) event.duration_ms = e.duration;
  return event;
}

const scenarioArb = fc.record({
  events: fc.array(eventArb, { minLength: 1, maxLength: 60 }),
  /** Indexes of events a producer sends again (same event id and payload, a new record). */
  resend: fc.array(fc.nat(), { maxLength: 20 }),
  shards: fc.integer({ min: 1, max: 2 }),
  windowMs: fc.constantFrom(0, 1_000, 5_000),
  tightState: fc.boolean(),
  narrowHorizon: fc.boolean(),
  seed: fc.integer(),
  crashAfter: fc.constantFrom(0, 0.15, 0.3),
  redeliver: fc.constantFrom(0, 0.15),
  reprocessWindow: fc.constantFrom(0, 0.3),
  throttle: fc.constantFrom(0, 0.1),
  lostAck: fc.constantFrom(0, 0.1),
});

function compare(actual: Profile | undefined, events: BehaviouralEvent[], settings: ProfileSettings): void {
  const expected = expectedProfile(events, settings);
  expect(actual, `profile of ${events[0]!.user_id}`).toBeDefined();
  const a = actual!;
  const { affinity, ...exact } = expected;
  expect({
    events: a.events,
    counts: a.counts,
    first_seen: a.first_seen,
    last_seen: a.last_seen,
    days: a.days,
    session_count: a.session_count,
    session_ms: a.session_ms,
    affinity_at: a.affinity_at,
    recent_content: a.recent_content,
    purchase_count: a.purchase_count,
    purchase_value_milli: a.purchase_value_milli,
    ...(a.device ? { device: a.device } : {}),
    ...(a.locale ? { locale: a.locale } : {}),
  }).toEqual(exact);
  expect(Object.keys(a.affinity).sort()).toEqual(Object.keys(affinity).sort());
  // Floating-point sums in a different order differ only in the last bits.
  for (const [category, score] of Object.entries(affinity)) expect(a.affinity[category]).toBeCloseTo(score, 9);
}

describe('exactly-once effect (property)', () => {
  it('profiles equal the oracle of the unique events under any fault schedule, producer duplicates and reordering', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const events = s.events.map((e, i) => toEvent(e, i));
        // Producer resends land later in the stream; arrival order is not event-time order.
        const settings = s.narrowHorizon ? NARROW : WIDE;
        const resent = s.narrowHorizon ? [] : s.resend.map((i) => events[i % events.length]!);
        const sent = [...events, ...resent];
        const random = seededRandom(s.seed);
        const store = new MemoryProfileStore();
        let storeFaults = 100;
        store.faults = { throttle: s.throttle, lostAck: s.lostAck, random: () => (storeFaults-- > 0 ? random() : 1) };

        const byShard = new Map<number, SimRecord[]>();
        sent.forEach((event, i) => {
          const shard = Number(event.user_id.slice(5)) % s.shards;
          const list = byShard.get(shard) ?? [];
          list.push({ sequenceNumber: sequenceNumber(shard, i + 1), data: Buffer.from(JSON.stringify(event)).toString('base64'), arrivalMs: BASE_MS + i * 400 });
          byShard.set(shard, list);
        });
        let anomalies = 0;
        for (const [shard, records] of byShard) {
          const stats = await simulateShard(`shardId-00000000000${shard}`, records, {
            store,
            settings,
            windowMs: s.windowMs,
            ...(s.tightState ? { limits: { budgetBytes: 700, maxEventsPerUser: 3 } } : {}),
            faults: { random, crashAfter: s.crashAfter, redeliver: s.redeliver, reprocessWindow: s.reprocessWindow, maxBatch: 8 },
          });
          anomalies += stats.anomalies;
        }
        // Window segments never straddle a watermark, so the merge's fallback path is never taken.
        expect(anomalies).toBe(0);
        const expected = uniqueByUser(events);
        expect([...store.items.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [user, list] of expected) compare(store.items.get(user), list, settings);
      }),
      { numRuns: 150, seed: Number(process.env.PROPERTY_SEED ?? 20260301) },
    );
  });
});
