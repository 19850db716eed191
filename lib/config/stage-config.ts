/**
 * Typed stage configuration. Two stages are built in (`dev`, `prod`); a user defines more in cdk.json under
 * `stages.<name>`, each extending a built-in (or another user stage) and overriding only what differs:
 *
 *   "context": {
 *     "stage": "staging",
 *     "stages": { "staging": { "extends": "prod", "streams": { "rawShardCount": 2 } } }
 *   }
 *
 * `npx cdk deploy -c stage=prod` picks a stage on the command line. Everything is validated at synth: an
 * unknown key or a bad value fails with the full key path, the value and what was expected.
 */

import { FIREHOSE_ACTIVE_PARTITION_LIMIT, maxActiveCuratedPartitions } from '../../core/lake/catalog';
import { ledgerRetentionHours } from '../../core/profiles/ledger';
import { ConfigError } from '../../core/errors';
import { freshnessSlo, MAX_PROFILE_SLO_SECONDS, type FreshnessSlo } from '../../core/canary/freshness';

export type RemovalMode = 'destroy' | 'retain';

export interface StreamsConfig {
  /** 'on-demand' scales shards itself and bills per GB; 'provisioned' bills per shard-hour (cheaper when steady). */
  readonly capacityMode: 'on-demand' | 'provisioned';
  /** Shards of the raw stream in provisioned mode (1 MB/s or 1,000 records/s of writes each). */
  readonly rawShardCount: number;
  /** Shards of the validated stream in provisioned mode. */
  readonly validatedShardCount: number;
  /** How long records stay readable, in hours (24 is free; more costs per shard-hour). */
  readonly retentionHours: number;
  /** 'managed' uses the AWS-managed key aws/kinesis (no key cost); 'customer' creates a customer-managed KMS key. */
  readonly encryption: 'managed' | 'customer';
}

export interface ValidationConfig {
  /** Largest event accepted, in bytes of UTF-8 JSON. */
  readonly maxEventBytes: number;
  /** How far event_time may lead arrival time (producer clock skew), in seconds. */
  readonly maxFutureSkewSeconds: number;
  /** How far event_time may trail arrival time (offline buffering), in seconds. */
  readonly maxPastAgeSeconds: number;
  /** Records per invocation of the validation function. */
  readonly batchSize: number;
  /** How long Lambda gathers records before invoking, in seconds (0 = as soon as records arrive). */
  readonly maxBatchingWindowSeconds: number;
  /** Retries of a failed batch (halves after bisection count as retries) before the on-failure destination. */
  readonly retryAttempts: number;
  /** Records older than this are sent to the on-failure destination instead of retried, in seconds. */
  readonly maxRecordAgeSeconds: number;
  /** Concurrent batches per shard (1-10); ordering per partition key is kept by Lambda. */
  readonly parallelizationFactor: number;
  /** Memory of the function in MB (CPU scales with it). */
  readonly memoryMb: number;
  /** Largest original payload kept in a quarantine line, in bytes; larger records keep their start and size. */
  readonly quarantinePayloadMaxBytes: number;
}

export interface ProfilesConfig {
  /**
   * Tumbling window of the aggregator in seconds (1-900), or 0 for per-batch mode (write after every batch).
   * A profile write costs the same for one event as for a hundred, so longer windows cost less and make
   * profiles staler: a profile lags the stream by up to the window plus the batching window.
   */
  readonly windowSeconds: number;
  /** Records per invocation of the aggregator. */
  readonly batchSize: number;
  /** How long Lambda gathers records before invoking, in seconds (bounds a batch in per-batch mode). */
  readonly maxBatchingWindowSeconds: number;
  /** Retries of a failed aggregation batch before the on-failure destination. */
  readonly retryAttempts: number;
  /** Records older than this go to the on-failure destination, in seconds. */
  readonly maxRecordAgeSeconds: number;
  /** Profiles of users inactive for this many days expire (DynamoDB TTL); 0 disables expiry. */
  readonly ttlDays: number;
  /** Half-life of category affinity decay, in days. */
  readonly affinityHalfLifeDays: number;
  /** Categories kept in a profile's affinity map. */
  readonly topCategories: number;
  /** Recently viewed distinct content ids kept in a profile. */
  readonly recentContent: number;
  /** Recent sessions kept in a profile (a session is extended while it is among them). */
  readonly sessionsKept: number;
  /** Profiles written concurrently by one invocation. */
  readonly writeConcurrency: number;
  /** 'on-demand' bills per request (no idle cost); 'provisioned' bills capacity per hour (cheaper when steady). */
  readonly billingMode: 'on-demand' | 'provisioned';
  /** Read capacity units of the table in provisioned mode. */
  readonly readCapacityUnits: number;
  /** Write capacity units of the table in provisioned mode. */
  readonly writeCapacityUnits: number;
  /** Memory of the function in MB. */
  readonly memoryMb: number;
  /** Timeout of the function in seconds (a final invocation writes every user of the window). */
  readonly timeoutSeconds: number;
}

