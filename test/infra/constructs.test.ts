/**
 * The constructs as a user of the library meets them, outside the platform stack: defaults without a stage
 * configuration, bring-your-own streams, tables and queues, and the grant* and metric* methods.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors';
import { EventStreams } from '../../lib/ingestion/event-streams';
import { DataLake } from '../../lib/lake/data-lake';
import { LakeDelivery } from '../../lib/lake/lake-delivery';
import { ProfileExport } from '../../lib/lake/profile-export';
import { Ingestion } from '../../lib/ingestion/ingestion';
import { ValidationStage } from '../../lib/ingestion/validation-stage';
import { Profiles, ProfileStore } from '../../lib/profiles';
import { LAMBDA_STREAM_READ_ACTIONS } from '../../lib/shared/stream-consumer';
import { METRICS_NAMESPACE } from '../../lib/shared/metrics';

const ACCOUNT = '123456789012';
const RAW_ARN = `arn:aws:kinesis:eu-west-1:${ACCOUNT}:stream/their-raw`;
const VALIDATED_ARN = `arn:aws:kinesis:eu-west-1:${ACCOUNT}:stream/their-validated`;

/** A stack whose functions are not bundled (the template is the same but for asset hashes). */
function stack(): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Library', { env: { account: ACCOUNT, region: 'eu-west-1' } });
}
const role = (s: Stack, id = 'Consumer') => new iam.Role(s, id, { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
const statementsOf = (t: Template, s: Stack, r: iam.Role) =>
  Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((x: any) => x.Ref === s.getLogicalId(r.node.defaultChild as never)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);

describe('EventStreams', () => {
  it('brings your own streams: creates none, and grants and the producer policy name yours', () => {
    const s = stack();
    const streams = new EventStreams(s, 'Streams', {
      existingRawStream: kinesis.Stream.fromStreamArn(s, 'Raw', RAW_ARN),
      existingValidatedStream: kinesis.Stream.fromStreamArn(s, 'Validated', VALIDATED_ARN),
    });
    const producer = role(s, 'Producer');
    const reader = role(s, 'Reader');
    streams.grantWrite(producer);
    streams.grantReadValidated(reader);
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::Kinesis::Stream', 0);
    t.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [{ Sid: 'PutEvents', Action: ['kinesis:PutRecord', 'kinesis:PutRecords'], Effect: 'Allow', Resource: RAW_ARN }] },
    });
    expect(statementsOf(t, s, producer)).toEqual([{ Action: ['kinesis:PutRecord', 'kinesis:PutRecords'], Effect: 'Allow', Resource: RAW_ARN }]);
    expect(statementsOf(t, s, reader)).toEqual([{ Action: [...LAMBDA_STREAM_READ_ACTIONS], Effect: 'Allow', Resource: VALIDATED_ARN }]);
  });

  it('defaults to on-demand streams, 24 hours, the AWS-managed key, deleted with the stack', () => {
    const s = stack();
    new EventStreams(s, 'Streams');
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::Kinesis::Stream', 2);
    t.allResourcesProperties('AWS::Kinesis::Stream', {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: 24,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
    t.allResources('AWS::Kinesis::Stream', { DeletionPolicy: 'Delete' });
  });

  it('with KMS encryption and your key, encrypts both streams with it and lets producers generate data keys', () => {
    const s = stack();
    const key = new kms.Key(s, 'TheirKey');
    const streams = new EventStreams(s, 'Streams', { encryption: kinesis.StreamEncryption.KMS, encryptionKey: key });
    const producer = role(s, 'Producer');
    streams.grantWrite(producer);
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.allResourcesProperties('AWS::Kinesis::Stream', { StreamEncryption: { EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [s.getLogicalId(key.node.defaultChild as never), 'Arn'] } } });
    expect(JSON.stringify(statementsOf(t, s, producer))).toContain('kms:GenerateDataKey');
  });
});

