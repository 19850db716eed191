/**
 * The ingestion resources as synthesized in the real PlatformStack (cdk-nag's checks run on every synth:
 * an unacknowledged finding fails it), for the dev stage and a stage with a customer-managed key.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import type { PlatformStack } from '../../lib/platform-stack';

function synth(stage: string, stages?: Record<string, unknown>): { stack: PlatformStack; template: Template } {
  const { stack } = createPlatformApp({ context: { stage, ...(stages ? { stages } : {}) }, builtinCloudFormationValidation: false } as never);
  return { stack, template: Template.fromStack(stack) };
}

const ref = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

describe('ingestion infrastructure', () => {
  let dev: { stack: PlatformStack; template: Template };
  let ids: { raw: string; validated: string; queue: string; fn: string; topic: string; bucket: string };

  beforeAll(() => {
    dev = synth('dev');
    const s = dev.stack;
    const id = (c: { node: { defaultChild?: unknown } }) => s.getLogicalId(c.node.defaultChild as never);
    ids = {
      raw: id(s.ingestion.streams.rawStream),
      validated: id(s.ingestion.streams.validatedStream),
      queue: id(s.ingestion.validation.onFailureQueue),
      fn: id(s.ingestion.validation.function),
      topic: (s.resolve(s.alarms.topic.topicArn) as { Ref: string }).Ref,
      bucket: id(s.lake.quarantineBucket as never),
    };
  }, 60_000);

  describe('streams', () => {
    it('creates the raw and validated streams from the stage configuration (dev: provisioned, 1 shard, 24 h, AWS-managed key)', () => {
      for (const [name, logicalId] of [['pdp-dev-events', ids.raw], ['pdp-dev-validated', ids.validated]] as const) {
        expect(dev.template.toJSON().Resources[logicalId]).toMatchObject({
          Type: 'AWS::Kinesis::Stream',
          Properties: {
            Name: name,
            ShardCount: 1,
            StreamModeDetails: { StreamMode: 'PROVISIONED' },
            RetentionPeriodHours: 24,
            StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
          },
          DeletionPolicy: 'Delete',
        });
      }
      dev.template.resourceCountIs('AWS::Kinesis::Stream', 2);
    });

    it('exposes the streams on the stack for the profile and lake stages', () => {
      expect(dev.stack.ingestion.rawStream).toBe(dev.stack.ingestion.streams.rawStream);
      expect(dev.stack.ingestion.validatedStream).toBe(dev.stack.ingestion.streams.validatedStream);
    });

    it('gives producers a managed policy with PutRecord/PutRecords on the raw stream and nothing else', () => {
      dev.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        ManagedPolicyName: 'pdp-dev-producer',
        PolicyDocument: {
          Statement: [{ Sid: 'PutEvents', Effect: 'Allow', Action: ['kinesis:PutRecord', 'kinesis:PutRecords'], Resource: ref(ids.raw) }],
        },
      });
    });

    it('outputs the stream names and ARNs and the producer policy', () => {
      const outputs = dev.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      const byValue = (v: unknown) => Object.values(outputs).some((o) => JSON.stringify(o.Value) === JSON.stringify(v));
      expect(byValue({ Ref: ids.raw })).toBe(true);
      expect(byValue(ref(ids.raw))).toBe(true);
      expect(byValue({ Ref: ids.validated })).toBe(true);
      expect(byValue(ref(ids.validated))).toBe(true);
      expect(Object.keys(outputs).some((k) => k.includes('ProducerPolicyArn'))).toBe(true);
    });
  });

  describe('validation function', () => {
    it('runs on the current Node.js runtime on ARM64 with JSON logs, tracing and its configuration in the environment', () => {
      dev.template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: 'pdp-dev-validate',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
        Environment: {
          Variables: Match.objectLike({
            VALIDATED_STREAM_NAME: { Ref: ids.validated },
            QUARANTINE_BUCKET: { Ref: ids.bucket },
            MAX_EVENT_BYTES: '8192',
            MAX_FUTURE_SKEW_SECONDS: '300',
            MAX_PAST_AGE_SECONDS: String(7 * 24 * 3600),
            QUARANTINE_PAYLOAD_MAX_BYTES: '8192',
            // The quarantine zone's gate reads the tombstones in the ledger table (docs/privacy.md).
            LEDGER_TABLE_NAME: { Ref: dev.stack.getLogicalId(dev.stack.profiles.store.ledger.node.defaultChild as never) },
            POWERTOOLS_SERVICE_NAME: 'validate',
            POWERTOOLS_METRICS_NAMESPACE: 'PersonalizationPlatform',
          }),
        },
      });
    });

    it('reads the raw stream with partial batch failures, bisection, bounded retries, a maximum age and an on-failure queue', () => {
      // Exactly one mapping feeds the validation function (the aggregator has its own, on the validated stream).
      expect(Object.keys(dev.template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: ids.fn } } }))).toHaveLength(1);
      dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: ids.fn },
        EventSourceArn: ref(ids.raw),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 1,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: ref(ids.queue) } },
      });
    });

    it('may read the raw stream, PutRecords to the validated stream, put objects under quarantine/, query the ledger (tombstones), send to its queue, write its own logs, and nothing else', () => {
      const policies = Object.values(dev.template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes('IngestionValidationFunction'),
      );
      expect(policies).toHaveLength(1);
      const statements = policies[0]!.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Effect: string }[];
      const byResource = statements.map((s) => ({ actions: [s.Action].flat().sort(), resource: s.Resource, effect: s.Effect }));
      expect(byResource).toEqual(
        expect.arrayContaining([
          { actions: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], resource: '*', effect: 'Allow' },
          { actions: ['kinesis:PutRecords'], resource: ref(ids.validated), effect: 'Allow' },
          { actions: ['s3:PutObject'], resource: { 'Fn::Join': ['', [ref(ids.bucket), '/quarantine/*']] }, effect: 'Allow' },
          { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: ref(dev.stack.getLogicalId(dev.stack.ingestion.validation.function.logGroup.node.defaultChild as never)), effect: 'Allow' },
          { actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resource: ref(ids.queue), effect: 'Allow' },
          {
            actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
            resource: ref(ids.raw),
            effect: 'Allow',
          },
          // The tombstones' partition, read with one Query (no GetItem, Scan or write: the gate only reads the set).
          { actions: ['dynamodb:Query'], resource: ref(dev.stack.getLogicalId(dev.stack.profiles.store.ledger.node.defaultChild as never)), effect: 'Allow' },
        ]),
      );
      expect(byResource).toHaveLength(7);
    });

    it('sends skipped ranges to an encrypted, TLS-only queue that keeps them 14 days', () => {
      dev.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
      dev.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: ids.queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Resource: ref(ids.queue) }),
          ]),
        },
      });
    });
  });

  describe('alarms', () => {
    const alarmOf = (description: RegExp) => {
      const found = Object.values(dev.template.findResources('AWS::CloudWatch::Alarm')).filter((a) => description.test(a.Properties.AlarmDescription));
      expect(found, String(description)).toHaveLength(1);
      return found[0]!.Properties;
    };
    const topicAction = () => [{ Ref: ids.topic }];

    it('watches the function iterator age (maximum, per minute, 3 of 5 above the stage threshold)', () => {
      expect(alarmOf(/validation function is more than/)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 300_000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        AlarmActions: topicAction(),
      });
    });

    it('watches function errors and throttles of this function', () => {
      for (const [re, metric] of [[/failed whole invocations/, 'Errors'], [/was throttled/, 'Throttles']] as const) {
        expect(alarmOf(re)).toMatchObject({
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
          AlarmActions: topicAction(),
        });
      }
    });

    it('watches the depth of the on-failure queue', () => {
      expect(alarmOf(/Records were skipped/)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: topicAction(),
      });
    });

    it('watches the quarantined share of records from the function metrics, with their service dimension', () => {
      const alarm = alarmOf(/were quarantined/);
      expect(alarm).toMatchObject({ Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 2, AlarmActions: topicAction() });
      const queries = alarm.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: unknown; Period: number; Stat: string }; ReturnData?: boolean }[];
      expect(queries.find((q) => q.Expression)).toMatchObject({ Expression: 'IF(recordsIn > 0, quarantined / recordsIn, 0)' });
      for (const [id, name] of [['recordsIn', 'RecordsIn'], ['quarantined', 'QuarantinedRecords']]) {
        expect(queries.find((q) => q.Id === id)).toMatchObject({
          MetricStat: {
            Metric: { Namespace: 'PersonalizationPlatform', MetricName: name, Dimensions: [{ Name: 'service', Value: 'validate' }] },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        });
      }
    });
  });

  describe('a stage with a customer-managed key, on-demand', () => {
    let cmk: Template;
    beforeAll(() => {
      cmk = synth('secure', { secure: { extends: 'prod', streams: { encryption: 'customer' } } }).template;
    }, 60_000);

    it('encrypts both streams with one rotated key, on demand, retained for 7 days and kept on stack deletion', () => {
      const keys = cmk.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('Kinesis streams') } });
      expect(Object.keys(keys)).toHaveLength(1);
      const keyId = Object.keys(keys)[0]!;
      expect(keys[keyId]).toMatchObject({ Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain' });
      const streams = Object.values(cmk.findResources('AWS::Kinesis::Stream'));
      expect(streams).toHaveLength(2);
      for (const s of streams) {
        expect(s).toMatchObject({
          Properties: { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, RetentionPeriodHours: 168, StreamEncryption: { EncryptionType: 'KMS', KeyId: ref(keyId) } },
          DeletionPolicy: 'Retain',
        });
        expect(s.Properties.ShardCount).toBeUndefined();
      }
      cmk.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: {
          Statement: [
            Match.objectLike({ Action: ['kinesis:PutRecord', 'kinesis:PutRecords'] }),
            { Sid: 'EncryptEvents', Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: ref(keyId) },
          ],
        },
      });
    });

    it('lets the function decrypt what it reads and encrypt what it forwards with that key only', () => {
      const policy = Object.values(cmk.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.Roles).includes('IngestionValidationFunction'))!;
      const kms = (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter((s) => [s.Action].flat().some((a) => a.startsWith('kms:')));
      expect(kms.length).toBeGreaterThan(0);
      for (const s of kms) expect(JSON.stringify(s.Resource)).toMatch(/IngestionStreamsKey/);
      const actions = kms.flatMap((s) => [s.Action].flat());
      expect(actions).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey']));
    });
  });
});
