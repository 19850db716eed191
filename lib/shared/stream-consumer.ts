/**
 * Reading a stream with exactly the actions a reader needs, and the cdk-nag findings every function's role
 * shares. The Kinesis consumer construct (kinesis-consumer.ts) and the Firehose delivery roles use these.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';

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
export function readByEventSourceMapping(stream: kinesis.IStream): kinesis.IStream {
  // The stream's own fields (the event source copies them) and its prototype, with grantRead replaced.
  return Object.assign(Object.create(stream) as kinesis.IStream, stream, {
    grantRead: (grantee: iam.IGrantable) => grantStreamRead(stream, grantee, LAMBDA_STREAM_READ_ACTIONS),
  });
}

/** Acknowledges the cdk-nag findings every PlatformFunction role has, each by its exact finding id. */
export function acknowledgeFunctionRoleFindings(fn: lambda.IFunction): void {
  const ack = (finding: string, reason: string) => Validations.of(fn.role!).acknowledge({ id: `AwsSolutions::${finding}`, reason });
  ack(
    'AwsSolutions-IAM5[Resource::*]',
    'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) have no resource-level permissions: "*" is the only resource AWS accepts for them.',
  );
}
