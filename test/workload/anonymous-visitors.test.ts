import { describe, expect, it } from 'vitest';
import { validateRecord, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { expectedOwners } from '../../core/profiles/expected-owners';
import { AnonymousVisitors, type VisitorRecord } from '../../workload/anonymous-visitors';
import { Workload } from '../../workload/generator';

const START = Date.parse('2026-03-14T10:00:00Z');
const draw = (options: ConstructorParameters<typeof AnonymousVisitors>[0], chunks: number[] = [3000], workloadSeed = 5) => {
  const workload = new Workload({ seed: workloadSeed, users: 300, startMs: START, invalidRatio: 0.02, duplicateRatio: 0.05 });
  const visitors = new AnonymousVisitors(options);
  const records = chunks.flatMap((n) => visitors.apply(workload.take(n)));
  return { records, visitors, events: records.filter((r) => r.event && r.kind === 'valid').map((r) => r.event!) };
};

describe('anonymous visitors in the workload', () => {
  it('is deterministic for a seed, however the records are split into calls', () => {
    const whole = draw({ share: 0.3, seed: 1 }).records.map((r) => r.data.toString());
    const split = draw({ share: 0.3, seed: 1 }, [1, 999, 7, 1993]).records.map((r) => r.data.toString());
    expect(split).toEqual(whole);
    expect(draw({ share: 0.3, seed: 2 }).records.map((r) => r.data.toString())).not.toEqual(whole);
  });

  it('sends valid events of contract 1.1: anonymous ones keyed by their anonymous id, identify events by the user', () => {
    const { records } = draw({ share: 0.3, seed: 1 });
    const valid = records.filter((r) => r.kind === 'valid' || r.kind === 'duplicate');
    for (const r of valid) {
      const result = validateRecord(r.data, START + 86_400_000);
      expect(result.ok, r.data.toString()).toBe(true);
      expect(r.partitionKey).toBe(r.event!.user_id ?? r.event!.anonymous_id);
    }
    const anonymous = valid.filter((r) => r.event!.user_id === undefined);
    expect(anonymous.length).toBeGreaterThan(100);
    expect(valid.filter((r) => r.event!.event_type === 'identify').length).toBeGreaterThan(15);
  });

  it('has a share of the users browse anonymously first: most log in (identify, then the user), some never do', () => {
    const { events, visitors } = draw({ share: 0.3, seed: 1 });
    const stats = visitors.stats();
    const seen = new Set(events.map((e) => expectedOwners(events).owner(e)));
    expect(stats.visitors / seen.size).toBeGreaterThan(0.15);
    expect(stats.visitors / seen.size).toBeLessThan(0.45);
    const { links } = expectedOwners(events);
    const anonymousIds = new Set(events.filter((e) => e.user_id === undefined).map((e) => e.anonymous_id!));
    expect(links.size).toBe(stats.identified);
    expect([...anonymousIds].filter((id) => !links.has(id)).length).toBeGreaterThan(5);
    // At login: every anonymous event of a linked id comes before its identify event, every known event of
    // the user after it, and the identify has the time and session of the first known event.
    for (const [anonymousId, user] of links) {
      const at = events.findIndex((e) => e.event_type === 'identify' && e.anonymous_id === anonymousId);
      expect(events.findIndex((e) => e.user_id === user)).toBe(at);
      expect(events.slice(at + 1).some((e) => e.user_id === undefined && e.anonymous_id === anonymousId)).toBe(false);
      const next = events.slice(at + 1).find((e) => e.user_id === user);
      if (next) expect([next.event_time, next.session_id]).toEqual([events[at]!.event_time, events[at]!.session_id]);
    }
  });

  it('keeps the skew, the duplicates and the invalid records of the workload', () => {
    const { records, events } = draw({ share: 0.3, seed: 1 });
    const plain = new Workload({ seed: 5, users: 300, startMs: START, invalidRatio: 0.02, duplicateRatio: 0.05 }).take(3000);
    const kinds = (rs: readonly VisitorRecord[]) => rs.filter((r) => r.event?.event_type !== 'identify').map((r) => r.kind);
    expect(kinds(records)).toEqual(plain.map((r) => r.kind));
    // Resends of an anonymous event are the same bytes as its first copy.
    const firstCopy = new Map(records.filter((r) => r.kind === 'valid' && r.event).map((r) => [r.event!.event_id, r.data.toString()]));
    const resends = records.filter((r) => r.kind === 'duplicate' && r.event!.user_id === undefined);
    expect(resends.length).toBeGreaterThan(5);
    for (const r of resends) expect(r.data.toString()).toBe(firstCopy.get(r.event!.event_id));
    // The heaviest person still sends a large share, counted on the profile their events end in.
    const { owner } = expectedOwners(events);
    const activity = new Map<string, number>();
    for (const e of events) activity.set(owner(e), (activity.get(owner(e)) ?? 0) + 1);
    expect(Math.max(...activity.values()) / events.length).toBeGreaterThan(0.1);
  });

  it('anywhere: places identify events before, among and after the visitor\'s events, some twice (drills)', () => {
    const { records, visitors } = draw({ share: 0.3, seed: 9, identify: 'anywhere', identifySpread: 600, loginShare: 1 });
    records.push(...visitors.flush());
    const identify = (r: VisitorRecord) => r.event?.event_type === 'identify';
    const identifies = records.filter(identify);
    expect(identifies.length).toBeGreaterThan(visitors.stats().identified);
    let before = 0;
    let after = 0;
    for (const id of new Set(identifies.map((r) => r.event!.anonymous_id!))) {
      const first = records.findIndex((r) => identify(r) && r.event!.anonymous_id === id);
      const anonymous = records.map((r, i) => [r.event, i] as [BehaviouralEvent | undefined, number]).filter(([e]) => e?.user_id === undefined && e?.anonymous_id === id);
      if (anonymous.length === 0) continue;
      if (first < anonymous[0]![1]) before++;
      if (first > anonymous.at(-1)![1]) after++;
    }
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(0);
  });
});
