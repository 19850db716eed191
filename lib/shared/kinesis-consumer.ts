/**
 * A Lambda function that consumes a Kinesis stream the way every consumer of the platform must: one record
 * never blocks a shard. Both stream functions (the validation stage and the profile aggregator) are
 * KinesisConsumers, so they cannot drift apart on the guarantees:
 *
 * - an event source that reports partial batch failures, bisects a failing batch, retries a bounded number
 *   of times, skips records older than a maximum age, and starts at the oldest record (TRIM_HORIZON);
 * - an on-failure destination (an encrypted SQS queue keeping messages 14 days, or your own) that receives
 *   the shard ranges given up on, for `npm run redrive`;
 * - read access to the stream with exactly the actions an event source mapping uses;
 * - alarms on iterator age, function errors and the on-failure queue's depth;
 * - the cdk-nag acknowledgements the function's role and the queue need, each with its reason.
 *
 * Construction order tells the story: function -> on-failure queue -> event source -> alarms.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { alarmFactory, type AlarmFactory, type AlarmOptions } from './alarms';
import { METRICS_NAMESPACE } from './metrics';
import { PlatformFunction, type PlatformFunctionProps } from './platform-function';
import { acknowledgeFunctionRoleFindings, readByEventSourceMapping } from './stream-consumer';

/** How long SQS keeps a message at most: the on-failure records stay redrivable for as long as possible. */
export const ON_FAILURE_RETENTION = Duration.days(14);

export interface KinesisConsumerProps {
  /** The stream the function reads. */
  readonly stream: kinesis.IStream;
  /** The function: its handler under `lambdas/`, service name, environment, memory, timeout. */
  readonly functionProps: PlatformFunctionProps;
  /** Records per invocation. @default 100 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking. @default Duration.seconds(0) */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard (1-10); Lambda keeps the order per partition key. @default 1 */
  readonly parallelizationFactor?: number;
  /** Retries of a failed batch (bisected halves included) before its range goes to the on-failure destination. @default 3 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure destination instead of being retried. @default Duration.hours(1) */
  readonly maxRecordAge?: Duration;
  /** A tumbling window with state carried between invocations. @default no window */
  readonly tumblingWindow?: Duration;
  /**
   * Where the event source sends the shard ranges it gives up on.
   * @default a new SQS queue: SQS-managed encryption, TLS only, 14 days' retention
   */
  readonly existingOnFailureQueue?: sqs.IQueue;
  /**
   * Why the created on-failure queue has no dead-letter queue of its own (the cdk-nag acknowledgement's reason).
   * @default it is itself the consumer's dead-letter destination, redriven with npm run redrive
   */
  readonly onFailureQueueReason?: string;
  /** Topic every alarm notifies. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** Iterator age above which (3 of 5 minutes) the consumer counts as behind. @default Duration.minutes(5) */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /** Descriptions of the consumer's alarms. @default texts naming the function's service */
  readonly alarmDescriptions?: Partial<ConsumerAlarmDescriptions>;
}

export interface ConsumerAlarmDescriptions {
  readonly iteratorAge: string;
  readonly errors: string;
  readonly onFailureQueueDepth: string;
}

/** The alarms every consumer has. */
export interface ConsumerAlarms {
  readonly iteratorAge: cloudwatch.Alarm;
  readonly errors: cloudwatch.Alarm;
  readonly onFailureQueueDepth: cloudwatch.Alarm;
}

export class KinesisConsumer extends Construct {
  readonly function: PlatformFunction;
  /** The `service` dimension of the function's own metrics. */
  readonly serviceName: string;
  /** Where the event source sends the shard ranges it gave up on (the on-failure destination). */
  readonly onFailureQueue: sqs.IQueue;
  readonly eventSource: KinesisEventSource;
  /** Every alarm of the consumer: the three below, and those a specialised consumer adds with addAlarm. */
  readonly alarms: ConsumerAlarms;
  /** Creates alarms in this construct that notify the alarm topic. */
  protected readonly alarm: AlarmFactory;

