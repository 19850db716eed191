/**
 * A stand-in for the two Firehose delivery streams of the deployed stack (Firehose has no emulator): it reads
 * a Kinesis stream, buffers by size and time, and writes objects into the lake buckets in the deployed
 * layout, so the lake, its named queries and the end-to-end tests see what AWS would write.
 *
 * - raw: every record as received, one per line (the framing of core/lake/raw-framing.ts), GZIP, partitioned
 *   by the record's arrival time (`events/dt=YYYY-MM-DD/hour=HH/`), but those the transformation drops
 *   (records of erased people).
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
 * No single record stops delivery. A record DuckDB cannot convert (a lone UTF-16 surrogate in a string, say)
 * is found by bisecting the failed partition and goes to `errors/format-conversion-failed/` with the error;
 * the rest of its partition is delivered. No object is ever left empty or half written.
 *
 * Delivery is at least once, like Firehose: the source checkpoint moves when a batch is buffered. An object
 * that fails to upload is kept (its local copy is already in the lake) and retried in the background with
 * backoff, without holding up later objects, for at most maxDeliveryRetryMs (Firehose retries S3 delivery
 * for up to 24 hours, then drops the data). stop() and flush() try the waiting uploads for a bounded time and
 * report what is still waiting; they never wait forever. Every failed attempt is counted and logged.
 *
 * An error the stand-in does not expect (a full disk, a bug) goes to onError with what failed, and delivery
 * carries on with the next object.
 */
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { eventTimePartition, hourPartition, partitionPath, ERROR_PREFIX, type HourPartition } from '../../core/lake/layout';
import { s3Client } from '../../adapters/aws-clients';
import { backoffCeilingMs, type RetryPolicy } from '../../core/retry-policy';
import { KinesisEventSourceRunner, type RunnerStats } from '../event-source/runner';
import { CuratedConversionError, type LocalLake } from '../lake/local-lake';

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
  /**
   * The delivery stream's Lambda data transformation, called with each batch as Firehose calls it (records with
   * recordId and base64 data); records it returns `Dropped` are not delivered. Only `Ok` and `Dropped` are
   * modelled (the deployed transformations return nothing else).
   */
  transform?: (event: { records: { recordId: string; data: string; approximateArrivalTimestamp: number }[] }) => Promise<{ records: { recordId: string; result: string }[] }>;
  /** How long an object that fails to upload is retried before it is given up (Firehose: 24 hours). @default 24 hours */
  maxDeliveryRetryMs?: number;
  /** Told about an error the stand-in did not expect, with what failed; delivery goes on. @default logged */
  onError?: (error: Error) => void;
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
  /** Records the Lambda transformation returned as Dropped (the lake's gates: erased people; consent in the curated zone). */
  droppedByTransformation: number;
  recordsIn: number;
  recordsDelivered: number;
  recordsToErrorPrefix: number;
  objectsWritten: number;
  bytesWritten: number;
  bufferedRecords: number;
  /** Upload attempts that failed (each one logged). */
  uploadRetries: number;
  /** Objects written to the local lake whose upload is still being retried. */
  pendingUploads: number;
  /** Objects given up after maxDeliveryRetryMs (their local copies stay in the lake). */
  objectsNotDelivered: number;
  /** Why the last upload attempt failed, while one is waiting. */
  lastUploadError?: string;
  /** Age of the oldest record read but not yet uploaded (Firehose's DeliveryToS3.DataFreshness), in ms. */
  dataFreshnessMs: number;
  source: RunnerStats;
}

