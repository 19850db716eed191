import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FRESHNESS_METRICS, MAX_PROFILE_SLO_SECONDS, probeDeadlines } from '../../core/canary/freshness';
import { ConfigError } from '../../core/errors';
import { ZONE_PREFIX } from '../../core/lake/layout';
import { FRESHNESS_CANARY_ENV } from '../../lambdas/freshness-canary/config';
import { METRICS_NAMESPACE } from '../shared/metrics';
import { PlatformFunction } from '../shared/platform-function';
import type { StageSchedules } from '../shared/stage-schedules';
import { alarmFactory } from '../shared/alarms';
import { acknowledgeFunctionRoleFindings } from '../shared/stream-consumer';

/** Service name of the canary function (logs, and the `service` dimension of its metrics). */
export const FRESHNESS_CANARY_SERVICE = 'freshness-canary';

/** One probe a minute: Scheduler's finest rate. */
export const PROBE_INTERVAL = Duration.minutes(1);

/** The window the freshness alarms evaluate: p95 over 15 probes, two windows in a row. */
export const FRESHNESS_ALARM_PERIOD = Duration.minutes(15);
export const FRESHNESS_ALARM_PERIODS = 2;

export interface FreshnessCanaryProps {
  /** Where probes are put. */
  readonly rawStream: kinesis.IStream;
  /** Where a probe's profile is read. */
  readonly profileTable: dynamodb.ITable;
  /** Where a probe's curated object is looked for. */
  readonly curatedBucket: s3.IBucket;
  /** The stage's schedule group (its owner alarms on the scheduler's failures). */
  readonly schedules: StageSchedules;
  /** p95 of event time to profile readable that fires the profile freshness alarm. @default 180 s (a 120 s window + 60 s) */
  readonly profileObjective?: Duration;
  /** p95 of event time to curated object that fires the lake freshness alarm. @default 180 s (a 60 s buffer + 120 s) */
  readonly lakeObjective?: Duration;
  /** Physical name of the function and of its schedule. @default generated names */
  readonly name?: string;
  /** Topic the alarms notify. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * End-to-end freshness as an SLO: a schedule of the stage's group invokes the canary function every minute;
 * it puts a probe (a canary event, core/canary/freshness.ts), measures event time to profile-readable and to
 * curated-lake object, and publishes both (EMF). Two alarms fire when the p95 over FRESHNESS_ALARM_PERIOD
 * exceeds the stage's objective (`alarms.profileFreshnessSloSeconds`, default window + 60 s;
 * `alarms.lakeFreshnessSloSeconds`, default Firehose buffer + 120 s) for FRESHNESS_ALARM_PERIODS windows.
 *
 * The function may put records on the raw stream, read profile items, and list the curated zone's event
 * objects, nothing else. Scheduler invokes it asynchronously; a run that fails is not retried (the next
 * minute's probe replaces it), and the errors alarm fires.
 */
export class FreshnessCanary extends Construct {
  readonly function: PlatformFunction;
  readonly schedule: scheduler.Schedule;
  readonly scheduleRole: iam.Role;
  readonly alarms: { readonly profileSlo: cloudwatch.Alarm; readonly lakeSlo: cloudwatch.Alarm; readonly errors: cloudwatch.Alarm };
  /** The objectives, in seconds. */
  readonly slo: { readonly profileSeconds: number; readonly lakeSeconds: number };

