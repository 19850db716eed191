/**
 * The monthly cost of a stage at a given load, per service and item, from the stage's configuration, the
 * unit prices (prices.ts) and a few figures measured by `npm run bench` (MEASURED below). Pure: the command
 * (scripts/cost.ts) resolves the stage and prints; a test recomputes the cost page's table from here.
 *
 * The one model that is not a product of configuration and price is the number of profile writes: one per
 * user active in an aggregation window, so the expected number of distinct users among the window's events.
 * Users are drawn from a Zipf distribution (exponent 1.1, the synthetic workload's; 0 is uniform); the
 * expectation Σ 1 − (1 − p_i)^n matches the benchmark's measured writes within 3% (429, 245, 134 and 97 per
 * 1,000 events at per-batch, 10 s, 60 s and 120 s against 431, 249, 133 and 95 computed).
 */
import { ledgerRetentionHours } from '../profiles/ledger';
import { PRICES, type Prices } from './prices';

/** A 30-day month. */
export const MONTH_SECONDS = 30 * 24 * 3600;
const MONTH_HOURS = MONTH_SECONDS / 3600;
const GB = 1024 ** 3;

/** Figures measured by `npm run bench` and the tests, on which the model rests. */
export const MEASURED = {
  /** Validation function: milliseconds per invocation (PutRecords to the validated stream) and µs per record (decode, validate, dedup). */
  validationMsPerInvocation: 40,
  validationUsPerRecord: 10,
  /** Aggregator: ms per invocation, µs per record folded, ms per user written (16 writes in flight of ~8 ms each). */
  aggregationMsPerInvocation: 20,
  aggregationUsPerRecord: 12,
  aggregationMsPerWrite: 0.5,
  /** Write units of a profile write (items are ~0.5 KB at the median) and of its ledger write (191 units per 1,000 events = 95 + 96). */
  profileWriteUnits: 1,
  ledgerWriteUnitsPerProfileWrite: 1,
  /** Strongly consistent read units per profile write: the profile and its ledger item. */
  readUnitsPerProfileWrite: 2,
  /** Bytes of a profile item (p50 ~0.5 KB, p99 1.4 KB) and of one ledger id. */
  profileItemBytes: 700,
  ledgerBytesPerEvent: 10,
  /** Raw zone gzip and curated Parquet compression against JSON lines. */
  rawCompression: 5,
  parquetCompression: 8,
  /** Raw framing function: ms per MB of raw records. */
  framingMsPerMb: 300,
  /** Log bytes a function writes per invocation (one structured result line). */
  logBytesPerInvocation: 600,
  /** Custom metrics (name × dimension set) the functions publish: validate 10 + 7 reasons, aggregate 17, canary 4. */
  metrics: { validate: 17, aggregate: 17, canary: 4 },
} as const;

/** The parts of a stage's configuration the cost depends on (lib/config/stage-config.ts StageConfig fits). */
export interface CostStage {
  readonly name: string;
  readonly streams: { readonly capacityMode: 'provisioned' | 'on-demand'; readonly rawShardCount: number; readonly validatedShardCount: number; readonly retentionHours: number; readonly encryption: string };
  readonly validation: { readonly batchSize: number; readonly maxBatchingWindowSeconds: number; readonly memoryMb: number; readonly maxPastAgeSeconds: number };
  readonly profiles: {
    readonly windowSeconds: number;
    readonly batchSize: number;
    readonly maxBatchingWindowSeconds: number;
    readonly memoryMb: number;
    readonly billingMode: 'on-demand' | 'provisioned';
    readonly readCapacityUnits: number;
    readonly writeCapacityUnits: number;
  };
  readonly lake: { readonly firehoseBufferSeconds: number; readonly firehoseBufferMb: number; readonly profileExport: 'daily' | 'off'; readonly rawExpirationDays: number };
  readonly alarms: { readonly freshnessCanary: 'on' | 'off' };
  readonly removal: string;
}

