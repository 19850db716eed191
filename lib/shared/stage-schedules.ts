import { Aws, CfnResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmFactory } from './alarms';

/**
 * Logical id the group had when it belonged to the profile export: kept, so a deployed stage updates its
 * group in place instead of creating a second group of the same name (which CloudFormation would refuse).
 */
const GROUP_LOGICAL_ID = 'ProfileExportScheduleGroup90E8C415';

export interface StageSchedulesProps {
  /** Name of the schedule group. @default a generated name */
  readonly scheduleGroupName?: string;
  /** Topic the scheduler's alarms notify. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * The stage's EventBridge Scheduler group, shared by its schedules (the daily profile export, the freshness
 * canary), with the scheduler's own alarms: a schedule that cannot invoke its target never runs the
 * function, so the function's errors alarm cannot see it; the group's metrics can.
 */
export class StageSchedules extends Construct {
  readonly group: scheduler.ScheduleGroup;
  readonly alarms: { readonly targetErrors: cloudwatch.Alarm; readonly dropped: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: StageSchedulesProps = {}) {
    super(scope, id);
    // The stage's own group, deleted with the stack (a retained named group would block a redeploy).
    this.group = new scheduler.ScheduleGroup(this, 'Group', {
      ...(props.scheduleGroupName ? { scheduleGroupName: props.scheduleGroupName } : {}),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    (this.group.node.defaultChild as CfnResource).overrideLogicalId(GROUP_LOGICAL_ID);
    const alarm = alarmFactory(this, props.alarmTopic);
    const hourly = { statistic: cloudwatch.Stats.SUM, period: Duration.hours(1) };
    const options = (description: string) => ({ alarmDescription: description, threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, evaluationPeriods: 1 });
    this.alarms = {
      targetErrors: alarm(
        'SchedulerTargetErrorsAlarm',
        this.group.metricTargetErrors(hourly),
        options(`EventBridge Scheduler could not invoke a target of group ${this.group.scheduleGroupName} (role trust, permissions or a missing function); it retries within each schedule's retry policy`),
      ),
      dropped: alarm(
        'SchedulerDroppedAlarm',
        this.group.metricDropped(hourly),
        options(`EventBridge Scheduler gave up invoking a target of group ${this.group.scheduleGroupName} after its retries: that run (a profile export, a freshness probe) did not happen`),
      ),
    };
  }

  /**
   * A role only this group's schedules, in this account, may assume (confused-deputy protection). The
   * condition must name the schedule GROUP: EventBridge Scheduler's confused-deputy guidance says "Do not
   * scope the aws:SourceArn statement to a specific schedule ... The ARN you specify must be a schedule group."
   */
  invokeRole(scope: Construct, id: string, description: string): iam.Role {
    return new iam.Role(scope, id, {
      description,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID, 'aws:SourceArn': this.group.scheduleGroupArn } },
      }),
    });
  }
}
