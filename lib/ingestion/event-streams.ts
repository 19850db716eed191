import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { StreamsConfig } from '../config/stage-config';

export interface EventStreamsProps {
  /** Capacity, retention and encryption of both streams (the stage's `streams` section). */
  readonly config: StreamsConfig;
  /** Physical name of the raw stream producers write to. */
  readonly rawStreamName: string;
  /** Physical name of the stream of validated events. */
  readonly validatedStreamName: string;
  /** Physical name of the producers' managed policy. @default a generated name */
  readonly producerPolicyName?: string;
  /** What happens to the streams (and the key) when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
}

/** The Kinesis permissions a producer needs, and nothing else (no reads, no stream management). */
export const PRODUCER_STREAM_ACTIONS = ['kinesis:PutRecord', 'kinesis:PutRecords'] as const;
/** Writing to a stream encrypted with a customer key needs a data key from that key. */
export const PRODUCER_KEY_ACTIONS = ['kms:GenerateDataKey'] as const;

/**
 * The two event streams: `events` (raw, what producers write) and `validated` (good events only, keyed by
 * user id like the raw stream). Both share capacity mode, retention and encryption from the stage
 * configuration; with `encryption: 'customer'` one customer-managed key (rotated yearly) encrypts both.
 *
 * Producers get an IAM managed policy to attach to their role (`producerPolicy`) or a grant
 * (`grantWrite`), both limited to PutRecord/PutRecords on the raw stream (plus the key when there is one).
 */
export class EventStreams extends Construct {
  readonly rawStream: kinesis.Stream;
  readonly validatedStream: kinesis.Stream;
  /** The customer-managed key of both streams, when `encryption` is 'customer'. */
  readonly encryptionKey?: kms.IKey;
  /** Attach to a producer's role: PutRecord/PutRecords on the raw stream only. */
  readonly producerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: EventStreamsProps) {
    super(scope, id);
    const { config } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    if (config.encryption === 'customer') {
      this.encryptionKey = new kms.Key(this, 'Key', {
        description: `Encrypts the ${props.rawStreamName} and ${props.validatedStreamName} Kinesis streams`,
        enableKeyRotation: true,
        removalPolicy,
      });
    }

    const stream = (logicalId: string, streamName: string, shardCount: number) => {
      const s = new kinesis.Stream(this, logicalId, {
        streamName,
        retentionPeriod: Duration.hours(config.retentionHours),
        ...(config.capacityMode === 'on-demand'
          ? { streamMode: kinesis.StreamMode.ON_DEMAND }
          : { streamMode: kinesis.StreamMode.PROVISIONED, shardCount }),
        ...(this.encryptionKey
          ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: this.encryptionKey }
          : { encryption: kinesis.StreamEncryption.MANAGED }),
        removalPolicy,
      });
      if (this.encryptionKey) {
        // KDS3 warns that a customer managed key costs more than aws/kinesis; the default stages use aws/kinesis,
        // and only a stage that sets streams.encryption to 'customer' gets here.
        Validations.of(s).acknowledge({
          id: 'AwsSolutions::AwsSolutions-KDS3',
          reason:
            "The stage chose a customer managed key (streams.encryption: 'customer') for control over the key policy, rotation and audit; it accepts the key's monthly cost and the KMS requests of every PutRecords/GetRecords. The default stages use aws/kinesis.",
        });
      }
      return s;
    };
    this.rawStream = stream('RawStream', props.rawStreamName, config.rawShardCount);
    this.validatedStream = stream('ValidatedStream', props.validatedStreamName, config.validatedShardCount);

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      ...(props.producerPolicyName ? { managedPolicyName: props.producerPolicyName } : {}),
      description: `Write behavioural events to the ${props.rawStreamName} stream (PutRecord, PutRecords) and nothing else`,
      statements: this.producerStatements(),
    });
  }

  /** Lets `grantee` write events to the raw stream: PutRecord/PutRecords (and the stream key), nothing else. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...PRODUCER_STREAM_ACTIONS], resourceArns: [this.rawStream.streamArn] });
    this.encryptionKey?.grant(grantee, ...PRODUCER_KEY_ACTIONS);
    return grant;
  }

  private producerStatements(): iam.PolicyStatement[] {
    const statements = [
      new iam.PolicyStatement({ sid: 'PutEvents', actions: [...PRODUCER_STREAM_ACTIONS], resources: [this.rawStream.streamArn] }),
    ];
    if (this.encryptionKey) {
      statements.push(new iam.PolicyStatement({ sid: 'EncryptEvents', actions: [...PRODUCER_KEY_ACTIONS], resources: [this.encryptionKey.keyArn] }));
    }
    return statements;
  }
}
