/**
 * CDK assertions on the erasure request path and the curated lake's gate of the real PlatformStack: what the
 * local runtime does not model (IAM, queue settings, versioning and Object Lock), each pinned with the AWS rule
 * it relies on.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import type { PlatformStack } from '../../lib/platform-stack';
import { ERASE_ENV } from '../../lambdas/erase/config';
import { stageLedgerRetentionHours } from '../../lib/config/stage-config';

let stack: PlatformStack;
let template: Template;
const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Sid?: string };
const statementsOf = (roleId: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } }>)
    .filter((p) => p.Properties.Roles.some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
const actions = (s: Statement[]) => s.flatMap((x) => (Array.isArray(x.Action) ? x.Action : [x.Action])).sort();

beforeAll(() => {
  ({ stack } = createPlatformApp({ context: { stage: 'prod' }, builtinCloudFormationValidation: false } as never));
  template = Template.fromStack(stack);
});

describe('erasure request path', () => {
  it('a queue with SQS-managed encryption and TLS only, its dead-letter queue after 5 receives, retention 14 days', () => {
    const q = template.toJSON().Resources[id(stack.erasure.queue)].Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.MessageRetentionPeriod).toBe(14 * 86_400);
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.erasure.deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: id(stack.erasure.queue) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('the visibility timeout is six times the function timeout (Lambda Developer Guide, "Creating and configuring an Amazon SQS event source mapping": "set the source queue\'s visibility timeout to at least six times the configuration timeout on your function")', () => {
    const fn = template.toJSON().Resources[id(stack.erasure.function)].Properties;
    expect(fn.Timeout).toBe(900);
    expect(template.toJSON().Resources[id(stack.erasure.queue)].Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * fn.Timeout);
    expect(fn.ReservedConcurrentExecutions).toBe(1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: id(stack.erasure.function) },
      EventSourceArn: { 'Fn::GetAtt': [id(stack.erasure.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('the function is configured with every store it erases from, and tombstones that last the ledger retention', () => {
    const env = template.toJSON().Resources[id(stack.erasure.function)].Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.values(ERASE_ENV)));
    expect(env[ERASE_ENV.tombstoneHours]).toBe(String(stageLedgerRetentionHours(stack.config)));
    expect(env[ERASE_ENV.auditBucket]).toEqual({ Ref: id(stack.erasure.auditBucket) });
  });

  it('the requester policy may only send to the queue', () => {
    const p = template.toJSON().Resources[stack.getLogicalId(stack.erasure.requesterPolicy.node.defaultChild as CfnElement)].Properties;
    expect(p.PolicyDocument.Statement).toEqual([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [id(stack.erasure.queue), 'Arn'] } }]);
    expect(template.toJSON().Outputs).toHaveProperty('ErasureQueueUrl');
    expect(template.toJSON().Outputs).toHaveProperty('ErasureRequesterPolicyArn');
  });

  it('the function may rewrite lake objects and delete their older versions, query the lake in its workgroup, and nothing broader', () => {
    const role = stack.getLogicalId(stack.erasure.function.role!.node.defaultChild as CfnElement);
    const s = statementsOf(role);
    // S3 User Guide, "Deleting object versions from a versioning-enabled bucket": a DELETE without a version id only
    // adds a delete marker; removing a version for good takes its version id (s3:DeleteObjectVersion), and finding
    // the versions of a key takes ListObjectVersions (s3:ListBucketVersions).
    const rewrite = s.find((x) => x.Sid === 'RewriteLakeObjects')!;
    expect(actions([rewrite])).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:GetObject', 's3:PutObject']);
    expect(actions([s.find((x) => x.Sid === 'ListLakeObjects')!])).toEqual(['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketVersions']);
    const lakeBuckets = [stack.lake.rawBucket, stack.lake.curatedBucket, stack.lake.quarantineBucket, stack.lake.athenaResultsBucket];
    expect(JSON.stringify(rewrite.Resource)).toBe(JSON.stringify(lakeBuckets.map((b) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(b as never), 'Arn'] }, '/*']] }))));
    expect(actions([s.find((x) => x.Sid === 'QueryLake')!])).toEqual(['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StartQueryExecution']);
    expect(JSON.stringify(s.find((x) => x.Sid === 'QueryLake')!.Resource)).toContain('workgroup/');
    // The audit log: write entries, never read or delete them.
    expect(s.find((x) => x.Sid === 'WriteAuditEntries')).toMatchObject({ Action: 's3:PutObject' });
    const star = s.filter((x) => x.Resource === '*');
    expect(actions(star).every((a) => a.startsWith('xray:'))).toBe(true);
  });

  it('no bucket uses Object Lock, which would refuse the rewrite (S3 User Guide, "Locking objects with Object Lock": a locked version cannot be deleted or overwritten)', () => {
    for (const b of Object.values(template.findResources('AWS::S3::Bucket') as Record<string, { Properties: Record<string, unknown> }>)) {
      expect(b.Properties.ObjectLockEnabled).toBeUndefined();
      expect(b.Properties.ObjectLockConfiguration).toBeUndefined();
    }
  });

  it('the lake zones expire noncurrent versions, so nothing a rewrite replaced lingers even where a version delete was missed', () => {
    for (const b of [stack.lake.rawBucket, stack.lake.curatedBucket, stack.lake.quarantineBucket]) {
      const rules = template.toJSON().Resources[id(b as never)].Properties.LifecycleConfiguration.Rules as { NoncurrentVersionExpiration?: unknown }[];
      expect(rules.some((r) => r.NoncurrentVersionExpiration !== undefined)).toBe(true);
    }
  });

  it('the audit bucket: encrypted, versioned, private, retained in prod, entries kept six years', () => {
    const b = template.toJSON().Resources[id(stack.erasure.auditBucket)];
    expect(b.DeletionPolicy).toBe('Retain');
    expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(b.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: 2190, NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
  });

  it('alarms on the dead-letter queue by its name', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(stack.erasure.deadLetterQueue), 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: stack.getLogicalId(stack.alarms.topic.node.defaultChild as CfnElement) }],
    });
  });
});

describe('the curated lake gate', () => {
  it('is invoked by the curated delivery role only, and reads only the ledger table', () => {
    const role = stack.getLogicalId(stack.lakeDelivery.curation!.role!.node.defaultChild as CfnElement);
    const s = statementsOf(role).filter((x) => !actions([x]).every((a) => a.startsWith('logs:') || a.startsWith('xray:')));
    expect(s).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::GetAtt': [id(stack.profiles.store.ledger), 'Arn'] } }]);
    const invokers = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { PolicyDocument: { Statement: Statement[] } } }>)
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((x) => actions([x]).includes('lambda:InvokeFunction') && JSON.stringify(x.Resource).includes(id(stack.lakeDelivery.curation!)));
    expect(invokers.map((x) => x.Sid)).toEqual(['CurateRecords']);
  });
});
