/**
 * Whom an event is about, and what it may be used for (contract 1.1).
 *
 * - An event names a known user (`user_id`), an anonymous visitor (`anonymous_id`: a device or browser id), or
 *   both. Its **subject** is the user when there is one, else the anonymous visitor. The profile of an
 *   anonymous visitor is stored under the key `anon#<anonymous_id>`: '#' cannot occur in a user id, so the two
 *   kinds of key never collide.
 * - Its **partition key** on both streams is `user_id` when present, else `anonymous_id`: a person's known
 *   events (identify events included) are ordered on one shard; their anonymous events may be on another, and
 *   nothing relies on an order between the two (see docs/privacy.md).
 * - **Consent**: an absent flag counts as granted, which is how every 1.0 event behaves.
 */
import type { BehaviouralEvent } from './generated/event-types';

/** Prefix of the profile key of an anonymous visitor. */
export const ANONYMOUS_KEY_PREFIX = 'anon#';

/** The profile key of an anonymous id. */
export function anonymousKey(anonymousId: string): string {
  return ANONYMOUS_KEY_PREFIX + anonymousId;
}

/** Whether a profile key is an anonymous visitor's. */
export function isAnonymousKey(key: string): boolean {
  return key.startsWith(ANONYMOUS_KEY_PREFIX);
}

/** The anonymous id of an anonymous profile key, or undefined for a user's key. */
export function anonymousIdOf(key: string): string | undefined {
  return isAnonymousKey(key) ? key.slice(ANONYMOUS_KEY_PREFIX.length) : undefined;
}

type Identified = Pick<BehaviouralEvent, 'user_id' | 'anonymous_id'>;

/** The profile key of an event's subject: its user, else its anonymous visitor. */
export function subjectKey(event: Identified): string {
  if (event.user_id !== undefined) return event.user_id;
  return anonymousKey(event.anonymous_id ?? '');
}

/** The Kinesis partition key of an event: user_id when present, else anonymous_id. */
export function partitionKeyOf(event: Identified): string {
  return event.user_id ?? event.anonymous_id ?? '';
}

export interface Consent {
  /** May the event reach a profile. */
  readonly personalization: boolean;
  /** May the event reach the curated lake. */
  readonly analytics: boolean;
}

/** The consent of an event: a flag it does not carry is granted. */
export function consentOf(event: Pick<BehaviouralEvent, 'consent'>): Consent {
  const c = event.consent;
  return { personalization: c?.personalization !== false, analytics: c?.analytics !== false };
}
