/**
 * Id sets of each user's pending text, kept across invocations of one shard: Lambda hands the state back as
 * new JSON each time, and re-reading a heavy user's ids from the text on every invocation would dominate.
 *
 * An entry is used only for the very text it was built from (compared in full, which is far cheaper than
 * re-reading it), and a window state takes it out of the cache while it may change it, so a state rolled
 * back after a failed invocation never meets ids it does not have. The cache belongs to one aggregation
 * context (one shard), never to the process.
 */
import type { IdSet } from './id-set';

export const ID_CACHE_MAX_USERS = 50_000;

export class IdCache {
  private readonly entries = new Map<string, { text: string; ids: IdSet }>();

  constructor(private readonly maxUsers = ID_CACHE_MAX_USERS) {}

  /** Users with cached ids. */
  get size(): number {
    return this.entries.size;
  }

  /** Takes out the ids of `userId` if they were built from exactly `text`; the caller puts them back when done. */
  take(userId: string, text: string): IdSet | undefined {
    const cached = this.entries.get(userId);
    if (cached === undefined || cached.text !== text) return undefined;
    this.entries.delete(userId);
    return cached.ids;
  }

  /** Keeps `ids` as the ids of exactly `text` (the whole cache starts over when it is full). */
  put(userId: string, text: string, ids: IdSet): void {
    if (this.entries.size >= this.maxUsers) this.entries.clear();
    this.entries.set(userId, { text, ids });
  }

  has(userId: string): boolean {
    return this.entries.has(userId);
  }

  delete(userId: string): void {
    this.entries.delete(userId);
  }
}
