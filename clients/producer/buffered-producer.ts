/**
 * A producer for services that emit one event at a time (a request handler, a consumer loop): `put()` each
 * event, and the producer sends them in PutRecords batches, so a thousand events cost a few calls instead of
 * a thousand.
 *
 * - A batch is sent when it holds `maxBatchRecords` events or `maxBatchBytes` bytes (at most the PutRecords
 *   limits, 500 records and 5 MiB), or when its oldest event has waited `lingerMs`.
 * - Entries a call rejects (throttling, internal errors) are retried with exponential backoff and full jitter,
 *   as by EventProducer.send.
 * - Memory is bounded: once `maxBufferedEvents` or `maxBufferedBytes` are buffered or in flight, `put()` waits
 *   for room (backpressure on the caller), for at most `maxBlockMs`; then the event fails with `BufferFull`.
 * - `flush()` sends everything buffered; `close()` flushes and stops. A process that ends naturally (its event
 *   loop empties) flushes first; on SIGTERM call `close()` yourself (the package README's example and its
 *   "Shutdown" paragraph).
 * - Every event gets its outcome: `put()` resolves with it, and `onResult` hears of it.
 */
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { ConfigError } from '@internal/core/errors';
import { PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, entryBytes, type PutEntry } from '@internal/core/ingest/put-records';
import { EventProducer, type EventProducerOptions, type SendResult } from './event-producer';

export interface BufferedProducerOptions extends Omit<EventProducerOptions, 'limits'> {
  /** A batch is sent once it holds this many events. @default 500 (the PutRecords limit) */
  readonly maxBatchRecords?: number;
  /** A batch is sent once it holds this many bytes (data and partition keys). @default 5 MiB (the PutRecords limit) */
  readonly maxBatchBytes?: number;
  /** Longest an event waits for its batch to fill, in ms. @default 100 */
  readonly lingerMs?: number;
  /** Events buffered or in flight before put() waits. @default 10,000 */
  readonly maxBufferedEvents?: number;
  /** Bytes buffered or in flight before put() waits. @default 32 MiB */
  readonly maxBufferedBytes?: number;
  /** Longest put() waits for room before the event fails with BufferFull, in ms (0: fail at once). @default 10,000 */
  readonly maxBlockMs?: number;
  /** PutRecords batches in flight at once; with more than one, a user's events may land out of order (the platform orders by event time). @default 4 */
  readonly maxConcurrentBatches?: number;
  /** Told of every event's outcome, in the order outcomes become known. */
  readonly onResult?: (result: SendResult, event: unknown) => void;
  /** Flush when the process is about to exit because its event loop is empty. @default true */
  readonly flushBeforeExit?: boolean;
}

/** What a BufferedProducer has done so far. */
export interface BufferedProducerStats {
  readonly buffered: number;
  readonly inFlight: number;
  readonly sent: number;
  readonly failed: number;
  readonly rejected: number;
  /** PutRecords calls made (retries included). */
  readonly calls: number;
  /** put() calls that had to wait for room. */
  readonly blocked: number;
}

interface Buffered {
  readonly entry: PutEntry;
  readonly bytes: number;
  readonly event: unknown;
  readonly resolve: (result: SendResult) => void;
}

interface Waiter {
  readonly bytes: number;
  readonly wake: () => void;
}

const BUFFER_FULL = (maxBlockMs: number): SendResult => ({
  status: 'failed',
  errorCode: 'BufferFull',
  errorMessage: `the producer's buffer stayed full for ${maxBlockMs} ms: the stream takes events more slowly than they are put`,
  attempts: 0,
  throttled: false,
});

/**
 * Producers that flush when the process is about to exit. One `beforeExit` listener serves all of them, so
 * a service that creates many producers does not pile up listeners (Node warns past ten), and each is held
 * weakly: a producer dropped without close() does not stay in memory for the process's lifetime. (One with
 * events still buffered stays reachable through its linger timer or its send until they have an outcome.)
 */
const flushOnExit = new Set<WeakRef<BufferedProducer>>();

function flushAllBeforeExit(): void {
  for (const ref of flushOnExit) {
    const producer = ref.deref();
    if (producer) void producer.flush();
    else flushOnExit.delete(ref);
  }
}

function registerFlushOnExit(producer: BufferedProducer): WeakRef<BufferedProducer> {
  for (const ref of flushOnExit) if (!ref.deref()) flushOnExit.delete(ref);
  if (flushOnExit.size === 0) process.on('beforeExit', flushAllBeforeExit);
  const ref = new WeakRef(producer);
  flushOnExit.add(ref);
  return ref;
}

