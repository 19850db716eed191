/**
 * The raw Firehose's data transformation: each record of the raw stream becomes exactly one line of the raw
 * zone, as sent when it fits on a line, else marked and base64-encoded (core/lake/raw-framing.ts).
 * Firehose has no processor that escapes or encodes a record (RecordDeAggregation, Decompression,
 * CloudWatchLogProcessing, Lambda, MetadataExtraction, AppendDelimiterToRecord), so this function is the
 * delimiter. Framing is total: every record comes back `Ok`, none is dropped or failed.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { ENCODED_LINE_MARK, rawLine } from '../../core/lake/raw-framing';

export interface FramedBatch {
  readonly result: FirehoseTransformationResult;
  /** Records that could not sit on a line as sent and were encoded. */
  readonly encoded: number;
}

/** Frames a Firehose transformation batch (pure). */
export function frameRawBatch(event: Pick<FirehoseTransformationEvent, 'records'>): FramedBatch {
  let encoded = 0;
  const records = event.records.map((r) => {
    const line = rawLine(Buffer.from(r.data, 'base64'));
    if (line[0] === ENCODED_LINE_MARK) encoded++;
    return { recordId: r.recordId, result: 'Ok' as const, data: line.toString('base64') };
  });
  return { result: { records }, encoded };
}

const logger = new Logger();

export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => {
  const { result, encoded } = frameRawBatch(event);
  logger.info('framed raw records', { records: event.records.length, encoded, deliveryStreamArn: event.deliveryStreamArn });
  return result;
};
