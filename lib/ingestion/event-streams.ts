import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { grantStreamRead, LAMBDA_STREAM_READ_ACTIONS } from '../shared/stream-consumer';

export interface EventStreamsProps {
  /** Physical name of the raw stream producers write to. @default a generated name */
  readonly rawStreamName?: string;
  /** Physical name of the stream of validated events. @default a generated name */
  readonly validatedStreamName?: string;
  /** Physical name of the producers' managed policy. @default a generated name */
  readonly producerPolicyName?: string;
  /** On-demand (scales itself, billed per GB) or provisioned (billed per shard-hour). @default StreamMode.ON_DEMAND */
  readonly streamMode?: kinesis.StreamMode;
  /** Shards of the raw stream in provisioned mode (1 MB/s or 1,000 records/s of writes each). @default 1 */
  readonly rawShardCount?: number;
  /** Shards of the validated stream in provisioned mode. @default 1 */
  readonly validatedShardCount?: number;
  /** How long records stay readable (24 hours is free; more costs per shard-hour). @default Duration.hours(24) */
  readonly retentionPeriod?: Duration;
  /**
   * MANAGED uses the AWS-managed key aws/kinesis (no key cost); KMS uses `encryptionKey`, or a new
   * customer-managed key rotated yearly that encrypts both streams.
   * @default StreamEncryption.MANAGED
   */
  readonly encryption?: kinesis.StreamEncryption.MANAGED | kinesis.StreamEncryption.KMS;
  /** The customer-managed key of both streams, with `encryption: KMS`. @default a new key */
  readonly encryptionKey?: kms.IKey;
  /** What happens to the streams (and a created key) when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /** Bring your own raw stream (producers write to it; its key, if any, is used for grants). @default a new stream */
  readonly existingRawStream?: kinesis.IStream;
  /** Bring your own validated stream. @default a new stream */
  readonly existingValidatedStream?: kinesis.IStream;
}

/** The Kinesis permissions a producer needs, and nothing else (no reads, no stream management). */
export const PRODUCER_STREAM_ACTIONS = ['kinesis:PutRecord', 'kinesis:PutRecords'] as const;
/** Writing to a stream encrypted with a customer key needs a data key from that key. */
export const PRODUCER_KEY_ACTIONS = ['kms:GenerateDataKey'] as const;

/**
 * The two event streams: `events` (raw, what producers write) and `validated` (good events only, keyed by
 * user id like the raw stream). Both share capacity mode, retention and encryption; with KMS encryption one
 * customer-managed key (rotated yearly) encrypts both. Either stream can be brought instead (`existing*`).
 *
 * Producers get an IAM managed policy to attach to their role (`producerPolicy`) or a grant
 * (`grantWrite`), both limited to PutRecord/PutRecords on the raw stream (plus the key when there is one).
 */
export class EventStreams extends Construct {
  readonly rawStream: kinesis.IStream;
  readonly validatedStream: kinesis.IStream;
  /** The customer-managed key of the streams this construct created, with `encryption: KMS`. */
  readonly encryptionKey?: kms.IKey;
  /** Attach to a producer's role: PutRecord/PutRecords on the raw stream only. */
  readonly producerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: EventStreamsProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const rawLabel = props.rawStreamName ?? 'raw';
    const creates = !props.existingRawStream || !props.existingValidatedStream;

    if (creates && props.encryption === kinesis.StreamEncryption.KMS) {
      this.encryptionKey =
        props.encryptionKey ??
        new kms.Key(this, 'Key', {
          description: `Encrypts the ${rawLabel} and ${props.validatedStreamName ?? 'validated'} Kinesis streams`,
          enableKeyRotation: true,
          removalPolicy,
        });
    }

    const stream = (logicalId: string, streamName: string | undefined, shardCount: number) => {
      const s = new kinesis.Stream(this, logicalId, {
        ...(streamName ? { streamName } : {}),
        retentionPeriod: props.retentionPeriod ?? Duration.hours(24),
        ...((props.streamMode ?? kinesis.StreamMode.ON_DEMAND) === kinesis.StreamMode.ON_DEMAND
          ? { streamMode: kinesis.StreamMode.ON_DEMAND }
          : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount }),
        ...(this.encryptionKey
          ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: this.encryptionKey }
          : { encryption: kinesis.StreamEncryption.MANAGED }),
        removalPolicy,
      });
      if (this.encryptionKey) {
        // KDS3 warns that a customer managed key costs more than aws/kinesis; the default is aws/kinesis, and
        // only a deliberate choice of KMS encryption gets here.
        Validations.of(s).acknowledge({
          id: 'AwsSolutions::AwsSolutions-KDS3',
          reason:
            "The stage chose a customer managed key (streams.encryption: 'customer') for control over the key policy, rotation and audit; it accepts the key's monthly cost and the KMS requests of every PutRecords/GetRecords. The default stages use aws/kinesis.",
        });
      }
      return s;
    };
    this.rawStream = props.existingRawStream ?? stream('RawStream', props.rawStreamName, props.rawShardCount ?? 1);
    this.validatedStream = props.existingValidatedStream ?? stream('ValidatedStream', props.validatedStreamName, props.validatedShardCount ?? 1);

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      ...(props.producerPolicyName ? { managedPolicyName: props.producerPolicyName } : {}),
      description: `Write behavioural events to the ${rawLabel} stream (PutRecord, PutRecords) and nothing else`,
      statements: this.producerStatements(),
    });
  }

  /** Lets `grantee` write events to the raw stream: PutRecord/PutRecords (and the stream key), nothing else. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...PRODUCER_STREAM_ACTIONS], resourceArns: [this.rawStream.streamArn] });
    this.rawStream.encryptionKey?.grant(grantee, ...PRODUCER_KEY_ACTIONS);
    return grant;
  }

  /**
   * Lets `grantee` read the validated events the way a Lambda event source mapping does (another consumer
   * of good events): exactly those actions on the validated stream, and decrypt with its key.
   */
  grantReadValidated(grantee: iam.IGrantable): iam.Grant {
    return grantStreamRead(this.validatedStream, grantee, LAMBDA_STREAM_READ_ACTIONS);
  }

  private producerStatements(): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({ sid: 'PutEvents', actions: [...PRODUCER_STREAM_ACTIONS], resources: [this.rawStream.streamArn] }),
    ];
    const key = this.rawStream.encryptionKey;
    if (key) {
      statements.push(new iam.PolicyStatement({ sid: 'EncryptEvents', actions: [...PRODUCER_KEY_ACTIONS], resources: [key.keyArn] }));
    }
    return statements;
  }
}
