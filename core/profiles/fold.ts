/**
 * Folding events into a profile. Each feature is a function of the SET of events applied (order and
 * grouping do not matter), except where a bound forces a choice; those cases are listed in docs/readers.md,
 * "The profile item":
 * - affinity keeps the top N categories: a category evicted and seen again restarts from its new events;
 * - a session is extended only while it is among the `sessionsKept` most recent; an event of an older
 *   session counts as a new session;
 * Affinity scores are floating-point sums, equal across orders up to rounding (relative 1e-12).
 */
import { EVENT_TYPES } from '@personalization-data-platform/contract';
import type { DayKeyCache } from './day-keys';
import { decodeDevice, deviceKeyOf } from './device-key';
import type { ProfileEvent } from './profile-event';
import {
  ACTIVITY_DAYS,
  AFFINITY_WEIGHTS,
  DAY_MS,
  dayKey,
  dayNumber,
  type Profile,
  type ProfileSettings,
  type RecentContent,
  type SessionSpan,
} from './model';

const CONTENT_VIEW = EVENT_TYPES.indexOf('content_view');
const PURCHASE = EVENT_TYPES.indexOf('purchase');
const TYPE_WEIGHTS = EVENT_TYPES.map((t) => AFFINITY_WEIGHTS[t]);

export function cloneProfile(p: Profile): Profile {
  return {
    ...p,
    counts: { ...p.counts },
    days: { ...p.days },
    recent_sessions: p.recent_sessions.map((s) => [...s] as SessionSpan),
    affinity: { ...p.affinity },
    recent_content: p.recent_content.map((c) => [...c] as RecentContent),
    purchase_value_milli: { ...p.purchase_value_milli },
    ...(p.device ? { device: { ...p.device } } : {}),
    last_ids: { ...p.last_ids },
    ...(p.anon_links ? { anon_links: [...p.anon_links] } : {}),
  };
}

/** Total order on device/locale candidates at equal event time, so ties resolve the same in any order. */
function later(t: number, value: string, currentT: number | undefined, current: string | undefined): boolean {
  if (currentT === undefined || t > currentT) return true;
  return t === currentT && current !== undefined && value > current;
}

/**
 * Applies `events` (unique, not yet applied) to `profile` in place and prunes it to its bounds.
 * Returns the profile for convenience. `days`: the caller's day-key cache (an aggregation context's).
 */
export function applyEvents(profile: Profile, events: readonly ProfileEvent[], settings: ProfileSettings, days?: DayKeyCache): Profile {
  if (events.length === 0) return profile;
  const halfLifeMs = settings.affinityHalfLifeDays * DAY_MS;
  let deviceKey = profile.device ? deviceKeyOf(profile.device) : undefined;
  const sessions = new Map(profile.recent_sessions.map((s) => [s[0], s]));
  const content = new Map(profile.recent_content.map((c) => [c[0], c[1]]));
  let deviceChanged = false;

  // The reference time of the scores after these events: the latest event time that carries a category.
  // Every score is re-expressed at it once, up front, so scores stay near 1 instead of overflowing (and
  // a batch costs one pass over the categories, not one per newer event).
  let reference = profile.affinity_at;
  for (const e of events) {
    if (TYPE_WEIGHTS[e.type]! > 0 && e.category && (reference === 0 || e.t > reference)) reference = e.t;
  }
  if (reference !== profile.affinity_at) {
    if (profile.affinity_at !== 0) {
      const factor = Math.pow(2, (profile.affinity_at - reference) / halfLifeMs);
      for (const c of Object.keys(profile.affinity)) profile.affinity[c]! *= factor;
    }
    profile.affinity_at = reference;
  }

  for (const e of events) {
    profile.events += 1;
    const typeName = EVENT_TYPES[e.type]!;
    profile.counts[typeName] = (profile.counts[typeName] ?? 0) + 1;
    if (e.t < profile.first_seen) profile.first_seen = e.t;
    if (e.t > profile.last_seen) profile.last_seen = e.t;
    const day = days ? days.keyOf(e.t) : dayKey(e.t);
    profile.days[day] = (profile.days[day] ?? 0) + 1;

    const span = sessions.get(e.session);
    if (span) {
      const before = span[2] - span[1];
      if (e.t < span[1]) span[1] = e.t;
      if (e.t > span[2]) span[2] = e.t;
      profile.session_ms += span[2] - span[1] - before;
    } else {
      profile.session_count += 1;
      sessions.set(e.session, [e.session, e.t, e.t]);
      if (sessions.size > settings.sessionsKept) evictOldestSession(sessions);
    }

    const weight = TYPE_WEIGHTS[e.type]!;
    if (weight > 0 && e.category) {
      profile.affinity[e.category] = (profile.affinity[e.category] ?? 0) + weight * Math.pow(2, (e.t - profile.affinity_at) / halfLifeMs);
    }

    if (e.type === CONTENT_VIEW && e.content) {
      const at = content.get(e.content);
      if (at === undefined || e.t > at) content.set(e.content, e.t);
    }

    if (e.type === PURCHASE) {
      profile.purchase_count += 1;
      if (e.valueMilli !== undefined && e.currency) {
        profile.purchase_value_milli[e.currency] = (profile.purchase_value_milli[e.currency] ?? 0) + e.valueMilli;
      }
    }

    if (e.device !== undefined && later(e.t, e.device, profile.device_at, deviceKey)) {
      deviceKey = e.device;
      deviceChanged = true;
      profile.device_at = e.t;
    }
    if (e.locale !== undefined && later(e.t, e.locale, profile.locale_at, profile.locale)) {
      profile.locale = e.locale;
      profile.locale_at = e.t;
    }
  }

  if (deviceChanged && deviceKey !== undefined) profile.device = decodeDevice(deviceKey);
  profile.recent_sessions = [...sessions.values()].sort(bySessionRecency);
  profile.recent_content = topRecentContent(content, settings.recentContent);
  prune(profile, settings);
  return profile;
}

const bySessionRecency = (a: SessionSpan, b: SessionSpan) => b[2] - a[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function evictOldestSession(sessions: Map<string, SessionSpan>): void {
  let oldest: SessionSpan | undefined;
  for (const s of sessions.values()) if (!oldest || bySessionRecency(s, oldest) > 0) oldest = s;
  if (oldest) sessions.delete(oldest[0]);
}

function topRecentContent(content: Map<string, number>, k: number): RecentContent[] {
  return [...content.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, k)
    .map(([id, at]) => [id, at] as RecentContent);
}

/**
 * Keeps a profile within its bounds: day buckets of the last ACTIVITY_DAYS days of last_seen, the top
 * categories by score (ties by name), the largest currencies.
 */
export function prune(profile: Profile, settings: ProfileSettings): void {
  const horizon = Math.floor(profile.last_seen / DAY_MS) - (ACTIVITY_DAYS - 1);
  for (const key of Object.keys(profile.days)) if (dayNumber(key) < horizon) delete profile.days[key];

  const categories = Object.entries(profile.affinity);
  if (categories.length > settings.topCategories) {
    categories.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    profile.affinity = Object.fromEntries(categories.slice(0, settings.topCategories));
  }

  const currencies = Object.entries(profile.purchase_value_milli);
  if (currencies.length > settings.currencies) {
    currencies.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    profile.purchase_value_milli = Object.fromEntries(currencies.slice(0, settings.currencies));
  }
}
