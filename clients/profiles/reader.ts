/**
 * The profile reader for personalization services: one profile or many, with the features derived at read
 * time (recency, activity and frequency, affinities decayed to now).
 *
 *   const reader = new ProfileReader({ tableName: process.env.PROFILE_TABLE_NAME! });
 *   const profile = await reader.get('user-42');                 // eventually consistent, half the read cost
 *   const fresh = await reader.get('user-42', { consistent: true });
 *   const many = await reader.getMany(['user-1', 'user-2']);     // Map of the users that have a profile
 */
import { BatchGetCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { deriveFeatures, type DerivedFeatures } from '../../core/profiles/derive';
import { DEFAULT_PROFILE_SETTINGS, type Profile } from '../../core/profiles/model';
import { documentClient } from '../../adapters/dynamodb/document-client';

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
  /** BatchGetItem rounds for unprocessed keys before giving up. @default 8 */
  readonly maxAttempts?: number;
  /** First backoff in ms before re-requesting unprocessed keys (doubled each round, full jitter). @default 50 */
  readonly backoffMs?: number;
  /** Chunks of 100 keys requested at once. @default 4 */
  readonly concurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface ReadOptions {
  /** Strongly consistent read (sees every write acknowledged before it; costs twice as much). @default false */
  readonly consistent?: boolean;
}

/** BatchGetItem's limit of keys per request. */
export const BATCH_GET_LIMIT = 100;

/** Raised when DynamoDB keeps leaving keys unprocessed (sustained throttling). */
export class UnprocessedKeysError extends Error {
  constructor(readonly userIds: readonly string[]) {
    super(`BatchGetItem left ${userIds.length} key(s) unprocessed after every retry, e.g. ${userIds.slice(0, 3).join(', ')}`);
    this.name = 'UnprocessedKeysError';
  }
}

export class ProfileReader {
  private readonly halfLifeDays: number;
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly concurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: ProfileReaderOptions) {
    this.halfLifeDays = options.affinityHalfLifeDays ?? DEFAULT_PROFILE_SETTINGS.affinityHalfLifeDays;
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoffMs = options.backoffMs ?? 50;
    this.concurrency = options.concurrency ?? 4;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  private get client(): Pick<DynamoDBDocumentClient, 'send'> {
    return this.options.client ?? documentClient();
  }

  /** The profile of one user, or undefined when the user has none. */
  async get(userId: string, options: ReadOptions = {}): Promise<UserProfile | undefined> {
    const out = await this.client.send(
      new GetCommand({ TableName: this.options.tableName, Key: { user_id: userId }, ConsistentRead: options.consistent ?? false }),
    );
    return out.Item ? this.toProfile(out.Item as Profile) : undefined;
  }

  /**
   * Profiles of many users (duplicates ignored): BatchGetItem in chunks of 100 keys, unprocessed keys
   * requested again with exponential backoff and full jitter. Users without a profile are absent.
   */
  async getMany(userIds: readonly string[], options: ReadOptions = {}): Promise<Map<string, UserProfile>> {
    const unique = [...new Set(userIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    const out = new Map<string, UserProfile>();
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        for (const item of await this.batchGet(chunk, options.consistent ?? false)) out.set(item.user_id, this.toProfile(item));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, worker));
    return out;
  }

  private async batchGet(userIds: string[], consistent: boolean): Promise<Profile[]> {
    const table = this.options.tableName;
    const items: Profile[] = [];
    let keys: Record<string, unknown>[] = userIds.map((user_id) => ({ user_id }));
    for (let attempt = 1; ; attempt++) {
      const got = await this.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: consistent } } }));
      items.push(...((got.Responses?.[table] ?? []) as Profile[]));
      keys = (got.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (keys.length === 0) return items;
      if (attempt >= this.maxAttempts) throw new UnprocessedKeysError(keys.map((k) => String(k.user_id)));
      await this.sleep(Math.floor(this.random() * this.backoffMs * 2 ** (attempt - 1)));
    }
  }

  private toProfile(item: Profile): UserProfile {
    return { ...deriveFeatures(item, this.now(), this.halfLifeDays), item };
  }
}