export interface LakeConfig {
  /** Raw zone: days before moving to Infrequent Access. */
  readonly rawInfrequentAccessDays: number;
  /** Raw zone: days before moving to Glacier Instant Retrieval. */
  readonly rawGlacierDays: number;
  /** Raw zone: days before deletion. */
  readonly rawExpirationDays: number;
  /** Curated zone: days before moving to Infrequent Access. */
  readonly curatedInfrequentAccessDays: number;
  /** Curated zone: days before deletion; 0 keeps curated data forever. */
  readonly curatedExpirationDays: number;
  /** Quarantine zone: days before deletion. */
  readonly quarantineExpirationDays: number;
  /** Athena query results: days before deletion. */
  readonly athenaResultsExpirationDays: number;
  /** Server access logs: days before deletion. */
  readonly accessLogsExpirationDays: number;
  /** Noncurrent object versions are deleted after this many days. */
  readonly noncurrentVersionExpirationDays: number;
  /** Firehose buffering interval in seconds (60-900): larger means fewer, bigger files. */
  readonly firehoseBufferSeconds: number;
  /** Firehose buffering size in MB (64-128 for Parquet conversion). */
  readonly firehoseBufferMb: number;
  /** Largest amount of data one Athena query may scan, in GB (the workgroup cancels larger queries). */
  readonly athenaScanLimitGb: number;
  /**
   * 'daily' exports the profile table into the curated zone once a day (`profile-exports/snapshot=YYYY-MM-DD/`),
   * the snapshots the golden-dataset reconciliation reads; 'off' creates nothing. DynamoDB bills an export
   * per GB of table size, whatever changed since the last one.
   */
  readonly profileExport: 'daily' | 'off';
  /** UTC hour (0-23) at which the daily export is taken; the snapshot is the table as of that full hour. */
  readonly profileExportHourUtc: number;
}

export interface AlarmsConfig {
  /** E-mail address subscribed to the alarm topic (none when empty). */
  readonly email: string;
  /** Iterator age at which a stream consumer is considered behind, in seconds. */
  readonly iteratorAgeSeconds: number;
  /** Share of quarantined events (0-1) above which the data-quality alarm fires. */
  readonly quarantineRatio: number;
  /** Age of the newest delivered lake data at which delivery is considered stale, in seconds. */
  readonly deliveryFreshnessSeconds: number;
  /** 'on' runs the freshness canary (a probe a minute) and its SLO alarms. */
  readonly freshnessCanary: 'on' | 'off';
  /** SLO, p95 of event time to profile readable, in seconds; 0 = profiles.windowSeconds + 60. */
  readonly profileFreshnessSloSeconds: number;
  /** SLO, p95 of event time to curated-lake object, in seconds; 0 = lake.firehoseBufferSeconds + 120. */
  readonly lakeFreshnessSloSeconds: number;
}

export interface StageConfig {
  /** Name of the stage; part of every resource name. */
  readonly name: string;
  /** Prefix of resource names (stream, table, bucket names): `<prefix>-<stage>`. */
  readonly resourcePrefix: string;
  /** 'retain' keeps stateful resources (and turns on deletion protection) when the stack is deleted. */
  readonly removal: RemovalMode;
  readonly streams: StreamsConfig;
  readonly validation: ValidationConfig;
  readonly profiles: ProfilesConfig;
  readonly lake: LakeConfig;
  readonly alarms: AlarmsConfig;
}

