/**
 * The one adapter from the ingestion core's PutRecordsCall to the Kinesis SDK client, used by the producer
 * client, the validation function (forwarding) and the redrive command.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { isThrottling, type EntryOutcome, type PutEntry, type PutRecordsCall } from '../../core/ingest/put-records';

/** Errors of a whole call that retrying cannot fix: a missing stream, denied access, a bad request. */
const PERMANENT_ERRORS = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ValidationException',
  'InvalidArgumentException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'UnrecognizedClientException',
  'CredentialsProviderError',
]);

export function isRetryableCallError(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? '';
  if (PERMANENT_ERRORS.has(name)) return false;
  if (isThrottling(name) || e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode;
  // No HTTP status: the request never got an answer (network, timeout), worth another try.
  return status === undefined || status >= 500 || status === 429;
}

/** A PutRecordsCall writing to `streamName` (a name, or an ARN for cross-account writes) with `kinesis`. */
export function kinesisPutRecordsCall<E extends PutEntry>(kinesis: KinesisClient, stream: string): PutRecordsCall<E> {
  const target = stream.startsWith('arn:') ? { StreamARN: stream } : { StreamName: stream };
  return async (entries) => {
    try {
      const out = await kinesis.send(
        new PutRecordsCommand({ ...target, Records: entries.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })) }),
      );
      const records = out.Records ?? [];
      return entries.map((_, i): EntryOutcome => {
        const r = records[i];
        if (r && !r.ErrorCode && r.SequenceNumber) return { ok: true, sequenceNumber: r.SequenceNumber, shardId: r.ShardId ?? '' };
        // Entry failures are throttling or InternalFailure, both transient.
        return { ok: false, errorCode: r?.ErrorCode ?? 'MissingResult', errorMessage: r?.ErrorMessage ?? 'no result for this entry', retryable: true };
      });
    } catch (err) {
      const e = err as { name?: string; message?: string };
      const retryable = isRetryableCallError(err);
      return entries.map(() => ({ ok: false, errorCode: e?.name ?? 'Error', errorMessage: String(e?.message ?? err), retryable }));
    }
  };
}
