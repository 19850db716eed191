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
import { ConfigError } from '../core/errors';
import { CLIENT_LIMITS, timedRequestHandler, type ClientLimits } from './client-limits';

export type { DynamoDBClient, KinesisClient, S3Client, SQSClient };

/** AWS_MAX_ATTEMPTS wins when set (a bad value is reported, not ignored); otherwise the service's limit from CLIENT_LIMITS. */
function maxAttempts(limits: ClientLimits): number {
  const raw = process.env.AWS_MAX_ATTEMPTS;
  if (raw === undefined || raw === '') return limits.maxAttempts;
  const fromEnv = Number(raw);
  if (!Number.isInteger(fromEnv) || fromEnv < 1) throw new ConfigError(`AWS_MAX_ATTEMPTS must be an integer of at least 1, got ${JSON.stringify(raw)}`);
  return fromEnv;
}

function customEndpoint(serviceVariable: string): string | undefined {
  return process.env[serviceVariable] || process.env.AWS_ENDPOINT_URL || undefined;
}

let kinesis: KinesisClient | undefined;
let dynamoDb: DynamoDBClient | undefined;
let s3: S3Client | undefined;
let sqs: SQSClient | undefined;

export function kinesisClient(): KinesisClient {
  kinesis ??= new KinesisClient({
    // The Kinesis client defaults to HTTP/2 (for SubscribeToShard), which kinesis-local breaks on for
    // bodies over ~8 KB. Plain HTTP/1.1 with keep-alive is equally good for GetRecords/PutRecords in AWS.
    requestHandler: timedRequestHandler(CLIENT_LIMITS.kinesis),
    // PutRecords reports throttled entries in its answer (the callers retry those); the SDK retries whole
    // calls that failed, within the limits' worst case.
    maxAttempts: maxAttempts(CLIENT_LIMITS.kinesis),
  });
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
