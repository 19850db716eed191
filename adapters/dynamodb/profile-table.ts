/**
 * The profile table and the ledger of applied event ids as the aggregator uses them: strongly consistent
 * batch reads of both, the one conditional UpdateItem per user and write, and set-union updates of ledger
 * items, with throttling and transient errors retried with backoff.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LedgerItem, LedgerWrite } from '../../core/profiles/ledger';
import type { Profile } from '../../core/profiles/model';
import type { LedgerKey, ProfileStorePort } from '../../core/profiles/writer';

/** Key and attributes of a ledger item. */
export const LEDGER_ATTRIBUTES = { partitionKey: 'user_id', sortKey: 'slot', ids: 'ids', split: 'split', ttl: 'expires_at' } as const;

export interface ProfileTableOptions {
  readonly tableName: string;
  readonly ledgerTableName: string;
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
/** Attributes of an earlier item layout that a write removes. */
const RETIRED_ATTRIBUTES = ['wm', 'recent_ids'] as const;

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

  async read(userIds: readonly string[], ledgerKeys: readonly LedgerKey[]): Promise<{ profiles: Map<string, Profile>; ledger: Map<string, Map<string, LedgerItem>> }> {
    const profiles = new Map<string, Profile>();
    const ledger = new Map<string, Map<string, LedgerItem>>();
    const table = this.options.tableName;
    const ledgerTable = this.options.ledgerTableName;
    const { partitionKey, sortKey, ids, split } = LEDGER_ATTRIBUTES;
    let profileKeys: Record<string, unknown>[] = [...new Set(userIds)].map((user_id) => ({ user_id }));
    const seen = new Set<string>();
    let itemKeys: Record<string, unknown>[] = [];
    for (const k of ledgerKeys) {
      const id = `${k.userId}\n${k.slot}`;
      if (seen.has(id)) continue;
      seen.add(id);
      itemKeys.push({ [partitionKey]: k.userId, [sortKey]: k.slot });
    }
    for (let round = 0; profileKeys.length + itemKeys.length > 0; round++) {
      const request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: true }> = {};
      if (profileKeys.length > 0) request[table] = { Keys: profileKeys, ConsistentRead: true };
      if (itemKeys.length > 0) request[ledgerTable] = { Keys: itemKeys, ConsistentRead: true };
      const got = await this.retrying(() => this.options.client.send(new BatchGetCommand({ RequestItems: request })));
      for (const item of got.Responses?.[table] ?? []) profiles.set(item.user_id as string, item as Profile);
      for (const item of got.Responses?.[ledgerTable] ?? []) {
        const user = item[partitionKey] as string;
        let items = ledger.get(user);
        if (!items) ledger.set(user, (items = new Map()));
        const stored = item[ids] as Set<string> | undefined;
        items.set(item[sortKey] as string, { ids: stored instanceof Set ? stored : new Set(), split: item[split] === true });
      }
      profileKeys = (got.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      itemKeys = (got.UnprocessedKeys?.[ledgerTable]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (profileKeys.length + itemKeys.length > 0) {
        // Unprocessed keys are DynamoDB throttling part of the batch: back off like any throttle.
        if (round + 1 >= this.attempts * 3) throw new Error(`BatchGetItem left ${profileKeys.length + itemKeys.length} key(s) unprocessed after ${round + 1} rounds`);
        this.options.onRetry?.('throttle', 1);
        await this.sleep(this.backoff(round + 1));
      }
    }
    return { profiles, ledger };
  }

  async writeLedger(userId: string, writes: readonly LedgerWrite[]): Promise<void> {
    const { partitionKey, sortKey, ids, split, ttl } = LEDGER_ATTRIBUTES;
    for (const w of writes) {
      const names: Record<string, string> = { '#ttl': ttl };
      const values: Record<string, unknown> = { ':ttl': w.expiresAt };
      const sets = ['#ttl = :ttl'];
      if (w.split) {
        names['#split'] = split;
        values[':split'] = true;
        sets.push('#split = :split');
      }
      let expression = `SET ${sets.join(', ')}`;
      if (w.add.length > 0) {
        // ADD on a string set is a union: a repeated write changes nothing.
        names['#ids'] = ids;
        values[':ids'] = new Set(w.add);
        expression += ' ADD #ids :ids';
      }
      await this.retrying(() =>
        this.options.client.send(
          new UpdateCommand({
            TableName: this.options.ledgerTableName,
            Key: { [partitionKey]: userId, [sortKey]: w.slot },
            UpdateExpression: expression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
    }
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
    for (const name of RETIRED_ATTRIBUTES) {
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
