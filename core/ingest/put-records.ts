/**
 * Writing records to a Kinesis stream with PutRecords, shared by the validation function (forwarding to the
 * validated stream), the producer client and the redrive command: grouping into calls within the service
 * limits, and retrying the entries a call rejects. Pure: the call itself is injected, no AWS imports.
 */
import { InvariantError, type FailureKind } from '../errors';
import { fullJitterDelayMs, mayRetry, type RetryPolicy } from '../retry-policy';

/** PutRecords accepts at most 500 records per call. */
export const PUT_RECORDS_MAX_RECORDS = 500;
/** ... and at most 5 MiB per call, partition keys included. */
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
/** One record (data + partition key) may be at most 1 MiB. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Partition keys are 1 to 256 Unicode characters. */
export const MAX_PARTITION_KEY_LENGTH = 256;

export interface PutEntry {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

export interface PutLimits {
  readonly maxRecords: number;
  readonly maxBytes: number;
}

export const PUT_RECORDS_LIMITS: PutLimits = { maxRecords: PUT_RECORDS_MAX_RECORDS, maxBytes: PUT_RECORDS_MAX_BYTES };

/** Bytes an entry counts against the per-call and per-record limits. */
export function entryBytes(entry: PutEntry): number {
  return entry.data.byteLength + Buffer.byteLength(entry.partitionKey, 'utf8');
}

/**
 * Splits entries, in order, into calls of at most `maxRecords` entries and `maxBytes` bytes. An entry larger
 * than maxBytes on its own gets a call of its own (the service rejects it; callers check MAX_RECORD_BYTES).
 */
export function chunkForPutRecords<E extends PutEntry>(entries: readonly E[], limits: PutLimits = PUT_RECORDS_LIMITS): E[][] {
  const chunks: E[][] = [];
  let current: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (current.length > 0 && (current.length >= limits.maxRecords || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** What one PutRecords call reports for one entry, or what a failed call means for each of its entries. */
export type EntryOutcome =
  | { readonly ok: true; readonly sequenceNumber: string; readonly shardId: string }
  | {
      readonly ok: false;
      readonly errorCode: string;
      readonly errorMessage: string;
      /** Whether sending the entry again can succeed, as the call adapter classified the failure. */
      readonly kind: FailureKind;
    };

/** Sends one PutRecords call; returns one outcome per entry, in order. Must not throw for per-entry failures. */
export type PutRecordsCall<E extends PutEntry> = (entries: readonly E[]) => Promise<EntryOutcome[]>;

export type EntryResult =
  | { readonly ok: true; readonly sequenceNumber: string; readonly shardId: string; readonly attempts: number }
  | {
      readonly ok: false;
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly attempts: number;
      /** The entry was throttled at least once (the stream or shard is over its write capacity). */
      readonly throttled: boolean;
    };

export interface PutReport {
  /** One result per entry, in the order given. */
  readonly results: EntryResult[];
  /** PutRecords calls made. */
  readonly calls: number;
  /** Entries sent again after a rejection (one entry retried twice counts twice). */
  readonly retriedEntries: number;
  /** Entry rejections that were throttling. */
  readonly throttledEntries: number;
  readonly succeeded: number;
  readonly failed: number;
}

export interface PutWithRetryOptions {
  readonly policy: RetryPolicy;
  readonly limits?: PutLimits;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Clock for the deadline. @default Date.now */
  readonly now?: () => number;
  /** No retry is started if its delay would end after this time (a Lambda's remaining time). */
  readonly deadlineMs?: number;
}

/**
 * Sends every entry, retrying the entries a call rejected (and retryable failed calls) under `policy`, with
 * full-jitter backoff between rounds. Never throws for entry failures: they come back as results.
 */
export async function putRecordsWithRetry<E extends PutEntry>(
  entries: readonly E[],
  call: PutRecordsCall<E>,
  options: PutWithRetryOptions,
): Promise<PutReport> {
  const now = options.now ?? Date.now;
  const results: (EntryResult | undefined)[] = new Array(entries.length);
  const throttledOnce = new Array<boolean>(entries.length).fill(false);
  let pending = entries.map((_, i) => i);
  let calls = 0;
  let retriedEntries = 0;
  let throttledEntries = 0;

  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > 1) retriedEntries += pending.length;
    const retryNext: number[] = [];
    // Calls of one round go out one after another: a shard that throttles is not hit harder in parallel.
    for (const chunk of chunkForPutRecords(pending.map((i) => ({ index: i, entry: entries[i]! })).map(toIndexed), options.limits)) {
      calls++;
      let outcomes: EntryOutcome[];
      try {
        outcomes = await call(chunk.map((c) => c.entry));
      } catch (err) {
        // The call adapter classifies the errors it knows; an unexpected throw is treated as transient.
        const e = err as { name?: string; message?: string };
        outcomes = chunk.map(() => ({ ok: false, errorCode: e?.name ?? 'Error', errorMessage: String(e?.message ?? err), kind: 'transient' as const }));
      }
      if (outcomes.length !== chunk.length) {
        throw new InvariantError(`PutRecords call returned ${outcomes.length} outcomes for ${chunk.length} entries`);
      }
      chunk.forEach(({ index }, k) => {
        const outcome = outcomes[k]!;
        if (outcome.ok) {
          results[index] = { ok: true, sequenceNumber: outcome.sequenceNumber, shardId: outcome.shardId, attempts: attempt };
          return;
        }
        if (outcome.kind === 'throttling') {
          throttledEntries++;
          throttledOnce[index] = true;
        }
        results[index] = {
          ok: false,
          errorCode: outcome.errorCode,
          errorMessage: outcome.errorMessage,
          attempts: attempt,
          throttled: throttledOnce[index]!,
        };
        if (outcome.kind !== 'permanent') retryNext.push(index);
      });
    }
    pending = retryNext;
    if (pending.length === 0 || !mayRetry(options.policy, attempt)) break;
    const delay = fullJitterDelayMs(options.policy, attempt, options.random);
    if (options.deadlineMs !== undefined && now() + delay >= options.deadlineMs) break;
    await options.sleep(delay);
  }

  let succeeded = 0;
  for (const r of results) if (r?.ok) succeeded++;
  return {
    results: results as EntryResult[],
    calls,
    retriedEntries,
    throttledEntries,
    succeeded,
    failed: entries.length - succeeded,
  };
}

interface Indexed<E extends PutEntry> extends PutEntry {
  readonly index: number;
  readonly entry: E;
}

function toIndexed<E extends PutEntry>(x: { index: number; entry: E }): Indexed<E> {
  return { index: x.index, entry: x.entry, partitionKey: x.entry.partitionKey, data: x.entry.data };
}
