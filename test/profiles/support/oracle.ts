/**
 * The reference profile: computed directly from a user's unique events, feature by feature from the
 * definitions in docs/readers.md, without the incremental fold. The aggregation must arrive at the same values
 * whatever the delivery history.
 */
import { EVENT_TYPES, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { AFFINITY_WEIGHTS, DAY_MS, dayKey, type ProfileSettings } from '../../../core/profiles/model';
import { encodeDevice } from '../../../core/profiles/device-key';

// Which profile each event belongs to (stitching included) is shipped code: the local runtime's summary uses it too.
export { expectedOwners, uniqueByUser } from '../../../core/profiles/expected-owners';

export interface ExpectedProfile {
  events: number;
  counts: Record<string, number>;
  first_seen: number;
  last_seen: number;
  days: Record<string, number>;
  session_count: number;
  session_ms: number;
  /** Scores expressed at affinity_at. */
  affinity: Record<string, number>;
  affinity_at: number;
  recent_content: [string, number][];
  purchase_count: number;
  purchase_value_milli: Record<string, number>;
  device?: BehaviouralEvent['device'];
  locale?: string;
}

export function expectedProfile(events: readonly BehaviouralEvent[], settings: ProfileSettings): ExpectedProfile {
  const t = (e: BehaviouralEvent) => Date.parse(e.event_time);
  const times = events.map(t);
  const last = Math.max(...times);
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.event_type] = (counts[e.event_type] ?? 0) + 1;

  const days: Record<string, number> = {};
  const horizon = Math.floor(last / DAY_MS) - 29;
  for (const ms of times) if (Math.floor(ms / DAY_MS) >= horizon) days[dayKey(ms)] = (days[dayKey(ms)] ?? 0) + 1;

  const sessions = new Map<string, [number, number]>();
  for (const e of events) {
    const s = sessions.get(e.session_id);
    sessions.set(e.session_id, s ? [Math.min(s[0], t(e)), Math.max(s[1], t(e))] : [t(e), t(e)]);
  }

  const weighted = events.filter((e) => e.category && AFFINITY_WEIGHTS[e.event_type] > 0);
  const affinityAt = weighted.length ? Math.max(...weighted.map(t)) : 0;
  const affinity: Record<string, number> = {};
  for (const e of weighted) {
    affinity[e.category!] = (affinity[e.category!] ?? 0) + AFFINITY_WEIGHTS[e.event_type] * Math.pow(2, (t(e) - affinityAt) / (settings.affinityHalfLifeDays * DAY_MS));
  }

  const viewed = new Map<string, number>();
  for (const e of events) {
    if (e.event_type === 'content_view' && e.content_id) viewed.set(e.content_id, Math.max(viewed.get(e.content_id) ?? -Infinity, t(e)));
  }
  const recent = [...viewed.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, settings.recentContent);

  const purchases = events.filter((e) => e.event_type === 'purchase');
  const value: Record<string, number> = {};
  for (const e of purchases) if (e.value !== undefined && e.currency) value[e.currency] = (value[e.currency] ?? 0) + Math.round(e.value * 1000);

  // Latest by event time; at equal times the larger encoded value wins, as in the fold.
  const latest = <V>(pick: (e: BehaviouralEvent) => V | undefined, key: (v: V) => string): V | undefined => {
    let best: { t: number; k: string; v: V } | undefined;
    for (const e of events) {
      const v = pick(e);
      if (v === undefined) continue;
      const c = { t: t(e), k: key(v), v };
      if (!best || c.t > best.t || (c.t === best.t && c.k > best.k)) best = c;
    }
    return best?.v;
  };
  const device = latest((e) => e.device, (d) => encodeDevice(d)!);
  const locale = latest((e) => e.context?.locale, (l) => l);

  return {
    events: events.length,
    counts,
    first_seen: Math.min(...times),
    last_seen: last,
    days,
    session_count: sessions.size,
    session_ms: [...sessions.values()].reduce((n, [a, b]) => n + b - a, 0),
    affinity,
    affinity_at: affinityAt,
    recent_content: recent,
    purchase_count: purchases.length,
    purchase_value_milli: value,
    ...(device ? { device } : {}),
    ...(locale ? { locale } : {}),
  };
}

export { EVENT_TYPES };
