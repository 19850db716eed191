/**
 * Reads the tombstones' partition of the ledger table with one signed DynamoDB Query request per page, for the
 * validation function. Why not the SDK's DynamoDB client: the function makes this one read a minute, and the
 * client plus lib-dynamodb add ~53 KiB to a bundle budgeted at 300 KiB (test/ingestion/bundle-size.test.ts).
 * As the quarantine sink does, the request is signed by the SDK's own SigV4 signer with the shared Kinesis
 * client's credentials and region and sent through the SDK's HTTP handler; only the JSON body (DynamoDB's
 * low-level protocol, `x-amz-target: DynamoDB_20120810.Query`) is built here. Throttling and transient errors
 * are retried by the project's retry helper, classified by the error's `__type`.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';
import { DependencyError, type FailureKind } from '../../core/errors';
import type { RetryPolicy } from '../../core/retry-policy';
import { CLIENT_LIMITS, timedRequestHandler } from '../client-limits';
import { classifyErrorCode, withRetry } from '../retry';
import { regionalHost, regionProvider, sendSigned, Sha256, signableRequest } from '../signed-request';
import { LEDGER_ATTRIBUTES } from './ledger-attributes';
import { TOMBSTONE_PARTITION, TOMBSTONE_QUERY, type TombstonePageReader } from './tombstone-set';

export interface SignedTombstoneQueryOptions {
  readonly ledgerTableName: string;
  readonly region: string | Provider<string>;
  readonly credentials: Provider<AwsCredentialIdentity>;
  /** Custom endpoint (an emulator, LocalStack). @default the regional DynamoDB endpoint */
  readonly endpoint?: string;
  readonly retry: RetryPolicy;
  /** Items per page (Query's Limit). @default DynamoDB's own page, up to 1 MB (some 10,000 tombstones) */
  readonly pageSize?: number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The tombstones could not be read; `kind` says whether another attempt can help. */
export class TombstoneReadError extends DependencyError {
  override name = 'TombstoneReadError';

  constructor(message: string, code: string, kind: FailureKind, options?: ErrorOptions) {
    super(message, code, kind, options);
  }
}

type AttributeValue = { S?: string; N?: string };

export function signedTombstoneQuery(options: SignedTombstoneQueryOptions): TombstonePageReader {
  const http = timedRequestHandler({ ...CLIENT_LIMITS.dynamodb, maxAttempts: options.retry.maxAttempts }, 4);
  const region = regionProvider(options.region);
  const signer = new SignatureV4({ service: 'dynamodb', region, credentials: options.credentials, sha256: Sha256 });
  const { sortKey, ttl } = LEDGER_ATTRIBUTES;

  const headers = { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.Query' };

  const attempt = async (body: Buffer): Promise<{ Items?: Record<string, AttributeValue>[]; LastEvaluatedKey?: Record<string, unknown> }> => {
    const url = new URL(options.endpoint || `https://${regionalHost('dynamodb', await region())}/`);
    const { status, text } = await sendSigned(signer, http, signableRequest('POST', url, headers, body), (err, kind) =>
      new TombstoneReadError(`Query of ${options.ledgerTableName} failed: ${err.message}`, err.name || 'NetworkError', kind, { cause: err }),
    );
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      // an answer that is not JSON: judged by its status below
    }
    if (status >= 200 && status < 300) return parsed;
    // `__type` is "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException" and the like.
    const code = String(parsed.__type ?? `HTTP${status}`).split('#').pop()!;
    throw new TombstoneReadError(`Query of ${options.ledgerTableName} answered ${status} ${code}: ${String(parsed.message ?? parsed.Message ?? '')}`, code, classifyErrorCode(code, status));
  };

  return async (start) => {
    const body = Buffer.from(
      JSON.stringify({
        TableName: options.ledgerTableName,
        KeyConditionExpression: TOMBSTONE_QUERY.keyCondition,
        ExpressionAttributeNames: TOMBSTONE_QUERY.names,
        ExpressionAttributeValues: { ':pk': { S: TOMBSTONE_PARTITION } },
        ProjectionExpression: TOMBSTONE_QUERY.projection,
        ...(options.pageSize ? { Limit: options.pageSize } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
      'utf8',
    );
    const page = await withRetry(() => attempt(body), {
      policy: options.retry,
      ...(options.random ? { random: options.random } : {}),
      ...(options.sleep ? { sleep: options.sleep } : {}),
    });
    return {
      items: (page.Items ?? []).map((item) => ({ hash: item[sortKey]?.S ?? '', expiresAtSeconds: Number(item[ttl]?.N ?? 0) })),
      // The key comes back in DynamoDB's own encoding and is sent back as it is.
      ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}),
    };
  };
}