const DEV: StageConfig = {
  name: 'dev',
  resourcePrefix: 'pdp',
  removal: 'destroy',
  streams: { capacityMode: 'provisioned', rawShardCount: 1, validatedShardCount: 1, retentionHours: 24, encryption: 'managed' },
  validation: {
    maxEventBytes: 8192,
    maxFutureSkewSeconds: 300,
    maxPastAgeSeconds: 7 * 24 * 3600,
    batchSize: 500,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 3,
    maxRecordAgeSeconds: 3600,
    parallelizationFactor: 1,
    memoryMb: 512,
    quarantinePayloadMaxBytes: 8192,
  },
  profiles: {
    windowSeconds: 120,
    batchSize: 1000,
    maxBatchingWindowSeconds: 1,
    retryAttempts: 5,
    maxRecordAgeSeconds: 6 * 3600,
    ttlDays: 400,
    affinityHalfLifeDays: 14,
    topCategories: 10,
    recentContent: 10,
    sessionsKept: 5,
    writeConcurrency: 16,
    billingMode: 'on-demand',
    readCapacityUnits: 5,
    writeCapacityUnits: 5,
    memoryMb: 512,
    timeoutSeconds: 120,
  },
  lake: {
    rawInfrequentAccessDays: 30,
    rawGlacierDays: 90,
    rawExpirationDays: 30,
    curatedInfrequentAccessDays: 90,
    curatedExpirationDays: 30,
    quarantineExpirationDays: 14,
    athenaResultsExpirationDays: 7,
    accessLogsExpirationDays: 30,
    noncurrentVersionExpirationDays: 7,
    firehoseBufferSeconds: 60,
    firehoseBufferMb: 64,
    athenaScanLimitGb: 10,
    profileExport: 'off',
    profileExportHourUtc: 2,
  },
  alarms: {
    email: '',
    iteratorAgeSeconds: 300,
    quarantineRatio: 0.05,
    deliveryFreshnessSeconds: 900,
    freshnessCanary: 'on',
    profileFreshnessSloSeconds: 0,
    lakeFreshnessSloSeconds: 0,
  },
};

const PROD: StageConfig = {
  ...DEV,
  name: 'prod',
  removal: 'retain',
  streams: { ...DEV.streams, capacityMode: 'on-demand', retentionHours: 168 },
  validation: { ...DEV.validation, maxRecordAgeSeconds: 24 * 3600 },
  profiles: { ...DEV.profiles, maxRecordAgeSeconds: 24 * 3600 },
  lake: {
    ...DEV.lake,
    rawExpirationDays: 365,
    curatedInfrequentAccessDays: 90,
    curatedExpirationDays: 0,
    quarantineExpirationDays: 90,
    accessLogsExpirationDays: 365,
    noncurrentVersionExpirationDays: 30,
    firehoseBufferSeconds: 300,
    firehoseBufferMb: 128,
    profileExport: 'daily',
  },
};

/**
 * The stage for LocalStack's free edition (`localstack/run-e2e.sh`; docs/localstack.md): the dev stage, less
 * what LocalStack's Kinesis event-source poller does not implement. It has no tumbling windows (the
 * aggregator writes after every batch instead: windowSeconds 0) and no batching window (0: invoke as soon as
 * records arrive, which is what LocalStack does anyway). Its Firehose ignores compression, record framing,
 * dynamic partitioning, `!{...}` prefixes and Parquet conversion, and Glue and Athena are not in the free
 * edition: those resources are deployed as configured (or skipped by LocalStack) and the end-to-end suite
 * skips the assertions that depend on them, each with its reason.
 */
const LOCALSTACK: StageConfig = {
  ...DEV,
  name: 'localstack',
  validation: { ...DEV.validation, maxBatchingWindowSeconds: 0 },
  profiles: { ...DEV.profiles, windowSeconds: 0, maxBatchingWindowSeconds: 0 },
};

