/**
 * A typed producer client for Node services: validates events against the contract before sending
 * (optional), batches them into PutRecords calls within the service limits, keys each by its user id,
 * retries rejected entries with exponential backoff and full jitter, and returns a result per event.
 *
 *   const producer = new EventProducer({ streamName: 'pdp-prod-events' });
 *   const { results, throttled } = await producer.send(events);
 */
import { partitionKeyOf, validateEvent, type BehaviouralEvent, type ReasonCode, type SchemaError, type ValidationOptions } from '@personalization-data-platform/contract';
import {
  MAX_PARTITION_KEY_LENGTH,
  MAX_RECORD_BYTES,
  PUT_RECORDS_LIMITS,
  entryBytes,
  putRecordsWithRetry,
  type PutEntry,
  type PutLimits,
} from '@internal/core/ingest/put-records';
import { PRODUCER_RETRY_POLICY, checkRetryPolicy, type RetryPolicy } from '@internal/core/retry-policy';
import { createKinesisClient, type KinesisClient } from '@internal/adapters/kinesis/kinesis-client';
import { kinesisPutRecordsCall } from '@internal/adapters/kinesis/put-records';
import { ConfigError } from '@internal/core/errors';

export interface EventProducerOptions {
  /** Name or ARN of the raw events stream. */
  readonly streamName: string;
  /** Validate each event before sending; false sends whatever is given. @default true (contract defaults) */
  readonly validate?: boolean | ValidationOptions;
  /** Retry of rejected entries. @default PRODUCER_RETRY_POLICY: 6 attempts, 100 ms base, 5 s cap */
  readonly retry?: RetryPolicy;
  /** Per-call limits. @default 500 records, 5 MiB (the PutRecords limits) */
  readonly limits?: PutLimits;
  /** Called once per send() in which entries were throttled: the stream needs more write capacity. */
  readonly onThrottled?: (info: { readonly throttledEntries: number; readonly failedEntries: number }) => void;
  /** @default a client of the producer's own (endpoint and region from the standard AWS variables) */
  readonly kinesis?: KinesisClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What happened to one event. */
export type SendResult =
  | { readonly status: 'sent'; readonly sequenceNumber: string; readonly shardId: string; readonly attempts: number }
  /** Not sent: the event breaks the contract (it would have been quarantined) or cannot be a Kinesis record. */
  | { readonly status: 'rejected'; readonly reason: ReasonCode; readonly errors: readonly SchemaError[] }
  /** Sent but not accepted, even after retries. Sending it again later is safe (same event_id). */
  | {
      readonly status: 'failed';
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly attempts: number;
      readonly throttled: boolean;
    };

export interface SendSummary {
  /** One result per event, in the order given. */
  readonly results: SendResult[];
  readonly sent: number;
  readonly rejected: number;
  readonly failed: number;
  /** Entry rejections that were throttling (ProvisionedThroughputExceeded, KMS throttling). */
  readonly throttled: number;
  /** Entries sent again after a rejection. */
  readonly retried: number;
  readonly calls: number;
}

/** A record to send as is (the load generator sends deliberately broken ones). */
export interface RawRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
}

interface Pending extends PutEntry {
  readonly index: number;
}

export class EventProducer {
  private readonly options: EventProducerOptions;
  private readonly policy: RetryPolicy;
  private client: KinesisClient | undefined;

  constructor(options: EventProducerOptions) {
    if (!options.streamName) throw new ConfigError('EventProducer needs a streamName');
    this.options = options;
    this.policy = checkRetryPolicy(options.retry ?? PRODUCER_RETRY_POLICY);
  }

  private get kinesis(): KinesisClient {
    this.client ??= this.options.kinesis ?? createKinesisClient();
    return this.client;
  }

  /** Releases the client the producer built for itself (one given in the options is the caller's to keep). */
  destroy(): void {
    if (this.client && this.client !== this.options.kinesis) this.client.destroy();
    this.client = undefined;
  }

  /** Validates (unless disabled), batches and sends the events; resolves with a result per event. */
  async send(events: readonly BehaviouralEvent[] | readonly unknown[]): Promise<SendSummary> {
    const now = (this.options.now ?? Date.now)();
    const results: (SendResult | undefined)[] = new Array(events.length);
    const entries: Pending[] = [];
    events.forEach((value, index) => {
      const prepared = this.prepare(value, now);
      if ('status' in prepared) results[index] = prepared;
      else entries.push({ index, ...prepared });
    });
    return this.put(entries, results);
  }

