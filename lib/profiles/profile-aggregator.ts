import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AGGREGATOR_ENV } from '../../lambdas/aggregate/config';
import type { ProfilesConfig } from '../config/stage-config';
import { PlatformFunction } from '../shared/platform-function';
import { acknowledgeFunctionRoleFindings, alarmFactory, consumerAlarms, createOnFailureQueue, resilientKinesisSource } from '../shared/stream-consumer';
import type { ProfileStore } from './profile-store';

/** Namespace of the platform's EMF metrics (POWERTOOLS_METRICS_NAMESPACE of every PlatformFunction). */
export const METRICS_NAMESPACE = 'PersonalizationPlatform';
/** Service name of the aggregator: the `service` dimension of its metrics. */
export const AGGREGATOR_SERVICE = 'aggregate';

export interface ProfileAggregatorProps {
  /** The validated stream (normalized events, partition key user_id). */
  readonly validatedStream: kinesis.IStream;
  /** The profile table the aggregator writes. */
  readonly store: ProfileStore;
  /** The stage's `profiles` section. */
  readonly config: ProfilesConfig;
  /** Every alarm notifies this topic. */
  readonly alarmTopic: sns.ITopic;
  /**
   * How long the ledger keeps an hour's event ids, in hours: as long as a copy of an event can still be
   * applied (stageLedgerRetentionHours).
   */
  readonly ledgerRetentionHours: number;
  /** Iterator age at which the aggregator is considered behind, in seconds. */
  readonly iteratorAgeAlarmSeconds: number;
  /** Physical function name. @default a generated name */
  readonly functionName?: string;
}

/**
 * The aggregator: a function on the validated stream with a tumbling window (or per-batch mode when the
 * window is 0) that merges each window's events into the profile table with one conditional UpdateItem per
 * user. Its event source reports partial batch failures, bisects failing batches, retries a bounded number
 * of times, skips records older than the maximum age and sends what it gives up on to an encrypted
 * on-failure queue. Alarms: iterator age, function errors, DynamoDB throttling, on-failure queue depth.
 */
export class ProfileAggregator extends Construct {
  readonly function: PlatformFunction;
  readonly eventSource: KinesisEventSource;
  readonly onFailureQueue: sqs.Queue;
  readonly alarms: {
    readonly iteratorAge: cloudwatch.Alarm;
    readonly errors: cloudwatch.Alarm;
    readonly tableThrottles: cloudwatch.Alarm;
    readonly onFailureQueueDepth: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: ProfileAggregatorProps) {
    super(scope, id);
    const { config } = props;
    const settings = {
      affinityHalfLifeDays: config.affinityHalfLifeDays,
      topCategories: config.topCategories,
      recentContent: config.recentContent,
      sessionsKept: config.sessionsKept,
      ttlDays: config.ttlDays,
      ledgerRetentionHours: props.ledgerRetentionHours,
    };

    this.function = new PlatformFunction(this, 'Function', {
      handlerPath: 'aggregate/handler.ts',
      serviceName: AGGREGATOR_SERVICE,
      description: 'Aggregates validated events in tumbling windows into user profiles (one conditional write per user and window)',
      ...(props.functionName ? { functionName: props.functionName } : {}),
      memorySize: config.memoryMb,
      timeout: Duration.seconds(config.timeoutSeconds),
      environment: {
        [AGGREGATOR_ENV.tableName]: props.store.table.tableName,
        [AGGREGATOR_ENV.ledgerTableName]: props.store.ledger.tableName,
        [AGGREGATOR_ENV.windowSeconds]: String(config.windowSeconds),
        [AGGREGATOR_ENV.settings]: JSON.stringify(settings),
        [AGGREGATOR_ENV.writeConcurrency]: String(config.writeConcurrency),
      },
    });
    props.store.grantAggregate(this.function);

    this.onFailureQueue = createOnFailureQueue(
      this,
      "This queue is itself the dead-letter destination of the aggregator's event source: it holds the shard ranges whose profile updates were given up on, for an operator to redrive while the stream retains them. A further DLQ would hide them.",
    );
    this.eventSource = resilientKinesisSource(props.validatedStream, this.onFailureQueue, {
      ...config,
      tumblingWindowSeconds: config.windowSeconds,
      // One batch at a time per shard: a window's state is built from its shard's batches in order.
      parallelizationFactor: 1,
    });
    this.function.addEventSource(this.eventSource);

    this.acknowledgeFindings(props);
    this.alarms = this.createAlarms(props);
  }

  /** A metric the aggregator publishes (EMF), with its `service` dimension. */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: AGGREGATOR_SERVICE },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  private createAlarms(props: ProfileAggregatorProps): ProfileAggregator['alarms'] {
    const alarm = alarmFactory(this, props.alarmTopic);
    // With a tumbling window the iterator age legitimately reaches the window length before the final
    // invocation; the alarm threshold sits on top of it.
    const iteratorAgeSeconds = props.iteratorAgeAlarmSeconds + props.config.windowSeconds;
    return {
      ...consumerAlarms(alarm, this.function, this.onFailureQueue, iteratorAgeSeconds, {
        iteratorAge: `The profile aggregator is more than ${iteratorAgeSeconds} s behind the validated stream (3 of the last 5 minutes): profiles are going stale`,
        errors: 'The profile aggregator failed invocations (profile writes that kept failing, a bug or a timeout): the window is being retried',
        onFailureQueueDepth: 'The aggregator gave up on records (retries exhausted or too old): those events are missing from profiles until redriven',
      }),
      tableThrottles: alarm('TableThrottlesAlarm', props.store.metricThrottledRequests(), {
        alarmDescription: 'DynamoDB throttled profile or ledger reads or writes (retried with backoff): raise capacity or switch to on-demand if it persists',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      }),
    };
  }

  /** Acknowledges each cdk-nag finding of the function's role by its exact finding id, with its reason. */
  private acknowledgeFindings(_props: ProfileAggregatorProps): void {
    acknowledgeFunctionRoleFindings(this.function);
  }
}
