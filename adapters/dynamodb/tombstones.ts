/**
 * The erased subjects, as the lake's gate reads them: one item per tombstone in a partition of its own in the
 * ledger table (`#erased`), keyed by the hash of the profile key (no id in clear), with the same expiry as the
 * profile tombstone. One Query reads them all; readers cache the set for `cacheMs`.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tombstoneHash } from '../../core/privacy/curation';
import { LEDGER_ATTRIBUTES } from './profile-table';

/** Partition of the ledger table holding the tombstones' hashes ('#' never starts a user id). */
export const TOMBSTONE_PARTITION = '#erased';

export class DynamoTombstones {
  private cached?: { at: number; hashes: Set<string> };

  constructor(
    private readonly options: {
      readonly ledgerTableName: string;
      readonly client: Pick<DynamoDBDocumentClient, 'send'>;
      /** How long a read set is used before it is read again. @default 60 s */
      readonly cacheMs?: number;
      readonly now?: () => number;
    },
  ) {}

  async add(profileKey: string, expiresAtSeconds: number): Promise<void> {
    const { partitionKey, sortKey, ttl } = LEDGER_ATTRIBUTES;
    await this.options.client.send(
      new PutCommand({ TableName: this.options.ledgerTableName, Item: { [partitionKey]: TOMBSTONE_PARTITION, [sortKey]: tombstoneHash(profileKey), [ttl]: expiresAtSeconds } }),
    );
    this.cached = undefined;
  }

  /** The hashes of the live tombstones. */
  async hashes(): Promise<ReadonlySet<string>> {
    const now = (this.options.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.options.cacheMs ?? 60_000)) return this.cached.hashes;
    const { partitionKey, sortKey, ttl } = LEDGER_ATTRIBUTES;
    const hashes = new Set<string>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.client.send(
        new QueryCommand({
          TableName: this.options.ledgerTableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': partitionKey, '#sk': sortKey, '#ttl': ttl },
          ExpressionAttributeValues: { ':pk': TOMBSTONE_PARTITION },
          ProjectionExpression: '#sk, #ttl',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      // TTL deletes within days of expiry, not at it: an expired tombstone no longer counts.
      for (const item of page.Items ?? []) if (!(Number(item[ttl]) * 1000 < now)) hashes.add(item[sortKey] as string);
      start = page.LastEvaluatedKey;
    } while (start);
    this.cached = { at: now, hashes };
    return hashes;
  }
}