  /**
   * The record an event becomes (validated and normalized unless validation is off), or why it cannot be
   * sent. The buffered producer prepares each event as it is put, then sends the records in batches.
   */
  prepare(value: unknown, now = (this.options.now ?? Date.now)()): PutEntry | Extract<SendResult, { status: 'rejected' }> {
    const validation = this.options.validate ?? true;
    let entry: PutEntry;
    if (validation !== false) {
      const checked = validateEvent(value, now, validation === true ? {} : validation);
      if (!checked.ok) return { status: 'rejected', reason: checked.reason, errors: checked.errors };
      entry = { partitionKey: partitionKeyOf(checked.event), data: Buffer.from(JSON.stringify(checked.event), 'utf8') };
    } else {
      const text = JSON.stringify(value);
      // The user, else the anonymous visitor (contract 1.1), as partitionKeyOf keys a validated event.
      const ids = value as { user_id?: unknown; anonymous_id?: unknown } | null;
      const key = [ids?.user_id, ids?.anonymous_id].find((k): k is string => typeof k === 'string' && k !== '');
      entry = { partitionKey: key ?? 'unknown-user', data: Buffer.from(text ?? 'null', 'utf8') };
    }
    const problem = recordProblem(entry);
    return problem ? { status: 'rejected', reason: problem.reason, errors: [problem.error] } : entry;
  }

  /** Sends records as they are (no validation), e.g. bytes read back from a stream. */
  async sendRecords(records: readonly RawRecord[]): Promise<SendSummary> {
    return this.put(
      records.map((r, index) => ({ index, partitionKey: r.partitionKey, data: r.data })),
      new Array(records.length),
    );
  }

  private async put(entries: Pending[], results: (SendResult | undefined)[]): Promise<SendSummary> {
    const sendable: Pending[] = [];
    for (const entry of entries) {
      const problem = recordProblem(entry);
      if (problem) results[entry.index] = { status: 'rejected', reason: problem.reason, errors: [problem.error] };
      else sendable.push(entry);
    }
    const report = await putRecordsWithRetry(sendable, kinesisPutRecordsCall<Pending>(this.kinesis, this.options.streamName), {
      policy: this.policy,
      limits: this.options.limits ?? PUT_RECORDS_LIMITS,
      random: this.options.random ?? Math.random,
      sleep: this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
      now: this.options.now,
    });
    report.results.forEach((r, k) => {
      const index = sendable[k]!.index;
      results[index] = r.ok
        ? { status: 'sent', sequenceNumber: r.sequenceNumber, shardId: r.shardId, attempts: r.attempts }
        : { status: 'failed', errorCode: r.errorCode, errorMessage: r.errorMessage, attempts: r.attempts, throttled: r.throttled };
    });
    const final = results as SendResult[];
    const rejected = final.filter((r) => r.status === 'rejected').length;
    if (report.throttledEntries > 0) this.options.onThrottled?.({ throttledEntries: report.throttledEntries, failedEntries: report.failed });
    return {
      results: final,
      sent: report.succeeded,
      rejected,
      failed: report.failed,
      throttled: report.throttledEntries,
      retried: report.retriedEntries,
      calls: report.calls,
    };
  }
}

/** What Kinesis would refuse about a record before it is sent. */
function recordProblem(entry: PutEntry): { reason: ReasonCode; error: SchemaError } | undefined {
  const keyLength = [...entry.partitionKey].length;
  if (keyLength < 1 || keyLength > MAX_PARTITION_KEY_LENGTH) {
    return { reason: 'schema_violation', error: { path: '/user_id', rule: 'partitionKeyLength', message: `a partition key is 1 to ${MAX_PARTITION_KEY_LENGTH} characters, got ${keyLength}` } };
  }
  const bytes = entryBytes(entry);
  if (bytes > MAX_RECORD_BYTES) {
    return { reason: 'size_violation', error: { path: '', rule: 'maxRecordBytes', message: `record is ${bytes} bytes with its partition key; Kinesis accepts at most ${MAX_RECORD_BYTES}` } };
  }
  return undefined;
}
