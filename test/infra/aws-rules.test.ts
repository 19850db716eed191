/**
 * The rules AWS enforces that the local runtime does not model (KMS key policies, IAM trust conditions,
 * service timings, what a role may do), pinned on the synthesized templates of prod and of a stage with a
 * customer-managed stream key. Each test names the documented rule it checks and where AWS documents it. A
 * template that breaks one of them deploys cleanly and fails only in a real account, after the first incident.
 * The same two syntheses (each runs cdk-nag) also pin the cdk-nag report, the published names and the
 * redeploy-after-destroy import plan.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { requiredValueNames, STAGE_VALUE_NAMES, type StageValues } from '../../core/discovery/catalog';
import { importPlan, retainedResources, type SynthesizedTemplate } from '../../lib/discovery/retained';
import { expectHonestAcknowledgements, synthesizeStage, violations, type SynthesizedStage } from './support';

interface Resource { Type: string; Properties: Record<string, any>; DeletionPolicy?: string }
interface Synth extends SynthesizedStage { resources: Record<string, Resource> }

function synth(stage: string, stages?: unknown): Synth {
  const s = synthesizeStage(stage, stages);
  return { ...s, resources: (s.template.toJSON() as { Resources: Record<string, Resource> }).Resources };
}
const ofType = (s: Synth, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const id = (s: Synth, c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as never);
const statementsOfRole = (s: Synth, roleId: string) =>
  ofType(s, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Effect: string }[]);
const actionsOf = (statements: { Action: string | string[] }[]) => statements.flatMap((st) => [st.Action].flat());

let prod: Synth;
let secure: Synth;
beforeAll(() => {
  prod = synth('prod');
  secure = synth('secure', { secure: { extends: 'prod', streams: { encryption: 'customer' } } });
}, 120_000);

describe('alarm notifications reach the alarm topic', () => {
  // SNS Developer Guide, "Key management" > "Enable compatibility between event sources from AWS services and
  // encrypted topics" (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
  // a service that publishes to an encrypted topic needs a customer managed key whose policy allows the service
  // principal kms:GenerateDataKey* and kms:Decrypt. AWS re:Post "How do I configure a CloudWatch alarm with an
  // encrypted SNS topic?" (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns): with alias/aws/sns
  // the alarm action fails ("CloudWatch Alarms does not have authorization to access the SNS topic encryption
  // key"), because the AWS managed key's policy cannot be edited to allow cloudwatch.amazonaws.com.
  it('encrypts the topic with a customer managed, rotated key, never the AWS managed alias/aws/sns', () => {
    const [[, topic]] = ofType(prod, 'AWS::SNS::Topic') as [[string, Resource]];
    expect(JSON.stringify(topic.Properties.KmsMasterKeyId)).not.toContain('alias/aws/sns');
    const keyId = (topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']?.[0];
    expect(keyId, 'the topic key is a key of this stack').toBeDefined();
    expect(prod.resources[keyId!]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
  });

  it("lets CloudWatch use the topic key: kms:GenerateDataKey* and kms:Decrypt for cloudwatch.amazonaws.com", () => {
    const [[, topic]] = ofType(prod, 'AWS::SNS::Topic') as [[string, Resource]];
    const key = prod.resources[(topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]]!;
    const forCloudWatch = (key.Properties.KeyPolicy.Statement as { Principal?: { Service?: unknown }; Action: string[] | string; Effect: string }[]).filter(
      (st) => JSON.stringify(st.Principal?.Service ?? '').includes('cloudwatch.amazonaws.com'),
    );
    expect(forCloudWatch).toHaveLength(1);
    expect(forCloudWatch[0]!.Effect).toBe('Allow');
    expect([forCloudWatch[0]!.Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  // AWS re:Post "Why didn't I receive an SNS notification for my CloudWatch alarm trigger?"
  // (https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger): the topic's access policy must
  // allow cloudwatch.amazonaws.com sns:Publish; aws:SourceArn (ArnLike, alarm ARN) restricts it to our alarms.
  it("allows CloudWatch alarms of this account to publish in the topic's access policy", () => {
    const policies = ofType(prod, 'AWS::SNS::TopicPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Record<string, any>[]);
    const allow = policies.find((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('cloudwatch.amazonaws.com'));
    expect(allow).toMatchObject({ Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
    expect(JSON.stringify(allow!.Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:*');
  });
});

describe('the daily profile export can run', () => {
  // EventBridge Scheduler User Guide, "Confused deputy prevention"
  // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html): "The
  // value of aws:SourceArn must be your EventBridge Scheduler schedule group ARN ... Do not scope the
  // aws:SourceArn statement to a specific schedule or a schedule name prefix. The ARN you specify must be a
  // schedule group." A schedule ARN there means Scheduler can never assume the role.
  it("the schedule role's trust policy names the schedule's group, not the schedule", () => {
    const e = prod.stack.profileExport!;
    const [[groupId, group]] = ofType(prod, 'AWS::Scheduler::ScheduleGroup') as [[string, Resource]];
    const [[, schedule]] = ofType(prod, 'AWS::Scheduler::Schedule') as [[string, Resource]];
    expect(group.Properties.Name).toBe('pdp-prod-schedules');
    expect(schedule.Properties.GroupName).toBe('pdp-prod-schedules');
    expect((schedule as Resource & { DependsOn?: string[] }).DependsOn).toContain(groupId);
    const trust = prod.resources[id(prod, e.scheduleRole)]!.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': { 'Fn::GetAtt': [groupId, 'Arn'] } } },
      },
    ]);
  });

  // EventBridge Scheduler User Guide, "Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch"
  // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/monitoring-cloudwatch.html): namespace AWS/Scheduler,
  // dimension ScheduleGroup; TargetErrorCount (the target refused the invocation, e.g. a role it cannot
  // assume) and InvocationDroppedCount (given up after the retry policy). A schedule that cannot invoke its
  // target never invokes the function, so the function's own errors alarm can never fire for it.
  it("alarms on the scheduler's own failures, by schedule group, on the alarm topic", () => {
    const topic = prod.stack.resolve(prod.stack.alarms.topic.topicArn);
    const alarms = ofType(prod, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties).filter((a) => a.Namespace === 'AWS/Scheduler');
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(['InvocationDroppedCount', 'TargetErrorCount']);
    for (const a of alarms) {
      expect(a).toMatchObject({
        Dimensions: [{ Name: 'ScheduleGroup', Value: 'pdp-prod-schedules' }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    }
  });

  // DynamoDB API Reference, PointInTimeRecoveryDescription
  // (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PointInTimeRecoveryDescription.html):
  // "LatestRestorableDateTime is typically 5 minutes before the current time." ExportTableToPointInTime
  // only accepts an ExportTime inside the restorable window, so the run must start well after the time it
  // exports (15 minutes), and the function may read the window (DescribeContinuousBackups) to check it.
  it('runs a quarter of an hour after the full hour it exports, and may read the restorable window', () => {
    const [[, schedule]] = ofType(prod, 'AWS::Scheduler::Schedule') as [[string, Resource]];
    expect(schedule.Properties.ScheduleExpression).toBe('cron(15 2 * * ? *)');
    const statements = statementsOfRole(prod, id(prod, prod.stack.profileExport!.function.role as never));
    expect(actionsOf(statements)).toContain('dynamodb:DescribeContinuousBackups');
  });
});

describe('least privilege', () => {
  const functionRoles = (s: Synth) => ofType(s, 'AWS::Lambda::Function').map(([, f]) => (f.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt']?.[0]).filter(Boolean) as string[];

  // AWS managed policy reference, AWSLambdaBasicExecutionRole
  // (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html): it allows
  // logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents on "*", every log group of the account.
  // Each function logs to its own log group (created by the stack), so it needs only CreateLogStream and
  // PutLogEvents on that group.
  it('no function role has AWSLambdaBasicExecutionRole or a logs action on "*"; each may write only its own log group', () => {
    const platformRoles = functionRoles(prod).filter((r) => !r.startsWith('CustomS3AutoDeleteObjects'));
    expect(platformRoles.length).toBeGreaterThanOrEqual(3);
    for (const roleId of platformRoles) {
      expect(JSON.stringify(prod.resources[roleId]!.Properties.ManagedPolicyArns ?? [])).not.toContain('AWSLambdaBasicExecutionRole');
      const logs = statementsOfRole(prod, roleId).filter((st) => actionsOf([st]).some((a) => a.startsWith('logs:')));
      expect(logs, roleId).toHaveLength(1);
      expect(actionsOf(logs).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(JSON.stringify(logs[0]!.Resource)).not.toBe('"*"');
      expect(JSON.stringify(logs[0]!.Resource)).toMatch(/Logs[0-9A-F]{8}", "Arn"|Logs[0-9A-F]{8}","Arn"/);
    }
  });

  // Amazon S3 API Reference, PutObject: writing an object needs s3:PutObject; tagging, retention and legal-hold
  // headers need their own permissions, which the quarantine writer never sends (one signed PUT per object).
  it('the quarantine writer may only PutObject under quarantine/ (no tagging, retention, legal hold or abort)', () => {
    const role = id(prod, prod.stack.ingestion.validation.function.role as never);
    const s3 = statementsOfRole(prod, role).filter((st) => actionsOf([st]).some((a) => a.startsWith('s3:')));
    expect(actionsOf(s3)).toEqual(['s3:PutObject']);
  });

  // Lambda Developer Guide, "Process Amazon Kinesis Data Streams records with Lambda"
  // (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-create.html) and the Firehose Developer Guide,
  // "Controlling access" (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html): a standard
  // iterator reads with DescribeStream(Summary), GetShardIterator, GetRecords and ListShards. SubscribeToShard and
  // DescribeStreamConsumer act on enhanced fan-out consumers (none here), ListStreams on the whole account.
  it('stream readers get the read actions they use and none of ListStreams, SubscribeToShard, DescribeStreamConsumer', () => {
    for (const s of [prod, secure]) {
      const all = ofType(s, 'AWS::IAM::Policy').flatMap(([, p]) => actionsOf(p.Properties.PolicyDocument.Statement));
      expect(all).toContain('kinesis:GetRecords');
      for (const unused of ['kinesis:ListStreams', 'kinesis:SubscribeToShard', 'kinesis:DescribeStreamConsumer']) expect(all).not.toContain(unused);
    }
  });
});

describe('cdk-nag', () => {
  it.each([
    ['prod', () => prod],
    ['a stage with a customer-managed stream key', () => secure],
  ])('%s synthesizes with zero unacknowledged findings and only honest acknowledgements', (_, s) => {
    expect(violations(s().report)).toEqual([]);
    expectHonestAcknowledgements(s().app, s().report);
  });
});

describe('published names', () => {
  it('the optional values appear where the stage has them: the daily export (both), the stream key (customer key)', () => {
    for (const [s, extra] of [[prod, []], [secure, ['StreamKeyArn']]] as const) {
      const expected = [...requiredValueNames(), 'ProfileExportScheduleName', 'ProfileExportScheduleGroupName', 'FreshnessCanaryFunctionName', ...extra];
      expect(Object.keys(s.template.findOutputs('*')).sort()).toEqual(STAGE_VALUE_NAMES.filter((n) => expected.includes(n)).sort());
    }
  });
});

/**
 * Redeploying a stage after `cdk destroy`: every resource a retaining stage keeps must be adoptable by the new
 * stack (a CloudFormation resource import), or creating the stack again fails with "already exists" on each
 * fixed name and starts empty buckets beside the retained ones. The mapping `npm run import-retained` writes
 * for `cdk import --resource-mapping` comes from the template and the destroyed deployment's outputs.
 */
