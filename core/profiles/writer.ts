/**
 * Writes segments to a profile store. Per user: consistent reads of the profile and of the ledger items on
 * the paths of its events, the merge (merge.ts), then in this order the ledger repairs, one conditional
 * profile write, and the ledger writes of the applied events. A failed condition (someone wrote the profile in
 * between) re-reads and re-merges. Failures are reported per user instead of thrown, so one user that keeps
 * failing does not stop the others. Store errors are retried by the store itself (throttling, transient
 * errors); what still fails lands here.
 */
import { ledgerReadsNeeded, lastIdEntries, type LedgerEntry, type LedgerItem, type LedgerView, type LedgerWrite } from './ledger';
import type { DayKeyCache } from './day-keys';
import { mergeSegment } from './merge';
import type { Profile, ProfileSettings } from './model';
import type { Segment } from './window-state';
import { DependencyError } from '../errors';

/** One ledger item to read. */
export interface LedgerKey {
  readonly userId: string;
  readonly slot: string;
}

/** What the aggregation needs from its tables (DynamoDB in AWS, Maps in tests). */
export interface ProfileStorePort {
  /**
   * Strongly consistent reads of the given profiles and ledger items, at most 100 keys in all (one
   * BatchGetItem). Absent profiles and items are missing from the maps.
   */
  read(userIds: readonly string[], ledgerKeys: readonly LedgerKey[]): Promise<{ profiles: Map<string, Profile>; ledger: Map<string, Map<string, LedgerItem>> }>;
  /**
   * Writes `profile` if the stored version is still `expectedVersion` (0: no profile yet).
   * Resolves 'conflict' when the condition fails; rejects when the write could not be made.
   */
  putIfVersion(profile: Profile, expectedVersion: number): Promise<'ok' | 'conflict'>;
  /** Makes the ledger writes of one user (each a set union: repeating one is harmless). */
  writeLedger(userId: string, writes: readonly LedgerWrite[]): Promise<void>;
}

/** BatchGetItem reads at most 100 keys per call. */
export const READ_BATCH_KEYS = 100;

export interface WriteOptions {
  readonly settings: ProfileSettings;
  readonly now: () => number;
  /** Users written concurrently. @default 16 */
  readonly concurrency?: number;
  /** Re-reads after a failed condition before the user counts as failed. @default 3 */
  readonly maxConflicts?: number;
  /** The aggregation context's day-key cache. @default none (every day key is formatted) */
  readonly dayKeys?: DayKeyCache;
}

export interface UserWrite {
  readonly userId: string;
  readonly outcome: 'written' | 'already-applied' | 'failed';
  readonly applied: number;
  readonly duplicates: number;
  readonly conflicts: number;
  /** Ledger items written (repairs included). */
  readonly ledgerWrites: number;
  /** Ledger writes of ids already covered by an earlier profile write (after a failure). */
  readonly ledgerRepairs: number;
  /** The ledger writes after the profile write failed; the profile's last_ids cover them until the next merge. */
  readonly ledgerDeferred: boolean;
  /** The profile as written. */
  readonly profile?: Profile;
  readonly error?: unknown;
}

export interface WriteReport {
  readonly users: UserWrite[];
  readonly written: number;
  readonly alreadyApplied: number;
  readonly failed: UserWrite[];
  readonly appliedEvents: number;
  readonly duplicates: number;
  readonly conflicts: number;
  readonly ledgerWrites: number;
  readonly ledgerRepairs: number;
  readonly ledgerDeferred: number;
}

/** What a user's merge reads: the profile, and the ledger items on the paths of its events. */
interface UserView {
  profile: Profile | undefined;
  ledger: LedgerView;
}

function entriesOf(segment: Pick<Segment, 'events'>, profile: Profile | undefined): LedgerEntry[] {
  return profile ? [...segment.events, ...lastIdEntries(profile.last_ids)] : segment.events;
}

/**
 * Reads the profiles of `segments` and, level by level, the ledger items their merges need. Round 1 reads
 * every profile and the hour items of the pending events; later rounds only the items below split ones and
 * those of `last_ids` from other hours (rare).
 */
