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
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type ListShardsCommandOutput,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
  KinesisStreamStateResponse,
  KinesisStreamTumblingWindowEvent,
} from 'aws-lambda';
import { kinesisClient, sqsClient } from '../../adapters/aws-clients';
import { withRetry } from '../../adapters/retry';
import { backoffCeilingMs, type RetryPolicy } from '../../core/retry-policy';
import { seededRandom } from '../../core/seeded-random';

// ---------------------------------------------------------------------------------------------------------
// Public types

/** The event a tumbling-window function receives (the @types/aws-lambda type lacks shardId and the ARN). */
export interface TumblingWindowEvent extends KinesisStreamTumblingWindowEvent {
  state: Record<string, unknown>;
  shardId: string;
  eventSourceARN: string;
}

export type StreamHandlerResult = KinesisStreamBatchResponse | KinesisStreamStateResponse | void | null | undefined;

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

/** The invocation record Lambda sends to an on-failure destination of a Kinesis event source. */
export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
    approximateInvokeCount: number;
  };
  /** Absent when the records were discarded without ever reaching the function. */
  responseContext?: {
    statusCode: number;
    executedVersion: string;
    functionError?: 'Unhandled';
  };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export type OnFailureDestination = { queueUrl: string } | ((record: OnFailureRecord) => Promise<void>);

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** What a fault injector is told about an invocation about to happen (or just done). */
export interface InvocationInfo {
  shardId: string;
  firstSequenceNumber?: string;
  lastSequenceNumber?: string;
  size: number;
  /** Failed deliveries of this batch's first record so far (0 on the first delivery). */
  attempt: number;
  isFinalInvokeForWindow: boolean;
}

/**
 * 'throttle': the invocation never reaches the function (counts no retry, like a Lambda throttle).
 * { delayMs }: the function is invoked after a delay (a cold start, a slow network).
 */
export type BeforeInvokeFault = 'none' | 'throttle' | { delayMs: number };

/**
 * 'crash-after-side-effects': the function ran to completion (its writes happened) but the invocation is
 * treated as failed and retried, as when a Lambda times out right after its DynamoDB write.
 * 'redeliver': the invocation succeeded but its checkpoint is lost, so the same records come again, as when
 * a shard lease moves between pollers.
 */
export type AfterInvokeFault = 'none' | 'crash-after-side-effects' | 'redeliver';

export interface FaultInjector {
  beforeInvoke?(invocation: InvocationInfo): BeforeInvokeFault;
  /** Consulted only for invocations that returned a usable response. */
  afterInvoke?(invocation: InvocationInfo, outcome: 'success' | 'partial-failure'): AfterInvokeFault;
}

export interface KinesisEventSourceRunnerOptions {
  streamName: string;
  /** Declared as a method so handlers typed for KinesisStreamEvent or TumblingWindowEvent both fit. */
  handler(event: KinesisStreamEvent | TumblingWindowEvent, context: Context): Promise<StreamHandlerResult> | StreamHandlerResult;
  startingPosition: StartingPosition;
  functionName?: string;
  /** Records per invocation, 1..10000 (default 100). */
  batchSize?: number;
  /** MaximumBatchingWindowInSeconds, in ms (default 0: invoke as soon as records are read). */
  maxBatchingWindowMs?: number;
  bisectBatchOnError?: boolean;
  /** MaximumRetryAttempts (default -1: retry until the records expire). */
  retryAttempts?: number;
  /** MaximumRecordAgeInSeconds (default -1: no limit). */
  maxRecordAgeSeconds?: number;
  reportBatchItemFailures?: boolean;
  /** TumblingWindowInSeconds; unset or 0 means no window. */
  tumblingWindowSeconds?: number;
  onFailure?: OnFailureDestination;
  /** Pause between polls of a caught-up shard (Lambda polls once a second). */
  pollIntervalMs?: number;
  /** Invocations running longer fail as timed out (default 60 s). */
  functionTimeoutMs?: number;
  retryBackoffMs?: number;
  maxRetryBackoffMs?: number;
  /** How long after a window's end a caught-up poll must start before the window closes (default 250). */
  windowCloseGraceMs?: number;
  /** Window state size that ends a window early (default 1 MB, the Lambda limit). */
  maxWindowStateBytes?: number;
  faults?: FaultInjector;
  clock?: Clock;
  kinesis?: KinesisClient;
  log?: (line: string) => void;
}

