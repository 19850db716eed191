/**
 * Writes segments to a profile store. Per user: consistent reads of the profile and of the ledger items on
 * the paths of its events, the merge (merge.ts), then in this order the ledger repairs, one conditional
 * profile write, and the ledger writes of the applied events. A failed condition (someone wrote the profile in
 * between) re-reads and re-merges. Failures are reported per user instead of thrown, so one user that keeps
 * failing does not stop the others. Store errors are retried by the store itself (throttling, transient
 * errors); what still fails lands here.
 */
import { ledgerHas, ledgerReadsNeeded, lastIdEntries, type LedgerEntry, type LedgerItem, type LedgerView, type LedgerWrite } from './ledger';
import type { DayKeyCache } from './day-keys';
import { mergeSegment } from './merge';
import type { Profile, ProfileSettings } from './model';
import type { ProfileEvent } from './profile-event';
import { freezeAnonymous, hasAbsorbed, IDENTIFY, linkExpiry } from './stitch';
import type { Segment } from './window-state';
import { DependencyError } from '../errors';
import { anonymousIdOf, anonymousKey } from '@personalization-data-platform/contract';

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
  /**
   * Records that `anonymousId` is linked to `userId` (an item in the user's partition of the ledger table, so
   * that erasing the user finds it). Idempotent. `expiresAt`: epoch seconds, or undefined for never.
   */
  writeLink(userId: string, anonymousId: string, expiresAt: number | undefined): Promise<void>;
  /** Removes a link written by a claim that lost to another user's. Idempotent. */
  deleteLink(userId: string, anonymousId: string): Promise<void>;
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
  /** 'erased': the key holds a tombstone, the events were dropped. */
  readonly outcome: 'written' | 'already-applied' | 'failed' | 'erased';
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
  /** The user the segment's events went to when its key is an anonymous id merged into that user. */
  readonly redirectedTo?: string;
  /** Events dropped because the person was erased. */
  readonly erased?: number;
  /** Anonymous profiles merged into this user by this write. */
  readonly absorbed?: number;
  /** Identify events naming an anonymous id that another user had already claimed. */
  readonly identifyConflicts?: number;
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
  readonly erasedEvents: number;
  readonly absorbed: number;
  readonly identifyConflicts: number;
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
    results[index] = await writeUser(store, segment, views?.get(segment.userId), { ...options, maxConflicts });
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
    erasedEvents: sum((r) => r.erased ?? 0),
    absorbed: sum((r) => r.absorbed ?? 0),
    identifyConflicts: sum((r) => r.identifyConflicts ?? 0),
  };
}

/**
 * Writes one segment: the merge into its profile, after what its key calls for. A tombstone drops the events.
 * An anonymous profile merged into a user sends the events that its own ledger does not hold on to that user
 * (so a copy of an event applied before the merge is recognized). A user's identify events claim their
 * anonymous ids (link, freeze) before the write that absorbs them.
 */