/** An object that could not be uploaded yet. */
interface PendingUpload {
  key: string;
  body: Uint8Array;
  contentType: string;
  records: number;
  kind: DeliveredObject['kind'];
  /** Arrival of the oldest record in it. */
  oldestArrivalMs: number;
  attempts: number;
  firstFailureMs: number;
  nextAttemptMs: number;
  lastError: string;
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
/**
 * The pause before the next upload attempt of an object: the retry policy's ceiling for its attempt. Every
 * failure is retried, whatever S3 answered, as Firehose retries delivery until its 24 hours are up.
 */
const UPLOAD_RETRY_POLICY: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 200, maxDelayMs: 5_000 };
/** Firehose keeps retrying delivery to S3 for up to 24 hours (Data Delivery Failure Handling). */
const FIREHOSE_MAX_DELIVERY_RETRY_MS = 24 * 3600 * 1000;
/** How long stop() keeps trying uploads that are still waiting. */
const STOP_UPLOAD_BUDGET_MS = 3_000;

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
  private pending: PendingUpload[] = [];
  private retrying?: Promise<void>;
  /** Set by flush() and stop(): upload attempts are cut off at this time (an S3 that hangs cannot hold them). */
  private uploadDeadline?: number;
  private readonly inFlight = new Set<AbortController>();
  private readonly counters = {
    droppedByTransformation: 0,
    recordsIn: 0,
    recordsDelivered: 0,
    recordsToErrorPrefix: 0,
    objectsWritten: 0,
    bytesWritten: 0,
    uploadRetries: 0,
    objectsNotDelivered: 0,
  };

  constructor(private readonly options: FirehoseStandInOptions) {
    this.runner = new KinesisEventSourceRunner({
      streamName: options.streamName,
      functionName: `firehose-${options.deliveryStreamName}`,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 10_000,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      handler: async (event) => this.accept(await this.transformed(event as KinesisStreamEvent)),
      ...(options.log ? { log: options.log } : {}),
    });
  }

  async start(): Promise<void> {
    await this.runner.start();
    const tick = Math.max(50, Math.min(1_000, this.options.bufferIntervalMs / 4));
    this.timer = setInterval(() => {
      void this.flushDue(false);
      void this.retryDue();
    }, tick);
  }

  /** Waits until everything written to the source so far is read and buffered. */
  async catchUp(timeoutMs = 30_000): Promise<void> {
    await this.runner.drain({ timeoutMs });
  }

  /**
   * Writes every buffer now, whatever its age and size, and tries the uploads that are waiting until they
   * are done or uploadTimeoutMs has passed; what is still waiting then shows in stats().
   */
  async flush(uploadTimeoutMs = 10_000): Promise<void> {
    await this.writeAllAndUpload(Date.now() + uploadTimeoutMs);
  }

  /** Stops reading, writes what is buffered, and gives waiting uploads a few more seconds. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.runner.stop();
    await this.writeAllAndUpload(Date.now() + STOP_UPLOAD_BUDGET_MS);
    for (const p of this.pending) this.options.log?.(`[firehose-${this.options.deliveryStreamName}] stopped with ${p.key} not uploaded (${p.lastError}); its local copy is in the lake`);
  }

  /**
   * Writes every buffer and tries the waiting uploads until `deadline`; every upload attempt until then
   * (those in flight and the buffers' first ones included) is abandoned at the deadline.
   */
  private async writeAllAndUpload(deadline: number): Promise<void> {
    this.uploadDeadline = deadline;
    const cutoff = setTimeout(() => {
      for (const attempt of this.inFlight) attempt.abort(new Error('the flush or stop deadline passed'));
    }, Math.max(1, deadline - Date.now()));
    try {
      await this.flushDue(true);
      await this.retryPending(deadline);
    } finally {
      clearTimeout(cutoff);
      this.uploadDeadline = undefined;
    }
  }

  stats(): FirehoseStats {
    let bufferedRecords = this.errors.length;
    for (const b of this.buffers.values()) bufferedRecords += b.records.length;
    const last = this.pending.at(-1);
    return {
      ...this.counters,
      bufferedRecords,
      pendingUploads: this.pending.length,
      ...(last ? { lastUploadError: last.lastError } : {}),
      dataFreshnessMs: this.dataFreshnessMs(),
      source: this.runner.stats(),
    };
  }

  /** Keys of the objects whose upload is still waiting. */
  pendingKeys(): string[] {
    return this.pending.map((p) => p.key);
  }

  iteratorAgeMs(): number {
    return this.runner.iteratorAgeMs();
  }

  /** Age of the oldest record read but not yet in S3 (buffered, or in an object still to upload), in ms. */
  dataFreshnessMs(now = Date.now()): number {
    let oldest = Infinity;
    for (const b of this.buffers.values()) for (const r of b.records) oldest = Math.min(oldest, r.arrivalMs);
    for (const e of this.errors) oldest = Math.min(oldest, e.record.arrivalMs);
    for (const p of this.pending) oldest = Math.min(oldest, p.oldestArrivalMs);
    return oldest === Infinity ? 0 : Math.max(0, now - oldest);
  }

  /** The event without the records the transformation dropped. */
  private async transformed(event: KinesisStreamEvent): Promise<KinesisStreamEvent> {
    const transform = this.options.transform;
    if (!transform || event.Records.length === 0) return event;
    const out = await transform({ records: event.Records.map((r, i) => ({ recordId: String(i), data: r.kinesis.data, approximateArrivalTimestamp: r.kinesis.approximateArrivalTimestamp * 1000 })) });
    const dropped = new Set(out.records.filter((r) => r.result === 'Dropped').map((r) => r.recordId));
    this.counters.droppedByTransformation += dropped.size;
    return dropped.size === 0 ? event : { ...event, Records: event.Records.filter((_, i) => !dropped.has(String(i))) };
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
    // One flush at a time, in order, so stop() waits for the writes a timer tick started. A flush that fails
    // is reported and does not stop the next one.
    this.flushing = this.flushing.then(() => this.flushNow(all)).catch((err: unknown) => this.unexpected('writing the buffered records', err));
    return this.flushing;
  }

  private unexpected(what: string, err: unknown): void {
    const error = new Error(`firehose-${this.options.deliveryStreamName}: ${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    this.options.log?.(error.message);
    this.options.onError?.(error);
  }

  /** Retries the waiting uploads whose backoff has passed (one pass; the timer calls it again). */
  private retryDue(): Promise<void> {
    this.retrying ??= this.retryPass(Date.now()).finally(() => (this.retrying = undefined));
    return this.retrying;
  }

  private async retryPass(now: number): Promise<void> {
    for (const p of [...this.pending]) {
      if (p.nextAttemptMs > now) continue;
      if (await this.attempt(p)) {
        this.pending.splice(this.pending.indexOf(p), 1);
        continue;
      }
      if (now - p.firstFailureMs >= (this.options.maxDeliveryRetryMs ?? FIREHOSE_MAX_DELIVERY_RETRY_MS)) {
        this.pending.splice(this.pending.indexOf(p), 1);
        this.counters.objectsNotDelivered++;
        this.options.log?.(
          `[firehose-${this.options.deliveryStreamName}] gave up uploading ${p.key} (${p.records} records) after ${p.attempts} attempts ` +
            `over ${Math.round((now - p.firstFailureMs) / 1000)} s: ${p.lastError}; its local copy is in the lake`,
        );
      }
    }
  }

  /** Tries the waiting uploads, with backoff, until none is left or the deadline passes. */
  private async retryPending(deadline: number): Promise<void> {
    while (this.pending.length > 0 && Date.now() < deadline) {
      await this.retryDue();
      if (this.pending.length === 0) return;
      const next = Math.min(...this.pending.map((p) => p.nextAttemptMs));
      await new Promise((r) => setTimeout(r, Math.max(10, Math.min(next, deadline) - Date.now())));
    }
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
    let records = buffer.records;
    let keys: string[];
    if (format === 'raw') {
      keys = await lake.writeRaw(records.map((r) => ({ data: r.data, arrivalMs: r.arrivalMs })), { streamName });
    } else {
      let rows = buffer.rows;
      try {
        keys = await lake.writeCurated(rows as unknown as BehaviouralEvent[], { streamName });
      } catch (err) {
        if (!(err instanceof CuratedConversionError)) throw err;
        // Firehose converts record by record: the records it cannot convert go to the error prefix, the rest
        // of the partition is delivered. Find them by bisecting (conversion failures are rare).
        const bad = await this.unconvertible(rows);
        if (bad.size === 0) throw err;
        const now = Date.now();
        if (this.errors.length === 0) this.errorsSince = now;
        for (const [i, message] of bad) {
          const record = records[i]!;
          this.errors.push({ record, code: 'format-conversion-failed', message, arrivalPartition: hourPartition(record.arrivalMs) });
        }
        this.options.log?.(`[firehose-${streamName}] ${bad.size} record(s) of ${partitionPath(buffer.partition)} could not be converted; they go to the error prefix`);
        records = records.filter((_, i) => !bad.has(i));
        rows = rows.filter((_, i) => !bad.has(i));
        keys = rows.length > 0 ? await lake.writeCurated(rows as unknown as BehaviouralEvent[], { streamName }) : [];
      }
    }
    // The buffer holds one partition, so each call writes at most one object.
    const oldestArrivalMs = Math.min(...records.map((r) => r.arrivalMs));
    for (const key of keys) {
      const contentType = format === 'raw' ? 'application/gzip' : 'application/vnd.apache.parquet';
      await this.put(key, await lake.read(format, key), contentType, records.length, 'data', oldestArrivalMs);
    }
    this.counters.recordsDelivered += records.length;
  }

  /** Indexes of the rows DuckDB cannot convert, with its error, found by bisection. */
  private async unconvertible(rows: Record<string, unknown>[]): Promise<Map<number, string>> {
    const bad = new Map<number, string>();
    const check = async (from: number, to: number): Promise<void> => {
      const error = await this.options.lake.curatedConversionError(rows.slice(from, to) as unknown as BehaviouralEvent[]);
      if (error === undefined) return;
      if (to - from === 1) {
        bad.set(from, `format conversion failed: ${error.split('\n')[0]}`);
        return;
      }
      const mid = from + Math.ceil((to - from) / 2);
      await check(from, mid);
      await check(mid, to);
    };
    await check(0, rows.length);
    return bad;
  }

  /**
   * Firehose's error output, by arrival hour: one JSON document per record with the original record in
   * base64 and why it failed, in the layout AWS documents for format conversion errors
   * (record-format-conversion-error-handling: attemptsMade, arrivalTimestamp, ErrorCode, ErrorMessage,
   * attemptEndingTimestamp, rawData, sequenceNumber, subSequenceNumber; the dataCatalogTable is left out).
   */
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
          ErrorCode: e.code === 'format-conversion-failed' ? 'DataFormatConversion.MalformedData' : 'DynamicPartitioning.MetadataExtractionFailed',
          ErrorMessage: e.message,
          attemptEndingTimestamp: now,
          rawData: e.record.data.toString('base64'),
          sequenceNumber: e.record.sequenceNumber,
          subSequenceNumber: 0,
          partitionKey: e.record.partitionKey,
        }),
      );
      const key = `${prefix}${this.options.deliveryStreamName}-1-${objectTimestamp(now)}-${randomBytes(16).toString('hex')}`;
      const body = Buffer.from(`${lines.join('\n')}\n`);
      await this.options.lake.put(this.options.format, key, body);
      await this.put(key, body, 'application/x-ndjson', group.length, 'error', Math.min(...group.map((e) => e.record.arrivalMs)));
      this.counters.recordsToErrorPrefix += group.length;
    }
  }

  /**
   * Uploads an object already in the local lake. One attempt now; when it fails, the object waits for the
   * background retries (later objects are not held up).
   */
  private async put(key: string, body: Uint8Array, contentType: string, records: number, kind: DeliveredObject['kind'], oldestArrivalMs: number): Promise<void> {
    const now = Date.now();
    const upload: PendingUpload = { key, body, contentType, records, kind, oldestArrivalMs, attempts: 0, firstFailureMs: now, nextAttemptMs: now, lastError: '' };
    if (!(await this.attempt(upload))) this.pending.push(upload);
  }

  /** One upload attempt; on failure, counts and logs it and schedules the next one. */
  private async attempt(upload: PendingUpload): Promise<boolean> {
    upload.attempts++;
    try {
      const command = new PutObjectCommand({ Bucket: this.options.bucket, Key: upload.key, Body: upload.body, ContentType: upload.contentType });
      const controller = new AbortController();
      const deadline = this.uploadDeadline;
      const timer = deadline === undefined ? undefined : setTimeout(() => controller.abort(new Error('the flush or stop deadline passed')), Math.max(1, deadline - Date.now()));
      this.inFlight.add(controller);
      try {
        await s3Client().send(command, { abortSignal: controller.signal });
      } finally {
        clearTimeout(timer);
        this.inFlight.delete(controller);
      }
    } catch (err) {
      this.counters.uploadRetries++;
      upload.lastError = `${(err as Error).name}: ${(err as Error).message}`;
      upload.nextAttemptMs = Date.now() + backoffCeilingMs(UPLOAD_RETRY_POLICY, upload.attempts);
      this.options.log?.(`[firehose-${this.options.deliveryStreamName}] upload of ${upload.key} failed (attempt ${upload.attempts}: ${upload.lastError}); retrying`);
      return false;
    }
    this.counters.objectsWritten++;
    this.counters.bytesWritten += upload.body.byteLength;
    this.options.onObject?.({ bucket: this.options.bucket, key: upload.key, records: upload.records, bytes: upload.body.byteLength, kind: upload.kind });
    return true;
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
