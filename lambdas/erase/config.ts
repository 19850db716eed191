/**
 * The erasure function's configuration and the environment variables that carry it. The ErasureService
 * construct writes them; the deployed handler reads them.
 */
import { ConfigError } from '../../core/errors';

export const ERASE_ENV = {
  profileTable: 'PROFILE_TABLE_NAME',
  ledgerTable: 'LEDGER_TABLE_NAME',
  rawBucket: 'RAW_BUCKET',
  curatedBucket: 'CURATED_BUCKET',
  quarantineBucket: 'QUARANTINE_BUCKET',
  athenaResultsBucket: 'ATHENA_RESULTS_BUCKET',
  workGroup: 'ATHENA_WORKGROUP',
  database: 'LAKE_DATABASE',
  auditBucket: 'AUDIT_BUCKET',
  queueUrl: 'ERASURE_QUEUE_URL',
  tombstoneHours: 'TOMBSTONE_HOURS',
  followUpSeconds: 'FOLLOW_UP_SECONDS',
} as const;

export interface EraseConfig {
  readonly profileTable: string;
  readonly ledgerTable: string;
  readonly rawBucket: string;
  readonly curatedBucket: string;
  readonly quarantineBucket: string;
  readonly athenaResultsBucket: string;
  readonly workGroup: string;
  readonly database: string;
  readonly auditBucket: string;
  /** The erasure queue: the function sends itself the follow-up passes over the lake. */
  readonly queueUrl: string;
  /** How long tombstones are kept (the ledger's retention). */
  readonly tombstoneHours: number;
  /**
   * Delay of each follow-up lake pass: an event already buffered in the curated delivery when the erasure
   * began (up to its buffer interval, plus the gate's one-minute tombstone cache) lands after the first pass.
   */
  readonly followUpSeconds: number;
}

export function eraseConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): EraseConfig {
  const problems: string[] = [];
  const str = (name: string): string => {
    const v = env[name];
    if (!v) problems.push(`${name} is not set`);
    return v ?? '';
  };
  const int = (name: string, min: number, max: number): number => {
    const raw = env[name];
    const v = Number(raw);
    if (!raw || !Number.isInteger(v) || v < min || v > max) problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw ?? null)}`);
    return v;
  };
  const config: EraseConfig = {
    profileTable: str(ERASE_ENV.profileTable),
    ledgerTable: str(ERASE_ENV.ledgerTable),
    rawBucket: str(ERASE_ENV.rawBucket),
    curatedBucket: str(ERASE_ENV.curatedBucket),
    quarantineBucket: str(ERASE_ENV.quarantineBucket),
    athenaResultsBucket: str(ERASE_ENV.athenaResultsBucket),
    workGroup: str(ERASE_ENV.workGroup),
    database: str(ERASE_ENV.database),
    auditBucket: str(ERASE_ENV.auditBucket),
    queueUrl: str(ERASE_ENV.queueUrl),
    tombstoneHours: int(ERASE_ENV.tombstoneHours, 1, 24 * 400),
    followUpSeconds: int(ERASE_ENV.followUpSeconds, 0, 900),
  };
  if (problems.length) throw new ConfigError(`erase configuration: ${problems.join('; ')}`);
  return config;
}
