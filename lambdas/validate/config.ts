/**
 * The validation function's configuration and the environment variables that carry it. The construct
 * writes these variables from the stage configuration; the deployed handler reads them; the local runtime
 * can build the same configuration itself and pass it to createValidationHandler.
 */
import type { ValidationOptions } from '@personalization-data-platform/contract';
import { DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES } from '../../core/ingest/quarantine';
import { FORWARD_RETRY_POLICY, checkRetryPolicy, type RetryPolicy } from '../../core/retry-policy';

export const VALIDATION_ENV = {
  validatedStreamName: 'VALIDATED_STREAM_NAME',
  quarantineBucket: 'QUARANTINE_BUCKET',
  maxEventBytes: 'MAX_EVENT_BYTES',
  maxFutureSkewSeconds: 'MAX_FUTURE_SKEW_SECONDS',
  maxPastAgeSeconds: 'MAX_PAST_AGE_SECONDS',
  quarantinePayloadMaxBytes: 'QUARANTINE_PAYLOAD_MAX_BYTES',
  forwardMaxAttempts: 'FORWARD_MAX_ATTEMPTS',
} as const;

export interface ValidationHandlerConfig {
  /** Name (or ARN) of the stream valid events are forwarded to. */
  readonly validatedStreamName: string;
  /** Bucket of the quarantine zone (objects go under quarantine/). */
  readonly quarantineBucket: string;
  readonly validation: Required<ValidationOptions>;
  /** Largest original payload kept in a quarantine line, in bytes. */
  readonly quarantinePayloadMaxBytes: number;
  /** Retries of PutRecords entries and quarantine writes within one invocation. */
  readonly forwardRetry: RetryPolicy;
}

/** Reads the configuration from environment variables; throws naming every missing or malformed one. */
export function validationConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): ValidationHandlerConfig {
  const problems: string[] = [];
  const text = (name: string): string => {
    const v = env[name];
    if (!v) problems.push(`${name} is not set`);
    return v ?? '';
  };
  const int = (name: string, fallback?: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (fallback !== undefined) return fallback;
      problems.push(`${name} is not set`);
      return NaN;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) problems.push(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return n;
  };
  const config: ValidationHandlerConfig = {
    validatedStreamName: text(VALIDATION_ENV.validatedStreamName),
    quarantineBucket: text(VALIDATION_ENV.quarantineBucket),
    validation: {
      maxEventBytes: int(VALIDATION_ENV.maxEventBytes),
      maxFutureSkewMs: int(VALIDATION_ENV.maxFutureSkewSeconds) * 1000,
      maxPastAgeMs: int(VALIDATION_ENV.maxPastAgeSeconds) * 1000,
    },
    quarantinePayloadMaxBytes: int(VALIDATION_ENV.quarantinePayloadMaxBytes, DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES),
    forwardRetry: { ...FORWARD_RETRY_POLICY, maxAttempts: int(VALIDATION_ENV.forwardMaxAttempts, FORWARD_RETRY_POLICY.maxAttempts) },
  };
  if (problems.length > 0) throw new Error(`validation function configuration: ${problems.join('; ')}`);
  checkRetryPolicy(config.forwardRetry);
  return config;
}
