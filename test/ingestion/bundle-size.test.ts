import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_BUDGET_BYTES, measureBundle, type BundleSize } from '../../bench/ingestion.bench';
import { PLATFORM_BUNDLE_ALIASES } from '../../lib/shared/platform-function';

describe('validation function bundle', () => {
  let bundle: BundleSize;
  beforeAll(async () => {
    bundle = await measureBundle('validate/handler.ts', PLATFORM_BUNDLE_ALIASES);
  }, 60_000);

  it('stays within the 300 KiB budget when bundled as deployed', () => {
    const top = bundle.byPackage.slice(0, 8).map(([name, bytes]) => `${name} ${Math.round(bytes / 1024)} KiB`).join(', ');
    expect(bundle.bytes, `bundle is ${bundle.bytes} bytes; largest parts: ${top}`).toBeLessThanOrEqual(BUNDLE_BUDGET_BYTES);
  });

  it('carries neither the S3 client nor the default credential chain (Lambda gives credentials in the environment)', () => {
    const packages = bundle.byPackage.map(([name]) => name);
    expect(packages).toContain('@aws-sdk/client-kinesis');
    expect(packages).toContain('@aws-lambda-powertools/metrics');
    expect(packages).not.toContain('@aws-sdk/client-s3');
    expect(packages).not.toContain('@aws-sdk/credential-provider-node');
    expect(packages).not.toContain('@aws-sdk/nested-clients');
  });
});
