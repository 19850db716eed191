/**
 * Retry with capped exponential backoff and full jitter, as a pure policy: the delay before retry n is drawn
 * uniformly from [0, min(maxDelayMs, baseDelayMs * 2^(n-1))). Full jitter spreads retrying clients apart, so
 * a throttled shard is not hit again by every writer at the same instant ("Exponential Backoff and Jitter",
 * AWS Architecture Blog).
 */
import { ConfigError } from './errors';

export interface RetryPolicy {
  /** Attempts in total, the first one included (1 = never retry; Infinity = until a deadline or the caller stops). */
  readonly maxAttempts: number;
  /** Upper bound of the first retry's delay, in ms. */
  readonly baseDelayMs: number;
  /** Upper bound of any delay, in ms. */
  readonly maxDelayMs: number;
}

/** Forwarding from the validation function: short delays, because the batch holds up its shard meanwhile. */
export const FORWARD_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 1_000 };

/** Producers: longer, since a throttled producer should back off rather than fail. */
export const PRODUCER_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 };

/** Returns `policy` when its values make sense; throws ConfigError naming the first one that does not. */
export function checkRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const { maxAttempts, baseDelayMs, maxDelayMs } = policy;
  if (!(Number.isInteger(maxAttempts) || maxAttempts === Infinity) || maxAttempts < 1) throw new ConfigError(`retry policy: maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  if (!(baseDelayMs >= 0) || !Number.isFinite(baseDelayMs)) throw new ConfigError(`retry policy: baseDelayMs must be a finite number >= 0, got ${baseDelayMs}`);
  if (!(maxDelayMs >= baseDelayMs) || !Number.isFinite(maxDelayMs)) {
    throw new ConfigError(`retry policy: maxDelayMs must be a finite number >= baseDelayMs (${baseDelayMs}), got ${maxDelayMs}`);
  }
  return policy;
}

/** The ceiling of the delay before retry number `retry` (1 = the first retry). */
export function backoffCeilingMs(policy: RetryPolicy, retry: number): number {
  // 2^30 already exceeds any sensible cap; bounding the exponent keeps the product finite.
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(Math.max(retry - 1, 0), 30));
}

/** The delay before retry number `retry`, drawn with `random` (a function returning [0, 1)). */
export function fullJitterDelayMs(policy: RetryPolicy, retry: number, random: () => number): number {
  return Math.floor(random() * backoffCeilingMs(policy, retry));
}

/** Whether another attempt may follow attempt number `attempt` (1-based). */
export function mayRetry(policy: RetryPolicy, attempt: number): boolean {
  return attempt < policy.maxAttempts;
}