  constructor(scope: Construct, id: string, props: KinesisConsumerProps) {
    super(scope, id);
    this.serviceName = props.functionProps.serviceName;
    this.function = new PlatformFunction(this, 'Function', props.functionProps);
    acknowledgeFunctionRoleFindings(this.function);

    this.onFailureQueue = props.existingOnFailureQueue ?? this.createOnFailureQueue(props);
    this.eventSource = new KinesisEventSource(readByEventSourceMapping(props.stream), {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(0),
      ...(props.tumblingWindow && props.tumblingWindow.toSeconds() > 0 ? { tumblingWindow: props.tumblingWindow } : {}),
      parallelizationFactor: props.parallelizationFactor ?? 1,
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: props.retryAttempts ?? 3,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
      onFailure: new SqsDlq(this.onFailureQueue),
    });
    this.function.addEventSource(this.eventSource);

    this.alarm = alarmFactory(this, props.alarmTopic);
    this.alarms = this.createConsumerAlarms(props);
  }

  /** A metric the function publishes itself (EMF, the platform's namespace), with its `service` dimension. @default sum over 5 minutes */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** How far behind its stream the function is, in ms (Lambda's IteratorAge). @default maximum over 1 minute */
  metricIteratorAge(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.function.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props });
  }

  /** Invocations that failed as a whole. @default sum over 5 minutes */
  metricErrors(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5), ...props });
  }

  /** On-failure records waiting to be redriven. @default maximum over 5 minutes */
  metricOnFailureQueueDepth(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.onFailureQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5), ...props });
  }

  /** Lets `grantee` read the on-failure records and delete them once redriven (what npm run redrive does). */
  grantRedrive(grantee: iam.IGrantable): iam.Grant {
    return this.onFailureQueue.grantConsumeMessages(grantee);
  }

  private createOnFailureQueue(props: KinesisConsumerProps): sqs.Queue {
    const queue = new sqs.Queue(this, 'OnFailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: ON_FAILURE_RETENTION,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        props.onFailureQueueReason ??
        `This queue is itself the dead-letter destination of the ${this.serviceName} function's event source: it receives the on-failure records of skipped shard ranges, which an operator redrives with \`npm run redrive\`.`,
    });
    return queue;
  }

  /** Iterator age (3 of 5 minutes above the threshold), any function error, any record given up on. */
  private createConsumerAlarms(props: KinesisConsumerProps): ConsumerAlarms {
    const threshold = props.iteratorAgeAlarmThreshold ?? Duration.minutes(5);
    const texts = props.alarmDescriptions ?? {};
    return {
      iteratorAge: this.alarm('IteratorAgeAlarm', this.metricIteratorAge(), {
        alarmDescription: texts.iteratorAge ?? `The ${this.serviceName} function is more than ${threshold.toSeconds()} s behind its stream (3 of the last 5 minutes)`,
        threshold: threshold.toMilliseconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      }),
      errors: this.alarm('ErrorsAlarm', this.metricErrors(), {
        alarmDescription: texts.errors ?? `The ${this.serviceName} function failed whole invocations: its shard is retrying and bisecting`,
        ...atLeastOnce,
      }),
      onFailureQueueDepth: this.alarm('OnFailureQueueAlarm', this.metricOnFailureQueueDepth(), {
        alarmDescription: texts.onFailureQueueDepth ?? 'Records were skipped after retries or by age: redrive them (npm run redrive) before the stream trims them',
        ...atLeastOnce,
      }),
    };
  }
}

/** An alarm that fires on the first occurrence in a period. */
export const atLeastOnce: Pick<AlarmOptions, 'threshold' | 'comparisonOperator' | 'evaluationPeriods'> = {
  threshold: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  evaluationPeriods: 1,
};
