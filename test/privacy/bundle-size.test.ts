import { beforeAll, describe, expect, it } from 'vitest';
import { measureBundle, type BundleSize } from '../../bench/ingestion.bench';
import { PLATFORM_BUNDLE_ALIASES } from '../../lib/shared/platform-function';

/**
 * Bundles of the privacy functions, measured in December 2026, each budget ~15% above:
 *
 * - erase: 464 KiB, budget 540 KiB. It calls four services, and their clients are most of it: @smithy/core
 *   (~135 KiB, shared), client-s3 (~100 KiB, plus ~30 KiB of S3 middleware, checksums and XML: it lists,
 *   reads, rewrites and deletes lake objects and their versions), @aws-sdk/core (~33 KiB), client-dynamodb
 *   (~30 KiB), client-sqs (~24 KiB, the follow-up passes) and client-athena (~14 KiB, finding the objects
 *   that hold a person), then Powertools (~30 KiB).
 * - curate (the curated Firehose's transformation): 238 KiB, budget 280 KiB: @smithy/core (~110 KiB) and
 *   client-dynamodb (~29 KiB) to read the tombstones, @aws-sdk/core (~22 KiB), Powertools (~30 KiB).
 */
const BUDGETS = { 'erase/handler.ts': 540 * 1024, 'curate/handler.ts': 280 * 1024 } as const;

const top = (bundle: BundleSize) => bundle.byPackage.slice(0, 8).map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)} KiB`).join(', ');

describe('privacy function bundles', () => {
  const bundles = new Map<string, BundleSize>();
  beforeAll(async () => {
    for (const handler of Object.keys(BUDGETS)) bundles.set(handler, await measureBundle(handler, PLATFORM_BUNDLE_ALIASES));
  }, 120_000);

  it.each(Object.entries(BUDGETS))('%s stays within its budget (%i bytes) when bundled as deployed', (handler, budget) => {
    const bundle = bundles.get(handler)!;
    expect(bundle.bytes, `bundle is ${bundle.bytes} bytes; largest parts: ${top(bundle)}`).toBeLessThanOrEqual(budget);
  });

  it('erase carries the clients of the stores it erases from, and not the default credential chain', () => {
    const packages = bundles.get('erase/handler.ts')!.byPackage.map(([name]) => name);
    for (const present of ['@aws-sdk/client-s3', '@aws-sdk/client-dynamodb', '@aws-sdk/client-sqs', '@aws-sdk/client-athena']) expect(packages).toContain(present);
    for (const absent of ['@aws-sdk/client-kinesis', '@aws-sdk/credential-provider-node', '@aws-sdk/nested-clients']) expect(packages).not.toContain(absent);
  });

  it('curate carries only the DynamoDB client (tombstones), and not the default credential chain', () => {
    const packages = bundles.get('curate/handler.ts')!.byPackage.map(([name]) => name);
    expect(packages).toContain('@aws-sdk/client-dynamodb');
    for (const absent of ['@aws-sdk/client-s3', '@aws-sdk/client-kinesis', '@aws-sdk/client-sqs', '@aws-sdk/client-athena', '@aws-sdk/credential-provider-node', '@aws-sdk/nested-clients']) {
      expect(packages).not.toContain(absent);
    }
  });
});
