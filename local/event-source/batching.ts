/**
 * Batching, as a Lambda Kinesis event source does it (pure): which buffered records form the next batch, how
 * long a first delivery may still wait for its batching window, how bisection splits a failing batch, and
 * which records at the head of the shard are past the maximum record age.
 */
import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import type { BufferedRecord } from './types';

/** The largest synchronous invocation payload Lambda accepts. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** The account id the local model puts in ARNs. */
export const ACCOUNT_ID = '000000000000';

export interface BatchRules {
  /** Most records in the batch: the batch size, or the size a bisection planned. */
  readonly limit: number;
  /** How long a first delivery may wait for more records (0: none). */
  readonly maxBatchingWindowMs: number;
  /** The tumbling window a record falls in (by its arrival time), when there are windows: a batch never spans two. */
  readonly windowOf?: (arrivalMs: number) => number;
  /** A retry or a bisected half: it goes out at once, without waiting for the batching window. */
  readonly urgent: boolean;
  readonly now: number;
}

/**
 * The next batch from the head of `buffer`, and how long to wait before delivering it (0: now); undefined
 * when the buffer is empty. A batch is cut at the limit, at a window boundary and before it would pass the
 * 6 MB payload limit (a single larger record still goes alone).
 */
export function nextBatch(buffer: readonly BufferedRecord[], rules: BatchRules): { records: BufferedRecord[]; wait: number } | undefined {
  if (buffer.length === 0) return undefined;
  const window = rules.windowOf?.(buffer[0]!.arrivalMs);
  const records: BufferedRecord[] = [];
  let bytes = 0;
  let cut = false;
  for (const b of buffer) {
    if (records.length >= rules.limit) break;
    if (rules.windowOf && rules.windowOf(b.arrivalMs) !== window) {
      cut = true;
      break;
    }
    if (records.length > 0 && bytes + b.jsonBytes > MAX_PAYLOAD_BYTES) {
      cut = true;
      break;
    }
    bytes += b.jsonBytes;
    records.push(b);
  }
  const full = records.length >= rules.limit || cut || rules.urgent;
  const waited = rules.now - records[0]!.readAt;
  const wait = full || rules.maxBatchingWindowMs <= 0 ? 0 : Math.max(0, rules.maxBatchingWindowMs - waited);
  return { records, wait };
}

/**
 * Splits a failed batch of `size` records in two halves that are delivered in order, in `plan` (the sizes
 * of the batches a bisection still has to deliver, front first): the failed batch was the plan's head, if any.
 */
export function bisect(plan: number[], size: number): void {
  const half = Math.ceil(size / 2);
  plan.splice(0, plan.length > 0 ? 1 : 0, half, size - half);
}

/** Takes `count` records that are done with off the front of a bisection plan. */
export function consumePlan(plan: number[], count: number): void {
  let left = count;
  while (left > 0 && plan.length > 0) {
    const head = plan[0]!;
    if (head <= left) {
      left -= head;
      plan.shift();
    } else {
      plan[0] = head - left;
      left = 0;
    }
  }
}

/** How many records at the head of `buffer` are older than `maxAgeSeconds` (negative: no limit) at `now`. */
export function expiredAtHead(buffer: readonly BufferedRecord[], now: number, maxAgeSeconds: number): number {
  if (maxAgeSeconds < 0) return 0;
  let count = 0;
  while (count < buffer.length && now - buffer[count]!.arrivalMs > maxAgeSeconds * 1000) count++;
  return count;
}

/** A record as GetRecords returns it, as the function receives it in a Kinesis event. */
export function toBuffered(
  r: KinesisRecord,
  source: { readonly shardId: string; readonly functionName: string; readonly region: string; readonly streamArn: string; readonly now: number },
): BufferedRecord {
  const sequenceNumber = r.SequenceNumber ?? '';
  const arrivalMs = r.ApproximateArrivalTimestamp?.getTime() ?? source.now;
  const record: KinesisStreamRecord = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.PartitionKey ?? '',
      sequenceNumber,
      data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${ACCOUNT_ID}:role/${source.functionName}-role`,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
  return { record, sequenceNumber, arrivalMs, readAt: source.now, jsonBytes: Buffer.byteLength(JSON.stringify(record)) + 1 };
}
