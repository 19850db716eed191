/**
 * When the window state flushes users before it takes another event, and which ones.
 *
 * Lambda caps the state at 1 MB per shard; a larger state ends the window early. Rather than rely on that,
 * the state flushes before it would outgrow its budget: first the users with the largest share (few writes
 * free the most room), and any user whose pending events reach `maxEventsPerUser`. Where a window is cut
 * does not matter for correctness: the merge recognizes every event applied before by its id (see ledger.ts
 * and merge.ts). Every choice depends only on the state's content and the event, never on timing.
 */
import type { EventScratch } from './profile-event';

export interface WindowStateLimits {
  /** Estimated JSON size the state never exceeds after a record is added. */
  readonly budgetBytes: number;
  /** Pending events of one user that trigger a flush of that user. */
  readonly maxEventsPerUser: number;
}

/** Lambda's limit is 1 MB (1,048,576 bytes) for the state; the rest is margin for the response envelope. */
export const DEFAULT_STATE_LIMITS: WindowStateLimits = { budgetBytes: 900_000, maxEventsPerUser: 512 };

/** The estimate of a state with no users. */
export const EMPTY_STATE_BYTES = 64;

/** The members besides users and dictionary: version, base time and the estimate itself. */
export const FIXED_STATE_BYTES = 60;

/** JSON bytes of one user's member in `u`. */
export function userBytes(userId: string, textLength: number): number {
  // User ids follow the contract's pattern (checked when read): no JSON escaping.
  return userId.length + 2 + textLength + 4;
}

/** An upper bound of the bytes `e` adds to the state, without encoding it; `newUserId` when its user has no member yet. */
export function eventBytesBound(e: EventScratch, newUserId: string | undefined): number {
  // Fields at their longest plus separators.
  const base = 10 + 10 + 9 + (e.content?.length ?? 0) + 4 + 8 + 12 + (e.currency ? 3 : 0);
  const dict = (e.device?.length ?? 0) + (e.locale?.length ?? 0) + (e.category?.length ?? 0) + 12;
  return base + dict + (newUserId === undefined ? 0 : newUserId.length + 6);
}

/**
 * The users to flush so that a state of `stateBytes` (users and dictionary) can take `addBytes` more and be
 * back to 90% of its budget: the largest first. Every pending user when that cannot make room (the
 * dictionary has grown; flushing everyone also empties it).
 */
export function usersToFlush(pending: Readonly<Record<string, string>>, stateBytes: number, addBytes: number, limits: WindowStateLimits): string[] {
  const target = limits.budgetBytes * 0.9 - addBytes - FIXED_STATE_BYTES;
  let bytes = stateBytes;
  // Only users holding at least 1/500 of the budget compete first (sorting thousands of one-event users is
  // the slow part); everyone competes when those are not enough.
  const large: [string, string][] = [];
  const all: [string, string][] = [];
  let largeBytes = 0;
  for (const userId in pending) {
    const text = pending[userId]!;
    all.push([userId, text]);
    if (text.length >= limits.budgetBytes / 500) {
      large.push([userId, text]);
      largeBytes += text.length;
    }
  }
  const users = largeBytes >= bytes - target ? large : all;
  users.sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  const out: string[] = [];
  for (const [userId, text] of users) {
    if (bytes <= target) break;
    out.push(userId);
    bytes -= userBytes(userId, text.length);
  }
  if (bytes > target && users === all) return all.map(([userId]) => userId);
  if (bytes > target) return Object.keys(pending);
  return out;
}