export interface Workload {
  readonly eventsPerSecond: number;
  /** Average bytes of an event as sent. */
  readonly eventBytes: number;
  /** Distinct users. */
  readonly users: number;
  /** Zipf exponent of user activity (0: uniform). */
  readonly zipfExponent: number;
  /** Aggregation window; the stage's when absent. */
  readonly windowSeconds?: number;
  /** Profile reads by personalization services, per second (eventually consistent GetItem). */
  readonly profileReadsPerSecond: number;
}

export const DEFAULT_WORKLOAD: Workload = { eventsPerSecond: 1000, eventBytes: 440, users: 20_000, zipfExponent: 1.1, profileReadsPerSecond: 0 };

export interface CostLine {
  readonly service: string;
  readonly item: string;
  readonly monthly: number;
  /** How it was computed. */
  readonly basis: string;
}

export interface CostEstimate {
  readonly stage: string;
  readonly workload: Workload & { readonly windowSeconds: number };
  readonly lines: readonly CostLine[];
  /** Per service, in the order they first appear. */
  readonly services: readonly { readonly service: string; readonly monthly: number }[];
  readonly total: number;
  /** What the model found worth saying (a provisioned stream too small for the rate, say). */
  readonly notes: readonly string[];
}

/** Expected distinct users among `draws` events over `users` users with Zipf exponent `s`. */
export function expectedDistinctUsers(users: number, draws: number, s: number): number {
  if (draws <= 0 || users <= 0) return 0;
  let norm = 0;
  for (let i = 1; i <= users; i++) norm += i ** -s;
  let distinct = 0;
  for (let i = 1; i <= users; i++) {
    const p = i ** -s / norm;
    // 1 - (1 - p)^n, computed stably for small p.
    distinct += -Math.expm1(draws * Math.log1p(-p));
  }
  return distinct;
}

/** Shards a stream needs for a rate: 1,000 records/s and 1 MB/s of writes per shard. */
export function shardsFor(eventsPerSecond: number, eventBytes: number): number {
  return Math.max(1, Math.ceil(eventsPerSecond / 1000), Math.ceil((eventsPerSecond * eventBytes) / (1024 * 1024)));
}

/** Invocations per second of a stream consumer: a batch when full, or one per batching window per shard with data. */
function invocationsPerSecond(shards: number, eventsPerSecond: number, batchSize: number, batchingWindowSeconds: number): number {
  const perShard = eventsPerSecond / shards;
  if (perShard <= 0) return 0;
  return shards * Math.max(perShard / batchSize, Math.min(1, perShard) / Math.max(1, batchingWindowSeconds));
}