export async function readViews(store: ProfileStorePort, segments: readonly Pick<Segment, 'userId' | 'events'>[], concurrency: number): Promise<Map<string, UserView>> {
  const views = new Map<string, UserView>();
  for (const s of segments) views.set(s.userId, { profile: undefined, ledger: new Map() });
  let profilesToRead: string[] = segments.map((s) => s.userId);
  for (;;) {
    const keys: LedgerKey[] = [];
    for (const s of segments) {
      const view = views.get(s.userId)!;
      for (const slot of ledgerReadsNeeded(view.ledger, entriesOf(s, view.profile))) keys.push({ userId: s.userId, slot });
    }
    if (keys.length === 0 && profilesToRead.length === 0) return views;
    // Chunks of at most READ_BATCH_KEYS keys, profiles first; all issued before the merges start.
    const chunks: { users: string[]; keys: LedgerKey[] }[] = [];
    let current = { users: [] as string[], keys: [] as LedgerKey[] };
    const push = () => {
      if (current.users.length + current.keys.length > 0) chunks.push(current);
      current = { users: [], keys: [] };
    };
    for (const u of profilesToRead) {
      if (current.users.length >= READ_BATCH_KEYS) push();
      current.users.push(u);
    }
    for (const k of keys) {
      if (current.users.length + current.keys.length >= READ_BATCH_KEYS) push();
      current.keys.push(k);
    }
    push();
    const results = await mapConcurrent(chunks, Math.max(1, Math.ceil(concurrency / 4)), (c) => store.read(c.users, c.keys));
    for (const [i, result] of results.entries()) {
      for (const u of chunks[i]!.users) views.get(u)!.profile = result.profiles.get(u);
      for (const k of chunks[i]!.keys) views.get(k.userId)!.ledger.set(k.slot, result.ledger.get(k.userId)?.get(k.slot) ?? null);
    }
    // A profile read in this round may name last_ids of hours not read yet: the next round reads them.
    profilesToRead = [];
  }
}

export async function writeSegments(store: ProfileStorePort, segments: readonly Segment[], options: WriteOptions): Promise<WriteReport> {
  const concurrency = options.concurrency ?? 16;
  const maxConflicts = options.maxConflicts ?? 3;
  const results: UserWrite[] = new Array(segments.length);

  let views: Map<string, UserView> | undefined;
  try {
    views = await readViews(store, segments, concurrency);
  } catch {
    // Each user reads on its own below, so a failed batch read does not fail every user at once.
    views = undefined;
  }

  await mapConcurrent(segments.map((s, i) => [s, i] as const), concurrency, async ([segment, index]) => {
    let conflicts = 0;
    let ledgerWrites = 0;
    let ledgerRepairs = 0;
    let view = views?.get(segment.userId);
    const base = { userId: segment.userId, applied: 0, duplicates: 0, ledgerDeferred: false };
    for (;;) {
      try {
        view ??= (await readViews(store, [segment], 1)).get(segment.userId)!;
        const merge = mergeSegment(view.profile, view.ledger, segment, options.settings, options.now(), options.dayKeys);
        if (merge.repairs.length > 0) {
          // Before the profile write that replaces the last_ids these ids are only recorded in.
          await store.writeLedger(segment.userId, merge.repairs);
          ledgerWrites += merge.repairs.length;
          ledgerRepairs += merge.repairs.length;
        }
        if (merge.kind === 'already-applied') {
          results[index] = { ...base, outcome: 'already-applied', duplicates: merge.duplicates, conflicts, ledgerWrites, ledgerRepairs };
          return;
        }
        const put = await store.putIfVersion(merge.profile, merge.expectedVersion);
        if (put === 'ok') {
          let deferred = false;
          try {
            await store.writeLedger(segment.userId, merge.ledger);
            ledgerWrites += merge.ledger.length;
          } catch {
            // The profile's last_ids hold these ids; the user's next merge writes them (a repair).
            deferred = true;
          }
          results[index] = {
            ...base,
            outcome: 'written',
            applied: merge.applied,
            duplicates: merge.duplicates,
            conflicts,
            ledgerWrites,
            ledgerRepairs,
            ledgerDeferred: deferred,
            profile: merge.profile,
          };
          return;
        }
        conflicts++;
        view = undefined;
        if (conflicts > maxConflicts) throw new DependencyError(`the profile of ${segment.userId} changed ${conflicts} times while being merged`, 'VersionConflicts', 'transient');
      } catch (error) {
        results[index] = { ...base, outcome: 'failed', conflicts, ledgerWrites, ledgerRepairs, error };
        return;
      }
    }
  });

  const failed = results.filter((r) => r.outcome === 'failed');
  const sum = (f: (r: UserWrite) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    users: results,
    written: results.filter((r) => r.outcome === 'written').length,
    alreadyApplied: results.filter((r) => r.outcome === 'already-applied').length,
    failed,
    appliedEvents: sum((r) => r.applied),
    duplicates: sum((r) => r.duplicates),
    conflicts: sum((r) => r.conflicts),
    ledgerWrites: sum((r) => r.ledgerWrites),
    ledgerRepairs: sum((r) => r.ledgerRepairs),
    ledgerDeferred: sum((r) => (r.ledgerDeferred ? 1 : 0)),
  };
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}
