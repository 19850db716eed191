/**
 * Redeploying a stage after `cdk destroy`: every resource a retaining stage keeps must be adoptable by the new
 * stack (a CloudFormation resource import), or creating the stack again fails with "already exists" on each
 * fixed name and starts empty buckets beside the retained ones. The mapping `npm run import-retained` writes
 * for `cdk import --resource-mapping` is computed from the synthesized template and the destroyed
 * deployment's outputs; these tests pin that it covers every retained resource.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import type { StageValues } from '../../lib/discovery/catalog';
import { importPlan, retainedResources, type SynthesizedTemplate } from '../../lib/discovery/retained';

function template(stage: string, stages?: unknown): SynthesizedTemplate {
  const { stack } = createPlatformApp({ context: { stage, ...(stages ? { stages } : {}) }, builtinCloudFormationValidation: false } as never);
  return Template.fromStack(stack).toJSON() as SynthesizedTemplate;
}

/** What `cdk deploy --outputs-file` recorded for the destroyed deployment: every output, with made-up physical values. */
function previousOutputs(t: SynthesizedTemplate): StageValues {
  return Object.fromEntries(Object.keys(t.Outputs ?? {}).map((k) => [k, k.endsWith('Arn') ? `arn:aws:kms:eu-west-1:123456789012:key/${k}-1234` : `${k.toLowerCase()}-physical`]));
}

let prod: SynthesizedTemplate;
let secure: SynthesizedTemplate;
beforeAll(() => {
  prod = template('prod');
  secure = template('secure', { secure: { extends: 'prod', streams: { encryption: 'customer' } } });
}, 120_000);

describe('redeploy after destroy', () => {
  it.each([
    ['prod', () => prod],
    ['a stage with a customer-managed stream key', () => secure],
  ])('%s: every retained resource is imported, or has a generated name and is left behind', (_, t) => {
    const plan = importPlan(t(), previousOutputs(t()));
    expect(plan.missing).toEqual([]);
    const covered = new Set([...Object.keys(plan.mapping), ...plan.leftBehind.map((l) => l.logicalId)]);
    expect(retainedResources(t()).map(([id]) => id).filter((id) => !covered.has(id))).toEqual([]);
    // Only the functions' own log groups are left behind: nothing writes to them again, nothing collides.
    for (const l of plan.leftBehind) expect(l.type).toBe('AWS::Logs::LogGroup');
    expect(plan.leftBehind.every((l) => !('LogGroupName' in (t().Resources[l.logicalId]!.Properties ?? {})))).toBe(true);
  });

  it('imports the fixed names from the template and the generated ones from the previous outputs', () => {
    const previous = previousOutputs(secure);
    const { mapping } = importPlan(secure, previous);
    const byType = (type: string) => Object.entries(mapping).filter(([id]) => secure.Resources[id]!.Type === type).map(([, m]) => m);
    expect(byType('AWS::Kinesis::Stream')).toEqual(expect.arrayContaining([{ Name: 'pdp-secure-events' }, { Name: 'pdp-secure-validated' }]));
    expect(byType('AWS::DynamoDB::Table')).toEqual([{ TableName: 'pdp-secure-profiles' }]);
    expect(byType('AWS::Logs::LogStream')).toEqual(expect.arrayContaining([{ LogGroupName: '/aws/kinesisfirehose/pdp-secure-raw-to-lake', LogStreamName: 'DestinationDelivery' }]));
    expect(byType('AWS::S3::Bucket').map((m) => m.BucketName).sort()).toEqual(
      ['AccessLogsBucketName', 'AthenaResultsBucketName', 'CuratedBucketName', 'QuarantineBucketName', 'RawBucketName'].map((k) => `${k.toLowerCase()}-physical`).sort(),
    );
    expect(byType('AWS::KMS::Key')).toEqual([{ KeyId: 'StreamKeyArn-1234' }]);
  });

  it('says which output it needs when the previous outputs lack a generated name', () => {
    const previous = previousOutputs(prod);
    delete previous.CuratedBucketName;
    expect(importPlan(prod, previous).missing).toEqual([expect.objectContaining({ type: 'AWS::S3::Bucket', output: 'CuratedBucketName' })]);
  });

  it('dev keeps nothing: a destroyed dev stage redeploys as it is', () => {
    expect(retainedResources(template('dev')).filter(([, r]) => r.Type !== 'AWS::Logs::LogGroup')).toEqual([]);
  });
});
