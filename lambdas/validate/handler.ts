/**
 * The validation function: a thin adapter between the Kinesis event source and the ingestion core.
 *
 * For each batch of the raw stream: drop the records of erased subjects (the tombstones, read once a minute),
 * plan (validate, normalize, dedup; pure), write the invalid records to
 * the quarantine zone, then forward the unique valid events to the validated stream with PutRecords.
 * Records that could not be quarantined or forwarded, even after retries, are reported as batch item
 * failures, so Lambda retries from the lowest of them; everything before it is done for good. A retry
 * forwards the events after that record again (and so does a redrive of the on-failure range): the profile
 * aggregator's ledger of applied event ids recognizes every such copy.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { planBatch, type BatchPlan, type ForwardRecord, type RawRecord } from '../../core/ingest/batch';
import { compareSequenceNumbers } from '../../core/ingest/redrive';
import { putRecordsWithRetry, type PutRecordsCall, type PutReport } from '../../core/ingest/put-records';
import { kinesisClient } from '../../adapters/aws-clients';
import { kinesisPutRecordsCall } from '../../adapters/kinesis/put-records';
import { validationConfigFromEnv, type ValidationHandlerConfig } from './config';
import { s3QuarantineSink, type QuarantineSink } from '../../adapters/s3/quarantine-sink';
import { ERASED_SUBJECT, ErasedSubjects } from '../../core/privacy/curation';
import { TombstoneSet } from '../../adapters/dynamodb/tombstone-set';
import { signedTombstoneQuery } from '../../adapters/dynamodb/signed-tombstone-query';

export { validationConfigFromEnv, VALIDATION_ENV, type ValidationHandlerConfig } from './config';
export type { QuarantineSink } from '../../adapters/s3/quarantine-sink';

export interface ValidationHandlerDeps {
  readonly config: ValidationHandlerConfig;
  /** Writes to the validated stream. @default PutRecords with the shared Kinesis client */
  readonly forward?: PutRecordsCall<ForwardRecord>;
  /** Stores quarantine objects. @default signed S3 PUTs with the shared client's credentials and region */
  readonly quarantine?: QuarantineSink;
  /**
   * The hashes of the live tombstones. @default when config.ledgerTableName is set, a signed Query of its
   * `#erased` partition cached for a minute (the curated gate's freshness); else none
   */
  readonly erased?: () => Promise<ReadonlySet<string>>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type ValidationHandler = (event: KinesisStreamEvent, context?: Pick<Context, 'getRemainingTimeInMillis'> & Partial<Context>) => Promise<KinesisStreamBatchResponse>;

/** Time kept in reserve at the end of an invocation: no retry is started that would eat into it. */
const DEADLINE_RESERVE_MS = 3_000;

/** The metric names of the function (namespace from POWERTOOLS_METRICS_NAMESPACE, dimension `service`). */
export const VALIDATION_METRICS = {
  recordsIn: 'RecordsIn',
  valid: 'ValidRecords',
  forwarded: 'ForwardedRecords',
  quarantined: 'QuarantinedRecords',
  duplicates: 'DuplicateRecords',
  conflictingDuplicates: 'ConflictingDuplicates',
  droppedUnknownFields: 'EventsWithDroppedFields',
  forwardRetries: 'ForwardRetries',
  forwardThrottles: 'ForwardThrottles',
  failedRecords: 'FailedRecords',
  /** Records of erased subjects, dropped: neither quarantined nor forwarded (also by dimension reason=erased_subject). */
  dropped: 'RecordsDropped',
  /** Reads of the tombstones that failed; the batch used the last set read. */
  tombstoneReadFailures: 'TombstoneReadFailures',
} as const;

const NO_TOMBSTONES: ReadonlySet<string> = new Set();

