/**
 * What every Kinesis consumer function of the platform has in common, so the validation stage and the
 * profile aggregator cannot drift apart on the guarantees that keep a poison record from blocking a shard:
 * an encrypted on-failure queue, an event source with partial batch failures, bisection, bounded retries and
 * a maximum record age, the alarms every consumer needs, and the role findings every function shares.
 * The resources are created in the caller's scope, under the ids the callers have always used.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/**
 * The on-failure destination of a consumer: SQS-managed encryption, TLS only, the longest retention SQS
 * offers, so the shard ranges it names stay redrivable for as long as possible. `role` explains in the
 * cdk-nag acknowledgement why it has no dead-letter queue of its own.
 */
export function createOnFailureQueue(scope: Construct, role: string): sqs.Queue {
  const queue = new sqs.Queue(scope, 'OnFailureQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions::AwsSolutions-SQS3', reason: role });
  return queue;
}

export interface ConsumerSourceSettings {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  /** Tumbling window length; absent or 0 for none. */
  readonly tumblingWindowSeconds?: number;
}

/**
 * What a Lambda event source mapping with a standard iterator reads a stream with (Lambda Developer Guide,
 * "Process Amazon Kinesis Data Streams records with Lambda"). Not kinesis:SubscribeToShard or
 * kinesis:DescribeStreamConsumer (enhanced fan-out consumers, which the platform does not register), nor
 * kinesis:ListStreams (the whole account), all three of which the stream's grantRead adds.
 */
export const LAMBDA_STREAM_READ_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;

/** What Firehose reads a Kinesis source with (Firehose Developer Guide, "Controlling access"). */
export const FIREHOSE_STREAM_READ_ACTIONS = ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'] as const;

/** Lets `grantee` read `stream` with exactly `actions` (and decrypt with the stream's key, when it has one). */
export function grantStreamRead(stream: kinesis.IStream, grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
  const grant = iam.Grant.addToPrincipal({ grantee, actions: [...actions], resourceArns: [stream.streamArn] });
  stream.encryptionKey?.grantDecrypt(grantee);
  return grant;
}

/**
 * `stream` as the event source sees it: the same stream, whose grantRead grants LAMBDA_STREAM_READ_ACTIONS
 * instead of the stream construct's wider read grant (KinesisEventSource calls grantRead when it binds).
 */
function readByEventSourceMapping(stream: kinesis.IStream): kinesis.IStream {
  // The stream's own fields (the event source copies them) and its prototype, with grantRead replaced.
  return Object.assign(Object.create(stream) as kinesis.IStream, stream, {
    grantRead: (grantee: iam.IGrantable) => grantStreamRead(stream, grantee, LAMBDA_STREAM_READ_ACTIONS),
  });
}

/** A Kinesis event source that can never be blocked by one record. */
export function resilientKinesisSource(stream: kinesis.IStream, onFailureQueue: sqs.IQueue, s: ConsumerSourceSettings): KinesisEventSource {
  return new KinesisEventSource(readByEventSourceMapping(stream), {
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize: s.batchSize,
    maxBatchingWindow: Duration.seconds(s.maxBatchingWindowSeconds),
    ...(s.tumblingWindowSeconds ? { tumblingWindow: Duration.seconds(s.tumblingWindowSeconds) } : {}),
    parallelizationFactor: s.parallelizationFactor,
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: s.retryAttempts,
    maxRecordAge: Duration.seconds(s.maxRecordAgeSeconds),
    onFailure: new SqsDlq(onFailureQueue),
  });
}

export type AlarmFactory = (id: string, metric: cloudwatch.IMetric, options: Omit<cloudwatch.CreateAlarmOptions, 'treatMissingData'>) => cloudwatch.Alarm;

/** Alarms in `scope` that notify `topic`; no data (an idle stage) is not an alarm. */
export function alarmFactory(scope: Construct, topic: sns.ITopic): AlarmFactory {
  return (id, metric, options) => {
    const alarm = new cloudwatch.Alarm(scope, id, { metric, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING, ...options });
    alarm.addAlarmAction(new actions.SnsAction(topic));
    return alarm;
  };
}

export interface ConsumerAlarmTexts {
  readonly iteratorAge: string;
  readonly errors: string;
  readonly onFailureQueueDepth: string;
}

/** Iterator age (3 of 5 minutes above the threshold), any function error, any record given up on. */
export function consumerAlarms(alarm: AlarmFactory, fn: lambda.IFunction, onFailureQueue: sqs.IQueue, iteratorAgeSeconds: number, texts: ConsumerAlarmTexts) {
  return {
    iteratorAge: alarm('IteratorAgeAlarm', fn.metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) }), {
      alarmDescription: texts.iteratorAge,
      threshold: iteratorAgeSeconds * 1000,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    }),
    errors: alarm('ErrorsAlarm', fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }), {
      alarmDescription: texts.errors,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
    }),
    onFailureQueueDepth: alarm(
      'OnFailureQueueAlarm',
      onFailureQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
      {
        alarmDescription: texts.onFailureQueueDepth,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      },
    ),
  };
}

/** Acknowledges the cdk-nag findings every PlatformFunction role has, each by its exact finding id. */
export function acknowledgeFunctionRoleFindings(fn: lambda.IFunction): void {
  const ack = (finding: string, reason: string) => Validations.of(fn.role!).acknowledge({ id: `AwsSolutions::${finding}`, reason });
  ack(
    'AwsSolutions-IAM5[Resource::*]',
    'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have no resource-level permissions: "*" is the only resource AWS accepts for them.',
  );
}
