import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { EventStreams, type EventStreamsProps } from './event-streams';
import { ValidationStage, type ValidationStageProps } from './validation-stage';

export interface IngestionProps {
  /** The quarantine zone's bucket (from the lake). */
  readonly quarantineBucket: s3.IBucket;
  /** Every alarm notifies this topic. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** The streams: names, capacity, retention, encryption, or your own streams. @default EventStreams' defaults */
  readonly streams?: EventStreamsProps;
  /** The validation stage's settings. @default ValidationStage's defaults */
  readonly validation?: Omit<ValidationStageProps, 'rawStream' | 'validatedStream' | 'quarantineBucket' | 'alarmTopic'>;
}

/**
 * Ingestion: the raw and validated streams, the producers' policy, and the validation stage between them.
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
    this.streams = new EventStreams(this, 'Streams', props.streams);
    this.rawStream = this.streams.rawStream;
    this.validatedStream = this.streams.validatedStream;
    this.validation = new ValidationStage(this, 'Validation', {
      ...props.validation,
      rawStream: this.rawStream,
      validatedStream: this.validatedStream,
      quarantineBucket: props.quarantineBucket,
      ...(props.alarmTopic ? { alarmTopic: props.alarmTopic } : {}),
    });
  }

  /** Lets a producer write events to the raw stream (PutRecord/PutRecords only). */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.streams.grantWrite(grantee);
  }

  /** Lets another consumer read the validated events (what an event source mapping reads with). */
  grantReadValidated(grantee: iam.IGrantable): iam.Grant {
    return this.streams.grantReadValidated(grantee);
  }
}
