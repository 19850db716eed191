/**
 * The pure part of redriving an event source's on-failure records. Lambda's on-failure record for a Kinesis
 * source carries no payload, only where the skipped records are (KinesisBatchInfo: stream, shard, first and
 * last sequence number, count). Redriving means re-reading that range from the stream while it is still
 * retained and handing the records, as they are (same sequence numbers, partition keys, payloads and
 * arrival times), to the function that gave up on them, in the event Lambda would have invoked it with: the
 * same rules then decide what was already done (the profiles' ledger of applied event ids, the quarantine's
 * deterministic object keys), so a redrive, once or several times, changes nothing that was already done.
 * This module parses and checks the records, plans the reads and builds the invocation events.
 */
import type { KinesisEvent, KinesisEventRecord } from './kinesis-event';

/** A shard range to re-read, from one on-failure record. */
export interface RedriveRange {
  readonly streamArn: string;
  readonly streamName: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** Records Lambda says the range holds. */
  readonly batchSize: number;
  readonly condition: string;
  readonly approximateArrivalOfFirstRecordMs: number;
  readonly approximateArrivalOfLastRecordMs: number;
  /** The function whose event source gave up on the records. */
  readonly functionArn: string;
}

export type ParsedOnFailureRecord = { readonly ok: true; readonly range: RedriveRange } | { readonly ok: false; readonly error: string };

const SEQUENCE = /^\d{1,128}$/;

/** Parses the body of an on-failure message (the JSON invocation record Lambda sends). Never throws. */
export function parseOnFailureRecord(body: string): ParsedOnFailureRecord {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
  if (!isObject(value)) return { ok: false, error: 'not a JSON object' };
  const info = value.KinesisBatchInfo;
  if (!isObject(info)) {
    return { ok: false, error: 'no KinesisBatchInfo: not an on-failure record of a Kinesis event source' };
  }
  const text = (key: string): string | undefined => (typeof info[key] === 'string' && info[key] !== '' ? (info[key] as string) : undefined);
  const streamArn = text('streamArn');
  const shardId = text('shardId');
  const start = text('startSequenceNumber');
  const end = text('endSequenceNumber');
  const missing = Object.entries({ streamArn, shardId, startSequenceNumber: start, endSequenceNumber: end })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length > 0) return { ok: false, error: `KinesisBatchInfo lacks ${missing.join(', ')}` };
  const streamName = streamNameFromArn(streamArn!);
  if (!streamName) return { ok: false, error: `streamArn ${JSON.stringify(streamArn)} is not a Kinesis stream ARN` };
  if (!SEQUENCE.test(start!) || !SEQUENCE.test(end!)) return { ok: false, error: 'sequence numbers must be decimal digits' };
  if (compareSequenceNumbers(start!, end!) > 0) return { ok: false, error: `startSequenceNumber ${start} is after endSequenceNumber ${end}` };
  const batchSize = info.batchSize;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) return { ok: false, error: 'batchSize must be a positive integer' };
  const requestContext = isObject(value.requestContext) ? value.requestContext : {};
  return {
    ok: true,
    range: {
      streamArn: streamArn!,
      streamName,
      shardId: shardId!,
      startSequenceNumber: start!,
      endSequenceNumber: end!,
      batchSize,
      condition: typeof requestContext.condition === 'string' ? requestContext.condition : 'unknown',
      approximateArrivalOfFirstRecordMs: Date.parse(text('approximateArrivalOfFirstRecord') ?? '') || NaN,
      approximateArrivalOfLastRecordMs: Date.parse(text('approximateArrivalOfLastRecord') ?? '') || NaN,
      functionArn: typeof requestContext.functionArn === 'string' ? requestContext.functionArn : 'unknown',
    },
  };
}

/** 'arn:aws:kinesis:eu-west-1:123456789012:stream/pdp-prod-events' -> 'pdp-prod-events'. */
export function streamNameFromArn(arn: string): string | undefined {
  const m = /^arn:aws[a-z-]*:kinesis:[^:]*:\d{12}:stream\/([A-Za-z0-9_.-]{1,128})$/.exec(arn);
  return m?.[1];
}

/** Kinesis sequence numbers are decimal strings of up to 128 digits: compare them as such, not as floats. */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function inRange(sequenceNumber: string, range: Pick<RedriveRange, 'startSequenceNumber' | 'endSequenceNumber'>): boolean {
  return compareSequenceNumbers(sequenceNumber, range.startSequenceNumber) >= 0 && compareSequenceNumbers(sequenceNumber, range.endSequenceNumber) <= 0;
}

/** A range to read once, covering one or more on-failure records of the same shard. */
export interface ShardRead {
  readonly streamArn: string;
  readonly streamName: string;
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** Indexes (into the ranges given to planShardReads) of the ranges it covers. */
  readonly covers: readonly number[];
}

/**
 * Plans the reads for a set of ranges: one read per run of overlapping ranges of a shard, so a record named
 * by two on-failure records (a window and a retried batch, or a message delivered twice) is read and
 * re-injected once. Reads are ordered by stream, shard and start.
 */
