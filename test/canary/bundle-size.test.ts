import { beforeAll, describe, expect, it } from 'vitest';
import { measureBundle, type BundleSize } from '../../bench/ingestion.bench';
import { PLATFORM_BUNDLE_ALIASES } from '../../lib/shared/platform-function';

/**
 * The freshness canary's bundle: 432 KiB when measured (December 2026), so 500 KiB leaves ~15% for SDK updates.
 * Three SDK clients dominate it, one per call the canary makes: @smithy/core (~130 KiB, shared by every client),
 * @aws-sdk/client-s3 (~100 KiB, plus ~20 KiB of S3 middleware, checksums and XML) for its one ListObjectsV2 of
 * the curated zone, @aws-sdk/core (~33 KiB), client-dynamodb (~33 KiB) for GetItem, client-kinesis (~23 KiB)
 * for PutRecords, then Powertools (~30 KiB). The S3 client is the only part that could go (a hand-signed
 * ListObjectsV2 with the signer the bundle already has would save ~120 KiB), at the price of hand-writing the
 * XML parsing, path-style endpoints and error classification the SDK keeps current, for a function that runs
 * once a minute and stays warm: not taken.
 */
const CANARY_BUNDLE_BUDGET_BYTES = 500 * 1024;

describe('freshness canary function bundle', () => {
  let bundle: BundleSize;
  beforeAll(async () => {
    bundle = await measureBundle('freshness-canary/handler.ts', PLATFORM_BUNDLE_ALIASES);
  }, 60_000);

  it('stays within the 500 KiB budget when bundled as deployed', () => {
    const top = bundle.byPackage.slice(0, 8).map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)} KiB`).join(', ');
    expect(bundle.bytes, `bundle is ${bundle.bytes} bytes; largest parts: ${top}`).toBeLessThanOrEqual(CANARY_BUNDLE_BUDGET_BYTES);
  });

  it('carries the Kinesis, DynamoDB and S3 clients it calls, and neither other clients nor the default credential chain', () => {
    const packages = bundle.byPackage.map(([name]) => name);
    for (const present of ['@aws-sdk/client-kinesis', '@aws-sdk/client-dynamodb', '@aws-sdk/client-s3', '@aws-lambda-powertools/metrics']) expect(packages).toContain(present);
    for (const absent of ['@aws-sdk/client-sqs', '@aws-sdk/client-athena', '@aws-sdk/credential-provider-node', '@aws-sdk/nested-clients']) {
      expect(packages).not.toContain(absent);
    }
  });
});
