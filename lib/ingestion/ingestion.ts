import { RemovalPolicy } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { resourceName, type StageConfig } from '../config/stage-config';
import { EventStreams } from './event-streams';
import { ValidationStage } from './validation-stage';

export interface IngestionProps {
  readonly config: StageConfig;
  /** The quarantine zone's bucket (from the lake). */
  readonly quarantineBucket: s3.IBucket;
  /** The stage's alarm topic. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * Ingestion for one stage: the raw and validated streams, the producers' policy, and the validation stage
 * between them. Names follow `<prefix>-<stage>-<suffix>`: `events`, `validated`, `validate`, `producer`.
 */
export class Ingestion extends Construct {
  readonly streams: EventStreams;
  readonly validation: ValidationStage;
  /** What producers write to. */
  readonly rawStream: kinesis.IStream;
  /** Valid, normalized events, keyed by user id. */
  readonly validatedStream: kinesis.IStream;

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id);
    const { config } = props;
    this.streams = new EventStreams(this, 'Streams', {
      config: config.streams,
      rawStreamName: resourceName(config, 'events'),
      validatedStreamName: resourceName(config, 'validated'),
      producerPolicyName: resourceName(config, 'producer'),
      removalPolicy: config.removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.rawStream = this.streams.rawStream;
    this.validatedStream = this.streams.validatedStream;
    this.validation = new ValidationStage(this, 'Validation', {
      rawStream: this.rawStream,
      validatedStream: this.validatedStream,
      quarantineBucket: props.quarantineBucket,
      config: config.validation,
      alarmTopic: props.alarmTopic,
      iteratorAgeAlarmSeconds: config.alarms.iteratorAgeSeconds,
      quarantineRatioAlarm: config.alarms.quarantineRatio,
      functionName: resourceName(config, 'validate'),
    });
  }

  /** Lets a producer write events to the raw stream (PutRecord/PutRecords only). */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.streams.grantWrite(grantee);
  }
}