export function planShardReads(ranges: readonly RedriveRange[]): ShardRead[] {
  const order = ranges
    .map((range, index) => ({ range, index }))
    .sort(
      (x, y) =>
        x.range.streamArn.localeCompare(y.range.streamArn) ||
        x.range.shardId.localeCompare(y.range.shardId) ||
        compareSequenceNumbers(x.range.startSequenceNumber, y.range.startSequenceNumber),
    );
  const reads: { streamArn: string; streamName: string; shardId: string; startSequenceNumber: string; endSequenceNumber: string; covers: number[] }[] = [];
  for (const { range, index } of order) {
    const last = reads[reads.length - 1];
    if (
      last &&
      last.streamArn === range.streamArn &&
      last.shardId === range.shardId &&
      compareSequenceNumbers(range.startSequenceNumber, last.endSequenceNumber) <= 0
    ) {
      if (compareSequenceNumbers(range.endSequenceNumber, last.endSequenceNumber) > 0) last.endSequenceNumber = range.endSequenceNumber;
      last.covers.push(index);
      continue;
    }
    reads.push({
      streamArn: range.streamArn,
      streamName: range.streamName,
      shardId: range.shardId,
      startSequenceNumber: range.startSequenceNumber,
      endSequenceNumber: range.endSequenceNumber,
      covers: [index],
    });
  }
  return reads;
}

/**
 * Whether a range can still be fully re-read: its first record must be younger than the stream's retention
 * (with a safety margin, as trimming is not instantaneous but reading takes time too).
 */
export function retentionStatus(range: RedriveRange, nowMs: number, retentionHours: number, marginMs = 5 * 60_000): 'retained' | 'at-risk' | 'expired' {
  const expiresAt = range.approximateArrivalOfFirstRecordMs + retentionHours * 3600_000;
  if (!Number.isFinite(expiresAt)) return 'at-risk';
  if (nowMs >= expiresAt) return 'expired';
  return nowMs + marginMs >= expiresAt ? 'at-risk' : 'retained';
}

/**
 * Checks what was read for each range against the count in its on-failure record. A range is complete when
 * every record it names was read; records the stream has trimmed make it incomplete, and its message must
 * be kept (or the loss acknowledged) rather than deleted as if redriven.
 */
export function rangeCompleteness(range: RedriveRange, readSequenceNumbers: readonly string[]): { readonly found: number; readonly complete: boolean } {
  let found = 0;
  for (const s of readSequenceNumbers) if (inRange(s, range)) found++;
  return { found, complete: found >= range.batchSize };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A record re-read from a stream, with its original identity. */
export interface ReadRecord {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  /** ApproximateArrivalTimestamp, epoch ms: the validation function's reference time. */
  readonly arrivalMs: number;
}

export interface ReplayLimits {
  /** Records per invocation (the event source's batch size). */
  readonly maxRecords: number;
  /** Bytes of base64 payload per invocation (a synchronous invocation takes at most 6 MB). */
  readonly maxPayloadBytes: number;
}

/** A synchronous invocation's request is at most 6 MB; the rest is margin for the event's other fields. */
export const REPLAY_LIMITS: ReplayLimits = { maxRecords: 500, maxPayloadBytes: 5 * 1024 * 1024 };

/**
 * The Kinesis events that replay `records` (of one shard, in order) to a function, as Lambda's event source
 * builds them: eventID `<shard>:<sequence>`, the stream's ARN, base64 data, arrival in epoch seconds.
 */
export function replayEvents(
  source: Pick<RedriveRange, 'streamArn' | 'shardId'>,
  records: readonly ReadRecord[],
  limits: ReplayLimits = REPLAY_LIMITS,
): KinesisEvent[] {
  const region = /^arn:aws[a-z-]*:kinesis:([^:]*):/.exec(source.streamArn)?.[1] ?? '';
  const events: KinesisEvent[] = [];
  let current: KinesisEventRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const data = Buffer.from(r.data).toString('base64');
    if (current.length > 0 && (current.length >= limits.maxRecords || bytes + data.length > limits.maxPayloadBytes)) {
      events.push({ Records: current });
      current = [];
      bytes = 0;
    }
    current.push({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        data,
        approximateArrivalTimestamp: r.arrivalMs / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${source.shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: '',
      awsRegion: region,
      eventSourceARN: source.streamArn,
    });
    bytes += data.length;
  }
  if (current.length > 0) events.push({ Records: current });
  return events;
}

/**
 * What a function's response to a replayed event means: done, or the sequence number to replay from (a
 * partial batch failure), or a failure of the whole event. Handlers answer `{ batchItemFailures }` (and the
 * aggregator a `state` besides); a failure is an entry naming a record of the event.
 */
export function replayOutcome(event: KinesisEvent, response: unknown, functionError?: string): { readonly ok: true } | { readonly ok: false; readonly from?: string; readonly error: string } {
  if (functionError) return { ok: false, error: `the function failed (${functionError}): ${describeResponse(response)}` };
  const failures = isObject(response) && Array.isArray(response.batchItemFailures) ? (response.batchItemFailures as unknown[]) : [];
  const sequences = new Set(event.Records.map((r) => r.kinesis.sequenceNumber));
  const named: string[] = [];
  for (const f of failures) {
    const id = isObject(f) ? f.itemIdentifier : undefined;
    if (typeof id !== 'string' || !sequences.has(id)) return { ok: false, error: `the function reported a failure that names no record of the batch: ${JSON.stringify(f)}` };
    named.push(id);
  }
  if (named.length === 0) return { ok: true };
  const from = named.sort(compareSequenceNumbers)[0]!;
  return { ok: false, from, error: `the function reported ${named.length} record(s) failed, from ${from}` };
}

function describeResponse(response: unknown): string {
  if (isObject(response) && typeof response.errorMessage === 'string') return `${String(response.errorType ?? 'Error')}: ${response.errorMessage}`;
  return JSON.stringify(response)?.slice(0, 300) ?? 'no response';
}