  constructor(scope: Construct, id: string, props: FreshnessCanaryProps) {
    super(scope, id);
    this.slo = { profileSeconds: (props.profileObjective ?? Duration.seconds(180)).toSeconds(), lakeSeconds: (props.lakeObjective ?? Duration.seconds(180)).toSeconds() };
    if (this.slo.profileSeconds > MAX_PROFILE_SLO_SECONDS) throw new ConfigError(`FreshnessCanary: profileObjective must be at most ${MAX_PROFILE_SLO_SECONDS} s (a run waits for its probe within one invocation), got ${this.slo.profileSeconds} s`);
    const deadlines = probeDeadlines(this.slo);
    const scheduleName = props.name;

    this.function = new PlatformFunction(this, 'Function', {
      handlerPath: 'freshness-canary/handler.ts',
      serviceName: FRESHNESS_CANARY_SERVICE,
      description: `Freshness canary: a probe a minute, event time to profile readable (SLO ${this.slo.profileSeconds} s) and to curated object (SLO ${this.slo.lakeSeconds} s)`,
      ...(scheduleName ? { functionName: scheduleName } : {}),
      // Most of a run is waiting for the probe's profile: the least memory keeps that cheap.
      memorySize: 128,
      // It waits for its probe's profile up to the profile deadline.
      timeout: Duration.seconds(deadlines.profileSeconds + 45),
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
      environment: {
        [FRESHNESS_CANARY_ENV.rawStream]: props.rawStream.streamName,
        [FRESHNESS_CANARY_ENV.profileTable]: props.profileTable.tableName,
        [FRESHNESS_CANARY_ENV.curatedBucket]: props.curatedBucket.bucketName,
        [FRESHNESS_CANARY_ENV.intervalSeconds]: String(PROBE_INTERVAL.toSeconds()),
        [FRESHNESS_CANARY_ENV.profileSloSeconds]: String(this.slo.profileSeconds),
        [FRESHNESS_CANARY_ENV.lakeSloSeconds]: String(this.slo.lakeSeconds),
      },
    });
    // PutRecords on the raw stream only, as a producer does (and what a producer's key grant allows).
    this.function.addToRolePolicy(new iam.PolicyStatement({ sid: 'PutProbes', actions: ['kinesis:PutRecords'], resources: [props.rawStream.streamArn] }));
    props.rawStream.encryptionKey?.grant(this.function, 'kms:GenerateDataKey');
    this.function.addToRolePolicy(new iam.PolicyStatement({ sid: 'ReadProfileItems', actions: ['dynamodb:GetItem'], resources: [props.profileTable.tableArn] }));
    props.profileTable.encryptionKey?.grantDecrypt(this.function);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListCuratedEvents',
        actions: ['s3:ListBucket'],
        resources: [props.curatedBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${ZONE_PREFIX.curated}*`] } },
      }),
    );

    this.scheduleRole = props.schedules.invokeRole(this, 'ScheduleRole', `EventBridge Scheduler ${scheduleName ?? 'schedule'}: invoke the freshness canary`);
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      ...(scheduleName ? { scheduleName } : {}),
      scheduleGroup: props.schedules.group,
      description: `A freshness probe every minute (SLO: profile p95 <= ${this.slo.profileSeconds} s, lake p95 <= ${this.slo.lakeSeconds} s)`,
      schedule: scheduler.ScheduleExpression.rate(PROBE_INTERVAL),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.function, {
        role: this.scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        // A late probe measures the scheduler, not the pipeline: the next minute's probe replaces it.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      }),
    });
    this.schedule.node.addDependency(props.schedules.group);

    const alarm = alarmFactory(this, props.alarmTopic);
    const slo = (alarmId: string, metricName: string, seconds: number, what: string) =>
      alarm(alarmId, this.metric(metricName, { statistic: 'p95', period: FRESHNESS_ALARM_PERIOD }), {
        alarmDescription: `Freshness SLO breached: p95 of event time to ${what} above ${seconds} s for ${FRESHNESS_ALARM_PERIODS} x ${FRESHNESS_ALARM_PERIOD.toMinutes()} minutes (freshness canary)`,
        threshold: seconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: FRESHNESS_ALARM_PERIODS,
      });
    this.alarms = {
      profileSlo: slo('ProfileFreshnessAlarm', FRESHNESS_METRICS.profileSeconds, this.slo.profileSeconds, 'profile readable'),
      lakeSlo: slo('LakeFreshnessAlarm', FRESHNESS_METRICS.lakeSeconds, this.slo.lakeSeconds, 'curated-lake object'),
      errors: alarm('ErrorsAlarm', this.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(15) }), {
        alarmDescription: 'The freshness canary failed runs (its probe could not be put, or a read failed): freshness is not being measured',
        threshold: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      }),
    };
    this.acknowledgeFindings();
  }

  /** A metric the canary publishes (EMF), with its `service` dimension. */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: FRESHNESS_CANARY_SERVICE }, period: Duration.minutes(5), ...props });
  }

  private acknowledgeFindings(): void {
    acknowledgeFunctionRoleFindings(this.function);
    Validations.of(this.scheduleRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason: "The schedule's role may invoke only the canary function; '<function ARN>:*' (its versions and aliases) is part of the grant Lambda targets are given.",
    });
  }
}