export const BUILT_IN_STAGES: Readonly<Record<string, StageConfig>> = { dev: DEV, prod: PROD, localstack: LOCALSTACK };

// ------------------------------------------------------------------------------------------ validation

/** Active hour partitions the curated delivery may need at most: half of Firehose's limit, the rest is margin. */
export const ACTIVE_PARTITION_BUDGET = FIREHOSE_ACTIVE_PARTITION_LIMIT / 2;

/** A stage configuration that cannot be deployed: the message names the key path, the value and what it must be. */
export class StageConfigError extends ConfigError {
  override name = 'StageConfigError';
}

type Rule = (value: unknown, path: string) => void;

const fail = (path: string, expected: string, value: unknown): never => {
  throw new StageConfigError(`stage configuration: ${path} must be ${expected}, got ${JSON.stringify(value)}`);
};

const int = (min: number, max: number): Rule => (v, p) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(p, `an integer from ${min} to ${max}`, v);
};
const num = (min: number, max: number): Rule => (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) fail(p, `a number from ${min} to ${max}`, v);
};
const oneOf = (...values: string[]): Rule => (v, p) => {
  if (typeof v !== 'string' || !values.includes(v)) fail(p, `one of ${values.map((x) => `'${x}'`).join(', ')}`, v);
};
const str = (pattern: RegExp, description: string): Rule => (v, p) => {
  if (typeof v !== 'string' || !pattern.test(v)) fail(p, description, v);
};

/**
 * The shortest aggregator timeout a stage may set. One DynamoDB call may take up to ~25 s before it gives up
 * (adapters/client-limits.ts: 5 attempts of a 1.1 s connect and 3 s request timeout with the SDK's backoff;
 * test/config/stage-config.test.ts recomputes it), and a window's final invocation makes several such calls
 * in a row (the batch read, the conditional writes, the ledger). A shorter timeout would kill the function
 * while a call it is waiting for can still succeed, turning a slow table into retried windows.
 */
export const MIN_AGGREGATOR_TIMEOUT_SECONDS = 30;