async function writeUser(store: ProfileStorePort, segment: Segment, initial: UserView | undefined, options: WriteOptions & { maxConflicts: number }): Promise<UserWrite> {
  let conflicts = 0;
  let ledgerWrites = 0;
  let ledgerRepairs = 0;
  let duplicatesBefore = 0;
  let identifyConflicts = 0;
  let view = initial;
  let target: Segment = segment;
  let redirectedTo: string | undefined;
  const base = () => ({ userId: segment.userId, applied: 0, duplicates: duplicatesBefore, ledgerDeferred: false, ...(redirectedTo ? { redirectedTo } : {}) });
  for (;;) {
    try {
      view ??= (await readViews(store, [target], 1)).get(target.userId)!;
      const stored = view.profile;
      if (stored?.erased_at !== undefined) {
        return { ...base(), outcome: 'erased', conflicts, ledgerWrites, ledgerRepairs, erased: target.events.length };
      }
      if (stored?.merged_into !== undefined && redirectedTo === undefined) {
        // Frozen: its ledger is complete (the freeze recorded its last ids) and no longer changes.
        const last = new Set(lastIdEntries(stored.last_ids).map((e) => e.id));
        const remaining = target.events.filter((e) => !last.has(e.id) && !ledgerHas(view!.ledger, e));
        duplicatesBefore += target.events.length - remaining.length;
        redirectedTo = stored.merged_into;
        if (remaining.length === 0) return { ...base(), outcome: 'already-applied', conflicts, ledgerWrites, ledgerRepairs };
        target = { userId: redirectedTo, events: remaining };
        view = undefined;
        continue;
      }
      const absorb = new Map<string, Profile>();
      if (anonymousIdOf(target.userId) === undefined) {
        for (const anonymousId of identified(target.events)) {
          if (hasAbsorbed(stored, anonymousId)) continue;
          const claim = await claimAnonymous(store, target.userId, anonymousId, options);
          if (claim === 'conflict') identifyConflicts++;
          else if (claim !== undefined) absorb.set(anonymousId, claim);
        }
      }
      const merge = mergeSegment(stored, view.ledger, target, options.settings, options.now(), options.dayKeys, absorb);
      if (merge.repairs.length > 0) {
        // Before the profile write that replaces the last_ids these ids are only recorded in.
        await store.writeLedger(target.userId, merge.repairs);
        ledgerWrites += merge.repairs.length;
        ledgerRepairs += merge.repairs.length;
      }
      if (merge.kind === 'already-applied') {
        return { ...base(), outcome: 'already-applied', duplicates: duplicatesBefore + merge.duplicates, conflicts, ledgerWrites, ledgerRepairs, identifyConflicts };
      }
      const put = await store.putIfVersion(merge.profile, merge.expectedVersion);
      if (put === 'ok') {
        let deferred = false;
        try {
          await store.writeLedger(target.userId, merge.ledger);
          ledgerWrites += merge.ledger.length;
        } catch {
          // The profile's last_ids hold these ids; the user's next merge writes them (a repair).
          deferred = true;
        }
        return {
          ...base(),
          outcome: 'written',
          applied: merge.applied,
          duplicates: duplicatesBefore + merge.duplicates,
          conflicts,
          ledgerWrites,
          ledgerRepairs,
          ledgerDeferred: deferred,
          profile: merge.profile,
          absorbed: absorb.size,
          identifyConflicts,
        };
      }
      conflicts++;
      view = undefined;
      if (conflicts > options.maxConflicts) throw new DependencyError(`the profile of ${target.userId} changed ${conflicts} times while being merged`, 'VersionConflicts', 'transient');
    } catch (error) {
      return { ...base(), outcome: 'failed', conflicts, ledgerWrites, ledgerRepairs, error };
    }
  }
}

/** The anonymous ids named by the identify events of a segment, each once. */
function identified(events: readonly ProfileEvent[]): string[] {
  const out = new Set<string>();
  for (const e of events) if (e.type === IDENTIFY && e.content) out.add(e.content);
  return [...out];
}

/**
 * Claims an anonymous id for a user: link, then freeze (see stitch.ts). Returns the frozen anonymous profile to
 * absorb, 'conflict' when another user claimed it first, or undefined when there is nothing to absorb (the
 * anonymous id was erased).
 */
async function claimAnonymous(store: ProfileStorePort, userId: string, anonymousId: string, options: WriteOptions & { maxConflicts: number }): Promise<Profile | 'conflict' | undefined> {
  const key = anonymousKey(anonymousId);
  let linked = false;
  for (let attempt = 0; ; attempt++) {
    const view = (await readViews(store, [{ userId: key, events: [] }], 1)).get(key)!;
    const stored = view.profile;
    if (stored?.erased_at !== undefined) return undefined;
    if (stored?.merged_into !== undefined) {
      if (stored.merged_into === userId) return stored;
      // Claimed by someone else first: our link (if we wrote one while racing them) must not stay.
      if (linked) await store.deleteLink(userId, anonymousId);
      return 'conflict';
    }
    if (attempt > options.maxConflicts) throw new DependencyError(`the anonymous profile ${key} changed ${attempt} times while being claimed`, 'VersionConflicts', 'transient');
    const now = options.now();
    if (!linked) {
      await store.writeLink(userId, anonymousId, linkExpiry(stored, options.settings, now));
      linked = true;
    }
    const frozen = freezeAnonymous(stored, anonymousId, userId, view.ledger, options.settings, now);
    if (frozen.repairs.length > 0) await store.writeLedger(key, frozen.repairs);
    if ((await store.putIfVersion(frozen.profile, frozen.expectedVersion)) === 'ok') return frozen.profile;
  }
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
