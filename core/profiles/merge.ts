/**
 * The exactly-once merge of one user's pending events (a segment) into the stored profile.
 *
 * An event is applied at most once because every applied event id is in the ledger (ledger.ts) or in the
 * profile's `last_ids` (the ids of its latest write, until they are certainly in the ledger). The merge:
 *
 * 1. drops every pending event whose id is in either: a copy, whoever made it (a producer's resend, a batch
 *    forwarded twice, a retried, redelivered or redriven window), however late and whatever the user's rate;
 * 2. plans `repairs`: ids of `last_ids` that are not in the ledger (a ledger write that did not happen after
 *    the profile write that applied them). They must be written before the profile, whose new `last_ids`
 *    replaces them;
 * 3. applies the rest, sets `last_ids` to their ids, and plans their ledger writes (made after the profile).
 *
 * The profile is written with one conditional UpdateItem on `version`, so it is applied only on top of the
 * exact profile (and `last_ids`) it was computed from. Nothing here depends on arrival order, shard, batch or
 * window boundaries, so the same rule serves windows, per-batch mode and redrives.
 */
import type { DayKeyCache } from './day-keys';
import { applyEvents, cloneProfile } from './fold';
import { applyLedgerWrites, lastIdEntries, lastIdsOf, ledgerHas, planLedgerWrites, type LedgerSettings, type LedgerView, type LedgerWrite } from './ledger';
import { emptyProfile, type Profile, type ProfileSettings } from './model';
import { absorbProfile, anonLinkHash } from './stitch';
import type { ProfileEvent } from './profile-event';
import type { Segment } from './window-state';

export type MergeOutcome =
  | {
      /** Every pending event was applied before (a retried or redriven window, or copies only). */
      readonly kind: 'already-applied';
      readonly events: number;
      readonly duplicates: number;
      /** Ledger writes that complete an earlier write (none in the common case). */
      readonly repairs: LedgerWrite[];
    }
  | {
      readonly kind: 'write';
      readonly profile: Profile;
      /** Version the stored profile must still have (0: it must not exist). */
      readonly expectedVersion: number;
      readonly applied: number;
      readonly duplicates: number;
      /** Ledger writes to make before the profile write. */
      readonly repairs: LedgerWrite[];
      /** Ledger writes of the applied events, after the profile write. */
      readonly ledger: LedgerWrite[];
    };

export function ledgerSettingsOf(settings: ProfileSettings): LedgerSettings {
  return { retentionHours: settings.ledgerRetentionHours, itemCapacity: settings.ledgerItemCapacity };
}

/**
 * Merges `segment` into `stored` (undefined when the user has no profile yet). `ledger` must cover the paths
 * of the segment's events and of the profile's `last_ids` (see ledgerReadsNeeded). `absorb` holds frozen
 * anonymous profiles (by anonymous id) linked to this user: each one the profile has not absorbed yet is added
 * to it in this same write, and recorded in `anon_links` (see stitch.ts). Pure.
 */
export function mergeSegment(
  stored: Profile | undefined,
  ledger: LedgerView,
  segment: Pick<Segment, 'userId' | 'events'>,
  settings: ProfileSettings,
  nowMs: number,
  dayKeys?: DayKeyCache,
  absorb?: ReadonlyMap<string, Profile>,
): MergeOutcome {
  const ledgerSettings = ledgerSettingsOf(settings);
  const last = lastIdEntries(stored?.last_ids);
  const lastSet = new Set<string>();
  const unrecorded = [];
  for (const e of last) {
    lastSet.add(e.id);
    if (!ledgerHas(ledger, e)) unrecorded.push(e);
  }

  // Looked up in the ledger as read: the repairs below add only ids of last_ids, which are checked apart.
  const fresh: ProfileEvent[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const e of segment.events) {
    if (seen.has(e.id) || lastSet.has(e.id) || ledgerHas(ledger, e)) {
      duplicates++;
      continue;
    }
    seen.add(e.id);
    fresh.push(e);
  }

  // The writes are planned on the ledger as it will be: first the repairs, then the applied events.
  const view: LedgerView = new Map(ledger);
  const repairs = unrecorded.length > 0 ? planLedgerWrites(view, unrecorded, ledgerSettings) : [];
  if (repairs.length > 0) applyLedgerWrites(view, repairs);
  const links = new Set(stored?.anon_links ?? []);
  const absorbing = [...(absorb ?? new Map<string, Profile>())].filter(([anonymousId]) => !links.has(anonLinkHash(anonymousId)));
  if (fresh.length === 0 && absorbing.length === 0) return { kind: 'already-applied', events: segment.events.length, duplicates, repairs };

  const profile = stored ? cloneProfile(stored) : emptyProfile(segment.userId);
  applyEvents(profile, fresh, settings, dayKeys);
  for (const [anonymousId, body] of absorbing.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    absorbProfile(profile, body, settings);
    links.add(anonLinkHash(anonymousId));
  }
  if (links.size > 0) profile.anon_links = [...links];
  // With no fresh event, last_ids stay: they may still be the only record of the previous write's ids.
  if (fresh.length > 0) profile.last_ids = lastIdsOf(fresh);
  profile.version = (stored?.version ?? 0) + 1;
  profile.updated_at = nowMs;
  if (settings.ttlDays > 0 && Number.isFinite(profile.last_seen)) {
    profile.expires_at = Math.floor(profile.last_seen / 1000) + settings.ttlDays * 86_400;
  } else {
    delete profile.expires_at;
  }
  return {
    kind: 'write',
    profile,
    expectedVersion: stored?.version ?? 0,
    applied: fresh.length,
    duplicates,
    repairs,
    ledger: planLedgerWrites(view, fresh, ledgerSettings),
  };
}
