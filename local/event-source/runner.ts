/**
 * Runs a deployed Lambda handler in-process against a Kinesis stream with the semantics of a Lambda Kinesis
 * event source mapping (standard iterator, ParallelizationFactor 1), so the local runtime and the tests
 * exercise the very retry, checkpoint and windowing behaviour the functions meet in AWS.
 *
 * Behaviour follows the Lambda developer guide (with-kinesis, kinesis-on-failure-destination,
 * services-kinesis-batchfailurereporting, services-kinesis-windows):
 *
 * - One consumer loop per shard; a batch holds records of one shard, in order. A failing shard never holds
 *   back another one.
 * - Batching: the function is invoked as soon as records are available, or, with a batching window, when
 *   batchSize records are buffered, the window has passed since the oldest buffered record was read, or the
 *   6 MB invocation payload limit is reached.
 * - A batch succeeds when the handler returns nothing or an empty/null batchItemFailures. The checkpoint
 *   then moves to its last record.
 * - ReportBatchItemFailures: the checkpoint moves to just before the lowest reported sequence number and
 *   everything from there is delivered again (a retry). An entry that is not an object with a non-empty
 *   itemIdentifier naming a record of the batch makes the whole batch a failure. Without the setting the
 *   response is ignored.
 * - A thrown error (or a timeout) fails the batch. With BisectBatchOnFunctionError the batch is split in two
 *   halves that are retried in order; splitting does not consume the retry quota, so the count only starts
 *   once a failing batch is down to one record. A partial failure with bisection enabled retries exactly
 *   the remaining records of that batch; without it the next batch is read from the checkpoint at full
 *   size, as Lambda re-reads the shard.
 * - MaximumRetryAttempts: after retryAttempts retries (0 = a single delivery, -1 = until the records expire)
 *   the records of the failing invocation are discarded with condition RetryAttemptsExhausted.
 * - MaximumRecordAgeInSeconds: before every invocation, records at the head of the shard older than the
 *   maximum age are discarded with condition RecordAgeExceeded (AWS accepts 60..604800 s; fractions are
 *   accepted here so tests stay short).
 * - On-failure destination: a record in the documented invocation-record shape (requestContext,
 *   responseContext, version, timestamp, KinesisBatchInfo; no payload) is sent to an SQS queue or handed
 *   to a callback, then the shard moves on. Without a destination, discarded records are only counted.
 * - Tumbling windows: boundaries are multiples of the window length since the epoch, applied to each
 *   record's approximateArrivalTimestamp (the example in the guide, 07:04:00-07:06:00 for 120 s, is
 *   aligned that way). A batch never spans two windows. Every response must carry a `state` object or the
 *   invocation counts as failed. The window closes when a record of a later window is read, or when the
 *   shard has been read to its tip after the window's end; the function is then invoked once more with no
 *   records and isFinalInvokeForWindow: true. A state larger than 1 MB ends the window early: a final
 *   invocation with isWindowTerminatedEarly: true, after which the same window continues with a fresh
 *   state. Retry, bisection and record-age rules apply inside windows as outside.
 *
 * The parts: shard-consumer.ts (one loop per shard), batching.ts, tumbling-window.ts, verdict.ts,
 * on-failure.ts and invoker.ts; faults.ts injects deterministic faults for drills.
 *
 * Choices where AWS documents nothing, made here and relied on by the tests:
 * - A failed invocation leaves the window state as it was before it; a partial-batch response commits the
 *   state it returns together with the records before the lowest failure.
 * - The final invocation is retried under the same retry policy. When the retries are exhausted (or every
 *   record of the window is past the maximum age) one on-failure record describing the window's records is
 *   emitted and the window is dropped, so bounded retries never stall a shard.
 * - The early-termination final invocation receives the oversized state the function returned, so no
 *   aggregate is lost.
 * - A window closes only once a poll that started at least windowCloseGraceMs after its end finds the
 *   shard caught up, so a record written just before the boundary is never left out.
 * - Retries wait with exponential backoff (retryBackoffMs doubling up to maxRetryBackoffMs); bisected
 *   halves are invoked at once.
 * - An on-failure destination that rejects is retried three times, then the failure is logged and counted
 *   and the shard moves on.
 * - Shards are discovered when the runner starts; shards created later by resharding are not followed.
 * - drain({ flushWindows: true }) closes open windows as soon as the shards are caught up, as a shard end
 *   would; it is a local convenience with no AWS counterpart.
 */
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  type KinesisClient,
  type ListShardsCommandOutput,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { kinesisClient } from '../../adapters/aws-clients';