describe('ProfileStore', () => {
  it('brings your own profile table: creates only the ledger, and grants and metrics name your table', () => {
    const s = stack();
    const theirs = dynamodb.Table.fromTableName(s, 'Theirs', 'their-profiles');
    const store = new ProfileStore(s, 'Store', { existingTable: theirs });
    const reader = role(s, 'Reader');
    store.grantRead(reader);
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }, { AttributeName: 'slot', KeyType: 'RANGE' }] });
    const [statement] = statementsOf(t, s, reader);
    expect(statement.Action).toEqual(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable']);
    expect(JSON.stringify(statement.Resource)).toContain(':table/their-profiles');
    const throttles = s.resolve((store.metricThrottledRequests() as any).usingMetrics);
    expect(Object.values(throttles).map((m: any) => m.dimensions.TableName)).toContain('their-profiles');
  });

  it('defaults: on demand, PITR, TTL, AWS-managed encryption, deleted with the stack; RETAIN turns on deletion protection', () => {
    const s = stack();
    new ProfileStore(s, 'Store');
    new ProfileStore(s, 'Kept', { removalPolicy: RemovalPolicy.RETAIN, billingMode: dynamodb.BillingMode.PROVISIONED });
    const t = Template.fromStack(s);
    const tables = Object.entries(t.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(4);
    for (const [id, table] of tables as [string, any][]) {
      const kept = id.startsWith('Kept');
      expect(table.Properties).toMatchObject({
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
        DeletionProtectionEnabled: kept,
      });
      // CloudFormation's default billing mode is provisioned: CDK leaves it out and sets the throughput.
      expect(table.Properties.BillingMode).toBe(kept ? undefined : 'PAY_PER_REQUEST');
      if (kept) expect(table.Properties.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 5, WriteCapacityUnits: 5 });
      expect(table.DeletionPolicy).toBe(kept ? 'Retain' : 'Delete');
    }
  });
});

describe('Profiles with your own table', () => {
  it('points the aggregator at it and grants it exactly the aggregator\'s actions there', () => {
    const s = stack();
    const profiles = new Profiles(s, 'Profiles', {
      validatedStream: kinesis.Stream.fromStreamArn(s, 'Validated', VALIDATED_ARN),
      store: { existingTable: dynamodb.Table.fromTableName(s, 'Theirs', 'their-profiles') },
    });
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ PROFILE_TABLE_NAME: 'their-profiles' }) } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: VALIDATED_ARN, TumblingWindowInSeconds: 120, BisectBatchOnFunctionError: true, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    const statements = statementsOf(t, s, profiles.aggregator.function.role as iam.Role);
    const write = statements.find((x: any) => JSON.stringify(x.Action) === JSON.stringify(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']));
    expect(JSON.stringify(write.Resource)).toContain(':table/their-profiles');
    const read = statements.find((x: any) => JSON.stringify(x.Action) === JSON.stringify([...LAMBDA_STREAM_READ_ACTIONS]));
    expect(read.Resource).toBe(VALIDATED_ARN);
  });
});

