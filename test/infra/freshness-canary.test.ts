/**
 * The freshness canary as deployed (CDK assertions on the synthesized prod stage), with the AWS rules the
 * local runtime does not model, each pinned here:
 *
 * - EventBridge Scheduler's confused-deputy guidance: the role's `aws:SourceArn` must name the schedule GROUP
 *   ("Do not scope the aws:SourceArn statement to a specific schedule ... must be a schedule group").
 * - Scheduler invokes a Lambda target asynchronously: the schedule's own retries and Lambda's async retries
 *   are both off (a late probe measures the scheduler, not the pipeline; the next minute's probe replaces it).
 * - CloudWatch "needs raw data points to calculate percentile statistics" and "percentile statistics are not
 *   available for metrics when any of the metric values are negative numbers" (GetMetricStatistics): the
 *   canary publishes one raw EMF value per sample, never negative (test/canary/freshness.test.ts), and the
 *   alarms use p95.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FRESHNESS_METRICS, probeDeadlines } from '../../core/canary/freshness';
import { FRESHNESS_CANARY_ENV } from '../../lambdas/freshness-canary/config';
import { synthesizeStage, type SynthesizedStage } from './support';

interface Resource { Type: string; Properties: Record<string, any> }
let prod: SynthesizedStage;
let resources: Record<string, Resource>;
const id = (construct: { node: { defaultChild?: unknown } }) => prod.stack.getLogicalId(construct.node.defaultChild as never);

beforeAll(() => {
  prod = synthesizeStage('prod');
  resources = prod.template.toJSON().Resources as Record<string, Resource>;
});

describe('the freshness canary', () => {
  it('runs every minute in the stage schedule group, with the scheduled time, and no retries anywhere', () => {
    const canary = prod.stack.freshnessCanary!;
    const schedule = Object.values(resources).find((r) => r.Type === 'AWS::Scheduler::Schedule' && r.Properties.Name === 'pdp-prod-freshness-canary')!;
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(schedule.Properties.GroupName).toBe('pdp-prod-schedules');
    expect(schedule.Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(schedule.Properties.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 0 });
    expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [id(canary.function), 'Arn'] });
    prod.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id(canary.function) }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  it("may be invoked only by this account's schedules of the stage's group (the group, not the schedule)", () => {
    const role = resources[id(prod.stack.freshnessCanary!.scheduleRole)]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' }, 'aws:SourceArn': prod.stack.resolve(prod.stack.schedules.group.scheduleGroupArn) } },
      },
    ]);
  });

  it('may put on the raw stream, read profile items and list the curated events, nothing else', () => {
    const fn = prod.stack.freshnessCanary!.function;
    const roleId = id(fn.role as never);
    const policies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[]);
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid!, s]));
    expect(bySid.PutProbes).toMatchObject({ Action: 'kinesis:PutRecords', Resource: prod.stack.resolve(prod.stack.ingestion.rawStream.streamArn) });
    expect(bySid.ReadProfileItems).toMatchObject({ Action: 'dynamodb:GetItem', Resource: prod.stack.resolve(prod.stack.profiles.table.tableArn) });
    expect(bySid.ListCuratedEvents).toMatchObject({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': ['events/*'] } } });
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.filter((a) => !['kinesis:PutRecords', 'dynamodb:GetItem', 's3:ListBucket', 'logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords'].includes(a))).toEqual([]);
  });

  it("is configured with the stage's objectives and waits for a profile within one invocation", () => {
    const fn = resources[id(prod.stack.freshnessCanary!.function)]!;
    const env = fn.Properties.Environment.Variables;
    expect(env[FRESHNESS_CANARY_ENV.profileSloSeconds]).toBe('180');
    expect(env[FRESHNESS_CANARY_ENV.lakeSloSeconds]).toBe('420');
    expect(env[FRESHNESS_CANARY_ENV.intervalSeconds]).toBe('60');
    expect(fn.Properties.Timeout).toBeGreaterThan(probeDeadlines({ profileSeconds: 180, lakeSeconds: 420 }).profileSeconds);
    expect(fn.Properties.Timeout).toBeLessThanOrEqual(900);
  });

  it('alarms on the p95 of each path above its objective, two 15-minute windows in a row, on the alarm topic', () => {
    const topic = prod.stack.resolve(prod.stack.alarms.topic.topicArn);
    for (const [metric, threshold] of [[FRESHNESS_METRICS.profileSeconds, 180], [FRESHNESS_METRICS.lakeSeconds, 420]] as const) {
      prod.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'PersonalizationPlatform',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'freshness-canary' }],
        ExtendedStatistic: 'p95',
        Period: 900,
        EvaluationPeriods: 2,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [topic],
      });
    }
  });
});
