/** The byte encoding of the window state's per-record path: the same text as the string encoder, in every case. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteSink,
  DEFAULT_PROFILE_SETTINGS,
  EventScratch,
  WindowState,
  aggregateInvocation,
  decodeEvents,
  encodeEvent,
  encodeEventInto,
  readProfileEvent,
  type ProfileEvent,
  type ScratchCursor,
  type UserCursor,
} from '../../core/profiles';
import { MemoryProfileStore } from '../../local/memory/profile-store';

const T0 = Date.parse('2026-05-10T12:00:00.000Z');
const text = fc.oneof(fc.constantFrom('sku-1', 'a|b', 'é', 'ü~', '日本', '\ud800', 'x'.repeat(40)), fc.string({ minLength: 1, maxLength: 12 }), fc.string({ minLength: 1, maxLength: 6, unit: 'binary' }));
const eventArb = fc.record({
  type: fc.integer({ min: 0, max: 6 }),
  t: fc.oneof(fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }), fc.integer({ min: -40 * 86_400_000, max: 40 * 86_400_000 }), fc.constant(T0 * 2)),
  session: fc.integer({ min: 0, max: 2 }),
  content: fc.option(text, { nil: undefined }),
  category: fc.option(text, { nil: undefined }),
  valueMilli: fc.option(fc.oneof(fc.nat(), fc.constant(2 ** 60), fc.constant(-0)), { nil: undefined }),
  currency: fc.option(text, { nil: undefined }),
  device: fc.option(fc.constantFrom('mobile', 'desktop:Linux', 'tablet:%3a:5', 'phone:ОС'), { nil: undefined }),
  locale: fc.option(fc.constantFrom('en-US', 'de-DE', 'ja-日本'), { nil: undefined }),
});

describe('window state byte encoding', () => {
  it('writes exactly the text the string encoder writes, cursor and dictionary included', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 30 }), (specs) => {
        const events: ProfileEvent[] = specs.map((s, i) => {
          const e: ProfileEvent = { type: s.type, t: T0 + s.t, id: readId(`e-${i}`), session: readId(`s-${s.session}`) };
          if (s.content !== undefined) e.content = s.content;
          if (s.category !== undefined) e.category = s.category;
          if (s.valueMilli !== undefined) {
            e.valueMilli = s.valueMilli;
            e.currency = s.currency ?? 'EUR';
          }
          if (s.device !== undefined) e.device = s.device;
          if (s.locale !== undefined) e.locale = s.locale;
          return e;
        });
        const a = { t0: T0, dict: [] as string[], dictIndex: new Map<string, number>() };
        const b = { t0: T0, dict: [] as string[], dictIndex: new Map<string, number>() };
        const cursor: UserCursor = {};
        const scratchCursor: ScratchCursor = { started: false, sessionHi: 0, sessionLo: 0, device: undefined, locale: undefined };
        const sink = new ByteSink();
        const scratch = new EventScratch();
        const expected: string[] = [];
        const actual: string[] = [];
        for (const e of events) {
          expected.push(encodeEvent(e, a, cursor));
          expect(scratch.fromEvent('u-1', e)).toBe(true);
          const start = sink.length;
          const n = encodeEventInto(sink, scratch, b, scratchCursor);
          actual.push(n < 0 ? sink.wide : Buffer.from(sink.bytes.subarray(start, start + n)).toString('latin1'));
        }
        expect(actual).toEqual(expected);
        expect(b.dict).toEqual(a.dict);
        expect(decodeEvents(actual.join('~'), T0, b.dict)).toEqual(decodeEvents(expected.join('~'), T0, a.dict));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a user whose id names an Object.prototype member apart from the prototype', async () => {
    const store = new MemoryProfileStore();
    const data = (user: string, id: string) =>
      Buffer.from(JSON.stringify({ schema_version: '1.0', event_id: id, user_id: user, session_id: 's', event_type: 'page_view', event_time: new Date(T0).toISOString() })).toString('base64');
    const records = ['constructor', 'toString', 'constructor'].map((u, i) => ({ sequenceNumber: String(i + 1), data: data(u, `e-${i}`) }));
    const first = await aggregateInvocation({ shardId: 's', records, flushAll: false, carriesState: true }, { store, settings: DEFAULT_PROFILE_SETTINGS, now: () => T0 });
    expect(Object.keys(first.state.u!)).toEqual(['constructor', 'toString']);
    const state = new WindowState(JSON.parse(JSON.stringify(first.state)));
    expect(state.segments().map((s) => [s.userId, s.events.length])).toEqual([
      ['constructor', 2],
      ['toString', 1],
    ]);
    await aggregateInvocation({ shardId: 's', records: [], state: first.state, flushAll: true, carriesState: true }, { store, settings: DEFAULT_PROFILE_SETTINGS, now: () => T0 });
    expect(store.items.get('constructor')?.events).toBe(2);
  });
});

function readId(id: string): string {
  const r = readProfileEvent({ user_id: 'u', event_id: id, session_id: 's', event_type: 'click', event_time: new Date(T0).toISOString() });
  if (!r.ok) throw new Error(r.reason);
  return r.event.id;
}
