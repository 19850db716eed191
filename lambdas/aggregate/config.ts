/**
 * The aggregator's configuration and the environment variables that carry it. The construct writes these
 * variables from the stage configuration; the deployed handler reads them; the local runtime passes the
 * stage's `profiles` section to createAggregatorHandler directly.
 */
import { DEFAULT_PROFILE_SETTINGS, type ProfileSettings } from '../../core/profiles/model';

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

/** Reads the configuration the construct writes into the environment; throws naming what is missing. */
export function aggregatorConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): AggregatorConfig {
  const tableName = env[AGGREGATOR_ENV.tableName];
  if (!tableName) throw new Error(`aggregator configuration: ${AGGREGATOR_ENV.tableName} is not set`);
  const ledgerTableName = env[AGGREGATOR_ENV.ledgerTableName];
  if (!ledgerTableName) throw new Error(`aggregator configuration: ${AGGREGATOR_ENV.ledgerTableName} is not set`);
  let profiles: AggregatorConfig['profiles'] = {};
  const raw = env[AGGREGATOR_ENV.settings];
  if (raw) {
    try {
      profiles = JSON.parse(raw) as AggregatorConfig['profiles'];
    } catch {
      throw new Error(`aggregator configuration: ${AGGREGATOR_ENV.settings} is not JSON`);
    }
  }
  const concurrency = Number(env[AGGREGATOR_ENV.writeConcurrency] ?? '');
  return {
    tableName,
    ledgerTableName,
    windowSeconds: Number(env[AGGREGATOR_ENV.windowSeconds] ?? 0) || 0,
    profiles: { ...profiles, ...(Number.isInteger(concurrency) && concurrency > 0 ? { writeConcurrency: concurrency } : {}) },
  };
}