describe('redeploy after destroy', () => {
  const template = (s: Synth) => s.template.toJSON() as SynthesizedTemplate;
  /** What `cdk deploy --outputs-file` recorded for the destroyed deployment: every output, with made-up physical values. */
  const previousOutputs = (t: SynthesizedTemplate): StageValues =>
    Object.fromEntries(Object.keys(t.Outputs ?? {}).map((k) => [k, k.endsWith('Arn') ? `arn:aws:kms:eu-west-1:123456789012:key/${k}-1234` : `${k.toLowerCase()}-physical`]));

  it.each([
    ['prod', () => prod],
    ['a stage with a customer-managed stream key', () => secure],
  ])('%s: every retained resource is imported, or has a generated name and is left behind', (_, s) => {
    const t = template(s());
    const plan = importPlan(t, previousOutputs(t));
    expect(plan.missing).toEqual([]);
    const covered = new Set([...Object.keys(plan.mapping), ...plan.leftBehind.map((l) => l.logicalId)]);
    expect(retainedResources(t).map(([rid]) => rid).filter((rid) => !covered.has(rid))).toEqual([]);
    // Only the functions' own log groups are left behind: nothing writes to them again, nothing collides.
    for (const l of plan.leftBehind) expect(l.type).toBe('AWS::Logs::LogGroup');
    expect(plan.leftBehind.every((l) => !('LogGroupName' in (t.Resources[l.logicalId]!.Properties ?? {})))).toBe(true);
  });

  it('imports the fixed names from the template and the generated ones from the previous outputs', () => {
    const t = template(secure);
    const { mapping } = importPlan(t, previousOutputs(t));
    const byType = (type: string) => Object.entries(mapping).filter(([rid]) => t.Resources[rid]!.Type === type).map(([, m]) => m);
    expect(byType('AWS::Kinesis::Stream')).toEqual(expect.arrayContaining([{ Name: 'pdp-secure-events' }, { Name: 'pdp-secure-validated' }]));
    expect(byType('AWS::DynamoDB::Table')).toEqual([{ TableName: 'pdp-secure-profiles' }, { TableName: 'pdp-secure-profile-ledger' }]);
    expect(byType('AWS::Logs::LogStream')).toEqual(expect.arrayContaining([{ LogGroupName: '/aws/kinesisfirehose/pdp-secure-raw-to-lake', LogStreamName: 'DestinationDelivery' }]));
    expect(byType('AWS::S3::Bucket').map((m) => m.BucketName).sort()).toEqual(
      ['AccessLogsBucketName', 'AthenaResultsBucketName', 'CuratedBucketName', 'ErasureAuditBucketName', 'QuarantineBucketName', 'RawBucketName'].map((k) => `${k.toLowerCase()}-physical`).sort(),
    );
    expect(byType('AWS::KMS::Key')).toEqual([{ KeyId: 'StreamKeyArn-1234' }]);
  });

  it('says which output it needs when the previous outputs lack a generated name', () => {
    const t = template(prod);
    const previous = previousOutputs(t);
    delete previous.CuratedBucketName;
    expect(importPlan(t, previous).missing).toEqual([expect.objectContaining({ type: 'AWS::S3::Bucket', output: 'CuratedBucketName' })]);
  });
});
