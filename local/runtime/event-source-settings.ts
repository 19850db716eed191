/**
 * The event-source settings the local runtime gives the Lambda Kinesis event-source runner: those of the
 * deployed mappings, setting for setting, from the same stage configuration; a test compares them with the
 * synthesized templates (test/local/runtime/event-source-settings.test.ts).
 *
 * - validation: lib/ingestion/validation-stage.ts (KinesisEventSource on the raw stream);
 * - aggregation: lib/profiles/profile-aggregator.ts (KinesisEventSource on the validated stream).
 *
 * Both report partial batch failures, bisect failing batches and send what they give up on to an on-failure
 * destination (an SQS queue in AWS; locally the runtime's `on-failure.jsonl`). Two differences, on purpose:
 *
 * - the aggregator's tumbling window is the run's (`--window`, 5 s by default), shorter than the stage's so a
 *   short run shows windows closing into the profiles; every other setting is the stage's;
 * - the runner invokes one batch per shard at a time, which is the aggregator's deployed
 *   parallelizationFactor (1) and the dev and prod stages' validation factor; a stage with a larger
 *   validation factor runs locally with one (same results, less throughput; the runtime logs it).
 */
import type { StageConfig } from '../../lib/config/stage-config';
import type { KinesisEventSourceRunnerOptions } from '../event-source/runner';

export type MappingSettings = Required<
  Pick<
    KinesisEventSourceRunnerOptions,
    | 'startingPosition'
    | 'batchSize'
    | 'maxBatchingWindowMs'
    | 'reportBatchItemFailures'
    | 'bisectBatchOnError'
    | 'retryAttempts'
    | 'maxRecordAgeSeconds'
    | 'functionTimeoutMs'
  >
> &
  Pick<KinesisEventSourceRunnerOptions, 'tumblingWindowSeconds'>;

/** The validation function's timeout: PlatformFunction's default (lib/shared/platform-function.ts), not overridden. */
export const VALIDATION_FUNCTION_TIMEOUT_SECONDS = 60;

/** The validation function's mapping on the raw stream. */
export function validationMapping(stage: StageConfig): MappingSettings {
  const v = stage.validation;
  return {
    startingPosition: 'TRIM_HORIZON',
    batchSize: v.batchSize,
    maxBatchingWindowMs: v.maxBatchingWindowSeconds * 1000,
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: v.retryAttempts,
    maxRecordAgeSeconds: v.maxRecordAgeSeconds,
    functionTimeoutMs: VALIDATION_FUNCTION_TIMEOUT_SECONDS * 1000,
  };
}

/**
 * The aggregator's mapping on the validated stream, with the run's tumbling window (0: per-batch mode, as
 * the deployed mapping without a window).
 */
export function aggregationMapping(stage: StageConfig, windowSeconds: number): MappingSettings {
  const p = stage.profiles;
  return {
    startingPosition: 'TRIM_HORIZON',
    batchSize: p.batchSize,
    maxBatchingWindowMs: p.maxBatchingWindowSeconds * 1000,
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: p.retryAttempts,
    maxRecordAgeSeconds: p.maxRecordAgeSeconds,
    ...(windowSeconds > 0 ? { tumblingWindowSeconds: windowSeconds } : {}),
    // A final window invocation writes every user of the window: the stage gives the function its own timeout.
    functionTimeoutMs: p.timeoutSeconds * 1000,
  };
}
