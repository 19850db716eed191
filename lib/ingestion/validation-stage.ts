import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ZONE_PREFIX } from '../../core/lake/layout';
import { DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES } from '../../core/ingest/quarantine';
import { VALIDATION_ENV } from '../../lambdas/validate/config';
import { atLeastOnce, KinesisConsumer, type ConsumerAlarms } from '../shared/kinesis-consumer';
import { METRICS_NAMESPACE } from '../shared/metrics';
import type { ProfileStore } from '../profiles/profile-store';

export { METRICS_NAMESPACE };
/** Service name of the validation function: the `service` dimension of its metrics. */
export const VALIDATION_SERVICE = 'validate';

export interface ValidationStageProps {
  /** The stream the function reads (producers' raw events). */
  readonly rawStream: kinesis.IStream;
  /** The stream valid events are forwarded to. */
  readonly validatedStream: kinesis.IStream;
  /** The quarantine zone's bucket: objects are written under `quarantine/` only. */
  readonly quarantineBucket: s3.IBucket;
  /** Every alarm notifies this topic. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** Physical function name. @default a generated name */
  readonly functionName?: string;
  /** Largest event accepted, in bytes of UTF-8 JSON. @default 8192 */
  readonly maxEventBytes?: number;
  /** How far event_time may lead arrival time (producer clock skew). @default Duration.minutes(5) */
  readonly maxFutureSkew?: Duration;
  /** How far event_time may trail arrival time (offline buffering). @default Duration.days(7) */
  readonly maxPastAge?: Duration;
  /** Largest original payload kept in a quarantine line, in bytes; larger records keep their start and size. @default 8192 */
  readonly quarantinePayloadMaxBytes?: number;
  /** Memory of the function in MB (CPU scales with it). @default 512 */
  readonly memorySize?: number;
  /** Records per invocation. @default 500 */
  readonly batchSize?: number;
  /** How long Lambda gathers records before invoking. @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Retries of a failed batch before the on-failure destination. @default 3 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure destination instead of being retried. @default Duration.hours(1) */
  readonly maxRecordAge?: Duration;
  /** Concurrent batches per shard (1-10). @default 1 */
  readonly parallelizationFactor?: number;
  /** Iterator age at which the function counts as behind. @default Duration.minutes(5) */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /** Share of quarantined records (0-1) above which the data-quality alarm fires. @default 0.05 */
  readonly quarantineRatioAlarmThreshold?: number;
  /** Bring your own on-failure destination. @default an encrypted queue (see KinesisConsumer) */
  readonly existingOnFailureQueue?: KinesisConsumer['onFailureQueue'];
}

/**
 * The validation stage: a Kinesis consumer on the raw stream that forwards valid, normalized events to the
 * validated stream and quarantines the rest in S3 with their reasons. As every KinesisConsumer, its event
 * source reports partial batch failures, bisects failing batches, retries a bounded number of times, skips
 * records older than the maximum age and sends what it gives up on to an encrypted on-failure queue
 * (`npm run redrive` re-injects those ranges): a poison record never blocks a shard. Besides the consumer's
 * alarms: throttling and the share of quarantined records.
 */
