import { Stack, type IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IConstruct } from 'constructs';

/** The runbook: one section per alarm, in the operations page. */
export const RUNBOOK_PAGE = 'docs/operations.md';

/**
 * Each alarm of the stack (its construct path below the stack) and the heading of its runbook section. An
 * alarm missing here fails the synthesis: every alarm that pages someone must say what to do.
 */
export const RUNBOOK_SECTIONS: Readonly<Record<string, string>> = {
  'Ingestion/Validation/IteratorAgeAlarm': 'Validation is behind the raw stream',
  'Ingestion/Validation/ErrorsAlarm': 'Validation function errors',
  'Ingestion/Validation/OnFailureQueueAlarm': 'Validation gave up on records',
  'Ingestion/Validation/ThrottlesAlarm': 'Validation function throttled',
  'Ingestion/Validation/QuarantineRatioAlarm': 'Quarantine ratio too high',
  'LakeDelivery/RawDeliveryFreshness': 'Lake delivery is behind',
  'LakeDelivery/CuratedDeliveryFreshness': 'Lake delivery is behind',
  'LakeDelivery/RawDeliveryErrors': 'Lake delivery is failing',
  'LakeDelivery/CuratedDeliveryErrors': 'Lake delivery is failing',
  'LakeDelivery/RawFramingErrors': 'Raw framing function errors',
  'LakeDelivery/CuratedConversionErrors': 'Parquet conversion failures',
  'LakeDelivery/CuratedPartitionLimit': 'Curated partition limit exceeded',
  'Profiles/Aggregator/IteratorAgeAlarm': 'Aggregator is behind the validated stream',
  'Profiles/Aggregator/ErrorsAlarm': 'Aggregator errors',
  'Profiles/Aggregator/OnFailureQueueAlarm': 'Aggregator gave up on records',
  'Profiles/Aggregator/TableThrottlesAlarm': 'Profile table throttled',
  'Schedules/SchedulerTargetErrorsAlarm': 'Scheduler cannot invoke a target',
  'Schedules/SchedulerDroppedAlarm': 'Scheduler dropped a run',
  'ProfileExport/ErrorsAlarm': 'Profile export errors',
  'FreshnessCanary/ProfileFreshnessAlarm': 'Profile freshness SLO breached',
  'FreshnessCanary/LakeFreshnessAlarm': 'Lake freshness SLO breached',
  'FreshnessCanary/ErrorsAlarm': 'Freshness canary errors',
  'Erasure/DeadLetterAlarm': 'An erasure request failed',
};

/** GitHub's anchor of a heading (lower case, punctuation dropped, spaces to hyphens). */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The text appended to an alarm's description. */
export function runbookPointer(heading: string): string {
  return `Runbook: ${RUNBOOK_PAGE}#${headingAnchor(heading)} ("${heading}").`;
}

/** The runbook heading of an alarm, by its construct path below the stack; throws when it has none. */
export function runbookSectionOf(alarm: IConstruct): string {
  const stack = Stack.of(alarm);
  const path = alarm.node.path.slice(stack.node.path.length + 1);
  const heading = RUNBOOK_SECTIONS[path];
  if (!heading) throw new Error(`alarm ${path} has no runbook section: add it to RUNBOOK_SECTIONS (lib/monitoring/runbook.ts) and to ${RUNBOOK_PAGE}`);
  return heading;
}

/** Appends the runbook pointer to the description of every alarm it visits. */
export class RunbookPointers implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.Alarm)) return;
    const cfn = node.node.defaultChild as cloudwatch.CfnAlarm;
    const pointer = runbookPointer(runbookSectionOf(node));
    const description = cfn.alarmDescription ?? '';
    if (description.includes(pointer)) return;
    // CloudWatch allows 1024 characters of description.
    cfn.alarmDescription = `${description.replace(/\.?\s*$/, '.')} ${pointer}`.slice(0, 1024);
  }
}
