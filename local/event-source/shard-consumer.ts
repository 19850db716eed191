/**
 * One shard's consumer: it reads the shard, keeps the buffer of read records, the checkpoint, the failure
 * streak, the bisection plan and the open tumbling window, and decides each round what to do next
 * (expire, close a window, deliver a batch, wait). The pure rules it applies are in batching.ts,
 * tumbling-window.ts, verdict.ts and on-failure.ts; the runner (runner.ts) owns the shards.
 */
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { describeError } from '../../core/errors';
import { backoffCeilingMs } from '../../core/retry-policy';
import { bisect, consumePlan, expiredAtHead, nextBatch, toBuffered } from './batching';
import { onFailureRecord, type DiscardedRange } from './on-failure';
import { commitToWindow, openWindow, windowDue, windowEvent, windowStartOf } from './tumbling-window';
import type {
  AfterInvokeFault,
  BufferedRecord,
  FailureStreak,
  InvocationInfo,
  InvokeOutcome,
  OnFailureRecord,
  OpenWindow,
  ShardHost,
  ShardStats,
  TumblingWindowEvent,
  Verdict,
} from './types';
import { judge } from './verdict';

/** One shard's poller: buffer of read records, checkpoint, failure streak, bisection plan, open window. */
export class ShardConsumer {
  private iterator?: string;
  /** Last sequence number read from the shard; re-reading starts after it. */
  private readPosition?: string;
  private buffer: BufferedRecord[] = [];
  private checkpoint?: string;
  private streak?: FailureStreak;
  /** Sizes of the batches a bisection still has to deliver, front first. */
  private splitPlan: number[] = [];
  private window?: OpenWindow;
  /** How many invocations each buffered record has been part of (approximateInvokeCount). */
  private invokeCounts = new Map<string, number>();
  private ended = false;
  private inFlight = false;
  private millisBehindLatest = 0;
  /** Start time of the latest poll that found the shard read to its tip. */
  private caughtUpPollStartedAt = -Infinity;
  private lastError?: string;
  private invocations = 0;
  /** Set by drain({ flushWindows }): close the open window once a poll started after this finds the tip. */
  private flushSince?: number;
  iteratorAgeMs = 0;

  constructor(
    private readonly runner: ShardHost,
    readonly shardId: string,
  ) {}

  /** Resets the read side to the checkpoint (a restart re-reads what was never checkpointed). */
  async prepare(): Promise<void> {
    this.buffer = [];
    this.invokeCounts.clear();
    this.splitPlan = [];
    this.streak = undefined;
    this.readPosition = this.checkpoint;
    this.iterator = undefined;
    this.caughtUpPollStartedAt = -Infinity;
    this.iterator = await this.newIterator();
  }

  private async newIterator(): Promise<string | undefined> {
    const { streamName, startingPosition } = this.runner.options;
    const out = await this.runner.kinesis.send(
      new GetShardIteratorCommand(
        this.readPosition
          ? { StreamName: streamName, ShardId: this.shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.readPosition }
          : { StreamName: streamName, ShardId: this.shardId, ShardIteratorType: startingPosition },
      ),
    );
    return out.ShardIterator;
  }

  async run(): Promise<void> {
    let errorStreak = 0;
    while (!this.runner.isStopping()) {
      try {
        const pause = await this.step();
        errorStreak = 0;
        this.lastError = undefined;
        await this.runner.sleep(pause);
      } catch (err) {
        errorStreak++;
        this.runner.counters.readErrors++;
        this.lastError = describeError(err);
        this.runner.log(`${this.shardId}: ${this.lastError}`);
        // The read side starts over after the last record read, whatever broke.
        this.iterator = undefined;
        await this.runner.sleep(this.backoff(errorStreak));
      }
    }
  }

