/**
 * The erased subjects, as the lake's gates read them through the document client (the curated and raw
 * deliveries' transformations, the local runtime, the erasure): the `#erased` partition of the ledger table,
 * cached by TombstoneSet (tombstone-set.ts), and written by the erasure.
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tombstoneHash } from '../../core/privacy/curation';
import { LEDGER_ATTRIBUTES } from './ledger-attributes';
import { TOMBSTONE_PARTITION, TOMBSTONE_QUERY, TombstoneSet } from './tombstone-set';

export { TOMBSTONE_PARTITION } from './tombstone-set';

export class DynamoTombstones {
  private readonly set: TombstoneSet;

  constructor(
    private readonly options: {
      readonly ledgerTableName: string;
      readonly client: Pick<DynamoDBDocumentClient, 'send'>;
      /** How long a read set is used before it is read again. @default 60 s */
      readonly cacheMs?: number;
      readonly now?: () => number;
    },
  ) {
    const { sortKey, ttl } = LEDGER_ATTRIBUTES;
    this.set = new TombstoneSet(
      async (start) => {
        const page = await options.client.send(
          new QueryCommand({
            TableName: options.ledgerTableName,
            KeyConditionExpression: TOMBSTONE_QUERY.keyCondition,
            ExpressionAttributeNames: { ...TOMBSTONE_QUERY.names },
            ExpressionAttributeValues: { ':pk': TOMBSTONE_PARTITION },
            ProjectionExpression: TOMBSTONE_QUERY.projection,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        return {
          items: (page.Items ?? []).map((item) => ({ hash: item[sortKey] as string, expiresAtSeconds: Number(item[ttl]) })),
          ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
        };
      },
      { ...(options.cacheMs !== undefined ? { cacheMs: options.cacheMs } : {}), ...(options.now ? { now: options.now } : {}) },
    );
  }

  async add(profileKey: string, expiresAtSeconds: number): Promise<void> {
    const { partitionKey, sortKey, ttl } = LEDGER_ATTRIBUTES;
    await this.options.client.send(
      new PutCommand({ TableName: this.options.ledgerTableName, Item: { [partitionKey]: TOMBSTONE_PARTITION, [sortKey]: tombstoneHash(profileKey), [ttl]: expiresAtSeconds } }),
    );
    this.set.invalidate();
  }

  /** The hashes of the live tombstones (cached for `cacheMs`). */
  hashes(): Promise<ReadonlySet<string>> {
    return this.set.hashes();
  }
}