const RULES: { [K in keyof StageConfig]: K extends 'streams' | 'validation' | 'profiles' | 'lake' | 'alarms' ? { [F in keyof StageConfig[K]]: Rule } : Rule } = {
  name: str(/^[a-z][a-z0-9-]{0,15}$/, 'a lowercase name of at most 16 characters (letters, digits, dashes)'),
  resourcePrefix: str(/^[a-z][a-z0-9-]{0,19}$/, 'a lowercase prefix of at most 20 characters (letters, digits, dashes)'),
  removal: oneOf('destroy', 'retain'),
  streams: {
    capacityMode: oneOf('on-demand', 'provisioned'),
    rawShardCount: int(1, 500),
    validatedShardCount: int(1, 500),
    retentionHours: int(24, 8760),
    encryption: oneOf('managed', 'customer'),
  },
  validation: {
    maxEventBytes: int(256, 1_048_576),
    maxFutureSkewSeconds: int(0, 86_400),
    maxPastAgeSeconds: int(60, 365 * 86_400),
    batchSize: int(1, 10_000),
    maxBatchingWindowSeconds: int(0, 300),
    retryAttempts: int(0, 10_000),
    maxRecordAgeSeconds: int(60, 604_800),
    parallelizationFactor: int(1, 10),
    memoryMb: int(128, 10_240),
    quarantinePayloadMaxBytes: int(256, 262_144),
  },
  profiles: {
    windowSeconds: int(0, 900),
    batchSize: int(1, 10_000),
    maxBatchingWindowSeconds: int(0, 300),
    retryAttempts: int(0, 10_000),
    maxRecordAgeSeconds: int(60, 604_800),
    ttlDays: int(0, 3650),
    affinityHalfLifeDays: num(0.01, 3650),
    topCategories: int(1, 50),
    recentContent: int(0, 50),
    sessionsKept: int(1, 50),
    writeConcurrency: int(1, 128),
    billingMode: oneOf('on-demand', 'provisioned'),
    readCapacityUnits: int(1, 40_000),
    writeCapacityUnits: int(1, 40_000),
    memoryMb: int(128, 10_240),
    timeoutSeconds: int(MIN_AGGREGATOR_TIMEOUT_SECONDS, 900),
  },
  lake: {
    rawInfrequentAccessDays: int(30, 3650),
    rawGlacierDays: int(31, 3650),
    rawExpirationDays: int(1, 3650),
    curatedInfrequentAccessDays: int(30, 3650),
    curatedExpirationDays: int(0, 36500),
    quarantineExpirationDays: int(1, 3650),
    athenaResultsExpirationDays: int(1, 365),
    accessLogsExpirationDays: int(1, 3650),
    noncurrentVersionExpirationDays: int(1, 3650),
    firehoseBufferSeconds: int(60, 900),
    firehoseBufferMb: int(64, 128),
    athenaScanLimitGb: int(1, 100_000),
    profileExport: oneOf('daily', 'off'),
    profileExportHourUtc: int(0, 23),
  },
  alarms: {
    email: str(/^$|^[^@\s]+@[^@\s]+\.[^@\s]+$/, "an e-mail address or ''"),
    iteratorAgeSeconds: int(1, 604_800),
    quarantineRatio: num(0, 1),
    deliveryFreshnessSeconds: int(60, 86_400),
    freshnessCanary: oneOf('on', 'off'),
    // The canary waits for a probe's profile within one invocation (Lambda allows 15 minutes).
    profileFreshnessSloSeconds: int(0, MAX_PROFILE_SLO_SECONDS),
    lakeFreshnessSloSeconds: int(0, 86_400),
  },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merges `override` into `base`, rejecting keys the configuration does not have. */
function merge(base: Record<string, unknown>, override: Record<string, unknown>, rules: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const p = `${path}.${key}`;
    if (!Object.hasOwn(rules, key)) {
      throw new StageConfigError(`stage configuration: ${p} is not a configuration key (known: ${Object.keys(rules).join(', ')})`);
    }
    const rule = rules[key];
    if (typeof rule === 'function') out[key] = value;
    else if (!isObject(value)) fail(p, 'an object', value);
    else out[key] = merge(base[key] as Record<string, unknown>, value as Record<string, unknown>, rule as Record<string, unknown>, p);
  }
  return out;
}

function check(config: Record<string, unknown>, rules: Record<string, unknown>, path: string): void {
  for (const [key, rule] of Object.entries(rules)) {
    if (typeof rule === 'function') (rule as Rule)(config[key], `${path}.${key}`);
    else check(config[key] as Record<string, unknown>, rule as Record<string, unknown>, `${path}.${key}`);
  }
}

function crossCheck(c: StageConfig, path: string): void {
  const l = c.lake;
  // S3 keeps an object in Standard-IA for at least 30 days before a further transition.
  if (l.rawGlacierDays < l.rawInfrequentAccessDays + 30) {
    fail(`${path}.lake.rawGlacierDays`, `at least 30 days after lake.rawInfrequentAccessDays (${l.rawInfrequentAccessDays})`, l.rawGlacierDays);
  }
  // Every hour an accepted event may fall in is a partition the curated delivery keeps open.
  const partitions = maxActiveCuratedPartitions(c.validation.maxPastAgeSeconds, c.validation.maxFutureSkewSeconds);
  if (partitions > ACTIVE_PARTITION_BUDGET) {
    fail(
      `${path}.validation.maxPastAgeSeconds`,
      `small enough that the curated stream keeps at most ${ACTIVE_PARTITION_BUDGET} hour partitions active (Firehose's limit is ${FIREHOSE_ACTIVE_PARTITION_LIMIT}); ` +
        `with validation.maxFutureSkewSeconds ${c.validation.maxFutureSkewSeconds} it could keep ${partitions} hour partitions active`,
      c.validation.maxPastAgeSeconds,
    );
  }
  const slo = stageFreshnessSlo(c);
  if (c.alarms.freshnessCanary === 'on' && slo.profileSeconds > MAX_PROFILE_SLO_SECONDS) {
    fail(
      `${path}.alarms.profileFreshnessSloSeconds`,
      `at most ${MAX_PROFILE_SLO_SECONDS} s with the freshness canary on (the default is profiles.windowSeconds + 60 = ${slo.profileSeconds}); set a smaller one or alarms.freshnessCanary 'off'`,
      c.alarms.profileFreshnessSloSeconds,
    );
  }
  if (c.profiles.maxRecordAgeSeconds < c.profiles.windowSeconds) {
    fail(`${path}.profiles.maxRecordAgeSeconds`, `at least profiles.windowSeconds (${c.profiles.windowSeconds})`, c.profiles.maxRecordAgeSeconds);
  }
}