export function createValidationHandler(deps: ValidationHandlerDeps): ValidationHandler {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  let forward = deps.forward;
  let quarantine = deps.quarantine;
  let tombstones = deps.erased;
  /** The last tombstones read: used when a read fails (they only lack erasures since; the erasure's follow-up passes cover those). */
  let lastErased: ReadonlySet<string> | undefined;
  /** The gate over the current tombstones: kept while they are the same, so its answers are reused (ErasedSubjects.isFor). */
  let gate: ErasedSubjects | undefined;
  const readErased = async (): Promise<{ hashes: ReadonlySet<string>; failed: boolean }> => {
    tombstones ??= config.ledgerTableName ? defaultTombstones(config, config.ledgerTableName, random, sleep) : async () => NO_TOMBSTONES;
    try {
      lastErased = await tombstones();
      return { hashes: lastErased, failed: false };
    } catch (err) {
      // Never read: who is erased is unknown, and nothing may pass unchecked. Lambda retries the batch.
      if (lastErased === undefined) throw err;
      logger.warn('reading the tombstones failed; the last set read is used', { tombstones: lastErased.size, error: err as Error });
      return { hashes: lastErased, failed: true };
    }
  };

  return async (event, context) => {
    forward ??= kinesisPutRecordsCall<ForwardRecord>(kinesisClient(), config.validatedStreamName);
    quarantine ??= defaultSink(config, random, sleep);
    if (context?.awsRequestId) logger.addContext(context as Context);
    const startedAt = now();
    const deadlineMs = context ? startedAt + context.getRemainingTimeInMillis() - DEADLINE_RESERVE_MS : undefined;

    const records = event.Records.map(toRawRecord);
    const tombstoneRead = await readErased();
    gate = ErasedSubjects.over(tombstoneRead.hashes, gate);
    const plan = planBatch(records, {
      validation: config.validation,
      processedAtMs: startedAt,
      quarantinePayloadMaxBytes: config.quarantinePayloadMaxBytes,
      erased: gate,
    });

    // Quarantine and forward independently: a quarantine-store outage must not hold back valid events.
    // Lambda redelivers everything from the lowest failed record, so the events forwarded after a failed
    // quarantine write are forwarded again on that retry; the profiles' ledger recognizes those copies (and
    // the curated zone's queries count unique event ids), whatever the time between them.
    const [quarantineFailures, forwarded] = await Promise.all([
      writeQuarantine(plan, quarantine, logger),
      plan.forward.length > 0 ? putRecordsWithRetry(plan.forward, forward, { policy: config.forwardRetry, random, sleep, now, deadlineMs }) : Promise.resolve(undefined),
    ]);
    const toForward = plan.forward;
    const failed = new Set<string>(quarantineFailures);
    const forwardErrors = new Map<string, number>();
    forwarded?.results.forEach((r, i) => {
      if (r.ok) return;
      failed.add(toForward[i]!.sequenceNumber);
      forwardErrors.set(r.errorCode, (forwardErrors.get(r.errorCode) ?? 0) + 1);
    });
    const batchItemFailures = [...failed].sort(compareSequenceNumbers).map((itemIdentifier) => ({ itemIdentifier }));

    publish(metrics, plan, forwarded, batchItemFailures.length, tombstoneRead.failed);
    const summary = {
      shardId: records[0]?.shardId,
      firstSequenceNumber: records[0]?.sequenceNumber,
      lastSequenceNumber: records[records.length - 1]?.sequenceNumber,
      recordsIn: plan.recordsIn,
      valid: plan.valid,
      forwarded: forwarded?.succeeded ?? 0,
      duplicates: plan.duplicates,
      conflictingDuplicates: plan.conflictingDuplicates,
      quarantined: plan.quarantineLines.length,
      quarantinedByReason: plan.quarantinedByReason,
      droppedErasedSubject: plan.erasedSubject,
      quarantineObjects: plan.quarantineObjects.map((o) => o.key),
      forwardRetries: forwarded?.retriedEntries ?? 0,
      forwardThrottles: forwarded?.throttledEntries ?? 0,
      failedRecords: batchItemFailures.length,
      durationMs: now() - startedAt,
    };
    if (batchItemFailures.length > 0) {
      logger.warn('batch partly failed; Lambda retries from the lowest failed record', {
        ...summary,
        forwardErrors: Object.fromEntries(forwardErrors),
        lowestFailedSequenceNumber: batchItemFailures[0]!.itemIdentifier,
      });
    } else {
      logger.info('batch validated', summary);
    }
    return { batchItemFailures };
  };
}

function toRawRecord(r: KinesisStreamRecord): RawRecord {
  const colon = r.eventID.indexOf(':');
  return {
    data: Buffer.from(r.kinesis.data, 'base64'),
    partitionKey: r.kinesis.partitionKey,
    shardId: colon > 0 ? r.eventID.slice(0, colon) : 'unknown',
    sequenceNumber: r.kinesis.sequenceNumber,
    arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
  };
}

