import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ZONE_PREFIX } from '../../core/lake/layout';
import { VALIDATION_ENV } from '../../lambdas/validate/config';
import type { ValidationConfig } from '../config/stage-config';
import { PlatformFunction } from '../shared/platform-function';
import { acknowledgeFunctionRoleFindings, alarmFactory, consumerAlarms, createOnFailureQueue, resilientKinesisSource } from '../shared/stream-consumer';

/** Namespace of the platform's EMF metrics (POWERTOOLS_METRICS_NAMESPACE of every PlatformFunction). */
export const METRICS_NAMESPACE = 'PersonalizationPlatform';
/** Service name of the validation function: the `service` dimension of its metrics. */
export const VALIDATION_SERVICE = 'validate';

export interface ValidationStageProps {
  /** The stream the function reads (producers' raw events). */
  readonly rawStream: kinesis.IStream;
  /** The stream valid events are forwarded to. */
  readonly validatedStream: kinesis.IStream;
  /** The quarantine zone's bucket: objects are written under `quarantine/` only. */
  readonly quarantineBucket: s3.IBucket;
  /** The stage's `validation` section. */
  readonly config: ValidationConfig;
  /** Every alarm of the stage notifies this topic. */
  readonly alarmTopic: sns.ITopic;
  /** Iterator age at which the function is considered behind, in seconds. */
  readonly iteratorAgeAlarmSeconds: number;
  /** Share of quarantined records (0-1) above which the data-quality alarm fires. */
  readonly quarantineRatioAlarm: number;
  /** Physical function name. @default a generated name */
  readonly functionName?: string;
}

/**
 * The validation stage: a function on the raw stream that forwards valid, normalized events to the
 * validated stream and quarantines the rest in S3 with their reasons. The event source reports partial
 * batch failures, bisects failing batches, retries a bounded number of times, skips records older than
 * the maximum age, and sends what it gives up on to an encrypted on-failure queue (`npm run redrive`
 * re-injects those ranges). A poison record therefore never blocks a shard.
 */
export class ValidationStage extends Construct {
  readonly function: PlatformFunction;
  readonly eventSource: KinesisEventSource;
  /** Where the event source sends the shard ranges it gave up on (the on-failure destination). */
  readonly onFailureQueue: sqs.Queue;
  readonly alarms: {
    readonly iteratorAge: cloudwatch.Alarm;
    readonly errors: cloudwatch.Alarm;
    readonly throttles: cloudwatch.Alarm;
    readonly onFailureQueueDepth: cloudwatch.Alarm;
    readonly quarantineRatio: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: ValidationStageProps) {
    super(scope, id);
    const { config } = props;

    this.function = new PlatformFunction(this, 'Function', {
      handlerPath: 'validate/handler.ts',
      serviceName: VALIDATION_SERVICE,
      description: 'Validates raw events: valid ones to the validated stream, invalid ones to the quarantine zone',
      ...(props.functionName ? { functionName: props.functionName } : {}),
      memorySize: config.memoryMb,
      environment: {
        [VALIDATION_ENV.validatedStreamName]: props.validatedStream.streamName,
        [VALIDATION_ENV.quarantineBucket]: props.quarantineBucket.bucketName,
        [VALIDATION_ENV.maxEventBytes]: String(config.maxEventBytes),
        [VALIDATION_ENV.maxFutureSkewSeconds]: String(config.maxFutureSkewSeconds),
        [VALIDATION_ENV.maxPastAgeSeconds]: String(config.maxPastAgeSeconds),
        [VALIDATION_ENV.quarantinePayloadMaxBytes]: String(config.quarantinePayloadMaxBytes),
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

    this.onFailureQueue = createOnFailureQueue(
      this,
      "This queue is itself the dead-letter destination of the validation function's event source: it receives the on-failure records of skipped shard ranges, which an operator redrives with `npm run redrive`. A further DLQ would only move them out of the redrive command's reach.",
    );
    this.eventSource = resilientKinesisSource(props.rawStream, this.onFailureQueue, config);
    this.function.addEventSource(this.eventSource);

    this.acknowledgeFindings(props);
    this.alarms = this.createAlarms(props);
  }

  /** A metric the function publishes (EMF), with its `service` dimension. */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: VALIDATION_SERVICE },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Quarantined records as a share of records in (0 when nothing came in). */
  metricQuarantineRatio(period = Duration.minutes(5)): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'IF(recordsIn > 0, quarantined / recordsIn, 0)',
      usingMetrics: {
        recordsIn: this.metric('RecordsIn', { period }),
        quarantined: this.metric('QuarantinedRecords', { period }),
      },
      label: 'Quarantined share of records',
      period,
    });
  }

  private createAlarms(props: ValidationStageProps): ValidationStage['alarms'] {
    const fn = this.function;
    const alarm = alarmFactory(this, props.alarmTopic);
    return {
      ...consumerAlarms(alarm, fn, this.onFailureQueue, props.iteratorAgeAlarmSeconds, {
        iteratorAge: `The validation function is more than ${props.iteratorAgeAlarmSeconds} s behind the raw stream (3 of the last 5 minutes)`,
        // Invalid records and forwarding failures never fail an invocation; an error is a bug or a timeout.
        errors: 'The validation function failed whole invocations (a bug or a timeout): its shard is retrying and bisecting',
        onFailureQueueDepth: 'Records were skipped after retries or by age: redrive them (npm run redrive) before the stream trims them',
      }),
      throttles: alarm('ThrottlesAlarm', fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }), {
        alarmDescription: 'The validation function was throttled (account or reserved concurrency): the raw stream is falling behind',
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      }),
      quarantineRatio: alarm('QuarantineRatioAlarm', this.metricQuarantineRatio(), {
        alarmDescription: `More than ${props.quarantineRatioAlarm * 100}% of incoming records were quarantined (2 of the last 3 five-minute periods)`,
        threshold: props.quarantineRatioAlarm,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      }),
    };
  }

  /** Acknowledges each cdk-nag finding of the function's role by its exact finding id, with its reason. */
  private acknowledgeFindings(props: ValidationStageProps): void {
    acknowledgeFunctionRoleFindings(this.function);
    const role = this.function.role!;
    const ack = (finding: string, reason: string) => Validations.of(role).acknowledge({ id: `AwsSolutions::${finding}`, reason });
    const bucketArn = Stack.of(this).resolve(props.quarantineBucket.bucketArn) as { 'Fn::GetAtt'?: [string, string] } | string;
    const arnToken = typeof bucketArn === 'object' && bucketArn['Fn::GetAtt'] ? `<${bucketArn['Fn::GetAtt'][0]}.Arn>` : String(bucketArn);
    ack(
      `AwsSolutions-IAM5[Resource::${arnToken}/${ZONE_PREFIX.quarantine}*]`,
      'Quarantine objects are written only under the quarantine/ prefix of the quarantine bucket; their keys (per batch: hour partition, shard, sequence range) are not known in advance.',
    );
  }
}