  /** The pause before retry number `attempt`: the retry policy's ceiling, without jitter (Lambda's pacing is its own). */
  private backoff(attempt: number): number {
    const { retryBackoffMs, maxRetryBackoffMs } = this.runner.options;
    return backoffCeilingMs({ maxAttempts: Infinity, baseDelayMs: retryBackoffMs, maxDelayMs: maxRetryBackoffMs }, attempt);
  }

  /** One round: read, expire, close or fill a window, invoke. Returns how long to pause afterwards. */
  private async step(): Promise<number> {
    const { batchSize, pollIntervalMs } = this.runner.options;
    let read = -1;
    if (!this.ended && this.buffer.length < batchSize) read = await this.read();

    if (await this.discardExpired()) return 0;

    if (this.runner.windowMs > 0) {
      const due = this.windowDue();
      if (due) return this.finalInvoke();
    }

    const batch = this.nextBatch();
    if (!batch) {
      if (read > 0 && this.millisBehindLatest > 0) return 0;
      return pollIntervalMs;
    }
    if (batch.wait > 0) return Math.min(batch.wait, pollIntervalMs);
    return this.deliver(batch.records);
  }

  private async read(): Promise<number> {
    this.iterator ??= await this.newIterator();
    if (!this.iterator) {
      this.ended = true;
      return 0;
    }
    const startedAt = this.runner.now();
    const out = await this.runner.kinesis.send(
      new GetRecordsCommand({ ShardIterator: this.iterator, Limit: Math.min(10_000, this.runner.options.batchSize - this.buffer.length) }),
    );
    this.iterator = out.NextShardIterator;
    if (!this.iterator) this.ended = true;
    const records = out.Records ?? [];
    const source = { shardId: this.shardId, functionName: this.runner.functionName, region: this.runner.region, streamArn: this.runner.streamArn, now: this.runner.now() };
    for (const r of records) this.buffer.push(toBuffered(r, source));
    if (records.length > 0) this.readPosition = records[records.length - 1]!.SequenceNumber;
    this.millisBehindLatest = out.MillisBehindLatest ?? 0;
    if (records.length === 0 && this.millisBehindLatest === 0) {
      this.caughtUpPollStartedAt = startedAt;
      if (this.buffer.length === 0 && !this.streak) this.iteratorAgeMs = 0;
    }
    return records.length;
  }

  // --- batches ----------------------------------------------------------------------------------------

  private windowStartOf(arrivalMs: number): number {
    return windowStartOf(arrivalMs, this.runner.windowMs, this.window?.startMs);
  }

  private nextBatch(): { records: BufferedRecord[]; wait: number } | undefined {
    const windowed = this.runner.windowMs > 0;
    if (windowed && this.window?.closing) return undefined;
    const { batchSize, maxBatchingWindowMs } = this.runner.options;
    return nextBatch(this.buffer, {
      limit: this.splitPlan[0] ?? batchSize,
      maxBatchingWindowMs,
      ...(windowed ? { windowOf: (arrivalMs: number) => this.windowStartOf(arrivalMs) } : {}),
      // Retries and bisected halves go out at once; a first delivery may wait for the batching window.
      urgent: this.splitPlan.length > 0 || this.streak !== undefined,
      now: this.runner.now(),
    });
  }

  /** Removes `count` records from the head after they are processed or discarded. */
  private consume(count: number): void {
    const gone = this.buffer.splice(0, count);
    if (gone.length === 0) return;
    for (const b of gone) this.invokeCounts.delete(b.sequenceNumber);
    this.checkpoint = gone[gone.length - 1]!.sequenceNumber;
    consumePlan(this.splitPlan, gone.length);
    if (this.streak && !this.buffer.some((b) => b.sequenceNumber === this.streak!.headSequenceNumber)) this.streak = undefined;
  }

  private async discardExpired(): Promise<boolean> {
    const count = expiredAtHead(this.buffer, this.runner.now(), this.runner.options.maxRecordAgeSeconds);
    if (count === 0) return false;
    // Only records that would form the next batch(es) in order are expired: the head of the shard.
    const expired = this.buffer.slice(0, count);
    await this.discard(expired, 'RecordAgeExceeded');
    return true;
  }

