import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, measureBundle, type BundleSize } from '../../bench/ingestion.bench';
import { PLATFORM_BUNDLE_ALIASES } from '../../lib/shared/platform-function';

describe('aggregator function bundle', () => {
  let bundle: BundleSize;
  beforeAll(async () => {
    bundle = await measureBundle('aggregate/handler.ts', PLATFORM_BUNDLE_ALIASES);
  }, 60_000);

  it('stays within the 300 KiB budget when bundled as deployed', () => {
    const top = bundle.byPackage.slice(0, 8).map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)} KiB`).join(', ');
    expect(bundle.bytes, `bundle is ${bundle.bytes} bytes; largest parts: ${top}`).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  it('carries the DynamoDB client and Powertools, and neither other clients nor the default credential chain', () => {
    const packages = bundle.byPackage.map(([name]) => name);
    expect(packages).toContain('@aws-sdk/client-dynamodb');
    expect(packages).toContain('@aws-lambda-powertools/metrics');
    for (const absent of ['@aws-sdk/client-kinesis', '@aws-sdk/client-s3', '@aws-sdk/client-sqs', '@aws-sdk/credential-provider-node', '@aws-sdk/nested-clients']) {
      expect(packages).not.toContain(absent);
    }
  });
});
