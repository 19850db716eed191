/**
 * The profile reader for personalization services: one profile or many, with the features derived at read
 * time (recency, activity and frequency, affinities decayed to now).
 *
 *   const reader = new ProfileReader({ tableName: process.env.PROFILE_TABLE_NAME! });
 *   const profile = await reader.get('user-42');                 // eventually consistent, half the read cost
 *   const fresh = await reader.get('user-42', { consistent: true });
 *   const many = await reader.getMany(['user-1', 'user-2']);     // Map of the users that have a profile
 */
import { DynamoProfileItems, PROFILE_READ_RETRY_POLICY, type DynamoDBDocumentClient } from '@internal/adapters/dynamodb/profile-items';
import { deriveFeatures, type DerivedFeatures } from '@internal/core/profiles/derive';
import { DEFAULT_PROFILE_SETTINGS, type Profile } from '@internal/core/profiles/model';
import type { RetryPolicy } from '@internal/core/retry-policy';

export { BATCH_GET_LIMIT, UnprocessedKeysError } from '@internal/adapters/dynamodb/batch-get';
export { PROFILE_READ_RETRY_POLICY };

export interface UserProfile extends DerivedFeatures {
  /** The item as stored (see the README for its layout). */
  readonly item: Profile;
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

  /** The profile of one user, or undefined when the user has none. */
  async get(userId: string, options: ReadOptions = {}): Promise<UserProfile | undefined> {
    const item = await this.items.get(userId, options.consistent ?? false);
    return item ? this.toProfile(item) : undefined;
  }

  /**
   * Profiles of many users (duplicates ignored): BatchGetItem in chunks of 100 keys, unprocessed keys
   * requested again with exponential backoff and full jitter. Users without a profile are absent.
   */
  async getMany(userIds: readonly string[], options: ReadOptions = {}): Promise<Map<string, UserProfile>> {
    const out = new Map<string, UserProfile>();
    for (const item of await this.items.getMany(userIds, options.consistent ?? false)) out.set(item.user_id, this.toProfile(item));
    return out;
  }

  private toProfile(item: Profile): UserProfile {
    return { ...deriveFeatures(item, this.now(), this.halfLifeDays), item };
  }
}