import { describeError } from '../../core/errors';
import { ACCOUNT_ID } from './batching';
import { FunctionInvoker } from './invoker';
import { ON_FAILURE_SEND_POLICY, sendOnFailureRecord } from './on-failure';
import { ShardConsumer } from './shard-consumer';
import type {
  Clock,
  InvokeOutcome,
  KinesisEventSourceRunnerOptions,
  OnFailureRecord,
  ResolvedOptions,
  RunnerStats,
  ShardHost,
  ShardStats,
  TumblingWindowEvent,
} from './types';

export type {
  AfterInvokeFault,
  BeforeInvokeFault,
  Clock,
  FaultInjector,
  InvocationInfo,
  KinesisEventSourceRunnerOptions,
  OnFailureDestination,
  OnFailureRecord,
  RunnerStats,
  ShardStats,
  StartingPosition,
  StreamHandlerResult,
  TumblingWindowEvent,
} from './types';
export { seededFaults, type SeededFaultOptions } from './faults';

/** Window state size that ends a window early: Lambda's limit. */
const DEFAULT_MAX_STATE_BYTES = 1024 * 1024;

/** Sleeps that stop() can cut short. */
class Sleeper {
  private wakers = new Set<() => void>();
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }
  wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}

export class KinesisEventSourceRunner implements ShardHost {
  readonly functionName: string;
  private readonly opts: ResolvedOptions;
  private readonly clock: Clock;
  private readonly sleeper = new Sleeper();
  private readonly shards = new Map<string, ShardConsumer>();
  private loops: Promise<void>[] = [];
  private running = false;
  private stopping = false;
  private startPromise?: Promise<void>;
  private stopPromise?: Promise<void>;
  private readonly invoker: FunctionInvoker;
  streamArn = '';
  region = '';
  /** @internal Updated by the shard consumers; read it through stats(). */
  readonly counters: Omit<RunnerStats, 'shards'> = {
    invocations: 0,
    recordsDelivered: 0,
    retries: 0,
    bisections: 0,
    partialFailures: 0,
    functionErrors: 0,
    throttles: 0,
    injectedCrashes: 0,
    redeliveries: 0,
    onFailureRecords: 0,
    onFailureDeliveryErrors: 0,
    readErrors: 0,
    discardedRecords: 0,
    windowsClosed: 0,
    windowsTerminatedEarly: 0,
  };

