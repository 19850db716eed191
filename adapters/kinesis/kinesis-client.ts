/**
 * A Kinesis client of its own, with the project's timeouts and attempts, for code that must not carry the
 * other services' clients: the producer package builds one per producer unless it is given one.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { CLIENT_LIMITS, sdkMaxAttempts, timedRequestHandler } from '../client-limits';

export type { KinesisClient };

export function createKinesisClient(): KinesisClient {
  return new KinesisClient({
    // The Kinesis client defaults to HTTP/2 (for SubscribeToShard), which kinesis-local breaks on for
    // bodies over ~8 KB. Plain HTTP/1.1 with keep-alive is equally good for GetRecords/PutRecords in AWS.
    requestHandler: timedRequestHandler(CLIENT_LIMITS.kinesis),
    // PutRecords reports throttled entries in its answer (the callers retry those); the SDK retries whole
    // calls that failed, within the limits' worst case.
    maxAttempts: sdkMaxAttempts(CLIENT_LIMITS.kinesis),
  });
}
