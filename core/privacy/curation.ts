/**
 * The lake's gates: what may enter a zone of the lake after an erasure, and (curated zone) without analytics
 * consent. Three places apply them, with the same rules:
 *
 * - the raw delivery's transformation (lambdas/frame-raw) drops records of erased subjects from the raw zone;
 * - the validation function (lambdas/validate) drops them before it quarantines or forwards anything, so
 *   they reach neither the quarantine zone nor the validated stream;
 * - the curated delivery's transformation (lambdas/curate) drops events without analytics consent, and
 *   events of erased subjects that were already on the validated stream when the erasure happened.
 *
 * A record is an erased subject's when it is a JSON object whose subject (recordSubjectKey: its user_id, else
 * its anonymous_id as `anon#<id>`) has a live tombstone: exactly the records the erasure itself removes from
 * the lake as the person's. A record that names nobody (not JSON, not an object, no id) cannot be attributed
 * and is kept. Pure: the tombstones' hashes come from the ledger table (adapters/dynamodb/tombstones.ts).
 */
import { consentOf, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { recordSubjectKey, subjectHash } from './subject';

export type CurationOutcome = 'keep' | 'no_analytics_consent' | 'erased_subject';

/** The reason a gate gives for a record of an erased subject (metric dimension `reason`). */
export const ERASED_SUBJECT = 'erased_subject' as const;

/** The hash a tombstone is kept under: no id in clear. */
export function tombstoneHash(profileKey: string): string {
  return subjectHash(profileKey);
}

/**
 * The erased subjects, as a gate asks about them: by profile key, against the live tombstones' hashes. With no
 * tombstone nothing is hashed; otherwise each distinct key is hashed once and its answer remembered (up to
 * `remember` keys, then forgotten all at once), so a function that keeps one instance while its set of
 * tombstones is unchanged hashes each active subject about once a minute, not once a record.
 */
export class ErasedSubjects {
  private readonly seen = new Map<string, boolean>();

  constructor(
    private readonly hashes: ReadonlySet<string>,
    private readonly remember = 100_000,
  ) {}

  /**
   * The gate a function uses for its next batch: `previous` while it answers for these hashes (its remembered
   * answers stay valid), else a new one. Every gate keeps one across batches this way.
   */
  static over(hashes: ReadonlySet<string>, previous?: ErasedSubjects): ErasedSubjects {
    return previous?.isFor(hashes) ? previous : new ErasedSubjects(hashes);
  }

  /**
   * Whether this instance answers for that set of tombstones: the same set, or one with the same hashes (a
   * cache that reads the tombstones again every minute gets a new set with the same contents until someone is
   * erased; keeping this instance keeps its remembered answers).
   */
  isFor(hashes: ReadonlySet<string>): boolean {
    if (this.hashes === hashes) return true;
    if (this.hashes.size !== hashes.size) return false;
    for (const h of hashes) if (!this.hashes.has(h)) return false;
    return true;
  }

  /** No live tombstone: every record is kept. */
  get none(): boolean {
    return this.hashes.size === 0;
  }

  /** Whether the subject with this profile key is erased. */
  has(profileKey: string): boolean {
    if (this.hashes.size === 0) return false;
    let erased = this.seen.get(profileKey);
    if (erased === undefined) {
      erased = this.hashes.has(tombstoneHash(profileKey));
      if (this.seen.size >= this.remember) this.seen.clear();
      this.seen.set(profileKey, erased);
    }
    return erased;
  }

  /** Whether a parsed record (anything JSON.parse returns) is an erased subject's. */
  holds(value: unknown): boolean {
    if (this.hashes.size === 0 || typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const key = recordSubjectKey(value as { user_id?: unknown; anonymous_id?: unknown });
    return key !== undefined && this.has(key);
  }

  /** Whether a record's bytes are an erased subject's: UTF-8 JSON of an object that names one (see holds). */
  holdsBytes(data: Uint8Array): boolean {
    if (this.hashes.size === 0) return false;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch {
      return false; // not JSON: cannot be attributed
    }
    return this.holds(value);
  }
}

/**
 * Whether an event may enter the curated lake, and why not. A record that is not an event is kept (Firehose
 * reports it). The erased subjects are asked through their gate, which hashes nothing without a tombstone and
 * each subject once otherwise.
 */
export function curationOf(value: unknown, erased: ErasedSubjects): CurationOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'keep';
  const key = recordSubjectKey(value as { user_id?: unknown; anonymous_id?: unknown });
  if (key === undefined) return 'keep';
  if (!consentOf(value as Partial<BehaviouralEvent>).analytics) return 'no_analytics_consent';
  if (erased.has(key)) return ERASED_SUBJECT;
  return 'keep';
}
