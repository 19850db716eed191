/**
 * The profile table as the aggregator uses it: strongly consistent batch reads and the one conditional
 * UpdateItem per user and write, with throttling and transient errors retried with backoff.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Profile } from '../core/profile/model';
import type { ProfileStorePort } from '../core/profile/writer';

export interface ProfileTableOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  /** Attempts per request on top of the SDK's own retries (each after a backoff). @default 3 */
  readonly attempts?: number;
  /** First backoff in ms, doubled per attempt with full jitter. @default 100 */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Told about each retry (throttling or a transient error) and each SDK-level retry. */
  readonly onRetry?: (kind: 'throttle' | 'transient', count: number) => void;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

export function isThrottling(err: unknown): boolean {
  return err instanceof Error && THROTTLING.has(err.name);
}

export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (isThrottling(err)) return true;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    (status !== undefined && status >= 500) ||
    ['InternalServerError', 'ServiceUnavailable', 'TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE'].includes(err.name) ||
    /socket hang up|ECONNRESET|ECONNREFUSED/.test(err.message)
  );
}

/** Optional attributes that a write removes when the merged profile no longer has them. */
const OPTIONAL_ATTRIBUTES = ['expires_at', 'device', 'device_at', 'locale', 'locale_at'] as const;

export class DynamoProfileTable implements ProfileStorePort {
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: ProfileTableOptions) {
    this.attempts = options.attempts ?? 3;
    this.backoffMs = options.backoffMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  async getMany(userIds: readonly string[]): Promise<Map<string, Profile>> {
    const out = new Map<string, Profile>();
    const table = this.options.tableName;
    let keys: Record<string, unknown>[] = [...new Set(userIds)].map((user_id) => ({ user_id }));
    for (let round = 0; keys.length > 0; round++) {
      const got = await this.retrying(() =>
        this.options.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } })),
      );
      for (const item of got.Responses?.[table] ?? []) out.set(item.user_id as string, item as Profile);
      keys = (got.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (keys.length > 0) {
        // Unprocessed keys are DynamoDB throttling part of the batch: back off like any throttle.
        if (round + 1 >= this.attempts * 3) throw new Error(`BatchGetItem left ${keys.length} key(s) unprocessed after ${round + 1} rounds`);
        this.options.onRetry?.('throttle', 1);
        await this.sleep(this.backoff(round + 1));
      }
    }
    return out;
  }

  async putIfVersion(profile: Profile, expectedVersion: number): Promise<'ok' | 'conflict'> {
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const removes: string[] = [];
    let i = 0;
    for (const [name, value] of Object.entries(profile)) {
      if (name === 'user_id' || value === undefined) continue;
      const n = `#a${i}`;
      const v = `:a${i}`;
      i++;
      names[n] = name;
      values[v] = value;
      sets.push(`${n} = ${v}`);
    }
    for (const name of OPTIONAL_ATTRIBUTES) {
      if (profile[name] !== undefined) continue;
      const n = `#r${removes.length}`;
      names[n] = name;
      removes.push(n);
    }
    let condition: string;
    if (expectedVersion === 0) {
      condition = 'attribute_not_exists(#version)';
    } else {
      condition = '#version = :expected';
      values[':expected'] = expectedVersion;
    }
    try {
      await this.retrying(() =>
        this.options.client.send(
          new UpdateCommand({
            TableName: this.options.tableName,
            Key: { user_id: profile.user_id },
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return 'ok';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException || (err instanceof Error && err.name === 'ConditionalCheckFailedException')) return 'conflict';
      throw err;
    }
  }

  private backoff(attempt: number): number {
    return Math.floor(this.random() * this.backoffMs * 2 ** Math.min(attempt, 8));
  }

  private async retrying<T extends { $metadata?: { attempts?: number } }>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const out = await call();
        const sdkRetries = (out.$metadata?.attempts ?? 1) - 1;
        if (sdkRetries > 0) this.options.onRetry?.('throttle', sdkRetries);
        return out;
      } catch (err) {
        if (!isTransient(err) || attempt >= this.attempts) throw err;
        this.options.onRetry?.(isThrottling(err) ? 'throttle' : 'transient', 1);
        await this.sleep(this.backoff(attempt));
      }
    }
  }
}
