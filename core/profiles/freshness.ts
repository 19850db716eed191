/**
 * How fresh each feature of a profile is: the event time of the latest event the feature reflects, read off
 * the item's own attributes. A service decides per feature whether it is recent enough to use (a stale
 * affinity may still be fine; a stale "last seen" may not).
 */
import type { Profile } from './model';

/** Per feature, the event time (ISO 8601, UTC) of the latest event it reflects; undefined when none did. */
export interface FeatureFreshness {
  /** lastSeen, secondsSinceLastSeen, activity, frequency, lifetimeEvents and counts: every event counts. */
  readonly activity: string | undefined;
  /** sessions: the latest session's last event. */
  readonly sessions: string | undefined;
  /** affinities: the reference time of the scores (the latest event that carried a category). */
  readonly affinities: string | undefined;
  /** recentContent: the newest content view. */
  readonly recentContent: string | undefined;
  /** device: the latest event that named a device. */
  readonly device: string | undefined;
  /** locale: the latest event that named a locale. */
  readonly locale: string | undefined;
}

const iso = (ms: number | undefined): string | undefined => (ms !== undefined && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined);

export function featureFreshness(profile: Profile): FeatureFreshness {
  const latest = (times: readonly number[]): number | undefined => (times.length > 0 ? Math.max(...times) : undefined);
  return {
    activity: profile.events > 0 ? iso(profile.last_seen) : undefined,
    sessions: iso(latest(profile.recent_sessions.map(([, , end]) => end))),
    affinities: Object.keys(profile.affinity).length > 0 ? iso(profile.affinity_at) : undefined,
    recentContent: iso(latest(profile.recent_content.map(([, at]) => at))),
    device: profile.device ? iso(profile.device_at) : undefined,
    locale: profile.locale ? iso(profile.locale_at) : undefined,
  };
}
