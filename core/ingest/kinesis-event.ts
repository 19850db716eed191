/**
 * The event a Lambda Kinesis event source mapping sends a function (Lambda Developer Guide, "Using Lambda with
 * Kinesis": example event), as the core builds it for a replay: the same shape as @types/aws-lambda's
 * KinesisStreamEvent, written out here so the core needs no package.
 */

export interface KinesisEventRecord {
  readonly kinesis: {
    readonly kinesisSchemaVersion: string;
    readonly partitionKey: string;
    readonly sequenceNumber: string;
    /** The record's bytes, base64. */
    readonly data: string;
    /** Arrival at the stream, in epoch seconds. */
    readonly approximateArrivalTimestamp: number;
  };
  readonly eventSource: string;
  readonly eventVersion: string;
  /** `<shardId>:<sequenceNumber>`. */
  readonly eventID: string;
  readonly eventName: string;
  readonly invokeIdentityArn: string;
  readonly awsRegion: string;
  readonly eventSourceARN: string;
}

export interface KinesisEvent {
  readonly Records: KinesisEventRecord[];
}