  constructor(options: KinesisEventSourceRunnerOptions) {
    const batchSize = options.batchSize ?? 100;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new Error(`batchSize must be an integer in 1..10000, got ${batchSize}`);
    }
    if (options.tumblingWindowSeconds !== undefined && !(options.tumblingWindowSeconds >= 0)) {
      throw new Error(`tumblingWindowSeconds must be >= 0, got ${options.tumblingWindowSeconds}`);
    }
    this.opts = {
      ...options,
      batchSize,
      maxBatchingWindowMs: options.maxBatchingWindowMs ?? 0,
      retryAttempts: options.retryAttempts ?? -1,
      maxRecordAgeSeconds: options.maxRecordAgeSeconds ?? -1,
      pollIntervalMs: options.pollIntervalMs ?? 1_000,
      functionTimeoutMs: options.functionTimeoutMs ?? 60_000,
      retryBackoffMs: options.retryBackoffMs ?? 100,
      maxRetryBackoffMs: options.maxRetryBackoffMs ?? 5_000,
      windowCloseGraceMs: options.windowCloseGraceMs ?? 250,
      maxWindowStateBytes: options.maxWindowStateBytes ?? DEFAULT_MAX_STATE_BYTES,
    };
    this.functionName = options.functionName ?? `${options.streamName}-consumer`;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.invoker = new FunctionInvoker(options.handler, this.functionName, () => this.functionArn, this.opts.functionTimeoutMs);
  }

  // The members below up to start() are the shard consumers' view of the runner.

  get kinesis(): KinesisClient {
    return this.opts.kinesis ?? kinesisClient();
  }

  get functionArn(): string {
    return `arn:aws:lambda:${this.region}:${ACCOUNT_ID}:function:${this.functionName}`;
  }

  get windowMs(): number {
    return (this.opts.tumblingWindowSeconds ?? 0) * 1000;
  }

  get options(): Readonly<ResolvedOptions> {
    return this.opts;
  }

  now(): number {
    return this.clock.now();
  }

  isStopping(): boolean {
    return this.stopping;
  }

  sleep(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms);
  }

  log(line: string): void {
    this.opts.log?.(`[${this.functionName}] ${line}`);
  }

  /**
   * Discovers the shards and anchors each one's starting position before resolving, so with LATEST every
   * record written after start() resolves is delivered.
   */
  start(): Promise<void> {
    if (this.stopPromise) return Promise.reject(new Error('the runner is stopping; await stop() before starting it again'));
    this.startPromise ??= this.doStart().catch((err) => {
      this.startPromise = undefined;
      throw err;
    });
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    this.region = await this.kinesis.config.region();
    const summary = await this.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.opts.streamName }));
    this.streamArn =
      summary.StreamDescriptionSummary?.StreamARN ?? `arn:aws:kinesis:${this.region}:${ACCOUNT_ID}:stream/${this.opts.streamName}`;
    const shardIds: string[] = [];
    let nextToken: string | undefined;
    do {
      const page: ListShardsCommandOutput = await this.kinesis.send(
        nextToken ? new ListShardsCommand({ NextToken: nextToken }) : new ListShardsCommand({ StreamName: this.opts.streamName }),
      );
      for (const shard of page.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId);
      nextToken = page.NextToken;
    } while (nextToken);
    for (const shardId of shardIds) {
      if (!this.shards.has(shardId)) this.shards.set(shardId, new ShardConsumer(this, shardId));
    }
    const consumers = [...this.shards.values()];
    await Promise.all(consumers.map((c) => c.prepare()));
    this.stopping = false;
    this.running = true;
    this.loops = consumers.map((c) => c.run());
  }

  /** Lets every shard finish its in-flight invocation, then stops polling. Restartable from the checkpoints. */
  stop(): Promise<void> {
    if (!this.startPromise) return this.stopPromise ?? Promise.resolve();
    this.stopPromise ??= (async () => {
      await this.startPromise?.catch(() => undefined);
      this.stopping = true;
      this.sleeper.wakeAll();
      await Promise.all(this.loops);
      // Timed-out handlers get one more timeout to settle; Lambda would have frozen them by now.
      await this.invoker.settleAbandoned();
      this.loops = [];
      this.running = false;
      this.startPromise = undefined;
      this.stopPromise = undefined;
    })();
    return this.stopPromise;
  }

  /**
   * Resolves once every shard has been read to its tip by a poll that started after drain() was called,
   * nothing is pending or in flight, and no window is open. Rejects after timeoutMs, naming the shards
   * that are still busy.
   *
   * flushWindows closes each open window as soon as its shard is caught up instead of waiting for the
   * window's end, as Lambda does when a shard ends. It exists for tests and the local runtime's "flush"
   * action; a deployed mapping has no equivalent.
   */
  async drain(options: { timeoutMs?: number; flushWindows?: boolean } = {}): Promise<void> {
    if (!this.running) throw new Error('drain() needs a started runner');
    const since = this.now();
    const shards = [...this.shards.values()];
    if (options.flushWindows) for (const s of shards) s.flushWindowsCaughtUpSince(since);
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    try {
      for (;;) {
        const busy = shards.filter((s) => !s.isDrained(since));
        if (busy.length === 0) return;
        if (Date.now() > deadline) {
          throw new Error(`drain timed out; still busy: ${busy.map((s) => s.describe()).join('; ')}`);
        }
        await new Promise((r) => setTimeout(r, Math.min(20, this.opts.pollIntervalMs)));
      }
    } finally {
      if (options.flushWindows) for (const s of shards) s.flushWindowsCaughtUpSince(undefined);
    }
  }

  /**
   * The largest iterator age of the shards, as of now: the age of the last batch when it completed (Lambda's
   * IteratorAge) or, when larger, the age now of the oldest record read and not yet done with (in flight,
   * waiting for a retry or a batching window, or held in an open tumbling window). An invocation that hangs
   * therefore shows as a growing age, not as the figure of the last batch that completed.
   */
  iteratorAgeMs(): number {
    const now = this.now();
    let max = 0;
    for (const shard of this.shards.values()) max = Math.max(max, shard.iteratorAgeMs, shard.unfinishedAgeMs(now));
    return max;
  }

  stats(): RunnerStats {
    const shards: Record<string, ShardStats> = {};
    for (const shard of this.shards.values()) shards[shard.shardId] = shard.stats();
    return { ...this.counters, shards };
  }

  /** Invokes the handler like the Lambda service does: JSON in, JSON out, a deadline, a fresh context. */
  invoke(event: KinesisStreamEvent | TumblingWindowEvent): Promise<InvokeOutcome> {
    return this.invoker.invoke(event);
  }

  async sendOnFailure(record: OnFailureRecord): Promise<void> {
    this.counters.onFailureRecords++;
    this.counters.discardedRecords += record.KinesisBatchInfo.batchSize;
    const destination = this.opts.onFailure;
    this.log(
      `discarding ${record.KinesisBatchInfo.batchSize} record(s) of ${record.KinesisBatchInfo.shardId} ` +
        `(${record.requestContext.condition}) ${record.KinesisBatchInfo.startSequenceNumber}..${record.KinesisBatchInfo.endSequenceNumber}`,
    );
    if (!destination) return;
    try {
      await sendOnFailureRecord(record, destination);
    } catch (err) {
      this.counters.onFailureDeliveryErrors++;
      this.log(`on-failure destination rejected the record ${ON_FAILURE_SEND_POLICY.maxAttempts} times, giving up: ${describeError(err)}`);
    }
  }
}
