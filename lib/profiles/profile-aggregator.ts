import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DEFAULT_PROFILE_SETTINGS } from '../../core/profiles/model';
import { AGGREGATOR_ENV } from '../../lambdas/aggregate/config';
import { atLeastOnce, KinesisConsumer, type ConsumerAlarms } from '../shared/kinesis-consumer';
import { METRICS_NAMESPACE } from '../shared/metrics';
import type { ProfileStore } from './profile-store';

export { METRICS_NAMESPACE };
/** Service name of the aggregator: the `service` dimension of its metrics. */
export const AGGREGATOR_SERVICE = 'aggregate';

/** How the aggregator shapes a profile (see core/profiles/model.ts). */
export interface ProfileShape {
  /** Half-life of category affinity, in days. @default 14 */
  readonly affinityHalfLifeDays?: number;
  /** Categories kept in a profile's affinity map. @default 10 */
  readonly topCategories?: number;
  /** Recently viewed distinct content ids kept. @default 10 */
  readonly recentContent?: number;
  /** Recent sessions kept (a session is extended while it is among them). @default 5 */
  readonly sessionsKept?: number;
  /** Profiles of users inactive this long expire (DynamoDB TTL); zero disables expiry. @default Duration.days(400) */
  readonly timeToLive?: Duration;
}

export interface ProfileAggregatorProps extends ProfileShape {
  /** The validated stream (normalized events, partition key user_id). */
  readonly validatedStream: kinesis.IStream;
  /** The profile store the aggregator writes (profiles and the ledger). */
  readonly store: ProfileStore;
  /**
   * How long the ledger keeps an hour's event ids: as long as a copy of an event can still be applied
   * (stageLedgerRetentionHours).
   * @default Duration.hours(240), the dev stage's
   */
  readonly ledgerRetention?: Duration;
  /** Tumbling window; zero for per-batch mode (write after every batch). @default Duration.seconds(120) */
  readonly window?: Duration;
  /** Profiles written concurrently by one invocation. @default 16 */
  readonly writeConcurrency?: number;
  /** Memory of the function in MB. @default 512 */
  readonly memorySize?: number;
  /** Timeout of the function (a final invocation writes every user of the window). @default Duration.seconds(120) */
  readonly timeout?: Duration;
  /** Records per invocation. @default 1000 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking (bounds a batch in per-batch mode). @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failed batch before the on-failure destination. @default 5 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure destination. @default Duration.hours(6) */
  readonly maxRecordAge?: Duration;
  /** Every alarm notifies this topic. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** Iterator age, on top of the window, at which the aggregator counts as behind. @default Duration.minutes(5) */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /** Physical function name. @default a generated name */
  readonly functionName?: string;
  /** Bring your own on-failure destination. @default an encrypted queue (see KinesisConsumer) */
  readonly existingOnFailureQueue?: KinesisConsumer['onFailureQueue'];
}

/**
 * The aggregator: a Kinesis consumer on the validated stream with a tumbling window (or per-batch mode when
 * the window is zero) that merges each window's events into the profile table with one conditional
 * UpdateItem per user. One batch at a time per shard: a window's state is built from its shard's batches in
 * order. Besides the consumer's alarms: DynamoDB throttling of the store.
 */
export class ProfileAggregator extends KinesisConsumer {
  declare readonly alarms: ConsumerAlarms & { readonly tableThrottles: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: ProfileAggregatorProps) {
    const window = props.window ?? Duration.seconds(120);
    // With a tumbling window the iterator age legitimately reaches the window length before the final
    // invocation; the alarm threshold sits on top of it.
    const iteratorAge = Duration.seconds((props.iteratorAgeAlarmThreshold ?? Duration.minutes(5)).toSeconds() + window.toSeconds());
    const settings = {
      affinityHalfLifeDays: props.affinityHalfLifeDays ?? DEFAULT_PROFILE_SETTINGS.affinityHalfLifeDays,
      topCategories: props.topCategories ?? DEFAULT_PROFILE_SETTINGS.topCategories,
      recentContent: props.recentContent ?? DEFAULT_PROFILE_SETTINGS.recentContent,
      sessionsKept: props.sessionsKept ?? DEFAULT_PROFILE_SETTINGS.sessionsKept,
      ttlDays: (props.timeToLive ?? Duration.days(DEFAULT_PROFILE_SETTINGS.ttlDays)).toDays(),
      ledgerRetentionHours: (props.ledgerRetention ?? Duration.hours(DEFAULT_PROFILE_SETTINGS.ledgerRetentionHours)).toHours(),
    };
    super(scope, id, {
      stream: props.validatedStream,
      functionProps: {
        handlerPath: 'aggregate/handler.ts',
        serviceName: AGGREGATOR_SERVICE,
        description: 'Aggregates validated events in tumbling windows into user profiles (one conditional write per user and window)',
        ...(props.functionName ? { functionName: props.functionName } : {}),
        memorySize: props.memorySize ?? 512,
        timeout: props.timeout ?? Duration.seconds(120),
        environment: {
          [AGGREGATOR_ENV.tableName]: props.store.table.tableName,
          [AGGREGATOR_ENV.ledgerTableName]: props.store.ledger.tableName,
          [AGGREGATOR_ENV.windowSeconds]: String(window.toSeconds()),
          [AGGREGATOR_ENV.settings]: JSON.stringify(settings),
          [AGGREGATOR_ENV.writeConcurrency]: String(props.writeConcurrency ?? 16),
        },
      },
      batchSize: props.batchSize ?? 1000,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      tumblingWindow: window,
      // One batch at a time per shard: a window's state is built from its shard's batches in order.
      parallelizationFactor: 1,
      retryAttempts: props.retryAttempts ?? 5,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(6),
      ...(props.existingOnFailureQueue ? { existingOnFailureQueue: props.existingOnFailureQueue } : {}),
      onFailureQueueReason:
        "This queue is itself the dead-letter destination of the aggregator's event source: it holds the shard ranges whose profile updates were given up on, for an operator to redrive while the stream retains them. A further DLQ would hide them.",
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      iteratorAgeAlarmThreshold: iteratorAge,
      alarmDescriptions: {
        iteratorAge: `The profile aggregator is more than ${iteratorAge.toSeconds()} s behind the validated stream (3 of the last 5 minutes): profiles are going stale`,
        errors: 'The profile aggregator failed invocations (profile writes that kept failing, a bug or a timeout): the window is being retried',
        onFailureQueueDepth: 'The aggregator gave up on records (retries exhausted or too old): those events are missing from profiles until redriven',
      },
    });
    props.store.grantAggregate(this.function);

    Object.assign(this.alarms, {
      tableThrottles: this.alarm('TableThrottlesAlarm', props.store.metricThrottledRequests(), {
        alarmDescription: 'DynamoDB throttled profile or ledger reads or writes (retried with backoff): raise capacity or switch to on-demand if it persists',
        ...atLeastOnce,
      }),
    });
  }

  /** Validated events the aggregator read (EMF). @default sum over 5 minutes */
  metricEventsIn(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('EventsIn', props);
  }

  /** Profiles written (EMF). @default sum over 5 minutes */
  metricUsersUpdated(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('UsersUpdated', props);
  }
}