function unregisterFlushOnExit(ref: WeakRef<BufferedProducer>): void {
  if (flushOnExit.delete(ref) && flushOnExit.size === 0) process.off('beforeExit', flushAllBeforeExit);
}

export class BufferedProducer {
  private readonly producer: EventProducer;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly lingerMs: number;
  private readonly maxBufferedEvents: number;
  private readonly maxBufferedBytes: number;
  private readonly maxBlockMs: number;
  private readonly maxConcurrentBatches: number;
  private readonly onResult: BufferedProducerOptions['onResult'];

  private batch: Buffered[] = [];
  private batchBytes = 0;
  /** Events (and their bytes) buffered or in flight: what the bounds count. */
  private held = 0;
  private heldBytes = 0;
  private inFlight = 0;
  private readonly ready: Buffered[][] = [];
  private readonly waiters: Waiter[] = [];
  private readonly sending = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counts = { sent: 0, failed: 0, rejected: 0, calls: 0, blocked: 0 };
  private readonly exitRegistration: WeakRef<BufferedProducer> | undefined;

  constructor(options: BufferedProducerOptions) {
    const positive = (name: string, value: number, max = Infinity): number => {
      if (!(Number.isFinite(value) && value > 0 && value <= max)) throw new ConfigError(`BufferedProducer: ${name} must be a number from 1 to ${max}, got ${value}`);
      return value;
    };
    this.maxBatchRecords = positive('maxBatchRecords', options.maxBatchRecords ?? PUT_RECORDS_MAX_RECORDS, PUT_RECORDS_MAX_RECORDS);
    this.maxBatchBytes = positive('maxBatchBytes', options.maxBatchBytes ?? PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_BYTES);
    this.lingerMs = options.lingerMs ?? 100;
    if (!(this.lingerMs >= 0 && Number.isFinite(this.lingerMs))) throw new ConfigError(`BufferedProducer: lingerMs must be a finite number >= 0, got ${this.lingerMs}`);
    this.maxBufferedEvents = positive('maxBufferedEvents', options.maxBufferedEvents ?? 10_000);
    this.maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes ?? 32 * 1024 * 1024);
    if (this.maxBufferedEvents < this.maxBatchRecords) throw new ConfigError('BufferedProducer: maxBufferedEvents must be at least maxBatchRecords');
    if (this.maxBufferedBytes < this.maxBatchBytes) throw new ConfigError('BufferedProducer: maxBufferedBytes must be at least maxBatchBytes');
    this.maxBlockMs = options.maxBlockMs ?? 10_000;
    if (!(this.maxBlockMs >= 0)) throw new ConfigError(`BufferedProducer: maxBlockMs must be >= 0, got ${this.maxBlockMs}`);
    this.maxConcurrentBatches = positive('maxConcurrentBatches', options.maxConcurrentBatches ?? 4);
    this.onResult = options.onResult;
    this.producer = new EventProducer({ ...options, limits: { maxRecords: this.maxBatchRecords, maxBytes: this.maxBatchBytes } });
    if (options.flushBeforeExit ?? true) {
      this.exitRegistration = registerFlushOnExit(this);
    }
  }

  /**
   * Validates the event and adds it to the current batch; resolves with its outcome once its batch was sent
   * (or at once when the contract rejects it). Waits while the buffer is full, for at most maxBlockMs.
   */
  async put(event: BehaviouralEvent | unknown): Promise<SendResult> {
    if (this.closed) throw new ConfigError('BufferedProducer: put() after close()');
    const prepared = this.producer.prepare(event);
    if ('status' in prepared) return this.report(prepared, event);
    const bytes = entryBytes(prepared);
    if (!this.hasRoom(bytes)) {
      this.counts.blocked++;
      if (!(await this.waitForRoom(bytes))) return this.report(BUFFER_FULL(this.maxBlockMs), event);
    }
    return new Promise<SendResult>((resolve) => {
      this.held++;
      this.heldBytes += bytes;
      if (this.batch.length > 0 && (this.batch.length >= this.maxBatchRecords || this.batchBytes + bytes > this.maxBatchBytes)) this.seal();
      this.batch.push({ entry: prepared, bytes, event, resolve });
      this.batchBytes += bytes;
      if (this.batch.length >= this.maxBatchRecords || this.batchBytes >= this.maxBatchBytes) this.seal();
      else if (this.batch.length === 1) this.startLinger();
      this.pump();
    });
  }

  /** Sends everything buffered now (without waiting for the linger time); resolves when all of it has an outcome. */
  async flush(): Promise<void> {
    this.seal();
    this.pump();
    while (this.sending.size > 0 || this.ready.length > 0) {
      await Promise.race(this.sending);
      this.pump();
    }
  }

  /**
   * Flushes, then stops: later put() calls throw. With `timeoutMs` (a container's shutdown grace period, say),
   * it waits at most that long: events still buffered then fail with `ShutdownTimeout` (send them again after
   * a restart; their event_id makes that safe), and batches already in flight finish on their own. Releases the
   * client the producer built for itself once nothing is in flight.
   */
  async close(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    this.closed = true;
    if (this.exitRegistration) unregisterFlushOnExit(this.exitRegistration);
    for (const waiter of this.waiters.splice(0)) waiter.wake();
    if (options.timeoutMs === undefined) {
      await this.flush();
      this.producer.destroy();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), options.timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) {
      this.producer.destroy();
      return;
    }
    this.abandonBuffered(options.timeoutMs);
    void Promise.allSettled(this.sending).then(() => this.producer.destroy());
  }

  /** Fails every event not yet handed to Kinesis (buffered or waiting for a slot) with ShutdownTimeout. */
  private abandonBuffered(timeoutMs: number): void {
    this.seal();
    const left = this.ready.splice(0).flat();
    for (const b of left) {
      this.held--;
      this.heldBytes -= b.bytes;
      b.resolve(
        this.report({ status: 'failed', errorCode: 'ShutdownTimeout', errorMessage: `not sent within the ${timeoutMs} ms close() was given`, attempts: 0, throttled: false }, b.event),
      );
    }
  }

  stats(): BufferedProducerStats {
    return { buffered: this.held - this.inFlight, inFlight: this.inFlight, ...this.counts };
  }

  private hasRoom(bytes: number): boolean {
    // An event larger than the byte bound on its own still gets in once nothing else is held.
    return this.waiters.length === 0 && ((this.held < this.maxBufferedEvents && this.heldBytes + bytes <= this.maxBufferedBytes) || this.held === 0);
  }

  private waitForRoom(bytes: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        bytes,
        wake: () => {
          if (timer) clearTimeout(timer);
          resolve(!this.closed);
        },
      };
      this.waiters.push(waiter);
      timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(false);
      }, this.maxBlockMs);
      // Waiting for room makes room: send what is buffered instead of lingering.
      this.seal();
      this.pump();
    });
  }

  private wakeWaiters(): void {
    let held = this.held;
    let heldBytes = this.heldBytes;
    while (this.waiters.length > 0) {
      const next = this.waiters[0]!;
      if (!(held === 0 || (held < this.maxBufferedEvents && heldBytes + next.bytes <= this.maxBufferedBytes))) break;
      this.waiters.shift();
      held++;
      heldBytes += next.bytes;
      next.wake();
    }
  }

  private startLinger(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.seal();
      this.pump();
    }, this.lingerMs);
    // A pending linger alone does not keep the process alive: beforeExit flushes what it holds.
    this.timer.unref();
  }

  /** Closes the current batch: it is sent as soon as a slot is free. */
  private seal(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.batch.length === 0) return;
    this.ready.push(this.batch);
    this.batch = [];
    this.batchBytes = 0;
  }

  private pump(): void {
    while (this.ready.length > 0 && this.sending.size < this.maxConcurrentBatches) {
      const batch = this.ready.shift()!;
      const sent = this.send(batch).finally(() => {
        this.sending.delete(sent);
        this.pump();
      });
      this.sending.add(sent);
    }
  }

  private async send(batch: Buffered[]): Promise<void> {
    this.inFlight += batch.length;
    let results: SendResult[];
    try {
      const summary = await this.producer.sendRecords(batch.map((b) => b.entry));
      this.counts.calls += summary.calls;
      results = summary.results;
    } catch (err) {
      const e = err as { name?: string; message?: string };
      results = batch.map(() => ({ status: 'failed', errorCode: e?.name ?? 'Error', errorMessage: String(e?.message ?? err), attempts: 1, throttled: false }));
    }
    this.inFlight -= batch.length;
    batch.forEach((b, i) => {
      this.held--;
      this.heldBytes -= b.bytes;
      b.resolve(this.report(results[i]!, b.event));
    });
    this.wakeWaiters();
  }

  private report(result: SendResult, event: unknown): SendResult {
    if (result.status === 'sent') this.counts.sent++;
    else if (result.status === 'rejected') this.counts.rejected++;
    else this.counts.failed++;
    this.onResult?.(result, event);
    return result;
  }
}