/**
 * Resolves a stage by name from the built-in stages and the user-defined `stages` context object.
 * Throws StageConfigError naming the offending key path and value.
 */
export function resolveStage(name: unknown, userStages: unknown = {}): StageConfig {
  if (typeof name !== 'string' || name === '') fail('stage', 'a stage name', name);
  if (!isObject(userStages)) fail('stages', 'an object of stage definitions', userStages);
  const seen: string[] = [];
  const resolve = (stageName: string): StageConfig => {
    if (seen.includes(stageName)) throw new StageConfigError(`stage configuration: stages.${stageName} extends itself (${[...seen, stageName].join(' -> ')})`);
    seen.push(stageName);
    const user = (userStages as Record<string, unknown>)[stageName];
    if (user === undefined) {
      const builtIn = BUILT_IN_STAGES[stageName];
      if (!builtIn) {
        const known = [...Object.keys(BUILT_IN_STAGES), ...Object.keys(userStages as object)];
        throw new StageConfigError(`stage configuration: unknown stage '${stageName}' (defined: ${[...new Set(known)].join(', ')})`);
      }
      return builtIn;
    }
    const path = `stages.${stageName}`;
    if (!isObject(user)) fail(path, 'an object', user);
    const { extends: parentName = 'dev', ...overrides } = user as Record<string, unknown>;
    if (typeof parentName !== 'string') fail(`${path}.extends`, 'the name of a stage', parentName);
    // A user stage may refine the built-in stage of the same name ("dev": { ... } extends the built-in dev).
    const builtInSelf = parentName === stageName ? BUILT_IN_STAGES[stageName] : undefined;
    const parent = builtInSelf ?? resolve(parentName as string);
    return merge({ ...parent, name: stageName } as unknown as Record<string, unknown>, overrides, RULES, path) as unknown as StageConfig;
  };
  const config = resolve(name as string);
  const path = (userStages as Record<string, unknown>)[name as string] !== undefined ? `stages.${name}` : `stage '${name}'`;
  check(config as unknown as Record<string, unknown>, RULES, path);
  crossCheck(config, path);
  return config;
}

/**
 * How long the stage's ledger of applied event ids keeps an hour's ids (ledgerRetentionHours): as long as a
 * copy of an event of that hour can still be accepted, forwarded and read by the aggregator.
 */
export function stageLedgerRetentionHours(config: StageConfig): number {
  return ledgerRetentionHours({
    maxPastAgeSeconds: config.validation.maxPastAgeSeconds,
    // Both streams have the stage's retention.
    rawRetentionHours: config.streams.retentionHours,
    validatedRetentionHours: config.streams.retentionHours,
  });
}

/** The stage's freshness objectives (core/canary/freshness.ts): configured, or window + 60 s and buffer + 120 s. */
export function stageFreshnessSlo(config: StageConfig): FreshnessSlo {
  return freshnessSlo({
    windowSeconds: config.profiles.windowSeconds,
    firehoseBufferSeconds: config.lake.firehoseBufferSeconds,
    profileSloSeconds: config.alarms.profileFreshnessSloSeconds,
    lakeSloSeconds: config.alarms.lakeFreshnessSloSeconds,
  });
}

/** `<prefix>-<stage>`: the base of every physical resource name of the stage. */
export function resourceName(config: StageConfig, suffix: string): string {
  return `${config.resourcePrefix}-${config.name}-${suffix}`;
}