export interface ShardStats {
  shardId: string;
  /** Sequence number of the last record that is done with (processed or discarded). */
  checkpoint?: string;
  pendingRecords: number;
  /**
   * Age of the last record of the last batch when its invocation ended (Lambda's IteratorAge); 0 once caught
   * up and idle. runner.iteratorAgeMs() also counts records still in flight or waiting.
   */
  iteratorAgeMs: number;
  millisBehindLatest: number;
  invocations: number;
  windowOpen: boolean;
  ended: boolean;
  lastError?: string;
}

export interface RunnerStats {
  invocations: number;
  recordsDelivered: number;
  /** Deliveries that repeat records after a failure (function error or partial failure). */
  retries: number;
  bisections: number;
  partialFailures: number;
  functionErrors: number;
  throttles: number;
  injectedCrashes: number;
  redeliveries: number;
  onFailureRecords: number;
  onFailureDeliveryErrors: number;
  /** Polls of a shard that failed (the stream did not answer); the shard is polled again with backoff. */
  readErrors: number;
  discardedRecords: number;
  windowsClosed: number;
  windowsTerminatedEarly: number;
  shards: Record<string, ShardStats>;
}

// ---------------------------------------------------------------------------------------------------------
// Deterministic fault injection

export interface SeededFaultOptions {
  seed: number;
  /** Probability that a successful invocation is treated as failed after its side effects. */
  crashAfterSideEffects?: number;
  /** Probability that a successful invocation's checkpoint is lost. */
  redeliver?: number;
  /** Probability that an invocation is throttled before reaching the function. */
  throttle?: number;
  /** Probability that an invocation is delayed by a duration drawn from delayMs (default 1 when delayMs is given). */
  delay?: number;
  delayMs?: [number, number];
  /** Leave final window invocations alone (default false: they fail like any other). */
  spareFinalInvokes?: boolean;
  /**
   * Give every fault kind with a non-zero probability to the first invocation eligible for it, then draw as
   * usual, so a drill is never vacuous because a short run happened to draw no fault of some kind.
   * @default false
   */
  ensureEach?: boolean;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Faults drawn from a seeded generator keyed by the batch (shard, sequence range, how often that batch was
 * seen), so a given seed makes the same decisions for the same batches however the shards interleave.
 */
export function seededFaults(options: SeededFaultOptions): FaultInjector {
  const seen = new Map<string, number>();
  const owed = new Set(['throttle', 'delay', 'crash', 'redeliver']);
  const keyOf = (i: InvocationInfo) =>
    `${options.seed}|${i.shardId}|${i.firstSequenceNumber ?? ''}|${i.lastSequenceNumber ?? ''}|${i.isFinalInvokeForWindow}`;
  const random = (i: InvocationInfo, phase: string) => seededRandom(fnv1a(`${keyOf(i)}|${seen.get(keyOf(i)) ?? 0}|${phase}`));
  return {
    beforeInvoke(invocation) {
      const key = keyOf(invocation);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (options.spareFinalInvokes && invocation.isFinalInvokeForWindow) return 'none';
      if (options.ensureEach && (options.throttle ?? 0) > 0 && owed.delete('throttle')) return 'throttle';
      if (options.ensureEach && (options.delay ?? 0) > 0 && owed.delete('delay')) {
        const [min, max] = options.delayMs ?? [10, 100];
        return { delayMs: Math.round((min + max) / 2) };
      }
      const next = random(invocation, 'before');
      if (next() < (options.throttle ?? 0)) return 'throttle';
      if (next() < (options.delay ?? (options.delayMs ? 1 : 0))) {
        const [min, max] = options.delayMs ?? [10, 100];
        return { delayMs: Math.round(min + next() * (max - min)) };
      }
      return 'none';
    },
    afterInvoke(invocation) {
      if (options.spareFinalInvokes && invocation.isFinalInvokeForWindow) return 'none';
      if (options.ensureEach && (options.crashAfterSideEffects ?? 0) > 0 && owed.delete('crash')) return 'crash-after-side-effects';
      if (options.ensureEach && (options.redeliver ?? 0) > 0 && owed.delete('redeliver')) return 'redeliver';
      const next = random(invocation, 'after');
      if (next() < (options.crashAfterSideEffects ?? 0)) return 'crash-after-side-effects';
      if (next() < (options.redeliver ?? 0)) return 'redeliver';
      return 'none';
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Implementation

const ACCOUNT_ID = '000000000000';
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const DEFAULT_MAX_STATE_BYTES = 1024 * 1024;
/** Sending an on-failure record: a destination that rejects it is tried twice more, then the shard moves on. */
const ON_FAILURE_SEND_POLICY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 };

type ResolvedOptions = KinesisEventSourceRunnerOptions &
  Required<
    Pick<
      KinesisEventSourceRunnerOptions,
      | 'batchSize'
      | 'maxBatchingWindowMs'
      | 'retryAttempts'
      | 'maxRecordAgeSeconds'
      | 'pollIntervalMs'
      | 'functionTimeoutMs'
      | 'retryBackoffMs'
      | 'maxRetryBackoffMs'
      | 'windowCloseGraceMs'
      | 'maxWindowStateBytes'
    >
  >;

interface BufferedRecord {
  record: KinesisStreamRecord;
  sequenceNumber: string;
  arrivalMs: number;
  /** When this runner read it; the batching window counts from the oldest buffered record. */
  readAt: number;
  jsonBytes: number;
}

interface OpenWindow {
  startMs: number;
  endMs: number;
  /** State as the JSON the function returned, so every invocation gets a fresh copy. */
  stateJson: string;
  /** Set when the window is due for its final invocation. */
  closing?: 'end' | 'early';
  finalAttempts: number;
  firstSequenceNumber?: string;
  lastSequenceNumber?: string;
  firstArrivalMs?: number;
  lastArrivalMs?: number;
  aggregatedRecords: number;
}

interface FailureStreak {
  /** First record of the failing batch; the streak ends when the checkpoint moves past it. */
  headSequenceNumber: string;
  /** Failed deliveries counted against retryAttempts. */
  attempts: number;
  functionError: boolean;
}

type InvokeOutcome =
  | { kind: 'ok'; response: unknown }
  | { kind: 'error'; error: unknown };

type Verdict =
  | { kind: 'success'; state?: string }
  | { kind: 'partial'; failedIndex: number; state?: string }
  | { kind: 'failure'; functionError: boolean; reason: string };

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

function isoSeconds(ms: number): string {
  // Lambda writes window bounds without milliseconds ("2020-12-09T07:04:00Z").
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

export class KinesisEventSourceRunner {
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
  /** Handler promises that outlived their timeout; stop() gives them one more timeout to settle. */
  private readonly abandoned = new Set<Promise<unknown>>();
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
      if (this.abandoned.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...this.abandoned]),
          new Promise((r) => (timer = setTimeout(r, this.opts.functionTimeoutMs))),
        ]);
        clearTimeout(timer);
      }
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
  async invoke(event: KinesisStreamEvent | TumblingWindowEvent): Promise<InvokeOutcome> {
    const timeoutMs = this.opts.functionTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const context = this.context(deadline);
    const TIMEOUT = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const call = (async () => this.opts.handler(event, context))();
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), timeoutMs);
    });
    try {
      const result = await Promise.race([call, timeout]);
      if (result === TIMEOUT) {
        const settled = call.then(
          () => undefined,
          () => undefined,
        );
        this.abandoned.add(settled);
        void settled.finally(() => this.abandoned.delete(settled));
        return { kind: 'error', error: new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`) };
      }
      // What the function returns crosses the wire as JSON.
      const json = result === undefined ? undefined : toJson(result);
      return { kind: 'ok', response: json === undefined ? null : JSON.parse(json) };
    } catch (error) {
      return { kind: 'error', error };
    } finally {
      clearTimeout(timer);
    }
  }

  private context(deadline: number): Context {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const unsupported = () => {
      throw new Error('context.done/succeed/fail are not supported: return a value or throw');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.functionName}`,
      logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
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
      await withRetry(
        async () => {
          if (typeof destination === 'function') await destination(record);
          else await sqsClient().send(new SendMessageCommand({ QueueUrl: destination.queueUrl, MessageBody: JSON.stringify(record) }));
        },
        // Whatever the destination answers, it is tried again: the record is all that is left of the range.
        { policy: ON_FAILURE_SEND_POLICY, classify: () => 'transient' },
      );
    } catch (err) {
      this.counters.onFailureDeliveryErrors++;
      this.log(`on-failure destination rejected the record ${ON_FAILURE_SEND_POLICY.maxAttempts} times, giving up: ${describeError(err)}`);
    }
  }
}

