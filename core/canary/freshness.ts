/**
 * The freshness canary: end-to-end freshness as a measured SLO. Every interval (a minute in AWS) one canary
 * event, a probe, is put on the raw stream with its event time set to the moment it is put; the canary then
 * measures how long the probe took to become
 *
 * - **profile-readable**: `updated_at − event_time` of the probe user's profile item (`updated_at` is the
 *   processing time of the write that made it readable; a probe user has exactly one event, so one write);
 * - **lake-visible**: the LastModified of the first curated-zone object of the probe's event-time partition
 *   written at or after the probe was put, minus its event time. Firehose writes a partition's buffers in
 *   order, so that object holds the probe, or it is a buffer that closed between the put and Firehose reading
 *   the probe off the validated stream (seconds); the figure can under-read by that much, never over-read.
 *
 * A probe not readable by its deadline counts as its deadline (a censored sample above the SLO by
 * construction) and as missing, so a stalled pipeline raises the p95 instead of publishing nothing.
 *
 * Probe users are canary users (CANARY_USER_PREFIX), so every KPI, the reconciliation and the named queries
 * leave them out. Pure: no AWS imports. The deployed function (lambdas/freshness-canary) and the local
 * runtime run the same code around it.
 */
import { CONTRACT_VERSION, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { InputError } from '../errors';
import { eventTimePartition, partitionPath, ZONE_PREFIX } from '../lake/layout';
import { CANARY_PROPERTY, canaryUserId } from './index';

/** What a probe is: its user, its event, and when it was put. */
export interface FreshnessProbe {
  /** The probe's slot: the scheduled time divided by the interval, so each slot has one probe user. */
  readonly slot: number;
  readonly userId: string;
  readonly event: BehaviouralEvent;
  /** Epoch ms: the event's event_time, which is when the probe is put. */
  readonly eventTimeMs: number;
}

/** The metric names the canary publishes (namespace PersonalizationPlatform, dimension service). */
export const FRESHNESS_METRICS = {
  /** Seconds from a probe's event time to its profile being readable. */
  profileSeconds: 'ProfileFreshness',
  /** Seconds from a probe's event time to the curated-zone object that holds it. */
  lakeSeconds: 'LakeFreshness',
  /** Probes whose profile was not readable by the profile deadline. */
  profileMissing: 'ProfileProbesMissing',
  /** Probes with no curated object by the lake deadline. */
  lakeMissing: 'LakeProbesMissing',
} as const;

/** The probe put at `nowMs` for the slot of `scheduledMs` (a slot is `intervalSeconds` long). */
export function freshnessProbe(scheduledMs: number, nowMs: number, intervalSeconds = 60): FreshnessProbe {
  if (!Number.isFinite(scheduledMs) || !Number.isFinite(nowMs)) throw new InputError('freshness canary: the scheduled time and now must be epoch milliseconds');
  const slot = probeSlot(scheduledMs, intervalSeconds);
  const userId = probeUserId(slot);
  const event = {
    schema_version: CONTRACT_VERSION,
    event_id: `${userId}:probe`,
    user_id: userId,
    session_id: userId,
    event_type: 'page_view',
    event_time: new Date(nowMs).toISOString(),
    device: { type: 'other' },
    properties: { [CANARY_PROPERTY]: true },
  } as BehaviouralEvent;
  return { slot, userId, event, eventTimeMs: nowMs };
}

/** The slot of a scheduled time. */
export function probeSlot(scheduledMs: number, intervalSeconds = 60): number {
  return Math.floor(scheduledMs / (intervalSeconds * 1000));
}

/** `pdp-canary:f<slot>:0`: the user of a slot's probe (the run id is `f` and the slot, letters and digits). */
export function probeUserId(slot: number): string {
  return canaryUserId(`f${slot}`, 0);
}

/** The curated-zone prefix holding a probe: its event-time hour partition. */
export function probeLakePrefix(eventTimeMs: number): string {
  return `${ZONE_PREFIX.curated}${partitionPath(eventTimePartition(new Date(eventTimeMs).toISOString()))}`;
}

/** One measurement of one probe on one path: seconds, or missing at the deadline. */
export type FreshnessSample = { readonly seconds: number; readonly missing: false } | { readonly seconds: number; readonly missing: true };

/**
 * The profile-freshness sample of a probe: from the item's `updated_at` when it is readable; otherwise, once
 * `nowMs` is past the deadline, the deadline as a censored (missing) sample; undefined while still waiting.
 */
export function profileSample(probe: Pick<FreshnessProbe, 'eventTimeMs'>, item: { readonly updated_at?: unknown } | undefined, nowMs: number, deadlineSeconds: number): FreshnessSample | undefined {
  const updatedAt = typeof item?.updated_at === 'number' ? item.updated_at : Number(item?.updated_at);
  if (item && Number.isFinite(updatedAt)) return { seconds: Math.max(0, (updatedAt - probe.eventTimeMs) / 1000), missing: false };
  if (nowMs - probe.eventTimeMs >= deadlineSeconds * 1000) return { seconds: deadlineSeconds, missing: true };
  return undefined;
}

/**
 * The lake-freshness sample of a probe from the objects of its partition (key and LastModified): the first
 * object written at or after the probe was put; a censored sample past the deadline; undefined while waiting.
 */
export function lakeSample(
  probe: Pick<FreshnessProbe, 'eventTimeMs'>,
  objects: readonly { readonly key: string; readonly lastModifiedMs: number }[],
  nowMs: number,
  deadlineSeconds: number,
): FreshnessSample | undefined {
  // LastModified has one-second resolution: an object of the probe's own second counts.
  const from = Math.floor(probe.eventTimeMs / 1000) * 1000;
  const first = objects.filter((o) => o.lastModifiedMs >= from).reduce<number | undefined>((m, o) => (m === undefined || o.lastModifiedMs < m ? o.lastModifiedMs : m), undefined);
  if (first !== undefined) return { seconds: Math.max(0, (first - probe.eventTimeMs) / 1000), missing: false };
  if (nowMs - probe.eventTimeMs >= deadlineSeconds * 1000) return { seconds: deadlineSeconds, missing: true };
  return undefined;
}

/** The q-quantile (0-1) of values by the nearest-rank method (what CloudWatch's pNN reports for few samples). */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

/** What a set of samples says against an SLO. */
export interface FreshnessVerdict {
  readonly samples: number;
  readonly missing: number;
  readonly p50?: number;
  readonly p95?: number;
  readonly sloSeconds: number;
  /** p95 within the SLO (false with no samples: nothing proves freshness). */
  readonly met: boolean;
}

export function freshnessVerdict(samples: readonly FreshnessSample[], sloSeconds: number): FreshnessVerdict {
  const values = samples.map((s) => s.seconds);
  const p95 = quantile(values, 0.95);
  const p50 = quantile(values, 0.5);
  return {
    samples: samples.length,
    missing: samples.filter((s) => s.missing).length,
    ...(p50 === undefined ? {} : { p50 }),
    ...(p95 === undefined ? {} : { p95 }),
    sloSeconds,
    met: p95 !== undefined && p95 <= sloSeconds,
  };
}

/** The stage's freshness objectives, in seconds. */
export interface FreshnessSlo {
  /** p95 of event time to profile readable. */
  readonly profileSeconds: number;
  /** p95 of event time to curated-zone object. */
  readonly lakeSeconds: number;
}

/**
 * The default objectives: a profile lags by up to the aggregation window (plus batching and the write), so
 * window + 60 s; a curated object by up to Firehose's buffering interval (plus validation, the validated
 * stream and the Parquet conversion), so buffer + 120 s. A configured value (> 0) wins.
 */
export function freshnessSlo(settings: { windowSeconds: number; firehoseBufferSeconds: number; profileSloSeconds?: number; lakeSloSeconds?: number }): FreshnessSlo {
  return {
    profileSeconds: settings.profileSloSeconds && settings.profileSloSeconds > 0 ? settings.profileSloSeconds : settings.windowSeconds + 60,
    lakeSeconds: settings.lakeSloSeconds && settings.lakeSloSeconds > 0 ? settings.lakeSloSeconds : settings.firehoseBufferSeconds + 120,
  };
}

/** The longest the canary waits for a profile in one run: a Lambda invocation lasts at most 900 s. */
export const MAX_PROFILE_DEADLINE_SECONDS = 840;

/** The largest profile SLO the canary can measure: its deadline must stay above it. */
export const MAX_PROFILE_SLO_SECONDS = 780;

/**
 * How long the canary waits for a probe on each path before counting it missing: twice the objective, so a
 * late probe is measured, not censored, up to twice the SLO (the profile wait capped at
 * MAX_PROFILE_DEADLINE_SECONDS, still above any SLO up to MAX_PROFILE_SLO_SECONDS).
 */
export function probeDeadlines(slo: FreshnessSlo): FreshnessSlo {
  return { profileSeconds: Math.min(2 * slo.profileSeconds, MAX_PROFILE_DEADLINE_SECONDS), lakeSeconds: 2 * slo.lakeSeconds };
}
