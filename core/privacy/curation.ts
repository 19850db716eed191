/**
 * What may enter the curated lake: the curated delivery's transformation keeps an event unless its producer
 * withheld consent to analytics, or its subject was erased (a late or redriven copy arriving after the
 * erasure). Such an event is dropped with its reason; the raw zone keeps it only for its retention.
 * Pure: the set of erased subjects comes from the tombstones (adapters/dynamodb/tombstones.ts).
 */
import { consentOf, subjectKey, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { subjectHash } from './subject';

export type CurationOutcome = 'keep' | 'no_analytics_consent' | 'erased_subject';

/** The hash a tombstone is kept under: no id in clear. */
export function tombstoneHash(profileKey: string): string {
  return subjectHash(profileKey);
}

/** Whether an event may enter the curated lake, and why not. A record that is not an event is kept (Firehose reports it). */
export function curationOf(value: unknown, erased: (tombstoneHash: string) => boolean): CurationOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'keep';
  const e = value as Partial<BehaviouralEvent>;
  if (typeof e.user_id !== 'string' && typeof e.anonymous_id !== 'string') return 'keep';
  if (!consentOf(e).analytics) return 'no_analytics_consent';
  if (erased(tombstoneHash(subjectKey(e)))) return 'erased_subject';
  return 'keep';
}