  private async discard(records: BufferedRecord[], condition: OnFailureRecord['requestContext']['condition']): Promise<void> {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const invokeCount = this.invokeCounts.get(first.sequenceNumber) ?? 0;
    await this.runner.sendOnFailure(
      this.onFailureRecord(condition, invokeCount, this.streak?.functionError ?? false, {
        first: first.sequenceNumber,
        last: last.sequenceNumber,
        firstArrivalMs: first.arrivalMs,
        lastArrivalMs: last.arrivalMs,
        count: records.length,
      }),
    );
    this.consume(records.length);
  }

  private onFailureRecord(
    condition: OnFailureRecord['requestContext']['condition'],
    invokeCount: number,
    functionError: boolean,
    range: DiscardedRange,
  ): OnFailureRecord {
    return onFailureRecord(range, { condition, invokeCount, functionError }, { functionArn: this.runner.functionArn, shardId: this.shardId, streamArn: this.runner.streamArn, now: this.runner.now() });
  }

  // --- invocation -------------------------------------------------------------------------------------

  private async deliver(records: BufferedRecord[]): Promise<number> {
    const windowed = this.runner.windowMs > 0;
    if (windowed && !this.window) {
      const startMs = this.windowStartOf(records[0]!.arrivalMs);
      this.window = openWindow(startMs, this.runner.windowMs);
    }
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const info: InvocationInfo = {
      shardId: this.shardId,
      firstSequenceNumber: first.sequenceNumber,
      lastSequenceNumber: last.sequenceNumber,
      size: records.length,
      attempt: this.streak?.headSequenceNumber === first.sequenceNumber ? this.streak.attempts : 0,
      isFinalInvokeForWindow: false,
    };
    const throttled = await this.beforeInvoke(info);
    if (throttled) return throttled.throttledFor;

    const event: KinesisStreamEvent | TumblingWindowEvent = this.window
      ? this.windowEvent(
          records.map((b) => b.record),
          { final: false, early: false },
        )
      : { Records: records.map((b) => b.record) };
    for (const b of records) this.invokeCounts.set(b.sequenceNumber, (this.invokeCounts.get(b.sequenceNumber) ?? 0) + 1);

    const outcome = await this.invokeCounted(event, records.length);
    this.iteratorAgeMs = Math.max(0, this.runner.now() - last.arrivalMs);
    let verdict = this.judge(outcome, records);
    const fault = this.afterInvoke(info, verdict);
    if (fault === 'redeliver') {
      this.runner.counters.redeliveries++;
      return 0;
    }
    if (fault === 'crash-after-side-effects') verdict = { kind: 'failure', functionError: true, reason: 'crash after side effects' };

    switch (verdict.kind) {
      case 'success':
        this.commit(records, verdict.state);
        return this.afterStateCommitted();
      case 'partial': {
        this.runner.counters.partialFailures++;
        const done = records.slice(0, verdict.failedIndex);
        const remaining = records.slice(verdict.failedIndex);
        if (done.length > 0) this.commit(done, verdict.state);
        else if (verdict.state !== undefined && this.window) this.window.stateJson = verdict.state;
        if (this.runner.options.bisectBatchOnError && this.splitPlan.length === 0) this.splitPlan = [remaining.length];
        return this.failed(remaining, false);
      }
      case 'failure': {
        this.runner.counters.functionErrors++;
        this.runner.log(`${this.shardId}: invocation failed (${verdict.reason}) for ${records.length} record(s)`);
        if (this.runner.options.bisectBatchOnError && records.length > 1) {
          bisect(this.splitPlan, records.length);
          this.runner.counters.bisections++;
          this.streak = undefined;
          return 0;
        }
        return this.failed(records, verdict.functionError);
      }
    }
  }

