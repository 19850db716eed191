/**
 * The profile resources as synthesized in the real PlatformStack (cdk-nag runs on every synth: an
 * unacknowledged finding fails it), for the dev stage and the prod stage.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import type { PlatformStack } from '../../lib/platform-stack';
import { ProfileStore } from '../../lib/profiles';

function synth(stage: string): { stack: PlatformStack; template: Template } {
  const { stack } = createPlatformApp({ context: { stage }, builtinCloudFormationValidation: false } as never);
  return { stack, template: Template.fromStack(stack) };
}

describe('profiles infrastructure', () => {
  let dev: { stack: PlatformStack; template: Template };
  let prod: { stack: PlatformStack; template: Template };
  let ids: { table: string; ledger: string; fn: string; queue: string; validated: string; topic: string };

  beforeAll(() => {
    dev = synth('dev');
    prod = synth('prod');
    const s = dev.stack;
    const id = (c: { node: { defaultChild?: unknown } }) => s.getLogicalId(c.node.defaultChild as never);
    ids = {
      table: id(s.profiles.table),
      ledger: id(s.profiles.store.ledger),
      fn: id(s.profiles.aggregator.function),
      queue: id(s.profiles.aggregator.onFailureQueue),
      validated: id(s.ingestion.validatedStream as never),
      topic: (s.resolve(s.alarms.topic.topicArn) as { Ref: string }).Ref,
    };
  }, 120_000);

  const resource = (t: Template, logicalId: string) => t.toJSON().Resources[logicalId] as { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

  describe('profile store', () => {
    it('keys profiles by user_id, bills on demand, encrypts with the AWS-managed key, keeps PITR and a TTL on expires_at (dev: deletable)', () => {
      expect((resource(dev.template, ids.table).Properties as { SSESpecification: unknown }).SSESpecification).toEqual({ SSEEnabled: true });
      expect(resource(dev.template, ids.table)).toMatchObject({
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'pdp-dev-profiles',
          KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'user_id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          // SSEEnabled without a key: KMS with the AWS-managed key aws/dynamodb (no key to pay for or rotate).
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
          DeletionProtectionEnabled: false,
        },
        DeletionPolicy: 'Delete',
      });
    });

    it('keeps the ledger of applied event ids beside it: user_id and event-time slot, same encryption, PITR and billing, a TTL', () => {
      expect(resource(dev.template, ids.ledger)).toMatchObject({
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'pdp-dev-profile-ledger',
          KeySchema: [
            { AttributeName: 'user_id', KeyType: 'HASH' },
            { AttributeName: 'slot', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
          DeletionProtectionEnabled: false,
        },
        DeletionPolicy: 'Delete',
      });
      const prodLedger = Object.values(prod.template.findResources('AWS::DynamoDB::Table')).find((t) => JSON.stringify(t).includes('profile-ledger'));
      expect(prodLedger).toMatchObject({ DeletionPolicy: 'Retain', Properties: { DeletionProtectionEnabled: true } });
    });

    it('is retained with deletion protection in prod', () => {
      const [table] = Object.values(prod.template.findResources('AWS::DynamoDB::Table'));
      expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { DeletionProtectionEnabled: true, TableName: 'pdp-prod-profiles' } });
    });

    it('outputs the table name and ARN', () => {
      const outputs = dev.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      const values = Object.values(outputs).map((o) => JSON.stringify(o.Value));
      expect(values).toContain(JSON.stringify({ Ref: ids.table }));
      expect(values).toContain(JSON.stringify({ 'Fn::GetAtt': [ids.table, 'Arn'] }));
    });

    it('grants readers GetItem, BatchGetItem and DescribeTable on the profile table only', () => {
      const stack = new Stack(new App(), 'ReaderGrant');
      const store = new ProfileStore(stack, 'Store');
      const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      store.grantRead(role);
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable'],
              Resource: { 'Fn::GetAtt': [stack.getLogicalId(store.table.node.defaultChild as never), 'Arn'] },
            },
          ],
        },
      });
    });
  });

  describe('profile readers', () => {
    it("get a managed policy, like the producers', allowing only the reads ProfileStore.grantRead allows", () => {
      dev.template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        ManagedPolicyName: 'pdp-dev-profile-reader',
        PolicyDocument: {
          Statement: [
            { Sid: 'ReadProfiles', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DescribeTable'], Resource: { 'Fn::GetAtt': [ids.table, 'Arn'] } },
          ],
        },
      });
      const outputs = dev.template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs.ProfileReaderPolicyArn!.Value).toEqual({ Ref: dev.stack.getLogicalId(dev.stack.profiles.readerPolicy.node.defaultChild as never) });
    });
  });

  describe('aggregator', () => {
    it('runs on the current Node.js runtime on ARM64 with its configuration in the environment', () => {
      expect(resource(dev.template, ids.fn)).toMatchObject({
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'pdp-dev-aggregate',
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          MemorySize: 512,
          Timeout: 120,
          TracingConfig: { Mode: 'Active' },
          Environment: {
            Variables: expect.objectContaining({
              PROFILE_TABLE_NAME: { Ref: ids.table },
              LEDGER_TABLE_NAME: { Ref: ids.ledger },
              WINDOW_SECONDS: '120',
              WRITE_CONCURRENCY: '16',
              POWERTOOLS_SERVICE_NAME: 'aggregate',
            }),
          },
        },
      });
      const env = (resource(dev.template, ids.fn).Properties.Environment as { Variables: Record<string, string> }).Variables;
      // The ledger keeps an hour's ids for 7 days of accepted past age + 24 h of raw + 24 h of validated retention + 1 day.
      expect(JSON.parse(env.PROFILE_SETTINGS!)).toEqual({ affinityHalfLifeDays: 14, topCategories: 10, recentContent: 10, sessionsKept: 5, ttlDays: 400, ledgerRetentionHours: 168 + 24 + 24 + 24 });
      const prodEnv = (Object.values(prod.template.findResources('AWS::Lambda::Function')).find((f) => JSON.stringify(f).includes('PROFILE_SETTINGS')) as {
        Properties: { Environment: { Variables: Record<string, string> } };
      }).Properties.Environment.Variables;
      expect(JSON.parse(prodEnv.PROFILE_SETTINGS!).ledgerRetentionHours).toBe(168 + 168 + 168 + 24);
    });

    it('reads the validated stream with a tumbling window, partial batch responses, bisection, bounded retries and age, and an on-failure queue', () => {
      dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: ids.fn },
        EventSourceArn: { 'Fn::GetAtt': [ids.validated, 'Arn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 1,
        TumblingWindowInSeconds: 120,
        ParallelizationFactor: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 5,
        MaximumRecordAgeInSeconds: 21600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [ids.queue, 'Arn'] } } },
      });
    });

    it('has an encrypted on-failure queue that refuses plain-HTTP access', () => {
      expect(resource(dev.template, ids.queue).Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
      dev.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: ids.queue }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    it('may batch-read and update profiles and ledger items, write and delete link items, and nothing else on either table; so may each other role only its part (the freshness canary only reads its probes)', () => {
      const policies = dev.template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }>;
      const byRole = new Map<string, unknown[]>();
      for (const p of Object.values(policies)) {
        const statements = p.Properties.PolicyDocument.Statement.filter((st) => JSON.stringify(st.Resource).includes(ids.table) || JSON.stringify(st.Resource).includes(ids.ledger));
        if (statements.length === 0) continue;
        const role = p.Properties.Roles[0]!.Ref;
        byRole.set(role, [...(byRole.get(role) ?? []), ...statements]);
      }
      const table = { 'Fn::GetAtt': [ids.table, 'Arn'] };
      const ledger = { 'Fn::GetAtt': [ids.ledger, 'Arn'] };
      const roleOf = (fragment: string) => [...byRole.keys()].filter((r) => r.includes(fragment));
      expect(roleOf('Aggregator')).toHaveLength(1);
      expect(byRole.get(roleOf('Aggregator')[0]!)).toEqual([
        { Effect: 'Allow', Action: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'], Resource: [table, ledger] },
        // Identity stitching: the link item of an anonymous id, and its removal when another user claimed it first.
        { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: ledger },
      ]);
      // The lake's gates read the tombstones' partition of the ledger (a Query), nothing else of either table:
      // the curated gate, the raw zone's (the raw framing function) and the quarantine zone's (the validation function).
      expect(byRole.get(roleOf('Curation')[0]!)).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: ledger }]);
      const rawFramingRole = dev.stack.getLogicalId(dev.stack.lakeDelivery.rawFraming.role!.node.defaultChild as never);
      expect(byRole.get(rawFramingRole)).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: ledger }]);
      const validationRole = dev.stack.getLogicalId(dev.stack.ingestion.validation.function.role!.node.defaultChild as never);
      expect(byRole.get(validationRole)).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: ledger }]);
      // An erasure replaces profiles with tombstones and deletes ledger items and links.
      expect(byRole.get(roleOf('Erasure')[0]!)).toEqual([
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: table },
        { Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem'], Resource: ledger },
      ]);
      // The freshness canary reads its probes' profiles, and nothing else.
      const canaryRole = dev.stack.getLogicalId(dev.stack.freshnessCanary!.function.role!.node.defaultChild as never);
      expect(byRole.get(canaryRole)).toEqual([{ Sid: 'ReadProfileItems', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: table }]);
      expect(byRole.size).toBe(6);
    });
  });

  describe('alarms', () => {
    const alarms = () => Object.values(dev.template.findResources('AWS::CloudWatch::Alarm')) as { Properties: Record<string, unknown> }[];
    const notifiesTopic = (a: { Properties: Record<string, unknown> }) => JSON.stringify(a.Properties.AlarmActions) === JSON.stringify([{ Ref: ids.topic }]);

    it('alarms on the aggregator iterator age (window + configured lag) by function name', () => {
      const a = alarms().find((x) => x.Properties.MetricName === 'IteratorAge' && JSON.stringify(x.Properties.Dimensions).includes(ids.fn));
      expect(a?.Properties).toMatchObject({
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }],
        Statistic: 'Maximum',
        Threshold: (300 + 120) * 1000,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      expect(notifiesTopic(a!)).toBe(true);
    });

    it('alarms on aggregator errors by function name', () => {
      const a = alarms().find((x) => x.Properties.MetricName === 'Errors' && JSON.stringify(x.Properties.Dimensions).includes(ids.fn));
      expect(a?.Properties).toMatchObject({ Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: ids.fn } }], Statistic: 'Sum', Threshold: 1 });
      expect(notifiesTopic(a!)).toBe(true);
    });

    it('alarms on DynamoDB throttled requests of both tables, per operation', () => {
      const a = alarms().find((x) => JSON.stringify(x.Properties.Metrics ?? []).includes('ThrottledRequests'));
      expect(a).toBeDefined();
      const metrics = a!.Properties.Metrics as { MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown } } }[];
      const stats = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat!.Metric);
      expect(stats.map((m) => [m.Namespace, m.MetricName])).toEqual(Array(5).fill(['AWS/DynamoDB', 'ThrottledRequests']));
      const dims = (table: string, op: string) => expect.arrayContaining([{ Name: 'Operation', Value: op }, { Name: 'TableName', Value: { Ref: table } }]);
      expect(stats.map((m) => m.Dimensions)).toEqual([
        ...['GetItem', 'BatchGetItem', 'UpdateItem'].map((op) => dims(ids.table, op)),
        ...['BatchGetItem', 'UpdateItem'].map((op) => dims(ids.ledger, op)),
      ]);
      const sum = metrics.find((m) => !m.MetricStat) as unknown as { Expression: string };
      expect(sum.Expression.split(' + ')).toHaveLength(5);
      expect(a!.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(notifiesTopic(a!)).toBe(true);
    });

    it('alarms when the on-failure queue holds records', () => {
      const a = alarms().find((x) => x.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' && JSON.stringify(x.Properties.Dimensions).includes(ids.queue));
      expect(a?.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
        Threshold: 1,
      });
      expect(notifiesTopic(a!)).toBe(true);
    });
  });
});
