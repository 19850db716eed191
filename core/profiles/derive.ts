/**
 * Features derived when a profile is read, relative to the reader's clock: recency, activity and
 * frequency from the day buckets, and affinities decayed to now. Keeping them out of the item means a
 * profile never needs a write just because time passed.
 */
import { DAY_MS, dayNumber, type Profile } from './model';

export interface CategoryAffinity {
  readonly category: string;
  /** Decayed score at read time (one content view right now scores 1). */
  readonly score: number;
  /** Share of the summed scores of the kept categories (0..1). */
  readonly share: number;
}

export interface DerivedFeatures {
  readonly userId: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Seconds from last_seen to the reader's clock (0 when last_seen is in the future). */
  readonly secondsSinceLastSeen: number;
  /** Events on the current UTC day and the 6 / 29 days before it (calendar days, UTC). */
  readonly activity: { readonly last1d: number; readonly last7d: number; readonly last30d: number };
  /** Events per day over the last 7 and 30 days. */
  readonly frequency: { readonly perDay7d: number; readonly perDay30d: number };
  readonly lifetimeEvents: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly sessions: { readonly count: number; readonly totalSeconds: number; readonly meanSeconds: number };
  /** Categories by decayed score, highest first. */
  readonly affinities: readonly CategoryAffinity[];
  /** Most recently viewed content ids, newest first. */
  readonly recentContent: readonly { readonly contentId: string; readonly at: string }[];
  readonly purchases: { readonly count: number; readonly value: Readonly<Record<string, number>> };
  readonly device?: { readonly type: string; readonly os?: string; readonly appVersion?: string };
  readonly locale?: string;
  readonly updatedAt: string;
  readonly version: number;
}

export function deriveFeatures(profile: Profile, nowMs: number, affinityHalfLifeDays: number): DerivedFeatures {
  const today = Math.floor(nowMs / DAY_MS);
  let last1d = 0;
  let last7d = 0;
  let last30d = 0;
  for (const [key, n] of Object.entries(profile.days)) {
    const age = today - dayNumber(key);
    if (age < 0) {
      // A day ahead of the reader's clock (producer skew) counts as today.
      last1d += n;
      last7d += n;
      last30d += n;
      continue;
    }
    if (age < 1) last1d += n;
    if (age < 7) last7d += n;
    if (age < 30) last30d += n;
  }
  const decay = Math.pow(2, (profile.affinity_at - nowMs) / (affinityHalfLifeDays * DAY_MS));
  const scored = Object.entries(profile.affinity).map(([category, s]) => ({ category, score: s * decay }));
  const total = scored.reduce((n, a) => n + a.score, 0);
  const affinities = scored
    .map((a) => ({ ...a, share: total > 0 ? a.score / total : 0 }))
    .sort((a, b) => b.score - a.score || (a.category < b.category ? -1 : 1));
  const value = Object.fromEntries(Object.entries(profile.purchase_value_milli).map(([c, v]) => [c, v / 1000]));
  return {
    userId: profile.user_id,
    firstSeen: new Date(profile.first_seen).toISOString(),
    lastSeen: new Date(profile.last_seen).toISOString(),
    secondsSinceLastSeen: Math.max(0, Math.floor((nowMs - profile.last_seen) / 1000)),
    activity: { last1d, last7d, last30d },
    frequency: { perDay7d: last7d / 7, perDay30d: last30d / 30 },
    lifetimeEvents: profile.events,
    counts: profile.counts,
    sessions: {
      count: profile.session_count,
      totalSeconds: profile.session_ms / 1000,
      meanSeconds: profile.session_count > 0 ? profile.session_ms / profile.session_count / 1000 : 0,
    },
    affinities,
    recentContent: profile.recent_content.map(([contentId, at]) => ({ contentId, at: new Date(at).toISOString() })),
    purchases: { count: profile.purchase_count, value },
    ...(profile.device
      ? { device: { type: profile.device.type, ...(profile.device.os ? { os: profile.device.os } : {}), ...(profile.device.app_version ? { appVersion: profile.device.app_version } : {}) } }
      : {}),
    ...(profile.locale ? { locale: profile.locale } : {}),
    updatedAt: new Date(profile.updated_at).toISOString(),
    version: profile.version,
  };
}
