/**
 * What the validation function does with one batch of raw records, as a pure plan: validate each record
 * against the contract, drop in-batch duplicates (same subject + event_id), and split the batch into the
 * normalized events to forward and the bad rows to quarantine. Records of erased subjects (a live
 * tombstone: core/privacy/curation.ts) are dropped first, valid or not, so they are neither forwarded nor
 * quarantined. Every record ends in exactly one of forward, quarantine, duplicates or erased.
 */
import { dedupKey, eventFingerprint, partitionKeyOf, subjectKey, validateRecord, type ReasonCode, type ValidationOptions } from '@personalization-data-platform/contract';
import { MAX_RECORD_BYTES, type PutEntry } from './put-records';
import type { ErasedSubjects } from '../privacy/curation';
import { buildQuarantineLine, buildQuarantineObjects, type QuarantineLine, type QuarantineObject } from './quarantine';

/** A record of the raw stream, decoded from the Kinesis event. */
export interface RawRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** approximateArrivalTimestamp in epoch ms: the reference time of the timestamp window. */
  readonly arrivalMs: number;
}

/** A normalized event to write to the validated stream. */
export interface ForwardRecord extends PutEntry {
  /** The event's user_id, else its anonymous_id: the validated stream keeps per-person order and locality. */
  readonly partitionKey: string;
  /** UTF-8 JSON of the normalized event. */
  readonly data: Uint8Array;
  /** The raw record it came from: reported as a batch item failure if it cannot be forwarded. */
  readonly sequenceNumber: string;
  readonly shardId: string;
}

export interface BatchPlanOptions {
  readonly validation: ValidationOptions;
  /** When the batch is processed (epoch ms), recorded in quarantine lines. */
  readonly processedAtMs: number;
  /** Largest original payload kept in a quarantine line. */
  readonly quarantinePayloadMaxBytes?: number;
  /** The erased subjects: their records are dropped. @default none */
  readonly erased?: ErasedSubjects;
}

export interface BatchPlan {
  readonly recordsIn: number;
  /** Records that passed validation, duplicates included. */
  readonly valid: number;
  /** Unique valid events, in shard order. */
  readonly forward: ForwardRecord[];
  readonly quarantineLines: QuarantineLine[];
  readonly quarantineObjects: QuarantineObject[];
  readonly quarantinedByReason: Partial<Record<ReasonCode, number>>;
  /** Valid records dropped because an earlier record of the batch had the same dedup key. */
  readonly duplicates: number;
  /** Of those, how many differed in content from the first (an event id reused by a producer: a bug). */
  readonly conflictingDuplicates: number;
  /** Valid events of a newer minor version whose unknown fields were dropped. */
  readonly droppedUnknownFields: number;
  /** Records (valid or not) of erased subjects, dropped: neither forwarded nor quarantined. */
  readonly erasedSubject: number;
}

export function planBatch(records: readonly RawRecord[], options: BatchPlanOptions): BatchPlan {
  const forward: ForwardRecord[] = [];
  const lines: QuarantineLine[] = [];
  const byReason: Partial<Record<ReasonCode, number>> = {};
  // Dedup by (subject, event_id), looked up by event_id alone first: the id is a flat string straight from
  // JSON.parse, where a concatenated key would have to be built and hashed for every record. An id that
  // another user of the batch also sent (rare) falls back to the composite key.
  const byEventId = new Map<string, number>();
  const byDedupKey = new Map<string, number>();
  const fingerprints = new Map<number, string>();
  /** The subject (user, else anonymous visitor) of each forwarded event: the scope of its event id. */
  const subjects: string[] = [];
  let valid = 0;
  let duplicates = 0;
  let conflicting = 0;
  let dropped = 0;
  let erasedSubject = 0;
  const erased = options.erased !== undefined && !options.erased.none ? options.erased : undefined;

  const quarantine = (record: RawRecord, reason: ReasonCode, errors: readonly { path: string; rule: string; message: string }[]) => {
    lines.push(buildQuarantineLine(record, { reason, errors }, { processedAtMs: options.processedAtMs, payloadMaxBytes: options.quarantinePayloadMaxBytes }));
    byReason[reason] = (byReason[reason] ?? 0) + 1;
  };

  for (const record of records) {
    const result = validateRecord(record.data, record.arrivalMs, options.validation);
    if (!result.ok) {
      // Rejected records are few: parsing one again to find its subject costs nothing on the hot path.
      if (erased?.holdsBytes(record.data)) erasedSubject++;
      else quarantine(record, result.reason, result.errors);
      continue;
    }
    const event = result.event;
    if (erased?.has(subjectKey(event))) {
      erasedSubject++;
      continue;
    }
    // An event that normalization left untouched is forwarded as the bytes it arrived in: serializing it
    // again would cost more than validating it. (With duplicate JSON keys, every parser in the pipeline,
    // JSON.parse and Firehose's jq alike, keeps the last one, as validation did.)
    const data = result.normalized ? Buffer.from(JSON.stringify(event), 'utf8') : record.data;
    // Normalization can lengthen an event slightly; a record the stream would refuse is quarantined here
    // rather than failing its whole PutRecords call.
    // (A UTF-16 code unit is at most 3 UTF-8 bytes: the exact byte length is needed only near the limit.)
    const partitionKey = partitionKeyOf(event);
    if (data.byteLength + 3 * partitionKey.length > MAX_RECORD_BYTES && data.byteLength + Buffer.byteLength(partitionKey, 'utf8') > MAX_RECORD_BYTES) {
      quarantine(record, 'size_violation', [
        { path: '', rule: 'maxRecordBytes', message: `normalized event is ${data.byteLength} bytes; a Kinesis record holds at most ${MAX_RECORD_BYTES} bytes with its partition key` },
      ]);
      continue;
    }
    valid++;
    if (result.droppedUnknownFields) dropped++;
    let firstIndex: number | undefined;
    const sameId = byEventId.get(event.event_id);
    if (sameId === undefined) byEventId.set(event.event_id, forward.length);
    else if (subjects[sameId] === subjectKey(event)) firstIndex = sameId;
    else {
      const key = dedupKey(event);
      firstIndex = byDedupKey.get(key);
      if (firstIndex === undefined) byDedupKey.set(key, forward.length);
    }
    if (firstIndex !== undefined) {
      duplicates++;
      // Fingerprints are computed only for duplicates: they are rare, and hashing every event is not free.
      let first = fingerprints.get(firstIndex);
      if (first === undefined) {
        first = eventFingerprint(JSON.parse(Buffer.from(forward[firstIndex]!.data).toString('utf8')));
        fingerprints.set(firstIndex, first);
      }
      if (eventFingerprint(event) !== first) conflicting++;
      continue;
    }
    subjects.push(subjectKey(event));
    forward.push({ partitionKey, data, sequenceNumber: record.sequenceNumber, shardId: record.shardId });
  }

  return {
    recordsIn: records.length,
    valid,
    forward,
    quarantineLines: lines,
    quarantineObjects: buildQuarantineObjects(lines),
    quarantinedByReason: byReason,
    duplicates,
    conflictingDuplicates: conflicting,
    droppedUnknownFields: dropped,
    erasedSubject,
  };
}
