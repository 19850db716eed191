/**
 * The one retry helper and the one error classifier of every adapter.
 *
 * classifyError decides, for anything an AWS call can throw (an SDK v3 service exception, a network or timeout
 * error of the HTTP handler, an S3 error answer, a PutRecords entry's ErrorCode, the platform's own
 * DependencyError), whether retrying can help: throttling and transient failures are retried, permanent ones
 * (a missing resource, denied access, a bad request, a failed condition) are not.
 *
 * withRetry runs a call under a RetryPolicy (core/retry-policy.ts: capped exponential backoff with full
 * jitter) on top of the SDK's own retries, which cover a few seconds: an outage of a dependency lasts longer.
 */
import { DependencyError, type FailureKind } from '../core/errors';
import { fullJitterDelayMs, mayRetry, type RetryPolicy } from '../core/retry-policy';

export type { FailureKind };

/** Error codes that mean "too fast": the service (or its key) asks callers to slow down. */
const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'KMSThrottlingException',
  'SlowDown',
  'TransactionInProgressException',
]);

/** Error codes of failures that another attempt can get past. */
const TRANSIENT = new Set([
  'InternalFailure',
  'InternalServerError',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'NetworkingError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
]);

/** Error codes that another attempt cannot fix: the resource, the permission or the request is wrong. */
const PERMANENT = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'AccessDenied',
  'ValidationException',
  'InvalidArgumentException',
  'ConditionalCheckFailedException',
  'NoSuchBucket',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'UnrecognizedClientException',
  'CredentialsProviderError',
  'ExpiredTokenException',
]);

/** What an error code (and the HTTP status of its answer, when there was one) says about retrying. */
export function classifyErrorCode(code: string, httpStatus?: number): FailureKind {
  if (THROTTLING.has(code) || httpStatus === 429) return 'throttling';
  if (PERMANENT.has(code)) return 'permanent';
  if (TRANSIENT.has(code)) return 'transient';
  if (httpStatus !== undefined) return httpStatus >= 500 ? 'transient' : 'permanent';
  return 'permanent';
}

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

/**
 * Whether retrying `err` can help. An error with neither a known code nor an HTTP status is permanent (a
 * bug is not fixed by trying again), unless it is the network's: a refused or reset connection, a timeout.
 */
export function classifyError(err: unknown): FailureKind {
  if (err instanceof DependencyError) return err.kind;
  if (typeof err !== 'object' || err === null) return 'permanent';
  const e = err as SdkErrorShape;
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode;
  if (e.$retryable?.throttling) return 'throttling';
  const byName = classifyErrorCode(name, status);
  if (byName !== 'permanent' || PERMANENT.has(name) || status !== undefined) return byName;
  // Node's network errors carry their code apart from the name ("Error", code "ECONNRESET").
  if (code && classifyErrorCode(code) !== 'permanent') return classifyErrorCode(code);
  if (e.$retryable) return 'transient';
  return typeof e.message === 'string' && /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT/.test(e.message) ? 'transient' : 'permanent';
}

export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** @default classifyError */
  readonly classify?: (err: unknown) => FailureKind;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Clock of the deadline. @default Date.now */
  readonly now?: () => number;
  /** No retry is started whose delay would end after this time (epoch ms): a Lambda's remaining time. */
  readonly deadlineMs?: number;
  /** Told about each retry about to be made, with the failure it retries. */
  readonly onRetry?: (kind: Exclude<FailureKind, 'permanent'>, attempt: number, err: unknown) => void;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `call` (with the attempt number, 1-based) until it resolves, or throws what it threw last once the
 * failure is permanent, the policy's attempts are spent or the next delay would pass the deadline.
 */
export async function withRetry<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const classify = options.classify ?? classifyError;
  const random = options.random ?? Math.random;
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (err) {
      const kind = classify(err);
      if (kind === 'permanent' || !mayRetry(options.policy, attempt)) throw err;
      const delay = fullJitterDelayMs(options.policy, attempt, random);
      if (options.deadlineMs !== undefined && now() + delay >= options.deadlineMs) throw err;
      options.onRetry?.(kind, attempt, err);
      await wait(delay);
    }
  }
}

/** Retries the SDK made inside one call (its `$metadata.attempts`), which withRetry does not see. */
export function sdkRetriesOf(output: unknown): number {
  const attempts = (output as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? attempts - 1 : 0;
}
