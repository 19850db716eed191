/**
 * A stand-in for the two Firehose delivery streams of the deployed stack (Firehose has no emulator): it reads
 * a Kinesis stream, buffers by size and time, and writes objects into the lake buckets in the deployed
 * layout, so the lake, its named queries and the end-to-end tests see what AWS would write.
 *
 * - raw: every record as received, one per line (Firehose's newline delimiter), GZIP, partitioned by the
 *   record's arrival time (`events/dt=YYYY-MM-DD/hour=HH/`).
 * - curated: dynamic partitioning by the event's own time (`.event_time[0:10]`, `.event_time[11:13]`, the JQ
 *   expressions of the deployed stream) and record format conversion to Parquet with the catalog's columns.
 *   A record that is not a JSON object with a canonical event_time cannot be partitioned or converted; as in
 *   Firehose it goes to the error prefix with its base64 payload and the error code, never silently away.
 *
 * Buffering follows Firehose: an object per partition is written when the buffered bytes reach the size
 * hint or the oldest buffered record has waited the buffering interval; stop() flushes what is left (a
 * stand-in convenience: Firehose flushes on its interval only).
 *
 * Objects are encoded by the local lake (local/lake/local-lake.ts), which keeps a copy on disk for the DuckDB
 * query runner; the same bytes are uploaded to the zone's bucket under the same key, where users, the
 * end-to-end tests and the validation function's quarantine objects live.
 *
 * Delivery is at least once, like Firehose: the source checkpoint moves when a batch is buffered, and an
 * object that fails to upload is retried with backoff until stop().
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { BehaviouralEvent } from '../../lambdas/core/contract';
import { eventTimePartition, hourPartition, partitionPath, ERROR_PREFIX, type HourPartition } from '../../lambdas/core/lake/layout';
import { s3Client } from '../../lambdas/shared/aws-clients';
import { KinesisEventSourceRunner, type RunnerStats } from '../event-source-runner';
import type { LocalLake } from '../lake/local-lake';

export type DeliveryFormat = 'raw' | 'curated';

export interface FirehoseStandInOptions {
  /** Delivery stream name; the first part of every object name, as Firehose names its objects. */
  deliveryStreamName: string;
  /** Source Kinesis stream. */
  streamName: string;
  /** The zone's bucket objects are uploaded to. */
  bucket: string;
  format: DeliveryFormat;
  /**
   * The local lake that encodes objects (gzip JSON lines, Parquet with the catalog's columns) and keeps a
   * copy of each one on disk for DuckDB; the same bytes are uploaded to the bucket under the same key.
   */
  lake: LocalLake;
  /** Buffering interval (Firehose: 60-900 s). */
  bufferIntervalMs: number;
  /** Buffering size hint in bytes (Firehose: 1-128 MB). */
  bufferBytes: number;
  /** How often the source is polled (Firehose reads each shard about once a second). */
  pollIntervalMs?: number;
  /** Called after every object written. */
  onObject?: (object: DeliveredObject) => void;
  log?: (line: string) => void;
}

export interface DeliveredObject {
  bucket: string;
  key: string;
  records: number;
  bytes: number;
  kind: 'data' | 'error';
}

export interface FirehoseStats {
  recordsIn: number;
  recordsDelivered: number;
  recordsToErrorPrefix: number;
  objectsWritten: number;
  bytesWritten: number;
  bufferedRecords: number;
  uploadRetries: number;
  source: RunnerStats;
}

interface BufferedRecord {
  data: Buffer;
  arrivalMs: number;
  sequenceNumber: string;
  partitionKey: string;
}

interface PartitionBuffer {
  partition: HourPartition;
  records: BufferedRecord[];
  rows: Record<string, unknown>[];
  bytes: number;
  firstBufferedAt: number;
}

interface ConversionError {
  record: BufferedRecord;
  code: string;
  message: string;
  arrivalPartition: HourPartition;
}

const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAX_UPLOAD_BACKOFF_MS = 5_000;

