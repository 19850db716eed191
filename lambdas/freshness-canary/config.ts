/**
 * The freshness canary's configuration and the environment variables that carry it. The FreshnessCanary
 * construct writes them from the stage configuration; the deployed handler reads them; the local runtime
 * passes them directly.
 */
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

/** Reads the configuration the construct writes into the environment; throws naming what is missing or wrong. */
export function freshnessCanaryConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): FreshnessCanaryConfig {
  const text = (key: keyof typeof FRESHNESS_CANARY_ENV): string => {
    const v = env[FRESHNESS_CANARY_ENV[key]];
    if (!v) throw new Error(`freshness-canary configuration: ${FRESHNESS_CANARY_ENV[key]} is not set`);
    return v;
  };
  const seconds = (key: keyof typeof FRESHNESS_CANARY_ENV): number => {
    const n = Number(text(key));
    if (!Number.isInteger(n) || n <= 0) throw new Error(`freshness-canary configuration: ${FRESHNESS_CANARY_ENV[key]} must be a positive whole number of seconds, got ${JSON.stringify(env[FRESHNESS_CANARY_ENV[key]])}`);
    return n;
  };
  return {
    rawStream: text('rawStream'),
    profileTable: text('profileTable'),
    curatedBucket: text('curatedBucket'),
    intervalSeconds: seconds('intervalSeconds'),
    profileSloSeconds: seconds('profileSloSeconds'),
    lakeSloSeconds: seconds('lakeSloSeconds'),
  };
}
