/**
 * Anonymous visitors, identify events, consent and tombstones, as the aggregation applies them (the property
 * test checks exactly-once under faults; these are the rules one at a time).
 */
import { describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { DEFAULT_PROFILE_SETTINGS, emptyProfile } from '../../core/profiles/model';
import { absorbProfile, anonLinkHash } from '../../core/profiles/stitch';
import { applyEvents } from '../../core/profiles/fold';
import { readProfileEvent } from '../../core/profiles/profile-event';
import { MemoryProfileStore } from '../../local/memory/profile-store';
import { sequenceNumber, simulateShard, type SimRecord } from '../../local/memory/simulated-source';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
let n = 0;

function event(fields: Partial<BehaviouralEvent>, minutes = 0): BehaviouralEvent {
  return {
    schema_version: '1.1',
    event_id: `e-${n++}`,
    session_id: 's-1',
    event_type: 'page_view',
    event_time: new Date(T0 + minutes * 60_000).toISOString(),
    ...fields,
  } as BehaviouralEvent;
}

async function run(store: MemoryProfileStore, events: readonly BehaviouralEvent[], shard = 0): Promise<void> {
  const records: SimRecord[] = events.map((e, i) => ({ sequenceNumber: sequenceNumber(shard, i + 1), data: Buffer.from(JSON.stringify(e)).toString('base64'), arrivalMs: T0 + i }));
  await simulateShard(`shardId-${shard}`, records, { store, settings: DEFAULT_PROFILE_SETTINGS, windowMs: 0, faults: { random: () => 1, crashAfter: 0, redeliver: 0, reprocessWindow: 0, maxBatch: 100 } });
}

describe('anonymous visitors', () => {
  it('an event without user_id builds the profile of its anonymous id, with the same features', async () => {
    const store = new MemoryProfileStore();
    await run(store, [event({ anonymous_id: 'dev-1', event_type: 'content_view', content_id: 'sku-1', category: 'shoes' })]);
    const p = store.items.get('anon#dev-1')!;
    expect(p.counts).toEqual({ content_view: 1 });
    expect(p.recent_content.map((c) => c[0])).toEqual(['sku-1']);
    expect(Object.keys(p.affinity)).toEqual(['shoes']);
  });

  it('an event with both ids belongs to the user and links nothing; only identify links', async () => {
    const store = new MemoryProfileStore();
    await run(store, [event({ user_id: 'u-1', anonymous_id: 'dev-1' })]);
    expect([...store.items.keys()]).toEqual(['u-1']);
    expect(store.linksOf('u-1')).toEqual([]);
  });
});

describe('identify: the anonymous profile is merged into the user', () => {
  it('merges counts, purchases and the shared session (a login mid-visit counts one session), and links the id', async () => {
    const store = new MemoryProfileStore();
    await run(store, [
      event({ anonymous_id: 'dev-1', event_type: 'purchase', value: 10, currency: 'EUR', session_id: 'visit' }, 0),
      event({ user_id: 'u-1', session_id: 'visit' }, 5),
    ], 1);
    await run(store, [event({ user_id: 'u-1', anonymous_id: 'dev-1', event_type: 'identify', session_id: 'visit' }, 3)], 0);
    const u = store.items.get('u-1')!;
    expect(u.counts).toEqual({ purchase: 1, page_view: 1, identify: 1 });
    expect(u.purchase_value_milli).toEqual({ EUR: 10_000 });
    expect(u.session_count).toBe(1);
    expect(u.session_ms).toBe(5 * 60_000);
    expect(u.anon_links).toEqual([anonLinkHash('dev-1')]);
    expect(store.items.get('anon#dev-1')!.merged_into).toBe('u-1');
    expect(store.linksOf('u-1')).toEqual(['dev-1']);
  });

  it('sends later anonymous events of a linked id to the user, and recognizes a copy of one applied before the merge', async () => {
    const store = new MemoryProfileStore();
    const before = event({ anonymous_id: 'dev-1' }, 0);
    await run(store, [before], 1);
    await run(store, [event({ user_id: 'u-1', anonymous_id: 'dev-1', event_type: 'identify' }, 1)], 0);
    await run(store, [event({ anonymous_id: 'dev-1', event_type: 'click' }, 2), before], 1);
    expect(store.items.get('u-1')!.counts).toEqual({ page_view: 1, identify: 1, click: 1 });
    expect(store.items.get('anon#dev-1')!.counts).toEqual({ page_view: 1 });
  });

  it('an identify that comes before any anonymous event still gets them all', async () => {
    const store = new MemoryProfileStore();
    await run(store, [event({ user_id: 'u-1', anonymous_id: 'dev-1', event_type: 'identify' }, 0)], 0);
    await run(store, [event({ anonymous_id: 'dev-1' }, 1), event({ anonymous_id: 'dev-1' }, 2)], 1);
    expect(store.items.get('u-1')!.counts).toEqual({ identify: 1, page_view: 2 });
  });

  it('a user with many devices absorbs each once, however many identify events name it', async () => {
    const store = new MemoryProfileStore();
    await run(store, [event({ anonymous_id: 'dev-1' }), event({ anonymous_id: 'dev-2' }), event({ anonymous_id: 'dev-3' })], 1);
    const identify = (d: string) => event({ user_id: 'u-1', anonymous_id: d, event_type: 'identify' }, 1);
    await run(store, [identify('dev-1'), identify('dev-2'), identify('dev-1'), identify('dev-3')], 0);
    await run(store, [identify('dev-2')], 0);
    const u = store.items.get('u-1')!;
    expect(u.counts).toEqual({ page_view: 3, identify: 5 });
    expect(u.anon_links).toHaveLength(3);
    expect(store.linksOf('u-1').sort()).toEqual(['dev-1', 'dev-2', 'dev-3']);
  });

  it('a shared device belongs to the first user who claims it; a second claim merges nothing and is counted', async () => {
    const store = new MemoryProfileStore();
    await run(store, [event({ anonymous_id: 'kiosk', event_type: 'purchase', value: 5, currency: 'USD' })], 1);
    await run(store, [event({ user_id: 'alice', anonymous_id: 'kiosk', event_type: 'identify' }, 1)], 0);
    await run(store, [event({ user_id: 'bob', anonymous_id: 'kiosk', event_type: 'identify' }, 2)], 2);
    await run(store, [event({ anonymous_id: 'kiosk' }, 3)], 1);
    expect(store.items.get('alice')!.counts).toEqual({ purchase: 1, identify: 1, page_view: 1 });
    expect(store.items.get('bob')!.counts).toEqual({ identify: 1 });
    expect(store.items.get('bob')!.anon_links).toBeUndefined();
    expect(store.linksOf('bob')).toEqual([]);
  });
});

describe('absorbProfile', () => {
  it('equals the fold of the union of both event sets', () => {
    const events = [
      event({ anonymous_id: 'd', event_type: 'content_view', content_id: 'a', category: 'shoes', session_id: 'x', device: { type: 'mobile' } }, 0),
      event({ anonymous_id: 'd', event_type: 'content_view', content_id: 'b', category: 'books', session_id: 'y', context: { locale: 'de-DE' } }, 60 * 24 * 3),
      event({ user_id: 'u', event_type: 'add_to_cart', content_id: 'a', category: 'shoes', session_id: 'y' }, 60 * 24 * 3 + 5),
      event({ user_id: 'u', event_type: 'purchase', value: 3.5, currency: 'EUR', session_id: 'z', device: { type: 'desktop' } }, 60 * 24 * 40),
    ].map((e) => readProfileEvent(e)).map((r) => (r.ok ? r.event : undefined)!);
    const settings = DEFAULT_PROFILE_SETTINGS;
    const anon = applyEvents(emptyProfile('anon#d'), events.slice(0, 2), settings);
    const user = applyEvents(emptyProfile('u'), events.slice(2), settings);
    const union = applyEvents(emptyProfile('u'), events, settings);
    const merged = absorbProfile(user, anon, settings);
    const { affinity, ...rest } = merged;
    const { affinity: expectedAffinity, ...expected } = union;
    expect(rest).toEqual(expected);
    for (const [c, s] of Object.entries(expectedAffinity)) expect(affinity[c]).toBeCloseTo(s, 12);
  });
});

describe('consent', () => {
  it('an event without personalization consent never reaches a profile; absent flags count as granted', async () => {
    const store = new MemoryProfileStore();
    await run(store, [
      event({ user_id: 'u-1', consent: { personalization: false, analytics: true } }),
      event({ user_id: 'u-1', consent: { analytics: false } }),
      event({ user_id: 'u-1' }),
      event({ user_id: 'u-2', consent: { personalization: false } }),
    ]);
    expect(store.items.get('u-1')!.events).toBe(2);
    expect(store.items.has('u-2')).toBe(false);
  });
});

describe('tombstones', () => {
  it('events of an erased person are dropped, whichever of their ids they carry', async () => {
    const store = new MemoryProfileStore();
    store.items.set('u-1', { ...emptyProfile('u-1'), first_seen: 0, last_seen: 0, version: 3, erased_at: T0 });
    store.items.set('anon#dev-1', { ...emptyProfile('anon#dev-1'), first_seen: 0, last_seen: 0, version: 2, erased_at: T0 });
    await run(store, [event({ user_id: 'u-1' }), event({ anonymous_id: 'dev-1' }), event({ user_id: 'u-2', anonymous_id: 'dev-1', event_type: 'identify' })]);
    expect(store.items.get('u-1')).toMatchObject({ events: 0, version: 3, erased_at: T0 });
    expect(store.items.get('anon#dev-1')).toMatchObject({ events: 0, version: 2 });
    // Another user's identify of an erased anonymous id counts for them, and absorbs nothing.
    expect(store.items.get('u-2')!.counts).toEqual({ identify: 1 });
  });
});