/** `YYYY-MM-DD-HH-mm-ss` in UTC, the timestamp part of a Firehose object name. */
function objectTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '-');
}

export class FirehoseStandIn {
  private readonly runner: KinesisEventSourceRunner;
  private readonly buffers = new Map<string, PartitionBuffer>();
  private errors: ConversionError[] = [];
  private errorsSince = 0;
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly counters = {
    recordsIn: 0,
    recordsDelivered: 0,
    recordsToErrorPrefix: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    uploadRetries: 0,
  };

  constructor(private readonly options: FirehoseStandInOptions) {
    this.runner = new KinesisEventSourceRunner({
      streamName: options.streamName,
      functionName: `firehose-${options.deliveryStreamName}`,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      handler: (event) => this.accept(event as KinesisStreamEvent),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  async start(): Promise<void> {
    await this.runner.start();
    const tick = Math.max(50, Math.min(1_000, this.options.bufferIntervalMs / 4));
    this.timer = setInterval(() => void this.flushDue(false), tick);
  }

  /** Waits until everything written to the source so far is read and buffered. */
  async catchUp(timeoutMs = 30_000): Promise<void> {
    await this.runner.drain({ timeoutMs });
  }

  /** Writes every buffer now, whatever its age and size. */
  async flush(): Promise<void> {
    await this.flushDue(true);
  }

  /** Stops reading, then writes what is buffered. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.runner.stop();
    await this.flushDue(true);
    this.stopped = true;
  }

  stats(): FirehoseStats {
    let bufferedRecords = this.errors.length;
    for (const b of this.buffers.values()) bufferedRecords += b.records.length;
    return { ...this.counters, bufferedRecords, source: this.runner.stats() };
  }

  iteratorAgeMs(): number {
    return this.runner.iteratorAgeMs();
  }

  private accept(event: KinesisStreamEvent): void {
    const now = Date.now();
    for (const r of event.Records) {
      const record = this.buffered(r);
      this.counters.recordsIn++;
      if (this.options.format === 'raw') {
        this.add(hourPartition(record.arrivalMs), record, undefined, now);
        continue;
      }
      const parsed = parseCurated(record.data);
      if ('error' in parsed) {
        if (this.errors.length === 0) this.errorsSince = now;
        this.errors.push({ record, code: parsed.code, message: parsed.error, arrivalPartition: hourPartition(record.arrivalMs) });
      } else {
        this.add(eventTimePartition(parsed.row.event_time as string), record, parsed.row, now);
      }
    }
    // Firehose flushes a partition as soon as its buffer reaches the size hint.
    if ([...this.buffers.values()].some((b) => b.bytes >= this.options.bufferBytes)) void this.flushDue(false);
  }

  private buffered(r: KinesisStreamRecord): BufferedRecord {
    return {
      data: Buffer.from(r.kinesis.data, 'base64'),
      arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
      sequenceNumber: r.kinesis.sequenceNumber,
      partitionKey: r.kinesis.partitionKey,
    };
  }

  private add(partition: HourPartition, record: BufferedRecord, row: Record<string, unknown> | undefined, now: number): void {
    const key = partitionPath(partition);
    let buffer = this.buffers.get(key);
    if (!buffer) {
      buffer = { partition, records: [], rows: [], bytes: 0, firstBufferedAt: now };
      this.buffers.set(key, buffer);
    }
    buffer.records.push(record);
    if (row) buffer.rows.push(row);
    buffer.bytes += record.data.length + 1;
  }

  private flushDue(all: boolean): Promise<void> {
    // One flush at a time, in order, so stop() waits for the uploads a timer tick started.
    this.flushing = this.flushing.then(() => this.flushNow(all));
    return this.flushing;
  }

  private async flushNow(all: boolean): Promise<void> {
    const now = Date.now();
    const due = [...this.buffers.entries()].filter(
      ([, b]) => all || b.bytes >= this.options.bufferBytes || now - b.firstBufferedAt >= this.options.bufferIntervalMs,
    );
    for (const [key, buffer] of due) {
      this.buffers.delete(key);
      await this.writePartition(buffer);
    }
    if (this.errors.length > 0 && (all || now - this.errorsSince >= this.options.bufferIntervalMs)) {
      const errors = this.errors;
      this.errors = [];
      await this.writeErrors(errors);
    }
  }

  private async writePartition(buffer: PartitionBuffer): Promise<void> {
    const { format, deliveryStreamName: streamName, lake } = this.options;
    // The buffer holds one partition, so each call writes exactly one object.
    const keys =
      format === 'raw'
        ? await lake.writeRaw(buffer.records.map((r) => ({ data: r.data, arrivalMs: r.arrivalMs })), { streamName })
        : await lake.writeCurated(buffer.rows as unknown as BehaviouralEvent[], { streamName });
    for (const key of keys) {
      const contentType = format === 'raw' ? 'application/gzip' : 'application/vnd.apache.parquet';
      await this.put(key, await lake.read(format, key), contentType, buffer.records.length, 'data');
    }
    this.counters.recordsDelivered += buffer.records.length;
  }

  /** Firehose's error output: JSON lines with the original record base64 and why it failed, by arrival hour. */
  private async writeErrors(errors: ConversionError[]): Promise<void> {
    const byKey = new Map<string, ConversionError[]>();
    for (const e of errors) {
      const key = `${ERROR_PREFIX[this.options.format]}${e.code}/${partitionPath(e.arrivalPartition)}`;
      byKey.set(key, [...(byKey.get(key) ?? []), e]);
    }
    for (const [prefix, group] of byKey) {
      const now = Date.now();
      const lines = group.map((e) =>
        JSON.stringify({
          attemptsMade: 1,
          arrivalTimestamp: e.record.arrivalMs,
          errorCode: e.code === 'format-conversion-failed' ? 'DataFormatConversion.MalformedData' : 'DynamicPartitioning.MetadataExtractionFailed',
          errorMessage: e.message,
          attemptEndingTimestamp: now,
          rawData: e.record.data.toString('base64'),
          sequenceNumber: e.record.sequenceNumber,
          partitionKey: e.record.partitionKey,
        }),
      );
      const key = `${prefix}${this.options.deliveryStreamName}-1-${objectTimestamp(now)}-${randomBytes(16).toString('hex')}`;
      const body = Buffer.from(`${lines.join('\n')}\n`);
      const path = this.options.lake.pathOf(this.options.format, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
      await this.put(key, body, 'application/x-ndjson', group.length, 'error');
      this.counters.recordsToErrorPrefix += group.length;
    }
  }

  private async put(key: string, body: Uint8Array, contentType: string, records: number, kind: DeliveredObject['kind']): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await s3Client().send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: contentType }));
        break;
      } catch (err) {
        if (this.stopped) throw err;
        this.counters.uploadRetries++;
        this.options.log?.(`[firehose-${this.options.deliveryStreamName}] upload of ${key} failed (${(err as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(MAX_UPLOAD_BACKOFF_MS, 100 * 2 ** attempt)));
      }
    }
    this.counters.objectsWritten++;
    this.counters.bytesWritten += body.byteLength;
    this.options.onObject?.({ bucket: this.options.bucket, key, records, bytes: body.byteLength, kind });
  }
}

/** What the curated delivery stream can partition and convert: a JSON object with a canonical event_time. */
function parseCurated(data: Buffer): { row: Record<string, unknown> } | { error: string; code: string } {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}`, code: 'format-conversion-failed' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'not a JSON object', code: 'format-conversion-failed' };
  }
  const eventTime = (value as Record<string, unknown>).event_time;
  if (typeof eventTime !== 'string' || !CANONICAL_TIME.test(eventTime)) {
    return { error: `event_time ${JSON.stringify(eventTime ?? null)} is not a canonical UTC timestamp`, code: 'partitioning-failed' };
  }
  return { row: value as Record<string, unknown> };
}
