/**
 * The one adapter from the ingestion core's PutRecordsCall to the Kinesis SDK client, used by the producer
 * client, the validation function (forwarding) and the redrive command. Failures are classified by the
 * adapters' classifier (adapters/retry.ts); the core retries what is not permanent.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { EntryOutcome, PutEntry, PutRecordsCall } from '../../core/ingest/put-records';
import { classifyError, classifyErrorCode } from '../retry';

/** A PutRecordsCall writing to `stream` (a name, or an ARN for cross-account writes) with `kinesis`. */
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
        if (!r?.ErrorCode) return { ok: false, errorCode: 'MissingResult', errorMessage: 'no result for this entry', kind: 'transient' };
        // Kinesis documents ProvisionedThroughputExceededException and InternalFailure for an entry.
        return { ok: false, errorCode: r.ErrorCode, errorMessage: r.ErrorMessage ?? '', kind: classifyErrorCode(r.ErrorCode) };
      });
    } catch (err) {
      const e = err as { name?: string; message?: string };
      const kind = classifyError(err);
      return entries.map(() => ({ ok: false, errorCode: e?.name ?? 'Error', errorMessage: String(e?.message ?? err), kind }));
    }
  };
}
