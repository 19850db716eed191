/**
 * The event-source runner's types: what callers configure and observe (options, faults, stats, the
 * on-failure record), and what its parts pass between them (buffered records, the open window, verdicts).
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
  KinesisStreamStateResponse,
  KinesisStreamTumblingWindowEvent,
} from 'aws-lambda';

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
// Between the parts

export type ResolvedOptions = KinesisEventSourceRunnerOptions &
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

/** A record read from the shard, as the function will see it, with what batching needs to know. */
export interface BufferedRecord {
  record: KinesisStreamRecord;
  sequenceNumber: string;
  arrivalMs: number;
  /** When this runner read it; the batching window counts from the oldest buffered record. */
  readAt: number;
  jsonBytes: number;
}

/** The tumbling window a shard is aggregating. */
export interface OpenWindow {
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

/** Failed deliveries of the batch at the head of the shard. */
export interface FailureStreak {
  /** First record of the failing batch; the streak ends when the checkpoint moves past it. */
  headSequenceNumber: string;
  /** Failed deliveries counted against retryAttempts. */
  attempts: number;
  functionError: boolean;
}

/** What invoking the function gave: its JSON response, or the error (a throw, a timeout). */
export type InvokeOutcome =
  | { kind: 'ok'; response: unknown }
  | { kind: 'error'; error: unknown };

/** What an invocation's outcome means for its batch (verdict.ts). */
export type Verdict =
  | { kind: 'success'; state?: string }
  | { kind: 'partial'; failedIndex: number; state?: string }
  | { kind: 'failure'; functionError: boolean; reason: string };

/** What a shard consumer needs from the runner that owns it. */
export interface ShardHost {
  readonly kinesis: KinesisClient;
  readonly functionName: string;
  readonly functionArn: string;
  readonly streamArn: string;
  readonly region: string;
  /** Tumbling window length in ms (0: none). */
  readonly windowMs: number;
  readonly options: Readonly<ResolvedOptions>;
  readonly counters: Omit<RunnerStats, 'shards'>;
  now(): number;
  isStopping(): boolean;
  sleep(ms: number): Promise<void>;
  log(line: string): void;
  invoke(event: KinesisStreamEvent | TumblingWindowEvent): Promise<InvokeOutcome>;
  sendOnFailure(record: OnFailureRecord): Promise<void>;
}
