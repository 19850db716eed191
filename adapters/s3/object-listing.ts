/**
 * The objects under a prefix of a bucket, with their LastModified: what the freshness canary reads of the
 * curated zone. ListObjectsV2 without a delimiter (s3rver drops deep common prefixes), paged to the end.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { RetryPolicy } from '../../core/retry-policy';
import { s3Client } from '../aws-clients';
import { withRetry } from '../retry';

export interface ListedObject {
  readonly key: string;
  /** Epoch ms (S3 keeps whole seconds). */
  readonly lastModifiedMs: number;
}

const LISTING_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

export async function listObjects(bucket: string, prefix: string, client: Pick<S3Client, 'send'> = s3Client()): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await withRetry(() => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })), {
      policy: LISTING_RETRY_POLICY,
    });
    for (const o of page.Contents ?? []) if (o.Key && o.LastModified) out.push({ key: o.Key, lastModifiedMs: o.LastModified.getTime() });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
