/**
 * Identity of an event for deduplication.
 *
 * - The dedup key is the composite (subject, event_id), the subject being user_id or else the anonymous id: producers reuse event_id when they retry, and scoping
 *   it by user keeps a colliding id from another producer from suppressing someone else's event.
 * - The fingerprint is a hash of the normalized payload: two deliveries with the same dedup key and different
 *   fingerprints are a producer bug (an id reused for different events), which the pipeline counts.
 *
 * The fingerprint is SHA-256 over the canonical JSON of the normalized event (object keys sorted
 * recursively, no whitespace), first 32 hex digits: reproducible in any language from the JSON Schema.
 */
import { createHash } from 'node:crypto';
import type { BehaviouralEvent } from './generated/event-types';
import { subjectKey } from './identity';

export function dedupKey(event: Pick<BehaviouralEvent, 'user_id' | 'anonymous_id' | 'event_id'>): string {
  // U+001F cannot occur in either id (the schema's patterns exclude control characters).
  return `${subjectKey(event)}\u001f${event.event_id}`;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function eventFingerprint(event: BehaviouralEvent): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex').slice(0, 32);
}
