/**
 * Profile items as a personalization service reads them: GetItem for one user, BatchGetItem in chunks of 100
 * keys for many. Every call is bounded by the caller's deadline (the request is aborted when it passes, and
 * no retry is started that would end after it); failed calls and unprocessed keys are retried by the one
 * retry helper until then. A batch read keeps what it got: keys it could not read are reported, not thrown.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from '../../core/errors';
import type { Profile } from '../../core/profiles/model';
import type { RetryPolicy } from '../../core/retry-policy';
import { classifyError, withRetry, type RetryOptions } from '../retry';
import { BATCH_GET_LIMIT } from './batch-get';

export type { DynamoDBDocumentClient };

/** Reads of the request path: a few quick retries, then the caller decides. */
export const PROFILE_READ_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 5_000 };

export interface ProfileItemsOptions {
  readonly tableName: string;
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  /** Retries of a read, and of the keys a batch read left unprocessed. @default PROFILE_READ_RETRY_POLICY */
  readonly retry?: RetryPolicy;
  /** Chunks of 100 keys requested at once. @default 4 */
  readonly concurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** One read's consistency and bounds. */
export interface ReadControl {
  readonly consistent: boolean;
  /** Epoch ms after which nothing more is attempted. */
  readonly deadlineMs?: number;
  /** Aborts the request in flight (the deadline's timer, the caller's own signal). */
  readonly signal?: AbortSignal;
}

/** A read that ran out of time: the deadline passed, or the caller aborted it. */
export class ReadDeadlineError extends DependencyError {
  override name = 'ReadDeadlineError';

  constructor(message: string) {
    super(message, 'Deadline', 'transient');
  }
}

/** Why keys of a batch read were not read. */
export type UnreadReason = 'deadline' | 'unprocessed' | 'error';

export interface BatchRead {
  /** The items found. */
  readonly items: Profile[];
  /** Keys read and found to have no item. */
  readonly absent: string[];
  /** Keys not read, each chunk's with the reason and the last error. */
  readonly unread: { readonly ids: string[]; readonly reason: UnreadReason; readonly error: unknown }[];
}

function aborted(control: ReadControl): boolean {
  return control.signal?.aborted === true;
}

export class DynamoProfileItems {
  private readonly retry: RetryOptions;

  constructor(private readonly options: ProfileItemsOptions) {
    this.retry = {
      policy: options.retry ?? PROFILE_READ_RETRY_POLICY,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.now ? { now: options.now } : {}),
    };
  }

  private retryWithin(control: ReadControl): RetryOptions {
    return control.deadlineMs === undefined ? this.retry : { ...this.retry, deadlineMs: control.deadlineMs };
  }

  /** DescribeTable: resolves credentials, opens a connection and checks that the table exists and is active. */
  async describe(control: ReadControl): Promise<string | undefined> {
    const out = await withRetry(
      () => this.options.client.send(new DescribeTableCommand({ TableName: this.options.tableName }) as never, control.signal ? { abortSignal: control.signal } : {}),
      this.retryWithin(control),
    );
    return (out as { Table?: { TableStatus?: string } }).Table?.TableStatus;
  }

  /** The item of one user, or undefined when there is none; ReadDeadlineError when the deadline passes first. */
  async get(userId: string, control: ReadControl): Promise<Profile | undefined> {
    try {
      const out = await withRetry(
        () =>
          this.options.client.send(
            new GetCommand({ TableName: this.options.tableName, Key: { user_id: userId }, ConsistentRead: control.consistent }),
            control.signal ? { abortSignal: control.signal } : {},
          ),
        this.retryWithin(control),
      );
      return out.Item as Profile | undefined;
    } catch (err) {
      if (aborted(control)) throw new ReadDeadlineError(`reading the profile of ${userId} ran out of time`);
      throw err;
    }
  }

  /**
   * The items of the given users (duplicates ignored) that exist, and which users could not be read.
   * Throws only on a failure no retry can fix (no such table, no permission).
   */
  async getMany(userIds: readonly string[], control: ReadControl): Promise<BatchRead> {
    const unique = [...new Set(userIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    const result: BatchRead = { items: [], absent: [], unread: [] };
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) await this.readChunk(chunks[next++]!, control, result);
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 4, chunks.length) }, worker));
    return result;
  }

  private async readChunk(ids: string[], control: ReadControl, into: BatchRead): Promise<void> {
    const table = this.options.tableName;
    let pending = ids;
    try {
      await withRetry(async () => {
        if (aborted(control)) throw new ReadDeadlineError('deadline passed');
        const got: BatchGetCommandOutput = await this.options.client.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending.map((user_id) => ({ user_id })), ConsistentRead: control.consistent } } }),
          control.signal ? { abortSignal: control.signal } : {},
        );
        const found = (got.Responses?.[table] ?? []) as unknown as Profile[];
        const left = new Set((got.UnprocessedKeys?.[table]?.Keys ?? []).map((k) => String(k.user_id)));
        const foundIds = new Set(found.map((p) => p.user_id));
        into.items.push(...found);
        for (const id of pending) if (!foundIds.has(id) && !left.has(id)) into.absent.push(id);
        pending = pending.filter((id) => left.has(id));
        if (pending.length > 0) throw new DependencyError(`BatchGetItem left ${pending.length} key(s) unprocessed`, 'UnprocessedKeys', 'throttling');
      }, this.retryWithin(control));
    } catch (err) {
      if (aborted(control) || err instanceof ReadDeadlineError) {
        into.unread.push({ ids: pending, reason: 'deadline', error: err });
        return;
      }
      const kind = classifyError(err);
      if (kind === 'permanent') throw err;
      const deadlinePassed = control.deadlineMs !== undefined && (this.options.now ?? Date.now)() >= control.deadlineMs;
      into.unread.push({ ids: pending, reason: deadlinePassed ? 'deadline' : err instanceof DependencyError && err.code === 'UnprocessedKeys' ? 'unprocessed' : 'error', error: err });
    }
  }
}
