/**
 * The profile table and the ledger of applied event ids as the aggregator uses them: strongly consistent
 * batch reads of both, the one conditional UpdateItem per user and write, and set-union updates of ledger
 * items. Throttling and transient errors are retried by the one retry helper (adapters/retry.ts), within the
 * invocation's deadline when one is given.
 */
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LedgerItem, LedgerWrite } from '../../core/profiles/ledger';
import type { Profile } from '../../core/profiles/model';
import { linkSlot } from '../../core/profiles/stitch';
import type { RetryPolicy } from '../../core/retry-policy';
import type { LedgerKey, ProfileStorePort } from '../../core/profiles/writer';
import { classifyError, sdkRetriesOf, withRetry, type RetryOptions } from '../retry';
import { batchGetAll } from './batch-get';
import { LEDGER_ATTRIBUTES } from './ledger-attributes';

/** Key and attributes of a ledger item. */
export { LEDGER_ATTRIBUTES };

/**
 * Attempts of a read, a profile write or a ledger write, on top of the SDK's own retries: enough to ride out
 * a throttled partition or a short outage; the invocation's deadline (deadlineMs) cuts it shorter.
 */
export const PROFILE_TABLE_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 100, maxDelayMs: 5_000 };

export interface ProfileTableOptions {
  readonly tableName: string;
  readonly ledgerTableName: string;
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  /** Retries of each request (and of unprocessed keys). @default PROFILE_TABLE_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** No retry is started that would end after this time (epoch ms): the invocation's deadline. */
  readonly deadlineMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Told about each retry (throttling or a transient error), the SDK's own included. */
  readonly onRetry?: (kind: 'throttle' | 'transient', count: number) => void;
}

/** Optional attributes that a write removes when the merged profile no longer has them. */
const OPTIONAL_ATTRIBUTES = ['expires_at', 'device', 'device_at', 'locale', 'locale_at', 'merged_into', 'anon_links', 'erased_at'] as const;
/** Attributes of an earlier item layout that a write removes. */
const RETIRED_ATTRIBUTES = ['wm', 'recent_ids'] as const;

export class DynamoProfileTable implements ProfileStorePort {
  private readonly retry: RetryOptions;

  constructor(private readonly options: ProfileTableOptions) {
    this.retry = {
      policy: options.retry ?? PROFILE_TABLE_RETRY_POLICY,
      ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.random ? { random: options.random } : {}),
      onRetry: (kind) => options.onRetry?.(kind === 'throttling' ? 'throttle' : 'transient', 1),
    };
  }

  async read(userIds: readonly string[], ledgerKeys: readonly LedgerKey[]): Promise<{ profiles: Map<string, Profile>; ledger: Map<string, Map<string, LedgerItem>> }> {
    const profiles = new Map<string, Profile>();
    const ledger = new Map<string, Map<string, LedgerItem>>();
    const table = this.options.tableName;
    const ledgerTable = this.options.ledgerTableName;
    const { partitionKey, sortKey, ids, split } = LEDGER_ATTRIBUTES;
    const profileKeys: Record<string, unknown>[] = [...new Set(userIds)].map((user_id) => ({ user_id }));
    const seen = new Set<string>();
    const itemKeys: Record<string, unknown>[] = [];
    for (const k of ledgerKeys) {
      const id = `${k.userId}\n${k.slot}`;
      if (seen.has(id)) continue;
      seen.add(id);
      itemKeys.push({ [partitionKey]: k.userId, [sortKey]: k.slot });
    }
    const request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: true }> = {};
    if (profileKeys.length > 0) request[table] = { Keys: profileKeys, ConsistentRead: true };
    if (itemKeys.length > 0) request[ledgerTable] = { Keys: itemKeys, ConsistentRead: true };
    if (Object.keys(request).length === 0) return { profiles, ledger };
    const got = await batchGetAll(this.options.client, request, { ...this.retry, onSdkRetries: (n) => this.options.onRetry?.('throttle', n) });
    for (const item of got.get(table) ?? []) profiles.set(item.user_id as string, item as unknown as Profile);
    for (const item of got.get(ledgerTable) ?? []) {
      const user = item[partitionKey] as string;
      let items = ledger.get(user);
      if (!items) ledger.set(user, (items = new Map()));
      const stored = item[ids] as Set<string> | undefined;
      items.set(item[sortKey] as string, { ids: stored instanceof Set ? stored : new Set(), split: item[split] === true });
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
      await this.send(() =>
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

  async writeLink(userId: string, anonymousId: string, expiresAt: number | undefined): Promise<void> {
    const { partitionKey, sortKey, ttl } = LEDGER_ATTRIBUTES;
    await this.send(() =>
      this.options.client.send(
        new PutCommand({
          TableName: this.options.ledgerTableName,
          Item: { [partitionKey]: userId, [sortKey]: linkSlot(anonymousId), ...(expiresAt !== undefined ? { [ttl]: expiresAt } : {}) },
        }),
      ),
    );
  }

  async deleteLink(userId: string, anonymousId: string): Promise<void> {
    const { partitionKey, sortKey } = LEDGER_ATTRIBUTES;
    await this.send(() => this.options.client.send(new DeleteCommand({ TableName: this.options.ledgerTableName, Key: { [partitionKey]: userId, [sortKey]: linkSlot(anonymousId) } })));
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
      await this.send(() =>
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
      // A failed condition is classified permanent, so it is not retried: someone wrote the profile meanwhile.
      if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return 'conflict';
      throw err;
    }
  }

  /** Sends a command under the retry policy, counting the SDK's own retries too. */
  private async send<T>(call: () => Promise<T>): Promise<T> {
    const out = await withRetry(call, { ...this.retry, classify: classifyError });
    const sdkRetries = sdkRetriesOf(out);
    if (sdkRetries > 0) this.options.onRetry?.('throttle', sdkRetries);
    return out;
  }
}
