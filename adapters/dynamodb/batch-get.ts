/**
 * BatchGetItem to the end: one request per round for what is still to read, unprocessed keys (DynamoDB
 * throttling part of a batch) and failed calls retried under one policy, by the one retry helper.
 */
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from '../../core/errors';
import { sdkRetriesOf, withRetry, type RetryOptions } from '../retry';

/** BatchGetItem's limit of keys per request. */
export const BATCH_GET_LIMIT = 100;

/** Keys to read, by table. */
export type BatchGetRequest = Record<string, { readonly Keys: Record<string, unknown>[]; readonly ConsistentRead?: boolean }>;

/** Raised when DynamoDB keeps leaving keys unprocessed after every retry (sustained throttling). */
export class UnprocessedKeysError extends DependencyError {
  override name = 'UnprocessedKeysError';

  constructor(
    /** The keys left, by table. */
    readonly unprocessed: BatchGetRequest,
  ) {
    const keys = Object.values(unprocessed).flatMap((r) => r.Keys);
    const shown = keys.slice(0, 3).map((k) => Object.values(k).join('/'));
    super(`BatchGetItem left ${keys.length} key(s) unprocessed after every retry, e.g. ${shown.join(', ')}`, 'UnprocessedKeys', 'throttling');
  }

  /** The keys left, of every table. */
  get keys(): Record<string, unknown>[] {
    return Object.values(this.unprocessed).flatMap((r) => r.Keys);
  }
}

export interface BatchGetOptions extends RetryOptions {
  /** Told about the retries the SDK made inside a call (throttling it handled itself). */
  readonly onSdkRetries?: (count: number) => void;
}

/**
 * Reads every key of `request` (at most BATCH_GET_LIMIT in all): the items, by table. Throws
 * UnprocessedKeysError when keys are still unprocessed once the policy's attempts are spent.
 */
export async function batchGetAll(client: Pick<DynamoDBDocumentClient, 'send'>, request: BatchGetRequest, options: BatchGetOptions): Promise<Map<string, Record<string, unknown>[]>> {
  const items = new Map<string, Record<string, unknown>[]>(Object.keys(request).map((table) => [table, []]));
  let pending: BatchGetRequest = request;
  await withRetry(async () => {
    const got: BatchGetCommandOutput = await client.send(new BatchGetCommand({ RequestItems: pending }));
    const sdkRetries = sdkRetriesOf(got);
    if (sdkRetries > 0) options.onSdkRetries?.(sdkRetries);
    for (const [table, rows] of Object.entries(got.Responses ?? {})) items.get(table)?.push(...rows);
    const left: BatchGetRequest = {};
    for (const [table, r] of Object.entries(got.UnprocessedKeys ?? {})) {
      if (r.Keys && r.Keys.length > 0) left[table] = { Keys: r.Keys, ...(pending[table]?.ConsistentRead !== undefined ? { ConsistentRead: pending[table]!.ConsistentRead } : {}) };
    }
    pending = left;
    if (Object.keys(left).length > 0) throw new UnprocessedKeysError(left);
  }, options);
  return items;
}
