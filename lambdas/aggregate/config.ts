/**
 * The aggregator's configuration and the environment variables that carry it. The construct writes these
 * variables from the stage configuration; the deployed handler reads them; the local runtime passes the
 * stage's `profiles` section to createAggregatorHandler directly.
 */
import { EnvReader, type Env } from '../../core/env-config';
import { DEFAULT_PROFILE_SETTINGS, profileSettingsProblems, type ProfileSettings } from '../../core/profiles/model';

export const AGGREGATOR_ENV = {
  tableName: 'PROFILE_TABLE_NAME',
  ledgerTableName: 'LEDGER_TABLE_NAME',
  windowSeconds: 'WINDOW_SECONDS',
  settings: 'PROFILE_SETTINGS',
  writeConcurrency: 'WRITE_CONCURRENCY',
} as const;

export interface AggregatorConfig {
  readonly tableName: string;
  /** The ledger of applied event ids (see core/profiles/ledger.ts). */
  readonly ledgerTableName: string;
  /** Tumbling window of the event source (0 = per-batch mode); informational, the event says which it is. */
  readonly windowSeconds: number;
  /** Profile bounds and decay; the stage configuration's `profiles` section fits here as it is. */
  readonly profiles: Partial<ProfileSettings> & { readonly writeConcurrency?: number };
}

export function settingsFrom(profiles: AggregatorConfig['profiles']): ProfileSettings {
  const pick = <K extends keyof ProfileSettings>(k: K): ProfileSettings[K] => (profiles[k] ?? DEFAULT_PROFILE_SETTINGS[k]) as ProfileSettings[K];
  return {
    affinityHalfLifeDays: pick('affinityHalfLifeDays'),
    topCategories: pick('topCategories'),
    recentContent: pick('recentContent'),
    sessionsKept: pick('sessionsKept'),
    ttlDays: pick('ttlDays'),
    currencies: pick('currencies'),
    ledgerRetentionHours: pick('ledgerRetentionHours'),
    ledgerItemCapacity: pick('ledgerItemCapacity'),
  };
}

/** Reads the configuration the construct writes into the environment; throws one ConfigError naming every missing or bad value. */
export function aggregatorConfigFromEnv(env: Env = process.env): AggregatorConfig {
  const read = new EnvReader(env, 'aggregator configuration');
  const tableName = read.text(AGGREGATOR_ENV.tableName);
  const ledgerTableName = read.text(AGGREGATOR_ENV.ledgerTableName);
  const windowSeconds = read.int(AGGREGATOR_ENV.windowSeconds, { min: 0, max: 900, fallback: 0 });
  const profiles = read.jsonObject(AGGREGATOR_ENV.settings);
  for (const problem of profileSettingsProblems(profiles)) read.report(`${AGGREGATOR_ENV.settings}: ${problem}`);
  const concurrency = read.int(AGGREGATOR_ENV.writeConcurrency, { min: 1, max: 128, fallback: 0 });
  read.done();
  return {
    tableName,
    ledgerTableName,
    windowSeconds,
    profiles: { ...(profiles as Partial<ProfileSettings>), ...(concurrency > 0 ? { writeConcurrency: concurrency } : {}) },
  };
}
