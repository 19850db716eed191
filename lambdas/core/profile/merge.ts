/**
 * The exactly-once merge of one user's pending events (a segment) into the stored profile.
 *
 * The profile carries, per shard, the sequence-number watermark up to which every event of the user from
 * that shard has been applied, and the hashes of its most recent event ids. A segment covers the user's
 * events in a contiguous range of the shard, (after, to] or [first, to]:
 *
 * - to <= watermark: the segment was applied before (a redelivered or retried window): skip it.
 * - the range starts above the watermark: apply it, minus events whose id hash is in recent_ids (a
 *   producer's duplicate that arrived with a new sequence number), and move the watermark to `to`.
 * - otherwise the range straddles the watermark. When the segment knows each event's sequence number (its
 *   events all came in the current invocation, as always in per-batch mode, where a re-read batch can be cut
 *   differently) events at or below the watermark are dropped one by one. A window's segments cannot
 *   straddle (see the README); if one did, the merge applies only events whose ids are not recent and
 *   reports the anomaly.
 *
 * The resulting profile is written with one conditional UpdateItem on `version`, so it is applied only on
 * top of the exact profile it was computed from.
 */
import { applyEvents, cloneProfile } from './fold';
import { compareSequence, emptyProfile, type Profile, type ProfileSettings } from './model';
import type { ProfileEvent } from './profile-event';
import type { Segment } from './window-state';

export type MergeOutcome =
  | { readonly kind: 'already-applied'; readonly events: number }
  | {
      readonly kind: 'write';
      readonly profile: Profile;
      /** Version the stored profile must still have (0: it must not exist). */
      readonly expectedVersion: number;
      readonly applied: number;
      readonly duplicates: number;
      readonly anomaly: boolean;
    };

/** Merges `segment` into `stored` (undefined when the user has no profile yet). Pure. */
export function mergeSegment(stored: Profile | undefined, segment: Segment, settings: ProfileSettings, nowMs: number): MergeOutcome {
  const watermark = stored?.wm[segment.shardId];
  if (watermark !== undefined && compareSequence(segment.to, watermark) <= 0) {
    return { kind: 'already-applied', events: segment.events.length };
  }
  const perEvent = segment.sequenceNumbers !== undefined && segment.sequenceNumbers.length === segment.events.length;
  const startsAbove =
    watermark === undefined ||
    perEvent ||
    (segment.after !== undefined ? compareSequence(watermark, segment.after) <= 0 : compareSequence(watermark, segment.first) < 0);

  const profile = stored ? cloneProfile(stored) : emptyProfile(segment.userId);
  const recent = new Set<string>();
  for (let i = 0; i + 8 <= profile.recent_ids.length; i += 8) recent.add(profile.recent_ids.slice(i, i + 8));
  const fresh: ProfileEvent[] = [];
  let duplicates = 0;
  for (let i = 0; i < segment.events.length; i++) {
    const e = segment.events[i]!;
    if (perEvent && watermark !== undefined && compareSequence(segment.sequenceNumbers![i]!, watermark) <= 0) continue;
    if (recent.has(e.id)) {
      duplicates++;
      continue;
    }
    recent.add(e.id);
    fresh.push(e);
  }

  applyEvents(profile, fresh, settings);
  profile.recent_ids = recentIds(fresh, profile.recent_ids, settings.dedupEventIds);
  profile.wm[segment.shardId] = segment.to;
  boundWatermarks(profile, settings.watermarkShards, segment.shardId);
  profile.version = (stored?.version ?? 0) + 1;
  profile.updated_at = nowMs;
  if (settings.ttlDays > 0 && Number.isFinite(profile.last_seen)) {
    profile.expires_at = Math.floor(profile.last_seen / 1000) + settings.ttlDays * 86_400;
  } else {
    delete profile.expires_at;
  }
  return { kind: 'write', profile, expectedVersion: stored?.version ?? 0, applied: fresh.length, duplicates, anomaly: !startsAbove };
}

/** New ids first (latest event time first), then the ones kept, cut to `keep` ids of 8 characters. */
function recentIds(fresh: readonly ProfileEvent[], previous: string, keep: number): string {
  const ordered = [...fresh].sort((a, b) => b.t - a.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let s = '';
  for (const e of ordered) {
    if (s.length >= keep * 8) break;
    s += e.id;
  }
  return (s + previous).slice(0, keep * 8);
}

/** Keeps the watermarks of the `keep` highest shard ids (child shards get higher ids than their parents). */
function boundWatermarks(profile: Profile, keep: number, current: string): void {
  const shards = Object.keys(profile.wm);
  if (shards.length <= keep) return;
  shards.sort().reverse();
  for (const shard of shards.slice(keep)) if (shard !== current) delete profile.wm[shard];
}
