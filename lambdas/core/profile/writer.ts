/**
 * Writes segments to a profile store: one consistent read and one conditional write per user, bounded
 * concurrency, a re-read and re-merge when the condition fails (someone wrote the profile in between), and
 * a per-user failure list instead of an exception, so one user that keeps failing does not stop the others.
 * Store errors are retried by the store itself (throttling, transient errors); what still fails lands here.
 */
import { mergeSegment } from './merge';
import type { Profile, ProfileSettings } from './model';
import type { Segment } from './window-state';

/** What the aggregation needs from the profile table (DynamoDB in AWS, a Map in tests). */
export interface ProfileStorePort {
  /** Strongly consistent reads of the given users' profiles (absent users are missing from the map). */
  getMany(userIds: readonly string[]): Promise<Map<string, Profile>>;
  /**
   * Writes `profile` if the stored version is still `expectedVersion` (0: no profile yet).
   * Resolves 'conflict' when the condition fails; rejects when the write could not be made.
   */
  putIfVersion(profile: Profile, expectedVersion: number): Promise<'ok' | 'conflict'>;
}

export interface WriteOptions {
  readonly settings: ProfileSettings;
  readonly now: () => number;
  /** Users written concurrently. @default 16 */
  readonly concurrency?: number;
  /** Re-reads after a failed condition before the user counts as failed. @default 3 */
  readonly maxConflicts?: number;
}

export interface UserWrite {
  readonly userId: string;
  readonly outcome: 'written' | 'already-applied' | 'failed';
  readonly applied: number;
  readonly duplicates: number;
  readonly anomaly: boolean;
  readonly conflicts: number;
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
  readonly anomalies: number;
  readonly conflicts: number;
}

export async function writeSegments(store: ProfileStorePort, segments: readonly Segment[], options: WriteOptions): Promise<WriteReport> {
  const concurrency = options.concurrency ?? 16;
  const maxConflicts = options.maxConflicts ?? 3;
  const results: UserWrite[] = new Array(segments.length);

  // Reads go in chunks of 100 (BatchGetItem's limit), all issued before the writes start.
  let stored: Map<string, Profile> | undefined;
  try {
    const chunks: string[][] = [];
    for (let i = 0; i < segments.length; i += 100) chunks.push(segments.slice(i, i + 100).map((s) => s.userId));
    const maps = await mapConcurrent(chunks, Math.max(1, Math.ceil(concurrency / 4)), (ids) => store.getMany(ids));
    stored = new Map(maps.flatMap((m) => [...m]));
  } catch {
    // Each user reads on its own below, so a failed batch read does not fail every user at once.
    stored = undefined;
  }

  await mapConcurrent(segments.map((s, i) => [s, i] as const), concurrency, async ([segment, index]) => {
    let conflicts = 0;
    let current: Profile | undefined = stored?.get(segment.userId);
    let needRead = stored === undefined;
    for (;;) {
      try {
        if (needRead) current = (await store.getMany([segment.userId])).get(segment.userId);
        const merge = mergeSegment(current, segment, options.settings, options.now());
        if (merge.kind === 'already-applied') {
          results[index] = { userId: segment.userId, outcome: 'already-applied', applied: 0, duplicates: 0, anomaly: false, conflicts };
          return;
        }
        const put = await store.putIfVersion(merge.profile, merge.expectedVersion);
        if (put === 'ok') {
          results[index] = {
            userId: segment.userId,
            outcome: 'written',
            applied: merge.applied,
            duplicates: merge.duplicates,
            anomaly: merge.anomaly,
            conflicts,
            profile: merge.profile,
          };
          return;
        }
        conflicts++;
        needRead = true;
        if (conflicts > maxConflicts) throw new Error(`the profile of ${segment.userId} changed ${conflicts} times while being merged`);
      } catch (error) {
        results[index] = { userId: segment.userId, outcome: 'failed', applied: 0, duplicates: 0, anomaly: false, conflicts, error };
        return;
      }
    }
  });

  const failed = results.filter((r) => r.outcome === 'failed');
  return {
    users: results,
    written: results.filter((r) => r.outcome === 'written').length,
    alreadyApplied: results.filter((r) => r.outcome === 'already-applied').length,
    failed,
    appliedEvents: results.reduce((n, r) => n + r.applied, 0),
    duplicates: results.reduce((n, r) => n + r.duplicates, 0),
    anomalies: results.filter((r) => r.anomaly).length,
    conflicts: results.reduce((n, r) => n + r.conflicts, 0),
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
