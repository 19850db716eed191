/**
 * The validation function's configuration and the environment variables that carry it. The construct
 * writes these variables from the stage configuration; the deployed handler reads them; the local runtime
 * can build the same configuration itself and pass it to createValidationHandler.
 */
import type { ValidationOptions } from '@personalization-data-platform/contract';
import { DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES } from '../../core/ingest/quarantine';
import { FORWARD_RETRY_POLICY, checkRetryPolicy, type RetryPolicy } from '../../core/retry-policy';
import { EnvReader, type Env } from '../../core/env-config';

export const VALIDATION_ENV = {
  validatedStreamName: 'VALIDATED_STREAM_NAME',
  quarantineBucket: 'QUARANTINE_BUCKET',
  maxEventBytes: 'MAX_EVENT_BYTES',
  maxFutureSkewSeconds: 'MAX_FUTURE_SKEW_SECONDS',
  maxPastAgeSeconds: 'MAX_PAST_AGE_SECONDS',
  quarantinePayloadMaxBytes: 'QUARANTINE_PAYLOAD_MAX_BYTES',
  forwardMaxAttempts: 'FORWARD_MAX_ATTEMPTS',
  ledgerTableName: 'LEDGER_TABLE_NAME',
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
  /**
   * The ledger table, whose `#erased` partition holds the tombstones' hashes: records of erased subjects are
   * dropped before anything is quarantined or forwarded. @default no gate (every record is validated)
   */
  readonly ledgerTableName?: string;
}

/** Reads the configuration from environment variables; throws one ConfigError naming every missing or malformed one. */
export function validationConfigFromEnv(env: Env = process.env): ValidationHandlerConfig {
  const read = new EnvReader(env, 'validation function configuration');
  const config: ValidationHandlerConfig = {
    validatedStreamName: read.text(VALIDATION_ENV.validatedStreamName),
    quarantineBucket: read.text(VALIDATION_ENV.quarantineBucket),
    validation: {
      maxEventBytes: read.int(VALIDATION_ENV.maxEventBytes, { min: 1 }),
      maxFutureSkewMs: read.int(VALIDATION_ENV.maxFutureSkewSeconds) * 1000,
      maxPastAgeMs: read.int(VALIDATION_ENV.maxPastAgeSeconds) * 1000,
    },
    quarantinePayloadMaxBytes: read.int(VALIDATION_ENV.quarantinePayloadMaxBytes, { fallback: DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES }),
    forwardRetry: { ...FORWARD_RETRY_POLICY, maxAttempts: read.int(VALIDATION_ENV.forwardMaxAttempts, { min: 1, fallback: FORWARD_RETRY_POLICY.maxAttempts }) },
  };
  const ledgerTableName = read.optionalText(VALIDATION_ENV.ledgerTableName);
  if (ledgerTableName) Object.assign(config, { ledgerTableName });
  read.done();
  checkRetryPolicy(config.forwardRetry);
  return config;
}
