/**
 * How long any one AWS call may take: connection and request timeouts and attempts for every SDK client the
 * project builds (aws-clients.ts) and for the validation function's signed quarantine PUTs
 * (validate/quarantine-sink.ts).
 *
 * Without them a dependency that accepts a connection and never answers (a paused process, a black-holed
 * route) holds a call, and the invocation around it, until the function's own timeout: nothing fails,
 * nothing is logged, the shard just stops. With them the call fails as a TimeoutError, is retried by the SDK
 * (timeouts are transient errors), and the handler's own error handling runs while the function still has
 * time to report.
 *
 * How the values are chosen:
 * - connection: 1.1 s, the connect timeout of the AWS SDKs' shared "in-region" defaults mode (a Lambda
 *   function calls services of its own Region);
 * - request (the whole request and response of one attempt): far above what the service takes in AWS
 *   (milliseconds) and above the slowest call measured against the local emulators on a busy two-core
 *   machine (kinesis-local GetRecords/PutRecords up to ~4 s at 300 events/s, dynalite UpdateItem up to
 *   ~0.7 s), so a slow emulator is not mistaken for a dead one;
 * - attempts: what each service's throttling needs, bounded so that one call's worst case
 *   (worstCaseCallMs) stays below the timeout of every function that makes it. test/adapters/aws-clients.test.ts
 *   checks that against the deployed function timeouts.
 *
 * AWS_MAX_ATTEMPTS overrides the attempts of the SDK clients (aws-clients.ts), as the SDK documents.
 */
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ConfigError } from '../core/errors';
import { FORWARD_RETRY_POLICY } from '../core/retry-policy';

export interface ClientLimits {
  /** Longest wait for a TCP connection, in ms. */
  readonly connectionTimeoutMs: number;
  /** Longest time one attempt (request sent, whole response read) may take, in ms. */
  readonly requestTimeoutMs: number;
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
}

/** The AWS SDKs' "in-region" defaults mode connect timeout (connectTimeoutInMillis). */
export const IN_REGION_CONNECT_TIMEOUT_MS = 1_100;

export const CLIENT_LIMITS = {
  /** PutRecords of up to 500 records / 5 MiB, GetRecords of up to 10 MiB. */
  kinesis: { connectionTimeoutMs: IN_REGION_CONNECT_TIMEOUT_MS, requestTimeoutMs: 10_000, maxAttempts: 3 },
  /** Single-item and batch reads and writes, ExportTableToPointInTime. */
  dynamodb: { connectionTimeoutMs: IN_REGION_CONNECT_TIMEOUT_MS, requestTimeoutMs: 3_000, maxAttempts: 5 },
  /** Objects of the local runtime and the scripts (lake objects of a few MB). */
  s3: { connectionTimeoutMs: IN_REGION_CONNECT_TIMEOUT_MS, requestTimeoutMs: 10_000, maxAttempts: 3 },
  /** SendMessage / ReceiveMessage (on-failure queue, redrive). A long poll must wait less than the request timeout (the redrive command waits 1 s). */
  sqs: { connectionTimeoutMs: IN_REGION_CONNECT_TIMEOUT_MS, requestTimeoutMs: 5_000, maxAttempts: 3 },
  /** The validation function's quarantine PUTs (one small JSON-lines object per batch), retried by its forward retry policy. */
  quarantine: { connectionTimeoutMs: IN_REGION_CONNECT_TIMEOUT_MS, requestTimeoutMs: 5_000, maxAttempts: FORWARD_RETRY_POLICY.maxAttempts },
} as const satisfies Record<string, ClientLimits>;

/** AWS_MAX_ATTEMPTS wins when set (a bad value is reported, not ignored); otherwise the service's limit from CLIENT_LIMITS. */
export function sdkMaxAttempts(limits: ClientLimits): number {
  const raw = process.env.AWS_MAX_ATTEMPTS;
  if (raw === undefined || raw === '') return limits.maxAttempts;
  const fromEnv = Number(raw);
  if (!Number.isInteger(fromEnv) || fromEnv < 1) throw new ConfigError(`AWS_MAX_ATTEMPTS must be an integer of at least 1, got ${JSON.stringify(raw)}`);
  return fromEnv;
}

/** The SDK's standard retry backoff (@smithy/core retry): full jitter under base * 2^i, capped at 20 s. */
const SDK_TRANSIENT_BACKOFF_BASE_MS = 50;
const SDK_THROTTLING_BACKOFF_BASE_MS = 1_000;
const SDK_MAX_BACKOFF_MS = 20_000;

/**
 * The longest one SDK call can take with these limits: every attempt either times out (connection plus
 * request) and waits a transient-error backoff, or is answered at once with a throttling error and waits the
 * (longer) throttling backoff, whichever is worse, attempt by attempt.
 */
export function worstCaseCallMs(limits: ClientLimits, backoff = { transientBaseMs: SDK_TRANSIENT_BACKOFF_BASE_MS, throttlingBaseMs: SDK_THROTTLING_BACKOFF_BASE_MS, maxMs: SDK_MAX_BACKOFF_MS }): number {
  const attemptMs = limits.connectionTimeoutMs + limits.requestTimeoutMs;
  let total = 0;
  for (let retry = 0; retry < limits.maxAttempts - 1; retry++) {
    const transient = Math.min(backoff.maxMs, backoff.transientBaseMs * 2 ** retry);
    const throttled = Math.min(backoff.maxMs, backoff.throttlingBaseMs * 2 ** retry);
    total += Math.max(attemptMs + transient, throttled);
  }
  return total + attemptMs;
}

/**
 * An HTTP/1.1 handler with keep-alive and these limits. The request timeout throws (throwOnRequestTimeout):
 * without that flag @smithy/node-http-handler only logs a warning when it is exceeded.
 */
export function timedRequestHandler(limits: ClientLimits, maxSockets = 50): NodeHttpHandler {
  return new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    connectionTimeout: limits.connectionTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    throwOnRequestTimeout: true,
  });
}