describe('Kinesis consumers', () => {
  const consumer = (s: Stack, extra: Partial<ConstructorParameters<typeof ValidationStage>[2]> = {}) =>
    new ValidationStage(s, 'Validation', {
      rawStream: kinesis.Stream.fromStreamArn(s, 'Raw', RAW_ARN),
      validatedStream: kinesis.Stream.fromStreamArn(s, 'Validated', VALIDATED_ARN),
      quarantineBucket: s3.Bucket.fromBucketName(s, 'Quarantine', 'their-quarantine'),
      ...extra,
    });

  it('bring your own on-failure queue: no queue is created and the event source sends ranges to yours', () => {
    const s = stack();
    const queue = sqs.Queue.fromQueueArn(s, 'TheirQueue', `arn:aws:sqs:eu-west-1:${ACCOUNT}:their-dlq`);
    const stage = consumer(s, { existingOnFailureQueue: queue });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::SQS::Queue', 0);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: RAW_ARN,
      DestinationConfig: { OnFailure: { Destination: `arn:aws:sqs:eu-west-1:${ACCOUNT}:their-dlq` } },
    });
    expect(stage.onFailureQueue).toBe(queue);
    // The on-failure depth alarm watches the queue it was given.
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: 'their-dlq' }] });
  });

  it('defaults: bounded retries, bisection, partial failures, an hour of record age, a 14-day encrypted queue, alarms with their dimensions', () => {
    const s = stack();
    const stage = consumer(s);
    const t = Template.fromStack(s);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      ParallelizationFactor: 1,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    const fnName = { Ref: s.getLogicalId(stage.function.node.defaultChild as never) };
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'IteratorAge', Threshold: 300_000, Dimensions: [{ Name: 'FunctionName', Value: fnName }] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: fnName }] });
    // No topic given: alarms without actions.
    for (const alarm of Object.values(t.findResources('AWS::CloudWatch::Alarm')) as any[]) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('metric* name the function, its service and the platform namespace; grantRedrive lets an operator consume the on-failure queue', () => {
    const s = stack();
    const stage = consumer(s);
    const fnName = { Ref: s.getLogicalId(stage.function.node.defaultChild as never) };
    const iteratorAge = s.resolve(stage.metricIteratorAge().toMetricConfig().metricStat);
    expect(iteratorAge).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'IteratorAge', statistic: 'Maximum', dimensions: [{ name: 'FunctionName', value: fnName }] });
    expect(stage.metricRecordsIn().toMetricConfig().metricStat).toMatchObject({ namespace: METRICS_NAMESPACE, metricName: 'RecordsIn', statistic: 'Sum', dimensions: [{ name: 'service', value: 'validate' }] });
    expect(stage.metricQuarantined({ period: Duration.minutes(1) }).period.toSeconds()).toBe(60);
    expect(stage.metricQuarantineRatio().toMetricConfig().mathExpression?.expression).toBe('IF(recordsIn > 0, quarantined / recordsIn, 0)');
    const operator = role(s, 'Operator');
    stage.grantRedrive(operator);
    const actions = statementsOf(Template.fromStack(s), s, operator).flatMap((x: any) => x.Action);
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
  });
});

describe('Ingestion with your own streams', () => {
  it('validates your raw stream into your validated stream', () => {
    const s = stack();
    new Ingestion(s, 'Ingestion', {
      quarantineBucket: s3.Bucket.fromBucketName(s, 'Quarantine', 'their-quarantine'),
      streams: { existingRawStream: kinesis.Stream.fromStreamArn(s, 'Raw', RAW_ARN), existingValidatedStream: kinesis.Stream.fromStreamArn(s, 'Validated', VALIDATED_ARN) },
    });
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::Kinesis::Stream', 0);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: RAW_ARN });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ VALIDATED_STREAM_NAME: 'their-validated' }) } });
  });
});

describe('configuration mistakes in props', () => {
  it('LakeDelivery refuses accepted event times that would keep more curated partitions active than the budget', () => {
    const s = stack();
    const lake = new DataLake(s, 'Lake');
    const streams = { rawStream: kinesis.Stream.fromStreamArn(s, 'Raw', RAW_ARN), validatedStream: kinesis.Stream.fromStreamArn(s, 'Validated', VALIDATED_ARN) };
    expect(() => new LakeDelivery(s, 'Wide', { lake, ...streams, acceptedEventTimes: { maxPastAge: Duration.days(30), maxFutureSkew: Duration.minutes(5) } })).toThrow(ConfigError);
    expect(() => new LakeDelivery(s, 'Wide2', { lake, ...streams, acceptedEventTimes: { maxPastAge: Duration.days(30), maxFutureSkew: Duration.minutes(5) } })).toThrow(/could keep 723 hour partitions active/);
    // The defaults (7 days back, 5 minutes ahead) fit.
    expect(() => new LakeDelivery(s, 'Default', { lake, ...streams })).not.toThrow();
  });

  it('ProfileExport refuses an hour that is not one of 0-23', () => {
    const s = stack();
    const table = dynamodb.Table.fromTableName(s, 'Theirs', 'their-profiles');
    const curatedBucket = s3.Bucket.fromBucketName(s, 'Curated', 'their-curated');
    for (const hour of [24, -1, 2.5, Number.NaN]) expect(() => new ProfileExport(s, `Export${String(hour).replace(/\W/g, '_')}`, { table, curatedBucket, exportHourUtc: hour })).toThrow(/exportHourUtc must be an integer from 0 to 23/);
  });
});
