/**
 * An in-memory profile store with the semantics of the DynamoDB tables: conditional profile updates (the
 * write applies only when the stored version is the expected one) and set-union ledger updates, with seeded
 * faults on every write: throttled writes that are not applied, and writes that are applied but whose
 * acknowledgement is lost (a timeout after the write).
 */
import type { LedgerItem, LedgerWrite } from '../../core/profiles/ledger';
import { itemSizeBytes } from '../../core/profiles/item-size';
import type { Profile } from '../../core/profiles/model';
import { LINK_SLOT_PREFIX, linkSlot } from '../../core/profiles/stitch';
import type { LedgerKey, ProfileStorePort } from '../../core/profiles/writer';

export interface MemoryStoreFaults {
  /** Probability that a write is rejected as throttled (not applied). */
  throttle?: number;
  /** Probability that a write is applied but reported as failed. */
  lostAck?: number;
  random?: () => number;
}

export class MemoryProfileStore implements ProfileStorePort {
  readonly items = new Map<string, Profile>();
  /** user id -> slot -> ledger item. */
  readonly ledger = new Map<string, Map<string, { ids: Set<string>; split: boolean; expiresAt: number }>>();
  /** Profile writes applied. */
  writes = 0;
  /** Ledger item updates applied. */
  ledgerWrites = 0;
  /**
   * Write units of the writes applied, as DynamoDB bills an update: one per started KB of the larger of the
   * item before and after it (profiles and ledger items alike).
   */
  writeUnits = 0;
  /** Of those, the ledger's. */
  ledgerWriteUnits = 0;
  reads = 0;
  /** Ledger items read (present or not). */
  ledgerReads = 0;
  /** Read units of the consistent reads, as DynamoDB bills them: one per started 4 KB of each item read. */
  readUnits = 0;
  conflicts = 0;
  faults: MemoryStoreFaults = {};

  async read(userIds: readonly string[], ledgerKeys: readonly LedgerKey[]): Promise<{ profiles: Map<string, Profile>; ledger: Map<string, Map<string, LedgerItem>> }> {
    if (userIds.length + ledgerKeys.length > 100) throw new Error(`BatchGetItem reads at most 100 keys, got ${userIds.length + ledgerKeys.length}`);
    this.reads += userIds.length;
    this.ledgerReads += ledgerKeys.length;
    const profiles = new Map<string, Profile>();
    for (const id of userIds) {
      const item = this.items.get(id);
      this.readUnits += item ? Math.ceil(itemSizeBytes(item as unknown as Record<string, unknown>) / 4096) : 1;
      if (item) profiles.set(id, structuredClone(item));
    }
    const ledger = new Map<string, Map<string, LedgerItem>>();
    for (const k of ledgerKeys) {
      const item = this.ledger.get(k.userId)?.get(k.slot);
      this.readUnits += item ? Math.ceil(itemSizeBytes({ user_id: k.userId, slot: k.slot, ids: item.ids, expires_at: item.expiresAt }) / 4096) : 1;
      if (!item) continue;
      if (!ledger.has(k.userId)) ledger.set(k.userId, new Map());
      ledger.get(k.userId)!.set(k.slot, { ids: new Set(item.ids), split: item.split });
    }
    return { profiles, ledger };
  }

  async putIfVersion(profile: Profile, expectedVersion: number): Promise<'ok' | 'conflict'> {
    const random = this.faults.random ?? Math.random;
    if (random() < (this.faults.throttle ?? 0)) throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
    const current = this.items.get(profile.user_id);
    if ((current?.version ?? 0) !== expectedVersion) {
      this.conflicts++;
      return 'conflict';
    }
    this.writes++;
    const before = current ? itemSizeBytes(current as unknown as Record<string, unknown>) : 0;
    this.writeUnits += Math.ceil(Math.max(before, itemSizeBytes(profile as unknown as Record<string, unknown>)) / 1024);
    // What DynamoDB stores is what JSON can carry: no undefined attributes.
    this.items.set(profile.user_id, JSON.parse(JSON.stringify(profile)) as Profile);
    if (random() < (this.faults.lostAck ?? 0)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    return 'ok';
  }

  async writeLedger(userId: string, writes: readonly LedgerWrite[]): Promise<void> {
    const random = this.faults.random ?? Math.random;
    for (const w of writes) {
      if (random() < (this.faults.throttle ?? 0)) throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
      let items = this.ledger.get(userId);
      if (!items) this.ledger.set(userId, (items = new Map()));
      const item = items.get(w.slot) ?? { ids: new Set<string>(), split: false, expiresAt: 0 };
      const size = () => itemSizeBytes({ user_id: userId, slot: w.slot, ids: item.ids, expires_at: w.expiresAt, ...(item.split ? { split: true } : {}) });
      const before = items.has(w.slot) ? size() : 0;
      for (const id of w.add) item.ids.add(id);
      item.split ||= w.split;
      item.expiresAt = w.expiresAt;
      items.set(w.slot, item);
      this.ledgerWrites++;
      const units = Math.ceil(Math.max(before, size()) / 1024);
      this.writeUnits += units;
      this.ledgerWriteUnits += units;
      if (random() < (this.faults.lostAck ?? 0)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    }
  }

  async writeLink(userId: string, anonymousId: string, expiresAt: number | undefined): Promise<void> {
    const random = this.faults.random ?? Math.random;
    if (random() < (this.faults.throttle ?? 0)) throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
    let items = this.ledger.get(userId);
    if (!items) this.ledger.set(userId, (items = new Map()));
    items.set(linkSlot(anonymousId), { ids: new Set(), split: false, expiresAt: expiresAt ?? 0 });
    this.ledgerWrites++;
    if (random() < (this.faults.lostAck ?? 0)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
  }

  async deleteLink(userId: string, anonymousId: string): Promise<void> {
    this.ledger.get(userId)?.delete(linkSlot(anonymousId));
  }

  /** The anonymous ids linked to a user (its link items). */
  linksOf(userId: string): string[] {
    return [...(this.ledger.get(userId)?.keys() ?? [])].filter((slot) => slot.startsWith(LINK_SLOT_PREFIX)).map((slot) => slot.slice(LINK_SLOT_PREFIX.length));
  }

  /** Number of ids and the largest item of the ledger. */
  ledgerStats(): { items: number; ids: number; largestItem: number } {
    let items = 0;
    let ids = 0;
    let largestItem = 0;
    for (const user of this.ledger.values()) {
      for (const item of user.values()) {
        items++;
        ids += item.ids.size;
        largestItem = Math.max(largestItem, item.ids.size);
      }
    }
    return { items, ids, largestItem };
  }
}
