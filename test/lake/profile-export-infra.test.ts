/** CDK assertions on the scheduled profile export of the real PlatformStack (prod: daily; dev: none). */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlatformApp } from '../../lib/app';
import { BUILT_IN_STAGES, StageConfigError, resolveStage } from '../../lib/config/stage-config';
import { FUNCTION_MAX_EVENT_AGE, FUNCTION_RETRY_ATTEMPTS, SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from '../../lib/lake/profile-export';
import type { PlatformStack } from '../../lib/platform-stack';

interface Synth { stack: PlatformStack; template: Template; json: { Resources: Record<string, { Type: string; Properties: Record<string, any> }> } }

function synth(stage: string, stages?: unknown): Synth {
  // Not bundled: the template is the same but for asset hashes (other tests bundle the function).
  const { stack } = createPlatformApp({ context: { stage, ...(stages ? { stages } : {}), 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false } as never);
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as Synth['json'] };
}
const logicalId = (s: Synth, construct: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(construct.node.defaultChild as never);
const policyOf = (s: Synth, roleId: string) => {
  const policies = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId));
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties.PolicyDocument.Statement as unknown[];
};

let prod: Synth;
let dev: Synth;
beforeAll(() => {
  prod = synth('prod');
  dev = synth('dev');
});

describe('prod: daily profile export', () => {
  const ids = () => {
    const e = prod.stack.profileExport!;
    return {
      fn: logicalId(prod, e.function),
      fnRole: logicalId(prod, e.function.role as never),
      scheduleRole: logicalId(prod, e.scheduleRole),
      table: logicalId(prod, prod.stack.profiles.table),
      curated: logicalId(prod, prod.stack.lake.curatedBucket as never),
      topic: prod.stack.resolve(prod.stack.alarms.topic.topicArn),
    };
  };

  it('is on in prod and off in dev by default', () => {
    expect(BUILT_IN_STAGES.prod!.lake.profileExport).toBe('daily');
    expect(BUILT_IN_STAGES.dev!.lake.profileExport).toBe('off');
    expect(BUILT_IN_STAGES.prod!.lake.profileExportHourUtc).toBe(2);
    expect(prod.stack.profileExport).toBeDefined();
  });

  it('runs every day at 02:15 UTC in the stage\'s schedule group, invoking the function with the scheduled time, with bounded retries', () => {
    const { fn, scheduleRole } = ids();
    const schedules = Object.values(prod.json.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule' && r.Properties.Name === 'pdp-prod-export-profiles');
    expect(schedules).toHaveLength(1);
    const p = schedules[0]!.Properties;
    expect(p.Name).toBe('pdp-prod-export-profiles');
    expect(p.ScheduleExpression).toBe('cron(15 2 * * ? *)');
    expect(p.ScheduleExpressionTimezone).toBe('Etc/UTC');
    expect(p.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    expect(p.State).toBe('ENABLED');
    expect(p.GroupName).toBe('pdp-prod-schedules'); // the role's trust condition names this group
    expect(p.Target.Arn).toEqual({ 'Fn::GetAtt': [fn, 'Arn'] });
    expect(p.Target.RoleArn).toEqual({ 'Fn::GetAtt': [scheduleRole, 'Arn'] });
    expect(JSON.parse(p.Target.Input)).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(p.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS });
    expect(p.Target.DeadLetterConfig).toBeUndefined();
  });

  it('keeps every attempt of a run within the 8 hours DynamoDB honours a ClientToken', () => {
    const { fn } = ids();
    prod.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fn },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: FUNCTION_RETRY_ATTEMPTS,
      MaximumEventAgeInSeconds: FUNCTION_MAX_EVENT_AGE.toSeconds(),
    });
    expect(SCHEDULE_MAX_EVENT_AGE.toSeconds() + FUNCTION_MAX_EVENT_AGE.toSeconds()).toBeLessThan(Duration.hours(8).toSeconds());
  });

  it('the function is configured with the table ARN, the curated bucket and its owner', () => {
    const { fn, table, curated } = ids();
    const p = prod.json.Resources[fn]!.Properties;
    expect(p.FunctionName).toBe('pdp-prod-export-profiles');
    expect(p.Handler).toBe('index.handler');
    expect(p.Runtime).toBe('nodejs24.x');
    expect(p.Architectures).toEqual(['arm64']);
    expect(p.Environment.Variables).toMatchObject({
      PROFILE_TABLE_ARN: { 'Fn::GetAtt': [table, 'Arn'] },
      EXPORT_BUCKET: { Ref: curated },
      EXPORT_BUCKET_OWNER: { Ref: 'AWS::AccountId' },
      POWERTOOLS_SERVICE_NAME: 'export-profiles',
    });
  });

  it("the function's role may only export this table and write under profile-exports/ of the curated bucket", () => {
    const { fnRole, table, curated } = ids();
    expect(policyOf(prod, fnRole)).toEqual([
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logicalId(prod, prod.stack.profileExport!.function.logGroup as never), 'Arn'] },
      },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
      {
        Sid: 'ExportProfileTable',
        Effect: 'Allow',
        Action: ['dynamodb:DescribeContinuousBackups', 'dynamodb:ExportTableToPointInTime'],
        Resource: { 'Fn::GetAtt': [table, 'Arn'] },
      },
      {
        Sid: 'WriteProfileExports',
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'],
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/profile-exports/*']] },
      },
    ]);
    expect(prod.json.Resources[fnRole]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it("the schedule's role can only be assumed by the stage's schedule group and may only invoke the function", () => {
    const { fn, scheduleRole } = ids();
    expect(prod.json.Resources[scheduleRole]!.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': prod.stack.resolve(prod.stack.profileExport!.scheduleGroup.scheduleGroupArn),
          },
        },
      },
    ]);
    expect(policyOf(prod, scheduleRole)).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [{ 'Fn::GetAtt': [fn, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fn, 'Arn'] }, ':*']] }],
      },
    ]);
  });

  it('alarms on any function error, on the alarm topic', () => {
    const { fn, topic } = ids();
    const alarm = prod.json.Resources[prod.stack.getLogicalId(prod.stack.profileExport!.errorsAlarm.node.defaultChild as never)]!.Properties;
    expect(alarm).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn } }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
  });

  it('runs at the configured hour', () => {
    const s = synth('late', { late: { extends: 'prod', lake: { profileExportHourUtc: 23 } } });
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', { Name: 'pdp-late-export-profiles', ScheduleExpression: 'cron(15 23 * * ? *)' });
  });
});

describe('dev: no profile export', () => {
  it('creates no schedule, no function, no export permission', () => {
    expect(dev.stack.profileExport).toBeUndefined();
    // The stage's only schedule is the freshness canary's.
    expect(Object.values(dev.json.Resources).filter((r) => r.Type === 'AWS::Scheduler::Schedule').map((r) => r.Properties.Name)).toEqual(['pdp-dev-freshness-canary']);
    const functions = Object.values(dev.json.Resources).filter((r) => r.Type === 'AWS::Lambda::Function').map((r) => r.Properties.FunctionName);
    expect(functions).not.toContain('pdp-dev-export-profiles');
    expect(JSON.stringify(dev.json)).not.toContain('dynamodb:ExportTableToPointInTime');
  });

  it('a stage can turn it on', () => {
    const s = synth('qa', { qa: { extends: 'dev', lake: { profileExport: 'daily' } } });
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', { Name: 'pdp-qa-export-profiles', ScheduleExpression: 'cron(15 2 * * ? *)' });
  });
});

describe('configuration', () => {
  it.each([
    [{ profileExport: 'weekly' }, /stages\.s\.lake\.profileExport must be one of 'daily', 'off', got "weekly"/],
    [{ profileExportHourUtc: 24 }, /stages\.s\.lake\.profileExportHourUtc must be an integer from 0 to 23, got 24/],
    [{ profileExportHourUtc: 1.5 }, /profileExportHourUtc must be an integer from 0 to 23, got 1.5/],
  ])('rejects lake %j', (lake, message) => {
    expect(() => resolveStage('s', { s: { lake } })).toThrow(StageConfigError);
    expect(() => resolveStage('s', { s: { lake } })).toThrow(message);
  });
});
