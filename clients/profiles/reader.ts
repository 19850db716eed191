/**
 * The profile reader for personalization services: one profile or many, with the features derived at read
 * time (recency, activity and frequency, affinities decayed to now) and how fresh each one is, within a
 * deadline per call.
 *
 *   const reader = new ProfileReader({ tableName: process.env.PROFILE_TABLE_NAME!, timeoutMs: 50 });
 *   const profile = await reader.get('user-42');                 // eventually consistent, half the read cost
 *   const fresh = await reader.get('user-42', { consistent: true, timeoutMs: 20 });
 *   const many = await reader.getMany(['user-1', 'user-2']);     // a Map of the users read, and many.unread
 *   const visitor = await reader.get({ anonymousId: 'device-7' }); // the user's profile once identified
 *   visitor?.resolvedTo;                                           // { kind: 'user', userId, viaAnonymousId } or { kind: 'anonymous', anonymousId }
 */
import { createDocumentClient } from '@internal/adapters/dynamodb/reader-client';
import { DynamoProfileItems, PROFILE_READ_RETRY_POLICY, ReadDeadlineError, type DynamoDBDocumentClient, type ReadControl, type UnreadReason } from '@internal/adapters/dynamodb/profile-items';
import { ConfigError } from '@internal/core/errors';
import { deriveFeatures, type DerivedFeatures } from '@internal/core/profiles/derive';
import { featureFreshness, type FeatureFreshness } from '@internal/core/profiles/freshness';
import { DEFAULT_PROFILE_SETTINGS, type Profile } from '@internal/core/profiles/model';
import type { RetryPolicy } from '@internal/core/retry-policy';
import { anonymousIdOf, anonymousKey } from '@personalization-data-platform/contract';

export { BATCH_GET_LIMIT } from '@internal/adapters/dynamodb/batch-get';
export { PROFILE_READ_RETRY_POLICY, ReadDeadlineError, type UnreadReason };

/** Whom a read names: a user id (a plain string, as before contract 1.1), or either kind of id explicitly. */
export type ProfileId = string | { readonly userId: string } | { readonly anonymousId: string };

/** Which profile a read resolved to. */
export type Resolution =
  /** A user's profile; `viaAnonymousId` when an anonymous id was asked for and it is linked to this user. */
  | { readonly kind: 'user'; readonly userId: string; readonly viaAnonymousId?: string }
  /** The profile of an anonymous visitor not (yet) linked to a user. */
  | { readonly kind: 'anonymous'; readonly anonymousId: string };

export interface UserProfile extends DerivedFeatures {
  /** Which profile this is (docs/privacy.md). */
  readonly resolvedTo: Resolution;
  /** Per feature, the event time of the latest event it reflects (updatedAt says when the item was written). */
  readonly freshness: FeatureFreshness;
  /** The item as stored (see the package README for its layout). */
  readonly item: Profile;
}

export interface ProfileReaderOptions {
  readonly tableName: string;
  /** @default a document client of the reader's own (endpoint and region from the standard AWS variables) */
  readonly client?: Pick<DynamoDBDocumentClient, 'send'>;
  /** Must match the aggregator's setting so affinities decay at the same rate. @default 14 */
  readonly affinityHalfLifeDays?: number;
  /** The budget of every call, in ms, unless the call gives its own. @default none: bounded by the retries */
  readonly timeoutMs?: number;
  /** The reader's clock, for the derived features and the deadlines. @default Date.now */
  readonly now?: () => number;
  /**
   * Retries of a read and of the keys BatchGetItem leaves unprocessed (exponential backoff, full jitter),
   * within the call's deadline. @default PROFILE_READ_RETRY_POLICY: 8 attempts, 50 ms base, 5 s cap
   */
  readonly retry?: RetryPolicy;
  /** Chunks of 100 keys requested at once. @default 4 */
  readonly concurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface ReadOptions {
  /** Strongly consistent read (sees every write acknowledged before it; costs twice as much). @default false */
  readonly consistent?: boolean;
  /** This call's budget in ms: the request is aborted and no retry starts after it. @default the reader's timeoutMs */
  readonly timeoutMs?: number;
  /** Aborts the call (e.g. when the personalization request it serves was cancelled). */
  readonly signal?: AbortSignal;
}

/** Users that getMany could not read, with why. */
export interface UnreadUsers {
  readonly ids: readonly string[];
  readonly reason: UnreadReason;
  readonly error: unknown;
}

/**
 * What getMany read: a Map from user id to profile, of the users read that have one, plus the users read that
 * have none (`absent`) and the users it could not read in time or at all (`unread`): a partial answer, not an
 * exception, so a page can still be personalized for the users that were read.
 */
export class ProfileBatch extends Map<string, UserProfile> {
  /** Users read and found to have no profile. */
  readonly absent: readonly string[];
  /** Users not read: the deadline passed, DynamoDB kept their keys unprocessed, or a call kept failing. */
  readonly unread: readonly string[];
  /** The unread users by cause. */
  readonly failures: readonly UnreadUsers[];

