/**
 * Profile items as a personalization service reads them: GetItem for one user, BatchGetItem in chunks of 100
 * keys for many, unprocessed keys and failed calls retried by the one retry helper.
 */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Profile } from '../../core/profiles/model';
import type { RetryPolicy } from '../../core/retry-policy';
import { withRetry, type RetryOptions } from '../retry';
import { BATCH_GET_LIMIT, batchGetAll } from './batch-get';
import { documentClient } from './document-client';

export type { DynamoDBDocumentClient };

/** Reads of the request path: a few quick retries, then the caller decides. */
export const PROFILE_READ_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 5_000 };

export interface ProfileItemsOptions {
  readonly tableName: string;
  /** @default the shared document client (endpoint and region from the standard AWS variables) */
  readonly client?: Pick<DynamoDBDocumentClient, 'send'>;
  /** Retries of a read, and of the keys a batch read left unprocessed. @default PROFILE_READ_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** Chunks of 100 keys requested at once. @default 4 */
  readonly concurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export class DynamoProfileItems {
  private readonly retry: RetryOptions;

  constructor(private readonly options: ProfileItemsOptions) {
    this.retry = {
      policy: options.retry ?? PROFILE_READ_RETRY_POLICY,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.random ? { random: options.random } : {}),
    };
  }

  private get client(): Pick<DynamoDBDocumentClient, 'send'> {
    return this.options.client ?? documentClient();
  }

  /** The item of one user, or undefined when there is none. */
  async get(userId: string, consistent: boolean): Promise<Profile | undefined> {
    const out = await withRetry(() => this.client.send(new GetCommand({ TableName: this.options.tableName, Key: { user_id: userId }, ConsistentRead: consistent })), this.retry);
    return out.Item as Profile | undefined;
  }

  /** The items of the given users (duplicates ignored) that exist, in no particular order. */
  async getMany(userIds: readonly string[], consistent: boolean): Promise<Profile[]> {
    const table = this.options.tableName;
    const unique = [...new Set(userIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    const out: Profile[] = [];
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const got = await batchGetAll(this.client, { [table]: { Keys: chunk.map((user_id) => ({ user_id })), ConsistentRead: consistent } }, this.retry);
        out.push(...((got.get(table) ?? []) as unknown as Profile[]));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 4, chunks.length) }, worker));
    return out;
  }
}
