import { Aws, Duration, RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PROFILE_EXPORT_PREFIX } from '../../core/lake/catalog';
import { EXPORT_RUN_DELAY_MINUTES } from '../../core/lake/profile-export';
import { EXPORT_PROFILES_ENV } from '../../lambdas/export-profiles/config';
import { ConfigError } from '../../core/errors';
import { PlatformFunction } from '../shared/platform-function';
import { alarmFactory } from '../shared/alarms';
import { acknowledgeFunctionRoleFindings } from '../shared/stream-consumer';

/** Service name of the export function (logs). */
export const EXPORT_PROFILES_SERVICE = 'export-profiles';

/**
 * Retry bounds of a run. DynamoDB honours an export's ClientToken for 8 hours, so every attempt of one run
 * must happen within that for a retry never to start a second export: Scheduler retries a failed delivery
 * for at most SCHEDULE_MAX_EVENT_AGE, Lambda retries a failed invocation for at most FUNCTION_MAX_EVENT_AGE.
 */
export const SCHEDULE_MAX_EVENT_AGE = Duration.hours(1);
export const SCHEDULE_RETRY_ATTEMPTS = 5;
export const FUNCTION_MAX_EVENT_AGE = Duration.hours(1);
export const FUNCTION_RETRY_ATTEMPTS = 2;

export interface ProfileExportProps {
  /** The profile table (point-in-time recovery on). */
  readonly table: dynamodb.ITable;
  /** The curated zone, where the profile_exports table reads the snapshots. */
  readonly curatedBucket: s3.IBucket;
  /** Topic the alarms notify. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** UTC hour (0-23) as of which the daily export is taken. @default 2 */
  readonly exportHourUtc?: number;
  /** Physical name of the export function and of the schedule. @default generated names */
  readonly name?: string;
  /** Name of the schedule group (the role's trust condition names it). @default a generated name */
  readonly scheduleGroupName?: string;
}

/**
 * The daily profile export: an EventBridge Scheduler schedule invokes a small function at
 * `lake.profileExportHourUtc`:15 UTC, which asks DynamoDB to export the profile table as of the full hour
 * before (`lake.profileExportHourUtc`:00) into the curated bucket under `profile-exports/snapshot=<UTC day>/`.
 * The golden-dataset reconciliation reads the latest completed one of these snapshots.
 *
 * Why a quarter of an hour later: an export can only be taken as of a restorable time, and point-in-time
 * recovery's latest restorable time is typically 5 minutes behind now (DynamoDB API Reference,
 * PointInTimeRecoveryDescription). The function also reads the restorable window and fails (to be retried)
 * rather than ask for a time that is not restorable yet.
 *
 * Scheduler rather than an EventBridge rule: it passes the exact scheduled time to the target
 * (`<aws.scheduler.scheduled-time>`; a rule's event `time` is when the event was emitted), so the export time,
 * snapshot day and idempotency token are fixed by the schedule whatever delay or retry the invocation has;
 * its retry policy is bounded explicitly (see SCHEDULE_MAX_EVENT_AGE); the time zone is part of the
 * schedule; and one schedule costs nothing within the free tier of 14 million invocations a month.
 *
 * The function may only start exports of this table and write (PutObject, PutObjectAcl,
 * AbortMultipartUpload: what DynamoDB documents an export needs) under `profile-exports/` of the curated
 * bucket: DynamoDB writes the export with the caller's permissions. A failed run fails the invocation; the
 * errors alarm notifies the alarm topic.
 */