  /** Counts one failed delivery of `records` (which start at the head) and discards them when out of retries. */
  private async failed(records: BufferedRecord[], functionError: boolean): Promise<number> {
    const head = records[0]!.sequenceNumber;
    const attempts = this.streak?.headSequenceNumber === head ? this.streak.attempts + 1 : 1;
    this.streak = { headSequenceNumber: head, attempts, functionError };
    const { retryAttempts } = this.runner.options;
    if (retryAttempts >= 0 && attempts > retryAttempts) {
      await this.discard(records, 'RetryAttemptsExhausted');
      return 0;
    }
    this.runner.counters.retries++;
    return this.backoff(attempts);
  }

  private commit(records: BufferedRecord[], stateJson: string | undefined): void {
    if (this.window) commitToWindow(this.window, records, stateJson);
    this.consume(records.length);
  }

  private afterStateCommitted(): number {
    const w = this.window;
    if (w && Buffer.byteLength(w.stateJson) > this.runner.options.maxWindowStateBytes) w.closing = 'early';
    return 0;
  }

  private judge(outcome: InvokeOutcome, records: readonly BufferedRecord[]): Verdict {
    return judge(
      outcome,
      records.map((b) => b.sequenceNumber),
      { windowed: this.window !== undefined, reportBatchItemFailures: this.runner.options.reportBatchItemFailures ?? false },
    );
  }

  /** Applies a before-invoke fault; returns the pause to take instead of invoking when throttled. */
  private async beforeInvoke(info: InvocationInfo): Promise<{ throttledFor: number } | undefined> {
    const fault = this.runner.options.faults?.beforeInvoke?.(info) ?? 'none';
    if (fault === 'throttle') {
      this.runner.counters.throttles++;
      return { throttledFor: this.backoff(1) };
    }
    if (fault !== 'none') await this.runner.sleep(fault.delayMs);
    return undefined;
  }

  private afterInvoke(info: InvocationInfo, verdict: Verdict): AfterInvokeFault {
    if (verdict.kind === 'failure') return 'none';
    const fault = this.runner.options.faults?.afterInvoke?.(info, verdict.kind === 'success' ? 'success' : 'partial-failure') ?? 'none';
    if (fault === 'crash-after-side-effects') this.runner.counters.injectedCrashes++;
    return fault;
  }

  private async invokeCounted(event: KinesisStreamEvent | TumblingWindowEvent, size: number): Promise<InvokeOutcome> {
    this.inFlight = true;
    try {
      this.runner.counters.invocations++;
      this.runner.counters.recordsDelivered += size;
      this.invocations++;
      // The function gets its own copy, as it would over the wire, so it cannot alter what is redelivered.
      return await this.runner.invoke(JSON.parse(JSON.stringify(event)) as typeof event);
    } finally {
      this.inFlight = false;
    }
  }

  // --- tumbling windows -------------------------------------------------------------------------------

  private windowEvent(records: KinesisStreamRecord[], flags: { final: boolean; early: boolean }): TumblingWindowEvent {
    return windowEvent(this.window!, records, flags, { shardId: this.shardId, streamArn: this.runner.streamArn });
  }

  /** Whether the open window must get its final invocation now. */
  private windowDue(): boolean {
    const w = this.window;
    if (!w) return false;
    const due = windowDue(w, {
      windowMs: this.runner.windowMs,
      ...(this.buffer[0] ? { headArrivalMs: this.buffer[0].arrivalMs } : {}),
      shardEnded: this.ended,
      caughtUpPollStartedAt: this.caughtUpPollStartedAt,
      graceMs: this.runner.options.windowCloseGraceMs,
      ...(this.flushSince !== undefined ? { flushSince: this.flushSince } : {}),
    });
    if (due) w.closing = due;
    return due !== false;
  }

