/**
 * The on-failure destination: the invocation record Lambda sends for records it gives up on (its documented
 * shape: requestContext, responseContext, version, timestamp, KinesisBatchInfo; no payload), and sending it
 * to an SQS queue or a callback.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../adapters/aws-clients';
import { withRetry } from '../../adapters/retry';
import type { RetryPolicy } from '../../core/retry-policy';
import type { OnFailureDestination, OnFailureRecord } from './types';

/** Sending an on-failure record: a destination that rejects it is tried twice more, then the shard moves on. */
export const ON_FAILURE_SEND_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

export interface DiscardedRange {
  readonly first: string;
  readonly last: string;
  readonly firstArrivalMs: number;
  readonly lastArrivalMs: number;
  readonly count: number;
}

/** The record describing `range`, discarded for `condition` after `invokeCount` invocations (0: never invoked). */
export function onFailureRecord(
  range: DiscardedRange,
  why: { readonly condition: OnFailureRecord['requestContext']['condition']; readonly invokeCount: number; readonly functionError: boolean },
  source: { readonly functionArn: string; readonly shardId: string; readonly streamArn: string; readonly now: number },
): OnFailureRecord {
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: source.functionArn,
      condition: why.condition,
      approximateInvokeCount: why.invokeCount,
    },
    ...(why.invokeCount > 0
      ? {
          responseContext: {
            statusCode: 200,
            executedVersion: '$LATEST',
            ...(why.functionError ? { functionError: 'Unhandled' as const } : {}),
          },
        }
      : {}),
    version: '1.0',
    timestamp: new Date(source.now).toISOString(),
    KinesisBatchInfo: {
      shardId: source.shardId,
      startSequenceNumber: range.first,
      endSequenceNumber: range.last,
      approximateArrivalOfFirstRecord: new Date(range.firstArrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(range.lastArrivalMs).toISOString(),
      batchSize: range.count,
      streamArn: source.streamArn,
    },
  };
}

/**
 * Sends `record` to `destination` under ON_FAILURE_SEND_POLICY. Whatever the destination answers, it is
 * tried again: the record is all that is left of the range. Throws the last error when every attempt failed.
 */
export async function sendOnFailureRecord(record: OnFailureRecord, destination: OnFailureDestination): Promise<void> {
  await withRetry(
    async () => {
      if (typeof destination === 'function') await destination(record);
      else await sqsClient().send(new SendMessageCommand({ QueueUrl: destination.queueUrl, MessageBody: JSON.stringify(record) }));
    },
    { policy: ON_FAILURE_SEND_POLICY, classify: () => 'transient' },
  );
}