export function estimateCost(stage: CostStage, input: Workload, prices: Prices = PRICES): CostEstimate {
  const windowSeconds = input.windowSeconds ?? stage.profiles.windowSeconds;
  const w = { ...input, windowSeconds };
  const lines: CostLine[] = [];
  const notes: string[] = [];
  const add = (service: string, item: string, monthly: number, basis: string) => lines.push({ service, item, monthly, basis });
  const events = w.eventsPerSecond * MONTH_SECONDS;
  const bytes = events * w.eventBytes;
  const gb = bytes / GB;
  const millions = (n: number) => (n >= 1e6 ? `${(n / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })}M` : Math.round(n).toLocaleString('en-US'));
  const gbText = (n: number) => `${n.toLocaleString('en-US', { maximumFractionDigits: 0 })} GB`;

  // --- Kinesis: the raw and the validated stream, same rate and size ---------------------------------------
  const needed = shardsFor(w.eventsPerSecond, w.eventBytes);
  const s = stage.streams;
  const extendedHours = Math.max(0, Math.min(s.retentionHours, 168) - 24);
  const streamShards: Record<string, number> = {};
  for (const [name, configured] of [['raw', s.rawShardCount], ['validated', s.validatedShardCount]] as const) {
    if (s.capacityMode === 'provisioned') {
      const shards = Math.max(configured, needed);
      streamShards[name] = shards;
      if (configured < needed) notes.push(`the ${name} stream's ${configured} shard(s) take at most ${configured * 1000} records/s: priced with the ${needed} the rate needs (set streams.${name === 'raw' ? 'rawShardCount' : 'validatedShardCount'})`);
      add('Kinesis Data Streams', `${name} stream: ${shards} shard(s)`, shards * MONTH_HOURS * prices.kinesis.shardHour, `${shards} × ${MONTH_HOURS} h × $${prices.kinesis.shardHour}`);
      const units = events * Math.ceil(w.eventBytes / (25 * 1024));
      add('Kinesis Data Streams', `${name} stream: PUT payload units`, (units / 1e6) * prices.kinesis.putPayloadUnitsPerMillion, `${millions(units)} units × $${prices.kinesis.putPayloadUnitsPerMillion}/M`);
      if (extendedHours > 0) add('Kinesis Data Streams', `${name} stream: retention ${s.retentionHours} h`, shards * MONTH_HOURS * prices.kinesis.extendedRetentionShardHour, `${shards} × ${MONTH_HOURS} h × $${prices.kinesis.extendedRetentionShardHour}`);
    } else {
      // An on-demand stream starts with 4 shards and grows with the rate.
      streamShards[name] = Math.max(4, needed);
      const ingestGb = (events * Math.ceil(w.eventBytes / 1024) * 1024) / GB;
      // Read by its function and by its Firehose delivery stream.
      const retrievalGb = 2 * gb;
      add('Kinesis Data Streams', `${name} stream: on demand`, MONTH_HOURS * prices.kinesis.onDemandStreamHour, `${MONTH_HOURS} h × $${prices.kinesis.onDemandStreamHour}`);
      add('Kinesis Data Streams', `${name} stream: data in (1 KB per record)`, ingestGb * prices.kinesis.onDemandIngestGb, `${gbText(ingestGb)} × $${prices.kinesis.onDemandIngestGb}`);
      add('Kinesis Data Streams', `${name} stream: data out (2 consumers)`, retrievalGb * prices.kinesis.onDemandRetrievalGb, `${gbText(retrievalGb)} × $${prices.kinesis.onDemandRetrievalGb}`);
      if (extendedHours > 0) {
        const storedGb = (ingestGb / MONTH_HOURS) * extendedHours;
        add('Kinesis Data Streams', `${name} stream: retention ${s.retentionHours} h`, storedGb * prices.kinesis.onDemandExtendedRetentionGbMonth, `${gbText(storedGb)} held beyond 24 h × $${prices.kinesis.onDemandExtendedRetentionGbMonth}`);
      }
    }
  }

  // --- Lambda ---------------------------------------------------------------------------------------------
  const lambdaLine = (fn: string, invocations: number, seconds: number, memoryMb: number) => {
    const gbSeconds = seconds * (memoryMb / 1024);
    add('Lambda', `${fn}: ${millions(invocations)} invocations`, gbSeconds * prices.lambda.armGbSecond + (invocations / 1e6) * prices.lambda.requestsPerMillion, `${Math.round(gbSeconds).toLocaleString('en-US')} GB-s (arm64, ${memoryMb} MB)`);
    return invocations;
  };
  const v = stage.validation;
  const validateInvocations = invocationsPerSecond(streamShards.raw!, w.eventsPerSecond, v.batchSize, v.maxBatchingWindowSeconds) * MONTH_SECONDS;
  lambdaLine('validate', validateInvocations, (validateInvocations * MEASURED.validationMsPerInvocation) / 1000 + (events * MEASURED.validationUsPerRecord) / 1e6, v.memoryMb);

  const p = stage.profiles;
  // Writes: one per user active in a window (per-batch mode: in a batching window).
  const effectiveWindow = Math.max(windowSeconds, p.maxBatchingWindowSeconds, 1);
  const writesPerWindow = expectedDistinctUsers(w.users, w.eventsPerSecond * effectiveWindow, w.zipfExponent);
  const profileWrites = (writesPerWindow * MONTH_SECONDS) / effectiveWindow;
  const aggregateInvocations = invocationsPerSecond(streamShards.validated!, w.eventsPerSecond, p.batchSize, p.maxBatchingWindowSeconds) * MONTH_SECONDS;
  lambdaLine(
    'aggregate',
    aggregateInvocations,
    (aggregateInvocations * MEASURED.aggregationMsPerInvocation) / 1000 + (events * MEASURED.aggregationUsPerRecord) / 1e6 + (profileWrites * MEASURED.aggregationMsPerWrite) / 1000,
    p.memoryMb,
  );
  // Raw framing: Firehose invokes it per MB of records or per minute.
  const framingInvocations = Math.max(bytes / (1024 * 1024), MONTH_SECONDS / 60);
  lambdaLine('frame-raw', framingInvocations, (bytes / (1024 * 1024)) * (MEASURED.framingMsPerMb / 1000), 256);
  const canary = stage.alarms.freshnessCanary === 'on';
  if (canary) {
    // A run waits for its probe's profile: half a window and a few seconds on average.
    const runs = MONTH_SECONDS / 60;
    lambdaLine('freshness-canary', runs, runs * (windowSeconds / 2 + 5), 128);
  }

  // --- DynamoDB ---------------------------------------------------------------------------------------------
  const writeUnits = profileWrites * (MEASURED.profileWriteUnits + MEASURED.ledgerWriteUnitsPerProfileWrite);
  const readUnits = profileWrites * MEASURED.readUnitsPerProfileWrite + (canary ? (MONTH_SECONDS / 60) * 30 : 0);
  const serviceReadUnits = w.profileReadsPerSecond * MONTH_SECONDS * 0.5;
  const perThousand = (writeUnits / events) * 1000;
  if (p.billingMode === 'on-demand') {
    add('DynamoDB', `profile and ledger writes (${perThousand.toFixed(0)} units per 1,000 events, ${windowSeconds} s window)`, (writeUnits / 1e6) * prices.dynamodb.writeRequestUnitsPerMillion, `${millions(writeUnits)} write units × $${prices.dynamodb.writeRequestUnitsPerMillion}/M`);
    add('DynamoDB', 'merge reads (profile and ledger, strongly consistent)', (readUnits / 1e6) * prices.dynamodb.readRequestUnitsPerMillion, `${millions(readUnits)} read units × $${prices.dynamodb.readRequestUnitsPerMillion}/M`);
    if (serviceReadUnits > 0) add('DynamoDB', `service reads (${w.profileReadsPerSecond}/s)`, (serviceReadUnits / 1e6) * prices.dynamodb.readRequestUnitsPerMillion, `${millions(serviceReadUnits)} read units × $${prices.dynamodb.readRequestUnitsPerMillion}/M`);
  } else {
    const wcu = p.writeCapacityUnits;
    const rcu = p.readCapacityUnits;
    add('DynamoDB', `provisioned ${wcu} WCU and ${rcu} RCU (profile and ledger tables)`, 2 * MONTH_HOURS * (wcu * prices.dynamodb.wcuHour + rcu * prices.dynamodb.rcuHour), `2 tables × ${MONTH_HOURS} h`);
    const needWcu = writeUnits / MONTH_SECONDS / 2;
    if (needWcu > wcu) notes.push(`provisioned tables: the load needs about ${Math.ceil(needWcu)} WCU per table, ${wcu} are configured (writes will be throttled)`);
  }
  const ledgerGb = (w.eventsPerSecond * 3600 * ledgerRetentionHours({ maxPastAgeSeconds: v.maxPastAgeSeconds, rawRetentionHours: s.retentionHours, validatedRetentionHours: s.retentionHours }) * MEASURED.ledgerBytesPerEvent) / GB;
  const tableGb = (w.users * MEASURED.profileItemBytes) / GB + ledgerGb;
  add('DynamoDB', 'storage and point-in-time recovery', tableGb * (prices.dynamodb.storageGbMonth + prices.dynamodb.pitrGbMonth), `${tableGb.toFixed(1)} GB × $${prices.dynamodb.storageGbMonth} + $${prices.dynamodb.pitrGbMonth}`);
  if (stage.lake.profileExport === 'daily') {
    const profileGb = (w.users * MEASURED.profileItemBytes) / GB;
    add('DynamoDB', 'daily profile export', 30 * profileGb * prices.dynamodb.exportGb, `30 × ${profileGb.toFixed(2)} GB × $${prices.dynamodb.exportGb}`);
  }

  // --- Firehose ----------------------------------------------------------------------------------------------
  const billedGb = (events * Math.ceil(w.eventBytes / prices.firehose.ingestRecordRoundingBytes) * prices.firehose.ingestRecordRoundingBytes) / GB;
  add('Data Firehose', 'raw delivery: ingestion (5 KB per record)', billedGb * prices.firehose.ingestGb, `${gbText(billedGb)} × $${prices.firehose.ingestGb}`);
  add('Data Firehose', 'curated delivery: ingestion (5 KB per record)', billedGb * prices.firehose.ingestGb, `${gbText(billedGb)} × $${prices.firehose.ingestGb}`);
  add('Data Firehose', 'curated delivery: Parquet conversion', billedGb * prices.firehose.formatConversionGb, `${gbText(billedGb)} × $${prices.firehose.formatConversionGb}`);
  const curatedObjects = Math.max(MONTH_SECONDS / stage.lake.firehoseBufferSeconds, bytes / (stage.lake.firehoseBufferMb * 1024 * 1024));
  add(
    'Data Firehose',
    'curated delivery: dynamic partitioning',
    gb * prices.firehose.dynamicPartitioningGb + (curatedObjects / 1000) * prices.firehose.dynamicPartitioningObjectsPerThousand,
    `${gbText(gb)} × $${prices.firehose.dynamicPartitioningGb} + ${Math.round(curatedObjects).toLocaleString('en-US')} objects`,
  );

  // --- S3 ------------------------------------------------------------------------------------------------------
  const storedGb = gb / MEASURED.rawCompression + gb / MEASURED.parquetCompression;
  add('S3', 'raw (gzip) and curated (Parquet) written in a month', storedGb * prices.s3.standardGbMonth, `${gbText(storedGb)} × $${prices.s3.standardGbMonth}; grows with retention (lake.rawExpirationDays ${stage.lake.rawExpirationDays})`);
  const puts = 2 * curatedObjects + validateInvocations * 0.02;
  add('S3', 'object writes (lake deliveries, quarantine)', (puts / 1000) * prices.s3.putPerThousand, `${Math.round(puts).toLocaleString('en-US')} PUTs`);

  // --- CloudWatch, KMS ------------------------------------------------------------------------------------------
  const alarms = monitoredAlarms(stage);
  const metrics = MEASURED.metrics.validate + MEASURED.metrics.aggregate + (canary ? MEASURED.metrics.canary : 0);
  add('CloudWatch', `dashboard, ${alarms} alarms, ${metrics} custom metrics`, prices.cloudwatch.dashboardMonth + alarms * prices.cloudwatch.alarmMonth + metrics * prices.cloudwatch.metricMonth, 'list prices per month');
  const logGb = ((validateInvocations + aggregateInvocations + framingInvocations + (canary ? MONTH_SECONDS / 60 : 0)) * MEASURED.logBytesPerInvocation) / GB;
  add('CloudWatch', 'function logs', logGb * prices.cloudwatch.logsIngestGb, `${logGb.toFixed(1)} GB × $${prices.cloudwatch.logsIngestGb}`);
  const keys = 1 + (s.encryption === 'customer' ? 1 : 0);
  add('KMS', `${keys} customer managed key(s)`, keys * prices.kms.keyMonth, `${keys} × $${prices.kms.keyMonth}`);

  const services: { service: string; monthly: number }[] = [];
  for (const l of lines) {
    const found = services.find((x) => x.service === l.service);
    if (found) found.monthly += l.monthly;
    else services.push({ service: l.service, monthly: l.monthly });
  }
  return { stage: stage.name, workload: w, lines, services, total: lines.reduce((sum, l) => sum + l.monthly, 0), notes };
}

/** The alarms a stage has: validation 5, lake delivery 7, profiles 4, scheduler 2, erasure 1, the export 1, the canary 3. */
export function monitoredAlarms(stage: Pick<CostStage, 'lake' | 'alarms'>): number {
  return 5 + 7 + 4 + 2 + 1 + (stage.lake.profileExport === 'daily' ? 1 : 0) + (stage.alarms.freshnessCanary === 'on' ? 3 : 0);
}
