/**
 * Profiles in the summary: the oracle check (each profile's lifetime counters equal what the unique valid
 * events imply) and a short human-readable description of a profile item.
 */
import type { BehaviouralEvent } from '../../lambdas/core/contract';

/** event_type -> count per user, from the unique valid events: what every profile's `counts` must equal. */
export function expectedCounts(uniqueValid: readonly BehaviouralEvent[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const e of uniqueValid) {
    const counts = out.get(e.user_id) ?? {};
    counts[e.event_type] = (counts[e.event_type] ?? 0) + 1;
    out.set(e.user_id, counts);
  }
  return out;
}

function sameCounts(a: Record<string, number>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== Number(b[k] ?? 0)) return false;
  return true;
}

/** Users whose profile is missing or whose counters differ from the oracle (empty: zero drift). */
export function profileDrift(uniqueValid: readonly BehaviouralEvent[], items: readonly Record<string, unknown>[]): string[] {
  const byUser = new Map(items.map((i) => [String(i.user_id), i]));
  const drifted: string[] = [];
  for (const [userId, counts] of expectedCounts(uniqueValid)) {
    const item = byUser.get(userId);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (!item || !sameCounts(counts, (item.counts ?? {}) as Record<string, unknown>) || Number(item.events) !== total) drifted.push(userId);
  }
  return drifted.sort();
}

const iso = (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-');

/** A few lines describing a profile item (counts, recency, sessions, top affinities, recent content). */
export function describeProfile(item: Record<string, unknown>, nowMs: number): string[] {
  const counts = Object.entries((item.counts ?? {}) as Record<string, number>)
    .sort((a, b) => Number(b[1]) - Number(a[1]))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const affinity = Object.entries((item.affinity ?? {}) as Record<string, number>)
    .sort((a, b) => Number(b[1]) - Number(a[1]))
    .slice(0, 3)
    .map(([k, v]) => `${k} ${Number(v).toFixed(2)}`)
    .join(', ');
  const recent = ((item.recent_content ?? []) as [string, number][]).slice(0, 3).map(([id]) => id).join(', ');
  const lastSeen = Number(item.last_seen);
  const sessions = Number(item.session_count ?? 0);
  const meanSession = sessions > 0 ? Number(item.session_ms ?? 0) / sessions / 1000 : 0;
  const purchases = (item.purchase_value_milli ?? {}) as Record<string, number>;
  const lines = [
    `events ${item.events ?? 0} (${counts || 'none'})`,
    `first seen ${iso(item.first_seen)}, last seen ${iso(item.last_seen)}${Number.isFinite(lastSeen) ? ` (${Math.max(0, Math.round((nowMs - lastSeen) / 1000))} s ago)` : ''}`,
    `sessions ${sessions}, mean ${meanSession.toFixed(1)} s; purchases ${item.purchase_count ?? 0}${Object.keys(purchases).length ? ` (${Object.entries(purchases).map(([c, v]) => `${(Number(v) / 1000).toFixed(2)} ${c}`).join(', ')})` : ''}`,
  ];
  if (affinity) lines.push(`top categories ${affinity}`);
  if (recent) lines.push(`recently viewed ${recent}`);
  return lines;
}