  constructor(entries: Iterable<readonly [string, UserProfile]>, absent: readonly string[], failures: readonly UnreadUsers[]) {
    super(entries);
    this.absent = absent;
    this.failures = failures;
    this.unread = failures.flatMap((f) => f.ids);
  }

  /** Whether every user asked for was read (found or absent). */
  get complete(): boolean {
    return this.unread.length === 0;
  }
}

export class ProfileReader {
  private readonly items: DynamoProfileItems;
  private readonly halfLifeDays: number;
  private readonly now: () => number;
  private readonly timeoutMs: number | undefined;

  constructor(options: ProfileReaderOptions) {
    if (!options.tableName) throw new ConfigError('ProfileReader needs a tableName');
    checkTimeout(options.timeoutMs);
    this.items = new DynamoProfileItems({ ...options, client: options.client ?? createDocumentClient() });
    this.halfLifeDays = options.affinityHalfLifeDays ?? DEFAULT_PROFILE_SETTINGS.affinityHalfLifeDays;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs;
  }

  /**
   * Gets the reader ready for the request path, at a service's start: resolves the credentials, opens a
   * connection and checks that the table exists (DescribeTable, which the reader policy allows). The first
   * call of a cold client takes far longer than the next ones; without this, it is a request's.
   */
  async warmUp(options: Pick<ReadOptions, 'timeoutMs' | 'signal'> = {}): Promise<void> {
    const status = await this.within(options, (control) => this.items.describe(control));
    if (status !== 'ACTIVE') throw new ConfigError(`the profile table is ${status ?? 'in an unknown state'}, not ACTIVE`);
  }

  /**
   * The profile of a user or of an anonymous visitor, or undefined when there is none (or the person was
   * erased). An anonymous id linked to a user resolves to the user's profile (a second read, within the same
   * deadline). Rejects with ReadDeadlineError when the call's deadline passes (or its signal aborts) first.
   */
  async get(id: ProfileId, options: ReadOptions = {}): Promise<UserProfile | undefined> {
    const key = typeof id === 'string' ? id : 'userId' in id ? id.userId : anonymousKey(id.anonymousId);
    return this.within(options, async (control) => {
      const item = await this.items.get(key, control);
      if (!item || item.erased_at !== undefined) return undefined;
      const anonymousId = anonymousIdOf(key);
      if (anonymousId !== undefined && item.merged_into !== undefined) {
        const user = await this.items.get(item.merged_into, control);
        if (!user || user.erased_at !== undefined) return undefined;
        return this.toProfile(user, { kind: 'user', userId: user.user_id, viaAnonymousId: anonymousId });
      }
      return this.toProfile(item);
    });
  }

  /**
   * Profiles of many users (duplicates ignored): BatchGetItem in chunks of 100 keys, unprocessed keys
   * requested again with exponential backoff and full jitter until the deadline. Never throws away what was
   * read: users it could not read are listed in `unread`. Throws only when no read can succeed (no such
   * table, no permission).
   */
  async getMany(userIds: readonly string[], options: ReadOptions = {}): Promise<ProfileBatch> {
    return this.within(options, async (control) => {
      const read = await this.items.getMany(userIds, control);
      // An erased person's tombstone reads as no profile.
      const erased = read.items.filter((item) => item.erased_at !== undefined).map((item) => item.user_id);
      return new ProfileBatch(
        read.items.filter((item) => item.erased_at === undefined).map((item) => [item.user_id, this.toProfile(item)] as const),
        [...read.absent, ...erased],
        read.unread,
      );
    });
  }

  private async within<T>(options: ReadOptions, read: (control: ReadControl) => Promise<T>): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    checkTimeout(timeoutMs);
    const controller = new AbortController();
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) throw new ReadDeadlineError('the read was aborted before it started');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new ReadDeadlineError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      return await read({
        consistent: options.consistent ?? false,
        signal: controller.signal,
        ...(timeoutMs === undefined ? {} : { deadlineMs: this.now() + timeoutMs }),
      });
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  private toProfile(item: Profile, resolvedTo?: Resolution): UserProfile {
    const anonymousId = anonymousIdOf(item.user_id);
    const resolution: Resolution = resolvedTo ?? (anonymousId !== undefined ? { kind: 'anonymous', anonymousId } : { kind: 'user', userId: item.user_id });
    return { ...deriveFeatures(item, this.now(), this.halfLifeDays), freshness: featureFreshness(item), item, resolvedTo: resolution };
  }
}

function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new ConfigError(`timeoutMs must be a positive number of ms, got ${timeoutMs}`);
}