export class ValidationStage extends KinesisConsumer {
  declare readonly alarms: ConsumerAlarms & {
    readonly throttles: cloudwatch.Alarm;
    readonly quarantineRatio: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: ValidationStageProps) {
    const iteratorAge = props.iteratorAgeAlarmThreshold ?? Duration.minutes(5);
    super(scope, id, {
      stream: props.rawStream,
      functionProps: {
        handlerPath: 'validate/handler.ts',
        serviceName: VALIDATION_SERVICE,
        description: 'Validates raw events: valid ones to the validated stream, invalid ones to the quarantine zone',
        ...(props.functionName ? { functionName: props.functionName } : {}),
        memorySize: props.memorySize ?? 512,
        environment: {
          [VALIDATION_ENV.validatedStreamName]: props.validatedStream.streamName,
          [VALIDATION_ENV.quarantineBucket]: props.quarantineBucket.bucketName,
          [VALIDATION_ENV.maxEventBytes]: String(props.maxEventBytes ?? 8192),
          [VALIDATION_ENV.maxFutureSkewSeconds]: String((props.maxFutureSkew ?? Duration.minutes(5)).toSeconds()),
          [VALIDATION_ENV.maxPastAgeSeconds]: String((props.maxPastAge ?? Duration.days(7)).toSeconds()),
          [VALIDATION_ENV.quarantinePayloadMaxBytes]: String(props.quarantinePayloadMaxBytes ?? DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES),
        },
      },
      batchSize: props.batchSize ?? 500,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      retryAttempts: props.retryAttempts ?? 3,
      maxRecordAge: props.maxRecordAge ?? Duration.hours(1),
      parallelizationFactor: props.parallelizationFactor ?? 1,
      ...(props.existingOnFailureQueue ? { existingOnFailureQueue: props.existingOnFailureQueue } : {}),
      onFailureQueueReason:
        "This queue is itself the dead-letter destination of the validation function's event source: it receives the on-failure records of skipped shard ranges, which an operator redrives with `npm run redrive`. A further DLQ would only move them out of the redrive command's reach.",
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
      iteratorAgeAlarmThreshold: iteratorAge,
      alarmDescriptions: {
        iteratorAge: `The validation function is more than ${iteratorAge.toSeconds()} s behind the raw stream (3 of the last 5 minutes)`,
        // Invalid records and forwarding failures never fail an invocation; an error is a bug or a timeout.
        errors: 'The validation function failed whole invocations (a bug or a timeout): its shard is retrying and bisecting',
        onFailureQueueDepth: 'Records were skipped after retries or by age: redrive them (npm run redrive) before the stream trims them',
      },
    });

    // Write access: PutRecords on the validated stream only (the handler never calls PutRecord or ListShards).
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ForwardValidEvents', actions: ['kinesis:PutRecords'], resources: [props.validatedStream.streamArn] }),
    );
    props.validatedStream.encryptionKey?.grant(this.function, 'kms:GenerateDataKey');
    // PutObject only: the writer sends one signed PUT per object, without tags, retention or legal hold, so the
    // extra actions of the bucket's grantPut (PutObjectTagging, PutObjectRetention, PutObjectLegalHold, Abort*)
    // would only widen what a compromised function could do.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'WriteQuarantine', actions: ['s3:PutObject'], resources: [props.quarantineBucket.arnForObjects(`${ZONE_PREFIX.quarantine}*`)] }),
    );
    props.quarantineBucket.encryptionKey?.grantEncrypt(this.function);
    this.acknowledgeQuarantineWrites(props.quarantineBucket);

    const ratio = props.quarantineRatioAlarmThreshold ?? 0.05;
    Object.assign(this.alarms, {
      throttles: this.alarm('ThrottlesAlarm', this.metricThrottles(), {
        alarmDescription: 'The validation function was throttled (account or reserved concurrency): the raw stream is falling behind',
        ...atLeastOnce,
      }),
      quarantineRatio: this.alarm('QuarantineRatioAlarm', this.metricQuarantineRatio(), {
        alarmDescription: `More than ${ratio * 100}% of incoming records were quarantined (2 of the last 3 five-minute periods)`,
        threshold: ratio,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      }),
    });
  }

  /**
   * Makes the function the gate of the quarantine zone and the validated stream after an erasure: it reads the
   * tombstones in the store's ledger table (Query, nothing else; cached a minute) and drops records of erased
   * subjects, counted in `RecordsDropped` with `reason=erased_subject` (docs/privacy.md). Called by the stack
   * once the profile store exists (it is built after ingestion, from the validated stream).
   */
  dropErasedSubjects(store: ProfileStore): void {
    this.function.addEnvironment(VALIDATION_ENV.ledgerTableName, store.ledger.tableName);
    store.grantReadTombstones(this.function);
  }

  /** Records the function read (EMF). @default sum over 5 minutes */
  metricRecordsIn(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('RecordsIn', props);
  }

  /** Records the function quarantined (EMF). @default sum over 5 minutes */
  metricQuarantined(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('QuarantinedRecords', props);
  }

  /** Invocations Lambda throttled. @default sum over 5 minutes */
  metricThrottles(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.function.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5), ...props });
  }

  /** Quarantined records as a share of records in (0 when nothing came in). */
  metricQuarantineRatio(period = Duration.minutes(5)): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'IF(recordsIn > 0, quarantined / recordsIn, 0)',
      usingMetrics: {
        recordsIn: this.metricRecordsIn({ period }),
        quarantined: this.metricQuarantined({ period }),
      },
      label: 'Quarantined share of records',
      period,
    });
  }

  /** Acknowledges the role's finding for the quarantine prefix by its exact finding id, with its reason. */
  private acknowledgeQuarantineWrites(bucket: s3.IBucket): void {
    const bucketArn = Stack.of(this).resolve(bucket.bucketArn) as { 'Fn::GetAtt'?: [string, string] } | string;
    const arnToken = typeof bucketArn === 'object' && bucketArn['Fn::GetAtt'] ? `<${bucketArn['Fn::GetAtt'][0]}.Arn>` : String(bucketArn);
    Validations.of(this.function.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arnToken}/${ZONE_PREFIX.quarantine}*]`,
      reason: 'Quarantine objects are written only under the quarantine/ prefix of the quarantine bucket; their keys (per batch: hour partition, shard, sequence range) are not known in advance.',
    });
  }
}