export class ProfileExport extends Construct {
  readonly function: PlatformFunction;
  readonly schedule: scheduler.Schedule;
  /** The role Scheduler assumes to invoke the function. */
  readonly scheduleRole: iam.Role;
  /** The stage's schedule group: the role's trust condition and the scheduler's metrics are per group. */
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly errorsAlarm: cloudwatch.Alarm;
  /** The scheduler's own failures: the target refused the invocation, or the retries were exhausted. */
  readonly schedulerAlarms: { readonly targetErrors: cloudwatch.Alarm; readonly dropped: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: ProfileExportProps) {
    super(scope, id);
    const hour = props.exportHourUtc ?? 2;
    if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new ConfigError(`profile export: exportHourUtc must be an integer from 0 to 23, got ${hour}`);

    this.function = new PlatformFunction(this, 'Function', {
      handlerPath: 'export-profiles/handler.ts',
      serviceName: EXPORT_PROFILES_SERVICE,
      description: `Starts the daily DynamoDB export of the profile table into the curated zone (${PROFILE_EXPORT_PREFIX}snapshot=YYYY-MM-DD/)`,
      ...(props.name ? { functionName: props.name } : {}),
      memorySize: 256,
      timeout: Duration.seconds(30),
      // Scheduler invokes asynchronously: Lambda retries a failed run this often, within this age.
      retryAttempts: FUNCTION_RETRY_ATTEMPTS,
      maxEventAge: FUNCTION_MAX_EVENT_AGE,
      environment: {
        [EXPORT_PROFILES_ENV.tableArn]: props.table.tableArn,
        [EXPORT_PROFILES_ENV.bucket]: props.curatedBucket.bucketName,
        [EXPORT_PROFILES_ENV.bucketOwner]: Aws.ACCOUNT_ID,
      },
    });
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ExportProfileTable',
        actions: ['dynamodb:DescribeContinuousBackups', 'dynamodb:ExportTableToPointInTime'],
        resources: [props.table.tableArn],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteProfileExports',
        actions: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'],
        resources: [props.curatedBucket.arnForObjects(`${PROFILE_EXPORT_PREFIX}*`)],
      }),
    );

    const scheduleName = props.name;
    // The stage's own group, deleted with the stack (a retained named group would block a redeploy).
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'ScheduleGroup', {
      ...(props.scheduleGroupName ? { scheduleGroupName: props.scheduleGroupName } : {}),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Only schedules of this group, in this account, may assume the role (confused-deputy protection). The
    // condition must name the schedule GROUP: EventBridge Scheduler's confused-deputy guidance says "Do not
    // scope the aws:SourceArn statement to a specific schedule ... The ARN you specify must be a schedule group."
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: `EventBridge Scheduler ${scheduleName ?? 'schedule'}: invoke the profile export function`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Aws.ACCOUNT_ID,
            'aws:SourceArn': this.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
    });
    const hh = String(hour).padStart(2, '0');
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      ...(scheduleName ? { scheduleName } : {}),
      scheduleGroup: this.scheduleGroup,
      description: `Daily export of the profile table as of ${hh}:00 UTC, run at ${hh}:${EXPORT_RUN_DELAY_MINUTES} UTC, for the golden-dataset reconciliation`,
      schedule: scheduler.ScheduleExpression.cron({ minute: String(EXPORT_RUN_DELAY_MINUTES), hour: String(hour), timeZone: TimeZone.ETC_UTC }),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.function, {
        role: this.scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
        maxEventAge: SCHEDULE_MAX_EVENT_AGE,
      }),
    });
    // The schedule names its group by its literal name: create the group first.
    this.schedule.node.addDependency(this.scheduleGroup);

    const alarm = alarmFactory(this, props.alarmTopic);
    this.errorsAlarm = alarm('ErrorsAlarm', this.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) }), {
      alarmDescription:
        "The daily profile export could not be started (point-in-time recovery off, access denied, or a DynamoDB error; see the function's log): today's reconciliation snapshot is missing until it succeeds",
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    });
    // A schedule that cannot invoke its target (a role it cannot assume, a deleted function) never runs the
    // function, so the errors alarm above cannot see it; the scheduler's own metrics can.
    const schedulerAlarm = (alarmId: string, metric: cloudwatch.Metric, description: string) =>
      alarm(alarmId, metric, { alarmDescription: description, threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, evaluationPeriods: 1 });
    const hourly = { statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) };
    this.schedulerAlarms = {
      targetErrors: schedulerAlarm(
        'SchedulerTargetErrorsAlarm',
        this.scheduleGroup.metricTargetErrors(hourly),
        `EventBridge Scheduler could not invoke the profile export function (group ${this.scheduleGroup.scheduleGroupName}: role trust, permissions or a missing function); it retries for ${SCHEDULE_MAX_EVENT_AGE.toHours()} h`,
      ),
      dropped: schedulerAlarm(
        'SchedulerDroppedAlarm',
        this.scheduleGroup.metricDropped(hourly),
        "EventBridge Scheduler gave up invoking the profile export function after its retries: today's reconciliation snapshot will not be taken",
      ),
    };

    this.acknowledgeFindings(props);
  }

  /** Acknowledges each cdk-nag finding by its exact id, with its reason. */
  private acknowledgeFindings(props: ProfileExportProps): void {
    acknowledgeFunctionRoleFindings(this.function);
    const stack = Stack.of(this);
    const attToken = (arn: string): string => {
      const resolved = stack.resolve(arn) as { 'Fn::GetAtt'?: [string, string] } | string;
      return typeof resolved === 'object' && resolved['Fn::GetAtt'] ? `<${resolved['Fn::GetAtt'][0]}.Arn>` : String(resolved);
    };
    Validations.of(this.function.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${attToken(props.curatedBucket.bucketArn)}/${PROFILE_EXPORT_PREFIX}*]`,
      reason: `DynamoDB names the export's objects itself (${PROFILE_EXPORT_PREFIX}snapshot=<day>/AWSDynamoDB/<export id>/...), so the object ARN ends in the prefix wildcard; nothing outside ${PROFILE_EXPORT_PREFIX} is writable.`,
    });
    // The Scheduler target grants lambda:InvokeFunction on the function and on its versions and aliases.
    Validations.of(this.scheduleRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${attToken(this.function.functionArn)}:*]`,
      reason: "The schedule's role may invoke only the export function; '<function ARN>:*' (its versions and aliases) is part of the grant Lambda targets are given.",
    });
  }
}
