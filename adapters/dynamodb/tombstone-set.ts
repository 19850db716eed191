/**
 * The live tombstones as every gate reads them: one item per tombstone in the `#erased` partition of the
 * ledger table, keyed by the hash of the profile key (no id in clear), with the profile tombstone's expiry.
 * One Query (paged) reads them all; the set is kept for `cacheMs` and read again after that. An item whose
 * expiry has passed no longer counts (TTL deletes within days of expiry, not at it).
 *
 * The reading itself is a port: the SDK's document client (tombstones.ts) or a signed request
 * (signed-tombstone-query.ts, for the validation function, whose bundle has no room for the DynamoDB client).
 * No SDK import here.
 */
import { LEDGER_ATTRIBUTES } from './ledger-attributes';

/** Partition of the ledger table holding the tombstones' hashes ('#' never starts a user id). */
export const TOMBSTONE_PARTITION = '#erased';

/** How long a read set of tombstones is used before it is read again, unless a reader says otherwise. */
export const DEFAULT_TOMBSTONE_CACHE_MS = 60_000;

/** One page of the tombstones' partition: items as read (sort key and expiry), and where the next page starts. */
export interface TombstonePage {
  readonly items: readonly { readonly hash: string; readonly expiresAtSeconds: number }[];
  readonly next?: Record<string, unknown>;
}

/** Reads one page of the `#erased` partition, from `start` (undefined: the first page). */
export type TombstonePageReader = (start: Record<string, unknown> | undefined) => Promise<TombstonePage>;

/** The Query every reader sends (its attribute names and values in the reader's own encoding). */
export const TOMBSTONE_QUERY = {
  keyCondition: '#pk = :pk',
  projection: '#sk, #ttl',
  names: { '#pk': LEDGER_ATTRIBUTES.partitionKey, '#sk': LEDGER_ATTRIBUTES.sortKey, '#ttl': LEDGER_ATTRIBUTES.ttl },
} as const;

export class TombstoneSet {
  private cached?: { at: number; hashes: Set<string> };

  constructor(
    private readonly read: TombstonePageReader,
    private readonly options: {
      /** How long a read set is used before it is read again. @default 60 s */
      readonly cacheMs?: number;
      readonly now?: () => number;
    } = {},
  ) {}

  /** Forgets the cached set: the next hashes() reads again. */
  invalidate(): void {
    this.cached = undefined;
  }

  /** The hashes of the live tombstones. */
  async hashes(): Promise<ReadonlySet<string>> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.options.cacheMs ?? DEFAULT_TOMBSTONE_CACHE_MS)) return this.cached.hashes;
    const hashes = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.read(start);
      for (const item of page.items) if (!(item.expiresAtSeconds * 1000 < now)) hashes.add(item.hash);
      start = page.next;
    } while (start);
    this.cached = { at: now, hashes };
    return hashes;
  }
}
