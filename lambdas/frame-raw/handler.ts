/**
 * The raw Firehose's data transformation: each record of the raw stream becomes exactly one line of the raw
 * zone, as sent when it fits on a line, else marked and base64-encoded (core/lake/raw-framing.ts).
 * Firehose has no processor that escapes or encodes a record (RecordDeAggregation, Decompression,
 * CloudWatchLogProcessing, Lambda, MetadataExtraction, AppendDelimiterToRecord), so this function is the
 * delimiter.
 *
 * It is also the raw zone's gate after an erasure (core/privacy/curation.ts): a record whose subject has a
 * live tombstone (a late, resent or redriven event of an erased person, valid or not) comes back `Dropped`,
 * counted in `RecordsDropped` with `reason=erased_subject`. Firehose counts a `Dropped` record as
 * successfully processed and delivers it nowhere, not even under the error prefix ("Required parameters for
 * data transformation" in the Firehose developer guide: "Dropped (the record was dropped intentionally by
 * your processing logic) ... If a record has a status of Ok or Dropped, Amazon Data Firehose considers it
 * successfully processed"). Every other record comes back `Ok`; none is failed.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FirehoseTransformationEvent, FirehoseTransformationResult, FirehoseTransformationResultRecord } from 'aws-lambda';
import { ENCODED_LINE_MARK, rawLine } from '../../core/lake/raw-framing';
import { ERASED_SUBJECT, ErasedSubjects } from '../../core/privacy/curation';
import { DynamoTombstones } from '../../adapters/dynamodb/tombstones';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { frameRawConfigFromEnv } from './config';

export { FRAME_RAW_ENV, frameRawConfigFromEnv, type FrameRawConfig } from './config';

export const FRAME_RAW_METRICS = { dropped: 'RecordsDropped' } as const;

const NO_TOMBSTONES: ReadonlySet<string> = new Set();

export interface FramedBatch {
  readonly result: FirehoseTransformationResult;
  /** Records that could not sit on a line as sent and were encoded. */
  readonly encoded: number;
  /** Records of erased subjects, returned `Dropped`. */
  readonly erasedSubject: number;
}

/** Frames a Firehose transformation batch, dropping the records of erased subjects (pure). */
export function frameRawBatch(event: Pick<FirehoseTransformationEvent, 'records'>, erased: ErasedSubjects = new ErasedSubjects(NO_TOMBSTONES)): FramedBatch {
  let encoded = 0;
  let erasedSubject = 0;
  const records = event.records.map((r): FirehoseTransformationResultRecord => {
    const data = Buffer.from(r.data, 'base64');
    if (erased.holdsBytes(data)) {
      erasedSubject++;
      return { recordId: r.recordId, result: 'Dropped', data: r.data };
    }
    const line = rawLine(data);
    if (line[0] === ENCODED_LINE_MARK) encoded++;
    return { recordId: r.recordId, result: 'Ok', data: line.toString('base64') };
  });
  return { result: { records }, encoded, erasedSubject };
}

export interface FrameRawDeps {
  /** The hashes of the live tombstones. @default none */
  readonly erased?: () => Promise<ReadonlySet<string>>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export type FrameRawHandler = (event: Pick<FirehoseTransformationEvent, 'records'> & Partial<FirehoseTransformationEvent>) => Promise<FirehoseTransformationResult>;

export function createFrameRawHandler(deps: FrameRawDeps = {}): FrameRawHandler {
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  let gate: ErasedSubjects | undefined;
  return async (event) => {
    gate = ErasedSubjects.over(deps.erased ? await deps.erased() : NO_TOMBSTONES, gate);
    const { result, encoded, erasedSubject } = frameRawBatch(event, gate);
    if (erasedSubject > 0) {
      const single = metrics.singleMetric();
      single.addDimension('reason', ERASED_SUBJECT);
      single.addMetric(FRAME_RAW_METRICS.dropped, MetricUnit.Count, erasedSubject);
    }
    logger.info('framed raw records', { records: event.records.length, encoded, droppedErasedSubject: erasedSubject, deliveryStreamArn: event.deliveryStreamArn });
    return result;
  };
}

let deployed: FrameRawHandler | undefined;

export const handler: FrameRawHandler = (event) => {
  if (!deployed) {
    const config = frameRawConfigFromEnv();
    // The curated gate's reader and freshness: one Query a minute per warm instance.
    const tombstones = config.ledgerTableName ? new DynamoTombstones({ ledgerTableName: config.ledgerTableName, client: documentClient() }) : undefined;
    deployed = createFrameRawHandler(tombstones ? { erased: () => tombstones.hashes() } : {});
  }
  return deployed(event);
};
