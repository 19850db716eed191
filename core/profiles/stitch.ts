/**
 * Identity stitching: an anonymous visitor's profile merged into a user's when an identify event links them.
 *
 * The profile of an anonymous id lives under `anon#<anonymous id>` and is built like any other. The merge takes
 * three writes, each idempotent and each conditional, so it has an exactly-once effect without transactions:
 *
 * 1. **link**: an item `link#<anonymous id>` in the user's partition of the ledger table. It is written first, so
 *    erasure of the user finds every anonymous id whose data may have reached the user.
 * 2. **freeze**: the anonymous profile is written once more with `merged_into` = the user (conditional on its
 *    version, after its `last_ids` are recorded in its ledger). From then on nothing is applied to it: its
 *    later events are applied to the user instead, and looked up in its ledger too, so an event applied to the
 *    anonymous profile before the freeze and redelivered after it is recognized.
 * 3. **absorb**: the frozen body is added to the user's profile in the user's ordinary conditional write, which
 *    also records the anonymous id's hash in `anon_links`: a retried, redelivered or repeated identify finds it
 *    there and adds nothing.
 *
 * An anonymous id belongs to the first user that claims it (the first freeze wins the condition). A later
 * identify of the same id by another user is counted on that user (an identify event) and merges nothing.
 * Pure: the writer carries out the reads and writes.
 */
import { anonymousKey, EVENT_TYPES } from '@personalization-data-platform/contract';
import { applyLedgerWrites, lastIdEntries, ledgerHas, planLedgerWrites, type LedgerView, type LedgerWrite } from './ledger';
import { DAY_MS, emptyProfile, type Profile, type ProfileSettings, type RecentContent, type SessionSpan } from './model';
import { prune } from './fold';
import { shortHash } from './event-hash';

/** Index of the identify event type. An identify event's `content` holds the anonymous id it links. */
export const IDENTIFY = EVENT_TYPES.indexOf('identify');

/** Sort key of the link item of an anonymous id, in the user's partition of the ledger table. */
export const LINK_SLOT_PREFIX = 'link#';

export function linkSlot(anonymousId: string): string {
  return LINK_SLOT_PREFIX + anonymousId;
}

/** The hash of an anonymous id kept in the user's `anon_links` once its profile was absorbed. */
export function anonLinkHash(anonymousId: string): string {
  return shortHash(`anon:${anonymousId}`);
}

/** Whether the user's profile has absorbed this anonymous id. */
export function hasAbsorbed(profile: Pick<Profile, 'anon_links'> | undefined, anonymousId: string): boolean {
  return Boolean(profile?.anon_links?.includes(anonLinkHash(anonymousId)));
}

/** When a link and its frozen anonymous profile expire (epoch seconds), or undefined when profiles never do. */
export function linkExpiry(anonymous: Profile | undefined, settings: ProfileSettings, nowMs: number): number | undefined {
  if (settings.ttlDays <= 0) return undefined;
  const fromNow = Math.floor(nowMs / 1000) + settings.ttlDays * 86_400;
  return Math.max(fromNow, anonymous?.expires_at ?? 0);
}

/**
 * The frozen anonymous profile (merged into `userId`) and the ledger writes that must precede it: the ids of
 * its `last_ids` that are not in its ledger yet (the frozen profile's own `last_ids` are empty, and later
 * lookups of its events read only its ledger). `ledger` must cover the paths of `last_ids`.
 */
export function freezeAnonymous(
  stored: Profile | undefined,
  anonymousId: string,
  userId: string,
  ledger: LedgerView,
  settings: ProfileSettings,
  nowMs: number,
): { profile: Profile; repairs: LedgerWrite[]; expectedVersion: number } {
  const key = anonymousKey(anonymousId);
  const base: Profile = stored ? { ...stored } : { ...emptyProfile(key), first_seen: 0, last_seen: 0 };
  const unrecorded = lastIdEntries(stored?.last_ids).filter((e) => !ledgerHas(ledger, e));
  const view: LedgerView = new Map(ledger);
  const repairs = unrecorded.length > 0 ? planLedgerWrites(view, unrecorded, { retentionHours: settings.ledgerRetentionHours, itemCapacity: settings.ledgerItemCapacity }) : [];
  if (repairs.length > 0) applyLedgerWrites(view, repairs);
  const expires = linkExpiry(stored, settings, nowMs);
  const profile: Profile = {
    ...base,
    user_id: key,
    merged_into: userId,
    last_ids: {},
    version: (stored?.version ?? 0) + 1,
    updated_at: nowMs,
    ...(expires !== undefined ? { expires_at: expires } : {}),
  };
  return { profile, repairs, expectedVersion: stored?.version ?? 0 };
}