  private async finalInvoke(): Promise<number> {
    const w = this.window!;
    const early = w.closing === 'early';
    const maxAge = this.runner.options.maxRecordAgeSeconds;
    if (maxAge >= 0 && w.lastArrivalMs !== undefined && this.runner.now() - w.lastArrivalMs > maxAge * 1000) {
      await this.dropWindow('RecordAgeExceeded');
      return 0;
    }
    const info: InvocationInfo = {
      shardId: this.shardId,
      firstSequenceNumber: w.firstSequenceNumber,
      lastSequenceNumber: w.lastSequenceNumber,
      size: 0,
      attempt: w.finalAttempts,
      isFinalInvokeForWindow: true,
    };
    const throttled = await this.beforeInvoke(info);
    if (throttled) return throttled.throttledFor;
    const outcome = await this.invokeCounted(this.windowEvent([], { final: true, early }), 0);
    let verdict = this.judge(outcome, []);
    const fault = this.afterInvoke(info, verdict);
    if (fault === 'redeliver') {
      // A lost checkpoint after a final invocation means the function sees that final invocation again.
      this.runner.counters.redeliveries++;
      return 0;
    }
    if (fault === 'crash-after-side-effects') verdict = { kind: 'failure', functionError: true, reason: 'crash after side effects' };
    if (verdict.kind === 'success') {
      this.runner.counters.windowsClosed++;
      if (early) {
        this.runner.counters.windowsTerminatedEarly++;
        this.window = openWindow(w.startMs, this.runner.windowMs);
      } else {
        this.window = undefined;
      }
      return 0;
    }
    if (verdict.kind === 'partial') verdict = { kind: 'failure', functionError: false, reason: 'batchItemFailures on a final invocation' };
    this.runner.counters.functionErrors++;
    w.finalAttempts++;
    this.runner.log(`${this.shardId}: final window invocation failed (${verdict.reason})`);
    const { retryAttempts } = this.runner.options;
    if (retryAttempts >= 0 && w.finalAttempts > retryAttempts) {
      await this.dropWindow('RetryAttemptsExhausted', verdict.functionError);
      return 0;
    }
    this.runner.counters.retries++;
    return this.backoff(w.finalAttempts);
  }

  private async dropWindow(condition: OnFailureRecord['requestContext']['condition'], functionError = false): Promise<void> {
    const w = this.window!;
    if (w.aggregatedRecords > 0) {
      await this.runner.sendOnFailure(
        this.onFailureRecord(condition, w.finalAttempts, functionError, {
          first: w.firstSequenceNumber!,
          last: w.lastSequenceNumber!,
          firstArrivalMs: w.firstArrivalMs!,
          lastArrivalMs: w.lastArrivalMs!,
          count: w.aggregatedRecords,
        }),
      );
    }
    this.window = undefined;
  }

  // --- observability ----------------------------------------------------------------------------------

  flushWindowsCaughtUpSince(since: number | undefined): void {
    this.flushSince = since;
  }

  /** Age at `now` of the oldest record read and not yet done with; 0 when there is none. */
  unfinishedAgeMs(now: number): number {
    let oldest = this.buffer[0]?.arrivalMs ?? Infinity;
    if (this.window?.firstArrivalMs !== undefined) oldest = Math.min(oldest, this.window.firstArrivalMs);
    return oldest === Infinity ? 0 : Math.max(0, now - oldest);
  }

  isDrained(since: number): boolean {
    if (this.inFlight || this.buffer.length > 0 || this.window) return false;
    return this.ended || this.caughtUpPollStartedAt >= since;
  }

  describe(): string {
    return (
      `${this.shardId} pending=${this.buffer.length} inFlight=${this.inFlight} window=${this.window ? 'open' : 'none'} ` +
      `retrying=${this.streak ? this.streak.attempts : 0}${this.lastError ? ` lastError=${this.lastError}` : ''}`
    );
  }

  stats(): ShardStats {
    return {
      shardId: this.shardId,
      checkpoint: this.checkpoint,
      pendingRecords: this.buffer.length,
      iteratorAgeMs: this.iteratorAgeMs,
      millisBehindLatest: this.millisBehindLatest,
      invocations: this.invocations,
      windowOpen: this.window !== undefined,
      ended: this.ended,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
