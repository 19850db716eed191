/**
 * The person an erasure is about, and how each store's rows are recognized as theirs.
 *
 * A person is a user id and every anonymous id linked to it (plus any the request names). A row is theirs when
 * its subject is one of those keys: an event with their user_id, or an event with no user_id and one of their
 * anonymous ids (contract/identity.ts). An event of another user that happens to carry one of their anonymous
 * ids (someone else's identify on a shared device) is that other user's. A record that is not an event (a
 * quarantined payload that is not JSON, or cut short) is theirs when it holds one of their ids as a JSON string.
 */
import { hash } from 'node:crypto';
import { anonymousKey, subjectKey } from '@personalization-data-platform/contract';

export interface Subject {
  /** The user id, when the person is known (an erasure of an anonymous visitor alone has none). */
  readonly userId?: string;
  /** Every anonymous id of the person. */
  readonly anonymousIds: readonly string[];
}

/** The profile keys of a person: the user's and one per anonymous id. */
export function subjectKeys(subject: Subject): string[] {
  return [...(subject.userId !== undefined ? [subject.userId] : []), ...subject.anonymousIds.map(anonymousKey)];
}

/** Every id of the person as it appears in a record. */
export function subjectIds(subject: Subject): string[] {
  return [...(subject.userId !== undefined ? [subject.userId] : []), ...subject.anonymousIds];
}

/** Recognizes a person's rows. */
export class SubjectMatcher {
  private readonly keys: ReadonlySet<string>;
  /** Each id as a JSON string literal, as it appears in a record's text. */
  private readonly quoted: readonly string[];

  constructor(readonly subject: Subject) {
    this.keys = new Set(subjectKeys(subject));
    this.quoted = subjectIds(subject).map((id) => JSON.stringify(id));
  }

  /** Whether a parsed event (or event-shaped row) is the person's. */
  isEvent(row: { user_id?: unknown; anonymous_id?: unknown }): boolean {
    const key = recordSubjectKey(row);
    return key !== undefined && this.keys.has(key);
  }

  /** Whether a profile key is the person's. */
  isKey(key: string): boolean {
    return this.keys.has(key);
  }

  /** Whether text holds one of the person's ids as a JSON string. */
  mentions(text: string): boolean {
    return this.quoted.some((q) => text.includes(q));
  }

  /** Whether an event record (a JSON object naming a user or anonymous id) is theirs; undefined for anything else. */
  ownerOf(bytes: Uint8Array): boolean | undefined {
    try {
      const value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as unknown;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
      const row = value as { user_id?: unknown; anonymous_id?: unknown };
      if (typeof row.user_id !== 'string' && typeof row.anonymous_id !== 'string') return undefined;
      return this.isEvent(row);
    } catch {
      return undefined;
    }
  }

  /**
   * Whether a record's bytes are the person's: an event of theirs when the bytes are a JSON object with an id,
   * else (not JSON, cut short, no id) when the text mentions one of their ids.
   */
  isRecord(bytes: Uint8Array): boolean {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const row = value as { user_id?: unknown; anonymous_id?: unknown };
        if (row.user_id !== undefined || row.anonymous_id !== undefined) return this.isEvent(row);
      }
    } catch {
      // not JSON: judged by its text
    }
    return this.mentions(text);
  }
}

/**
 * The profile key of the subject of a record, valid or not: its user when `user_id` is a non-empty string,
 * else its anonymous visitor when `anonymous_id` is one; undefined when it names neither (it cannot be
 * attributed). For a valid event this is subjectKey(event). The erasure (which rows are a person's) and the
 * lake's gates (which late records are an erased person's) both decide by it, so they agree.
 */
export function recordSubjectKey(row: { user_id?: unknown; anonymous_id?: unknown }): string | undefined {
  const user = typeof row.user_id === 'string' && row.user_id !== '' ? row.user_id : undefined;
  const anonymous = typeof row.anonymous_id === 'string' && row.anonymous_id !== '' ? row.anonymous_id : undefined;
  if (user === undefined && anonymous === undefined) return undefined;
  return subjectKey({ user_id: user, anonymous_id: anonymous });
}

/**
 * The pseudonym of a user in the audit log: SHA-256 of the id, hex. It proves to whoever knows the id that
 * this person was erased, and tells nobody else who it was.
 */
export function subjectHash(id: string): string {
  // One-shot hash: about three times faster than createHash() for short input (the validation function's
  // gate hashes subjects on the hot path).
  return hash('sha256', `pdp-erasure:${id}`, 'hex');
}