const bySessionRecency = (a: SessionSpan, b: SessionSpan) => b[2] - a[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Later of two (time, value) candidates, the same total order as the fold's (ties by the larger value). */
function laterOf(t: number | undefined, v: string | undefined, t2: number | undefined, v2: string | undefined): boolean {
  if (t2 === undefined || v2 === undefined) return false;
  if (t === undefined || v === undefined) return true;
  return t2 > t || (t2 === t && v2 > v);
}

function deviceKey(d: { type: string; os?: string; app_version?: string }): string {
  const esc = (s: string) => s.replace(/[%:|~]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  let s = esc(d.type);
  if (d.os !== undefined || d.app_version !== undefined) s += `:${esc(d.os ?? '')}`;
  if (d.app_version !== undefined) s += `:${esc(d.app_version)}`;
  return s;
}

/**
 * Adds the body of `source` (a frozen anonymous profile) to `target` in place: the profile the union of their
 * events would have. Exact for every feature the fold defines as a function of the event set (counts, days,
 * first and last seen, purchases, recent content, device, locale, affinity up to rounding). A session that
 * both profiles hold (the login happened mid-visit: the same session id before and after) counts once; a
 * session that one side had already evicted from its `sessionsKept` most recent cannot be recognized and
 * counts on each side, the same bound the fold has.
 */
export function absorbProfile(target: Profile, source: Profile, settings: ProfileSettings): Profile {
  if (!(source.events > 0)) return target;
  const fresh = !(target.events > 0);
  target.events += source.events;
  for (const [type, n] of Object.entries(source.counts)) target.counts[type] = (target.counts[type] ?? 0) + n;
  target.first_seen = fresh ? source.first_seen : Math.min(target.first_seen, source.first_seen);
  target.last_seen = fresh ? source.last_seen : Math.max(target.last_seen, source.last_seen);
  for (const [day, n] of Object.entries(source.days)) target.days[day] = (target.days[day] ?? 0) + n;

  const sessions = new Map<string, SessionSpan>(target.recent_sessions.map((s) => [s[0], [...s] as SessionSpan]));
  target.session_count += source.session_count;
  target.session_ms += source.session_ms;
  for (const s of source.recent_sessions) {
    const mine = sessions.get(s[0]);
    if (!mine) {
      sessions.set(s[0], [...s] as SessionSpan);
      continue;
    }
    // One visit seen from both sides: counted once, its length that of the joined span.
    target.session_count -= 1;
    const joined: SessionSpan = [s[0], Math.min(mine[1], s[1]), Math.max(mine[2], s[2])];
    target.session_ms += joined[2] - joined[1] - (mine[2] - mine[1]) - (s[2] - s[1]);
    sessions.set(s[0], joined);
  }
  target.recent_sessions = [...sessions.values()].sort(bySessionRecency).slice(0, settings.sessionsKept);

  // Both sides' scores re-expressed at the later reference time, then added.
  const halfLifeMs = settings.affinityHalfLifeDays * DAY_MS;
  if (Object.keys(source.affinity).length > 0) {
    const reference = Math.max(target.affinity_at, source.affinity_at);
    const scale = (at: number) => (at === 0 || at === reference ? 1 : Math.pow(2, (at - reference) / halfLifeMs));
    const t = scale(target.affinity_at);
    const s = scale(source.affinity_at);
    if (t !== 1) for (const c of Object.keys(target.affinity)) target.affinity[c]! *= t;
    for (const [c, score] of Object.entries(source.affinity)) target.affinity[c] = (target.affinity[c] ?? 0) + score * s;
    target.affinity_at = reference;
  }

  const content = new Map<string, number>(target.recent_content.map((c) => [c[0], c[1]]));
  for (const [id, at] of source.recent_content) if (!(content.get(id)! >= at)) content.set(id, at);
  target.recent_content = [...content.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, settings.recentContent)
    .map(([id, at]) => [id, at] as RecentContent);

  target.purchase_count += source.purchase_count;
  for (const [currency, milli] of Object.entries(source.purchase_value_milli)) {
    target.purchase_value_milli[currency] = (target.purchase_value_milli[currency] ?? 0) + milli;
  }

  if (source.device && laterOf(target.device_at, target.device ? deviceKey(target.device) : undefined, source.device_at, deviceKey(source.device))) {
    target.device = { ...source.device };
    target.device_at = source.device_at!;
  }
  if (laterOf(target.locale_at, target.locale, source.locale_at, source.locale)) {
    target.locale = source.locale!;
    target.locale_at = source.locale_at!;
  }
  prune(target, settings);
  return target;
}
