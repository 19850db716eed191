/**
 * The erasure's view of the profile and ledger tables (core/privacy/erasure.ts, PersonStorePort): the links
 * of a user, tombstones in place of profiles, and deleting every ledger item of a key.
 */
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PersonStorePort } from '../../core/privacy/erasure';
import { LINK_SLOT_PREFIX } from '../../core/profiles/stitch';
import { withRetry, classifyError, type RetryOptions } from '../retry';
import { LEDGER_ATTRIBUTES } from './profile-table';
import { DynamoTombstones } from './tombstones';

/** Above any version a profile can reach, so an in-flight conditional write of the old profile fails. */
export const TOMBSTONE_VERSION = Number.MAX_SAFE_INTEGER;

export interface DynamoPersonStoreOptions {
  readonly tableName: string;
  readonly ledgerTableName: string;
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly retry?: RetryOptions;
}

export class DynamoPersonStore implements PersonStorePort {
  private readonly retry: RetryOptions;

  constructor(private readonly options: DynamoPersonStoreOptions) {
    this.retry = options.retry ?? { policy: { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 } };
  }

  async links(userId: string): Promise<string[]> {
    return (await this.slots(userId, LINK_SLOT_PREFIX)).map((slot) => slot.slice(LINK_SLOT_PREFIX.length));
  }

  async tombstone(key: string, erasedAtMs: number, expiresAtSeconds: number): Promise<boolean> {
    const before = await this.send(() => this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: { user_id: key }, ConsistentRead: true })));
    // A put replaces the whole item: nothing of the profile stays. The version makes any write that read the
    // profile before fail its condition.
    await this.send(() =>
      this.options.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { user_id: key, version: TOMBSTONE_VERSION, erased_at: erasedAtMs, updated_at: erasedAtMs, expires_at: expiresAtSeconds },
        }),
      ),
    );
    // The lake's gate reads tombstones by hash, all at once.
    await new DynamoTombstones({ ledgerTableName: this.options.ledgerTableName, client: this.options.client }).add(key, expiresAtSeconds);
    return before.Item !== undefined && before.Item.erased_at === undefined;
  }

  async deleteLedger(key: string): Promise<number> {
    const { partitionKey, sortKey } = LEDGER_ATTRIBUTES;
    const slots = await this.slots(key, '');
    for (let i = 0; i < slots.length; i += 25) {
      const chunk = slots.slice(i, i + 25);
      let request: Record<string, unknown[]> | undefined = {
        [this.options.ledgerTableName]: chunk.map((slot) => ({ DeleteRequest: { Key: { [partitionKey]: key, [sortKey]: slot } } })),
      };
      // Unprocessed items are sent again (a BatchWriteItem may leave some under throttling).
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 10) throw new Error(`could not delete the ledger items of a key after ${attempt} attempts`);
        const out = await this.send(() => this.options.client.send(new BatchWriteCommand({ RequestItems: request as never })));
        request = out.UnprocessedItems as Record<string, unknown[]> | undefined;
      }
    }
    return slots.length;
  }

  /** Sort keys of a key's ledger partition, all or those starting with `prefix`. */
  private async slots(key: string, prefix: string): Promise<string[]> {
    const { partitionKey, sortKey } = LEDGER_ATTRIBUTES;
    const out: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send(() =>
        this.options.client.send(
          new QueryCommand({
            TableName: this.options.ledgerTableName,
            KeyConditionExpression: prefix ? '#pk = :pk AND begins_with(#sk, :prefix)' : '#pk = :pk',
            ExpressionAttributeNames: { '#pk': partitionKey, ...(prefix ? { '#sk': sortKey } : {}) },
            ExpressionAttributeValues: { ':pk': key, ...(prefix ? { ':prefix': prefix } : {}) },
            ProjectionExpression: prefix ? '#sk' : undefined,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) out.push(item[sortKey] as string);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  private send<T>(call: () => Promise<T>): Promise<T> {
    return withRetry(call, { ...this.retry, classify: classifyError });
  }
}
