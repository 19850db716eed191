/**
 * The freshness canary's configuration and the environment variables that carry it. The FreshnessCanary
 * construct writes them from the stage configuration; the deployed handler reads them; the local runtime
 * passes them directly.
 */
import { MAX_PROFILE_SLO_SECONDS } from '../../core/canary/freshness';
import { EnvReader, type Env } from '../../core/env-config';

export const FRESHNESS_CANARY_ENV = {
  rawStream: 'RAW_STREAM_NAME',
  profileTable: 'PROFILE_TABLE_NAME',
  curatedBucket: 'CURATED_BUCKET',
  intervalSeconds: 'PROBE_INTERVAL_SECONDS',
  profileSloSeconds: 'PROFILE_SLO_SECONDS',
  lakeSloSeconds: 'LAKE_SLO_SECONDS',
} as const;

export interface FreshnessCanaryConfig {
  readonly rawStream: string;
  readonly profileTable: string;
  readonly curatedBucket: string;
  /** Seconds between probes (the schedule's rate). */
  readonly intervalSeconds: number;
  /** The p95 objectives; the deadlines are twice these. */
  readonly profileSloSeconds: number;
  readonly lakeSloSeconds: number;
}

/** Reads the configuration the construct writes into the environment; throws one ConfigError naming every missing or bad value. */
export function freshnessCanaryConfigFromEnv(env: Env = process.env): FreshnessCanaryConfig {
  const read = new EnvReader(env, 'freshness-canary configuration');
  const seconds = (name: string, max: number) => read.int(name, { min: 1, max });
  const config = {
    rawStream: read.text(FRESHNESS_CANARY_ENV.rawStream),
    profileTable: read.text(FRESHNESS_CANARY_ENV.profileTable),
    curatedBucket: read.text(FRESHNESS_CANARY_ENV.curatedBucket),
    intervalSeconds: seconds(FRESHNESS_CANARY_ENV.intervalSeconds, 86_400),
    profileSloSeconds: seconds(FRESHNESS_CANARY_ENV.profileSloSeconds, MAX_PROFILE_SLO_SECONDS),
    lakeSloSeconds: seconds(FRESHNESS_CANARY_ENV.lakeSloSeconds, 86_400),
  };
  read.done();
  return config;
}
