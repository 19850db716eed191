/**
 * The profile reader for personalization services: one profile or many, with the features derived at read
 * time (recency, activity and frequency, affinities decayed to now).
 *
 *   const reader = new ProfileReader({ tableName: process.env.PROFILE_TABLE_NAME! });
 *   const profile = await reader.get('user-42');                 // eventually consistent, half the read cost
 *   const fresh = await reader.get('user-42', { consistent: true });
 *   const many = await reader.getMany(['user-1', 'user-2']);     // Map of the users that have a profile
 *   const visitor = await reader.get({ anonymousId: 'device-7' }); // the user's profile once identified
 *   visitor?.resolvedTo;                                           // { kind: 'user', userId, viaAnonymousId } or { kind: 'anonymous', anonymousId }
 */
import { DynamoProfileItems, PROFILE_READ_RETRY_POLICY, type DynamoDBDocumentClient } from '../../adapters/dynamodb/profile-items';
import { deriveFeatures, type DerivedFeatures } from '../../core/profiles/derive';
import { DEFAULT_PROFILE_SETTINGS, type Profile } from '../../core/profiles/model';
import { anonymousIdOf, anonymousKey } from '../../core/contract/identity';
import type { RetryPolicy } from '../../core/retry-policy';

export { BATCH_GET_LIMIT, UnprocessedKeysError } from '../../adapters/dynamodb/batch-get';
export { PROFILE_READ_RETRY_POLICY };

/** Whom a read names: a user id (a plain string, as before contract 1.1), or either kind of id explicitly. */
export type ProfileId = string | { readonly userId: string } | { readonly anonymousId: string };

/** Which profile a read resolved to. */
export type Resolution =
  /** A user's profile; `viaAnonymousId` when an anonymous id was asked for and it is linked to this user. */
  | { readonly kind: 'user'; readonly userId: string; readonly viaAnonymousId?: string }
  /** The profile of an anonymous visitor not (yet) linked to a user. */
  | { readonly kind: 'anonymous'; readonly anonymousId: string };

export interface UserProfile extends DerivedFeatures {
  /** The item as stored (see the README for its layout). */
  readonly item: Profile;
  /** Which profile this is. */
  readonly resolvedTo: Resolution;
}

export interface ProfileReaderOptions {
  readonly tableName: string;
  /** @default the shared document client (endpoint and region from the standard AWS variables) */
  readonly client?: Pick<DynamoDBDocumentClient, 'send'>;
  /** Must match the aggregator's setting so affinities decay at the same rate. @default 14 */
  readonly affinityHalfLifeDays?: number;
  /** The reader's clock, for the derived features. @default Date.now */
  readonly now?: () => number;
  /**
   * Retries of a read and of the keys BatchGetItem leaves unprocessed (exponential backoff, full jitter);
   * UnprocessedKeysError once they are spent. @default PROFILE_READ_RETRY_POLICY: 8 attempts, 50 ms base, 5 s cap
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
}

export class ProfileReader {
  private readonly items: DynamoProfileItems;
  private readonly halfLifeDays: number;
  private readonly now: () => number;

  constructor(options: ProfileReaderOptions) {
    this.items = new DynamoProfileItems(options);
    this.halfLifeDays = options.affinityHalfLifeDays ?? DEFAULT_PROFILE_SETTINGS.affinityHalfLifeDays;
    this.now = options.now ?? Date.now;
  }

  /**
   * The profile of a user or of an anonymous visitor, or undefined when there is none (or the person was
   * erased). An anonymous id linked to a user resolves to the user's profile (a second read).
   */
  async get(id: ProfileId, options: ReadOptions = {}): Promise<UserProfile | undefined> {
    const consistent = options.consistent ?? false;
    const key = typeof id === 'string' ? id : 'userId' in id ? id.userId : anonymousKey(id.anonymousId);
    const item = await this.items.get(key, consistent);
    if (!item || item.erased_at !== undefined) return undefined;
    const anonymousId = anonymousIdOf(key);
    if (anonymousId !== undefined && item.merged_into !== undefined) {
      const user = await this.items.get(item.merged_into, consistent);
      if (!user || user.erased_at !== undefined) return undefined;
      return this.toProfile(user, { kind: 'user', userId: user.user_id, viaAnonymousId: anonymousId });
    }
    return this.toProfile(item);
  }

  /**
   * Profiles of many users (duplicates ignored): BatchGetItem in chunks of 100 keys, unprocessed keys
   * requested again with exponential backoff and full jitter. Users without a profile are absent.
   */
  async getMany(userIds: readonly string[], options: ReadOptions = {}): Promise<Map<string, UserProfile>> {
    const out = new Map<string, UserProfile>();
    for (const item of await this.items.getMany(userIds, options.consistent ?? false)) {
      if (item.erased_at === undefined) out.set(item.user_id, this.toProfile(item));
    }
    return out;
  }

  private toProfile(item: Profile, resolvedTo?: Resolution): UserProfile {
    const anonymousId = anonymousIdOf(item.user_id);
    const resolution: Resolution = resolvedTo ?? (anonymousId !== undefined ? { kind: 'anonymous', anonymousId } : { kind: 'user', userId: item.user_id });
    return { ...deriveFeatures(item, this.now(), this.halfLifeDays), item, resolvedTo: resolution };
  }
}