/** Writes every quarantine object of the batch; returns the sequence numbers of objects that failed. */
async function writeQuarantine(plan: BatchPlan, sink: QuarantineSink, logger: Logger): Promise<string[]> {
  const outcomes = await Promise.all(
    plan.quarantineObjects.map(async (object) => {
      try {
        await sink.put(object.key, object.body);
        return [];
      } catch (err) {
        logger.error('quarantine write failed; its records will be retried', { key: object.key, records: object.sequenceNumbers.length, error: err as Error });
        return object.sequenceNumbers;
      }
    }),
  );
  return outcomes.flat();
}

function publish(metrics: Metrics, plan: BatchPlan, forwarded: PutReport | undefined, failedRecords: number, tombstoneReadFailed: boolean): void {
  const m = VALIDATION_METRICS;
  // Every counter on every invocation, zeros included, so ratios and sums have no gaps.
  metrics.addMetric(m.recordsIn, MetricUnit.Count, plan.recordsIn);
  metrics.addMetric(m.valid, MetricUnit.Count, plan.valid);
  metrics.addMetric(m.forwarded, MetricUnit.Count, forwarded?.succeeded ?? 0);
  metrics.addMetric(m.quarantined, MetricUnit.Count, plan.quarantineLines.length);
  metrics.addMetric(m.duplicates, MetricUnit.Count, plan.duplicates);
  metrics.addMetric(m.conflictingDuplicates, MetricUnit.Count, plan.conflictingDuplicates);
  metrics.addMetric(m.droppedUnknownFields, MetricUnit.Count, plan.droppedUnknownFields);
  metrics.addMetric(m.forwardRetries, MetricUnit.Count, forwarded?.retriedEntries ?? 0);
  metrics.addMetric(m.forwardThrottles, MetricUnit.Count, forwarded?.throttledEntries ?? 0);
  metrics.addMetric(m.failedRecords, MetricUnit.Count, failedRecords);
  metrics.addMetric(m.dropped, MetricUnit.Count, plan.erasedSubject);
  metrics.addMetric(m.tombstoneReadFailures, MetricUnit.Count, tombstoneReadFailed ? 1 : 0);
  metrics.publishStoredMetrics();
  if (plan.erasedSubject > 0) {
    const single = metrics.singleMetric();
    single.addDimension('reason', ERASED_SUBJECT);
    single.addMetric(m.dropped, MetricUnit.Count, plan.erasedSubject);
  }
  // By reason: its own dimension set (service + reason), so the total above keeps its own.
  for (const [reason, count] of Object.entries(plan.quarantinedByReason)) {
    const single = metrics.singleMetric();
    single.addDimension('reason', reason);
    single.addMetric(m.quarantined, MetricUnit.Count, count);
  }
}

function defaultSink(config: ValidationHandlerConfig, random: () => number, sleep: (ms: number) => Promise<void>): QuarantineSink {
  const kinesis = kinesisClient();
  return s3QuarantineSink({
    bucket: config.quarantineBucket,
    region: kinesis.config.region,
    credentials: kinesis.config.credentials,
    endpoint: process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined,
    retry: config.forwardRetry,
    random,
    sleep,
  });
}

/** The tombstones by a signed Query (no DynamoDB client in this bundle), with the shared client's credentials and region. */
function defaultTombstones(config: ValidationHandlerConfig, ledgerTableName: string, random: () => number, sleep: (ms: number) => Promise<void>): () => Promise<ReadonlySet<string>> {
  const kinesis = kinesisClient();
  const set = new TombstoneSet(
    signedTombstoneQuery({
      ledgerTableName,
      region: kinesis.config.region,
      credentials: kinesis.config.credentials,
      endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL || undefined,
      retry: config.forwardRetry,
      random,
      sleep,
    }),
  );
  return () => set.hashes();
}

let deployed: ValidationHandler | undefined;

/** The deployed entry point: configuration from the environment the construct sets. */
export const handler: ValidationHandler = (event, context) => {
  deployed ??= createValidationHandler({ config: validationConfigFromEnv() });
  return deployed(event, context);
};
