/**
 * The one place AWS SDK clients are built, for the Lambda handlers, the typed clients and the local runtime.
 *
 * Endpoints and region come from the standard variables, which SDK v3 resolves itself:
 * AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_KINESIS, _DYNAMODB, _S3, _SQS), then AWS_ENDPOINT_URL, then
 * the real AWS endpoint; AWS_REGION; the default credential chain. Nothing here knows about emulators, so
 * the same code talks to AWS, to the local emulators and to LocalStack.
 *
 * Every client has connection and request timeouts and bounded attempts (client-limits.ts), so a dependency
 * that stops answering fails a call within seconds instead of holding it until the function times out.
 *
 * Each client is created on first use and kept for the life of the process (a Lambda sandbox reuses it
 * across invocations). The client packages declare no side effects, so a bundle only carries the clients
 * its handler actually calls. The DynamoDB document client lives in document-client.ts for that reason.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CLIENT_LIMITS, sdkMaxAttempts as maxAttempts, timedRequestHandler } from './client-limits';
import { createKinesisClient } from './kinesis/kinesis-client';

export type { DynamoDBClient, KinesisClient, S3Client, SQSClient };

function customEndpoint(serviceVariable: string): string | undefined {
  return process.env[serviceVariable] || process.env.AWS_ENDPOINT_URL || undefined;
}

let kinesis: KinesisClient | undefined;
let dynamoDb: DynamoDBClient | undefined;
let s3: S3Client | undefined;
let sqs: SQSClient | undefined;

export function kinesisClient(): KinesisClient {
  kinesis ??= createKinesisClient();
  return kinesis;
}

export function dynamoDbClient(): DynamoDBClient {
  // Throttled writes are retried with backoff by the SDK; conditional-check failures are not retried.
  dynamoDb ??= new DynamoDBClient({ requestHandler: timedRequestHandler(CLIENT_LIMITS.dynamodb), maxAttempts: maxAttempts(CLIENT_LIMITS.dynamodb) });
  return dynamoDb;
}

export function s3Client(): S3Client {
  s3 ??= new S3Client({
    // Emulators (s3rver, LocalStack) serve buckets by path, not by virtual-host subdomain.
    forcePathStyle: customEndpoint('AWS_ENDPOINT_URL_S3') !== undefined,
    requestHandler: timedRequestHandler(CLIENT_LIMITS.s3),
    maxAttempts: maxAttempts(CLIENT_LIMITS.s3),
  });
  return s3;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ requestHandler: timedRequestHandler(CLIENT_LIMITS.sqs), maxAttempts: maxAttempts(CLIENT_LIMITS.sqs) });
  return sqs;
}

/** Drops every memoized client so the next call reads the environment again (tests switch emulators). */
export function resetClients(): void {
  for (const client of [dynamoDb, kinesis, s3, sqs]) client?.destroy();
  kinesis = dynamoDb = s3 = sqs = undefined;
}
