/**
 * The scheduled freshness canary (EventBridge Scheduler, every `intervalSeconds`): puts a probe, measures
 * event time to profile-readable and to curated-lake object (canary.ts), and publishes the samples as EMF
 * metrics (namespace PersonalizationPlatform, dimension service=freshness-canary), which the freshness
 * alarms and the dashboard read. A probe that cannot be put fails the invocation (the errors alarm).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FRESHNESS_METRICS } from '../../core/canary/freshness';
import { putRecordsWithRetry } from '../../core/ingest/put-records';
import { kinesisClient } from '../../adapters/aws-clients';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { DynamoProfileItems } from '../../adapters/dynamodb/profile-items';
import { kinesisPutRecordsCall } from '../../adapters/kinesis/put-records';
import { sleep } from '../../adapters/retry';
import { listObjects } from '../../adapters/s3/object-listing';
import { FreshnessCanary, type CanaryRun, type FreshnessCanaryPorts } from './canary';
import { freshnessCanaryConfigFromEnv, type FreshnessCanaryConfig } from './config';

export { FRESHNESS_CANARY_ENV, freshnessCanaryConfigFromEnv, type FreshnessCanaryConfig } from './config';

/** What the schedule sends: `<aws.scheduler.scheduled-time>`. */
export interface FreshnessCanaryEvent {
  readonly scheduledTime?: string;
}

export interface FreshnessCanaryResult {
  readonly probe: string;
  readonly profileSeconds: number;
  readonly profileMissing: boolean;
  readonly lakeSeconds?: number;
  readonly lakeMissing?: boolean;
}

/** The ports over the AWS SDK: PutRecords to the raw stream, GetItem on the profile table, ListObjectsV2 on the curated zone. */
export function awsCanaryPorts(config: FreshnessCanaryConfig): FreshnessCanaryPorts {
  const items = new DynamoProfileItems({ tableName: config.profileTable, client: documentClient() });
  return {
    put: async (probe) => {
      const data = Buffer.from(JSON.stringify(probe.event));
      const report = await putRecordsWithRetry([{ data, partitionKey: probe.userId }], kinesisPutRecordsCall(kinesisClient(), config.rawStream), {
        policy: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 },
        sleep,
        random: Math.random,
      });
      const result = report.results[0]!;
      if (!result.ok) throw new Error(`freshness canary: the probe could not be put on ${config.rawStream}: ${result.errorCode} ${result.errorMessage}`);
    },
    profile: async (userId) => (await items.get(userId, { consistent: true })) as { updated_at?: unknown; first_seen?: unknown } | undefined,
    lakeObjects: (prefix) => listObjects(config.curatedBucket, prefix),
  };
}

/** Publishes a run's samples: seconds, and the missing count on the path (0 or 1). */
export function publishRun(metrics: Metrics, run: CanaryRun): void {
  metrics.addMetric(FRESHNESS_METRICS.profileSeconds, MetricUnit.Seconds, run.profile.seconds);
  metrics.addMetric(FRESHNESS_METRICS.profileMissing, MetricUnit.Count, run.profile.missing ? 1 : 0);
  if (run.lake) {
    metrics.addMetric(FRESHNESS_METRICS.lakeSeconds, MetricUnit.Seconds, run.lake.sample.seconds);
    metrics.addMetric(FRESHNESS_METRICS.lakeMissing, MetricUnit.Count, run.lake.sample.missing ? 1 : 0);
  }
}

export interface FreshnessCanaryDeps {
  readonly config: FreshnessCanaryConfig;
  readonly ports?: FreshnessCanaryPorts;
  readonly metrics?: Metrics;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export type FreshnessCanaryHandler = (event: FreshnessCanaryEvent) => Promise<FreshnessCanaryResult>;

export function createFreshnessCanaryHandler(deps: FreshnessCanaryDeps): FreshnessCanaryHandler {
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  const now = deps.now ?? Date.now;
  const canary = new FreshnessCanary(deps.config, { ...(deps.ports ?? awsCanaryPorts(deps.config)), now });
  return async (event) => {
    const parsed = Date.parse(event?.scheduledTime ?? '');
    const scheduledMs = Number.isFinite(parsed) ? parsed : now();
    try {
      const run = await canary.run(scheduledMs);
      publishRun(metrics, run);
      const result: FreshnessCanaryResult = {
        probe: run.probe.userId,
        profileSeconds: run.profile.seconds,
        profileMissing: run.profile.missing,
        ...(run.lake ? { lakeSeconds: run.lake.sample.seconds, lakeMissing: run.lake.sample.missing } : {}),
      };
      logger.info('freshness probe measured', { ...result, ...(run.lake ? { lakeProbe: run.lake.userId } : {}) });
      return result;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

let deployed: FreshnessCanaryHandler | undefined;

/** The Lambda entry point: configuration from the environment, built on first use. */
export const handler: FreshnessCanaryHandler = (event) => {
  deployed ??= createFreshnessCanaryHandler({ config: freshnessCanaryConfigFromEnv() });
  return deployed(event);
};
