/**
 * Profiles in the summary: the oracle check (each profile's lifetime counters equal what the unique valid
 * events imply) and a short human-readable description of a profile as the typed reader (clients/profiles)
 * returns it, derived features included.
 */
import type { DerivedFeatures } from '@personalization-data-platform/profile-reader';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { expectedOwners, uniqueByUser } from '../../core/profiles/expected-owners';

/**
 * event_type -> count per profile, from the unique valid events: what every profile's `counts` must equal. A
 * profile is a user's (with the events of every anonymous id an identify event links to the user) or an anonymous
 * visitor's not linked to anyone (`anon#<id>`), by the same rule the tests' oracle uses (core/profiles/expected-owners.ts).
 */
export function expectedCounts(uniqueValid: readonly BehaviouralEvent[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const [owner, events] of uniqueByUser(uniqueValid, expectedOwners(uniqueValid).owner)) {
    const counts: Record<string, number> = {};
    for (const e of events) counts[e.event_type] = (counts[e.event_type] ?? 0) + 1;
    out.set(owner, counts);
  }
  return out;
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== Number(b[k] ?? 0)) return false;
  return true;
}

/** Profiles (user ids, `anon#<id>` keys) missing or with counters that differ from the oracle (empty: zero drift). */
export function profileDrift(
  uniqueValid: readonly BehaviouralEvent[],
  profiles: ReadonlyMap<string, Pick<DerivedFeatures, 'counts' | 'lifetimeEvents'>>,
): string[] {
  const drifted: string[] = [];
  for (const [userId, counts] of expectedCounts(uniqueValid)) {
    const p = profiles.get(userId);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (!p || !sameCounts(counts, p.counts) || p.lifetimeEvents !== total) drifted.push(userId);
  }
  return drifted.sort();
}

const iso = (s: string) => s.replace('.000Z', 'Z');
const perDay = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(2));

/**
 * A few lines describing a profile as a personalization service gets it from ProfileReader: lifetime
 * counters, recency relative to the reader's clock, 7- and 30-day activity and frequency, sessions,
 * purchases, affinities decayed to the reader's clock and recently viewed content.
 */
export function describeProfile(p: DerivedFeatures): string[] {
  const counts = Object.entries(p.counts)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const value = Object.entries(p.purchases.value).map(([c, v]) => `${v.toFixed(2)} ${c}`);
  const lines = [
    `events ${p.lifetimeEvents} (${counts || 'none'})`,
    `last seen ${iso(p.lastSeen)}, ${p.secondsSinceLastSeen} s ago; first seen ${iso(p.firstSeen)}`,
    `last 7 days ${p.activity.last7d} events (${perDay(p.frequency.perDay7d)}/day), last 30 days ${p.activity.last30d} (${perDay(p.frequency.perDay30d)}/day)`,
    `sessions ${p.sessions.count}, mean ${p.sessions.meanSeconds.toFixed(1)} s; purchases ${p.purchases.count}${value.length ? ` (${value.join(', ')})` : ''}`,
  ];
  const affinities = p.affinities.slice(0, 3).map((a) => `${a.category} ${a.score.toFixed(2)} (${Math.round(a.share * 100)}%)`);
  if (affinities.length) lines.push(`affinities decayed to now: ${affinities.join(', ')}`);
  const recent = p.recentContent.slice(0, 3).map((c) => c.contentId);
  if (recent.length) lines.push(`recently viewed ${recent.join(', ')}`);
  return lines;
}