/** One shard's poller: buffer of read records, checkpoint, failure streak, bisection plan, open window. */
class ShardConsumer {
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
    private readonly runner: KinesisEventSourceRunner,
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
    for (const r of records) this.buffer.push(this.toBuffered(r));
    if (records.length > 0) this.readPosition = records[records.length - 1]!.SequenceNumber;
    this.millisBehindLatest = out.MillisBehindLatest ?? 0;
    if (records.length === 0 && this.millisBehindLatest === 0) {
      this.caughtUpPollStartedAt = startedAt;
      if (this.buffer.length === 0 && !this.streak) this.iteratorAgeMs = 0;
    }
    return records.length;
  }

  private toBuffered(r: KinesisRecord): BufferedRecord {
    const sequenceNumber = r.SequenceNumber ?? '';
    const arrivalMs = r.ApproximateArrivalTimestamp?.getTime() ?? this.runner.now();
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
      eventID: `${this.shardId}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::${ACCOUNT_ID}:role/${this.runner.functionName}-role`,
      awsRegion: this.runner.region,
      eventSourceARN: this.runner.streamArn,
    };
    return { record, sequenceNumber, arrivalMs, readAt: this.runner.now(), jsonBytes: Buffer.byteLength(JSON.stringify(record)) + 1 };
  }

  // --- batches ----------------------------------------------------------------------------------------

  private windowStartOf(arrivalMs: number): number {
    const w = this.runner.windowMs;
    const start = Math.floor(arrivalMs / w) * w;
    // Arrival times within a shard only move forward; a skewed one stays in the window already open.
    return this.window ? Math.max(start, this.window.startMs) : start;
  }

  private nextBatch(): { records: BufferedRecord[]; wait: number } | undefined {
    if (this.buffer.length === 0) return undefined;
    const { batchSize, maxBatchingWindowMs } = this.runner.options;
    const limit = this.splitPlan[0] ?? batchSize;
    const windowed = this.runner.windowMs > 0;
    if (windowed && this.window?.closing) return undefined;
    const windowStart = windowed ? this.windowStartOf(this.buffer[0]!.arrivalMs) : 0;

    const records: BufferedRecord[] = [];
    let bytes = 0;
    let cut = false;
    for (const b of this.buffer) {
      if (records.length >= limit) break;
      if (windowed && this.windowStartOf(b.arrivalMs) !== windowStart) {
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
    // Retries and bisected halves go out at once; a first delivery may wait for the batching window.
    const full = records.length >= limit || cut || this.splitPlan.length > 0 || this.streak !== undefined;
    const waited = this.runner.now() - records[0]!.readAt;
    const wait = full || maxBatchingWindowMs <= 0 ? 0 : Math.max(0, maxBatchingWindowMs - waited);
    return { records, wait };
  }

  /** Removes `count` records from the head after they are processed or discarded. */
  private consume(count: number): void {
    const gone = this.buffer.splice(0, count);
    if (gone.length === 0) return;
    for (const b of gone) this.invokeCounts.delete(b.sequenceNumber);
    this.checkpoint = gone[gone.length - 1]!.sequenceNumber;
    let left = gone.length;
    while (left > 0 && this.splitPlan.length > 0) {
      const head = this.splitPlan[0]!;
      if (head <= left) {
        left -= head;
        this.splitPlan.shift();
      } else {
        this.splitPlan[0] = head - left;
        left = 0;
      }
    }
    if (this.streak && !this.buffer.some((b) => b.sequenceNumber === this.streak!.headSequenceNumber)) this.streak = undefined;
  }

  private async discardExpired(): Promise<boolean> {
    const maxAge = this.runner.options.maxRecordAgeSeconds;
    if (maxAge < 0 || this.buffer.length === 0) return false;
    const now = this.runner.now();
    let count = 0;
    while (count < this.buffer.length && now - this.buffer[count]!.arrivalMs > maxAge * 1000) count++;
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
    range: { first: string; last: string; firstArrivalMs: number; lastArrivalMs: number; count: number },
  ): OnFailureRecord {
    return {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.runner.functionArn,
        condition,
        approximateInvokeCount: invokeCount,
      },
      ...(invokeCount > 0
        ? {
            responseContext: {
              statusCode: 200,
              executedVersion: '$LATEST',
              ...(functionError ? { functionError: 'Unhandled' as const } : {}),
            },
          }
        : {}),
      version: '1.0',
      timestamp: new Date(this.runner.now()).toISOString(),
      KinesisBatchInfo: {
        shardId: this.shardId,
        startSequenceNumber: range.first,
        endSequenceNumber: range.last,
        approximateArrivalOfFirstRecord: new Date(range.firstArrivalMs).toISOString(),
        approximateArrivalOfLastRecord: new Date(range.lastArrivalMs).toISOString(),
        batchSize: range.count,
        streamArn: this.runner.streamArn,
      },
    };
  }

  // --- invocation -------------------------------------------------------------------------------------

  private async deliver(records: BufferedRecord[]): Promise<number> {
    const windowed = this.runner.windowMs > 0;
    if (windowed && !this.window) {
      const startMs = this.windowStartOf(records[0]!.arrivalMs);
      this.window = { startMs, endMs: startMs + this.runner.windowMs, stateJson: '{}', finalAttempts: 0, aggregatedRecords: 0 };
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
          false,
          false,
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
          const half = Math.ceil(records.length / 2);
          this.splitPlan.splice(0, this.splitPlan.length > 0 ? 1 : 0, half, records.length - half);
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
    const w = this.window;
    if (w) {
      if (stateJson !== undefined) w.stateJson = stateJson;
      const first = records[0]!;
      const last = records[records.length - 1]!;
      w.firstSequenceNumber ??= first.sequenceNumber;
      w.firstArrivalMs ??= first.arrivalMs;
      w.lastSequenceNumber = last.sequenceNumber;
      w.lastArrivalMs = last.arrivalMs;
      w.aggregatedRecords += records.length;
    }
    this.consume(records.length);
  }

  private afterStateCommitted(): number {
    const w = this.window;
    if (w && Buffer.byteLength(w.stateJson) > this.runner.options.maxWindowStateBytes) w.closing = 'early';
    return 0;
  }

  private judge(outcome: InvokeOutcome, records: BufferedRecord[]): Verdict {
    if (outcome.kind === 'error') return { kind: 'failure', functionError: true, reason: describeError(outcome.error) };
    const response = outcome.response as Record<string, unknown> | null;
    let state: string | undefined;
    if (this.window) {
      const raw = response && typeof response === 'object' ? response.state : undefined;
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        return { kind: 'failure', functionError: false, reason: 'a tumbling-window response must contain a state object' };
      }
      state = JSON.stringify(raw);
    }
    if (!this.runner.options.reportBatchItemFailures || !response || typeof response !== 'object') return { kind: 'success', state };
    const failures = response.batchItemFailures;
    if (failures === undefined || failures === null) return { kind: 'success', state };
    if (!Array.isArray(failures)) return { kind: 'failure', functionError: false, reason: 'batchItemFailures is not a list' };
    if (failures.length === 0) return { kind: 'success', state };
    const index = new Map(records.map((b, i) => [b.sequenceNumber, i]));
    let lowest = Infinity;
    for (const item of failures) {
      const id = item && typeof item === 'object' ? (item as Record<string, unknown>).itemIdentifier : undefined;
      const at = typeof id === 'string' && id !== '' ? index.get(id) : undefined;
      if (at === undefined) {
        return { kind: 'failure', functionError: false, reason: `invalid itemIdentifier ${JSON.stringify(id ?? null)}` };
      }
      lowest = Math.min(lowest, at);
    }
    return { kind: 'partial', failedIndex: lowest, state };
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

  private windowEvent(records: KinesisStreamRecord[], final: boolean, early: boolean): TumblingWindowEvent {
    const w = this.window!;
    return {
      Records: records,
      window: { start: isoSeconds(w.startMs), end: isoSeconds(w.endMs) },
      state: JSON.parse(w.stateJson) as Record<string, unknown>,
      shardId: this.shardId,
      eventSourceARN: this.runner.streamArn,
      isFinalInvokeForWindow: final,
      isWindowTerminatedEarly: early,
    };
  }

  /** Whether the open window must get its final invocation now. */
  private windowDue(): boolean {
    const w = this.window;
    if (!w) return false;
    if (w.closing) return true;
    const head = this.buffer[0];
    if (head && this.windowStartOf(head.arrivalMs) === w.startMs) return false;
    const ended =
      head !== undefined || // the next record belongs to a later window
      this.ended ||
      this.caughtUpPollStartedAt >= w.endMs + this.runner.options.windowCloseGraceMs ||
      (this.flushSince !== undefined && this.caughtUpPollStartedAt >= this.flushSince);
    if (ended) w.closing = 'end';
    return ended;
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
    const outcome = await this.invokeCounted(this.windowEvent([], true, early), 0);
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
        this.window = { startMs: w.startMs, endMs: w.endMs, stateJson: '{}', finalAttempts: 0, aggregatedRecords: 0 };
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
