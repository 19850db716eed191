/**
 * The aggregator function: a thin adapter between the Kinesis event source on the validated stream and the
 * profile core. With a tumbling window it folds each batch into the window state and writes the profiles
 * on the window's final invocation (or when the window ends early); without one (per-batch mode) it
 * writes after every batch. See core/profiles for the exactly-once merge.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { aggregateInvocation, ProfileWriteError, type InvocationStats } from '../../core/profiles/aggregate';
import { ShardContexts } from '../../core/profiles/aggregation-context';
import { itemSizeBytes } from '../../core/profiles/item-size';
import { DEFAULT_STATE_LIMITS, type WindowStateLimits } from '../../core/profiles/flush-policy';
import type { WindowStateJson } from '../../core/profiles/window-state';
import type { ProfileStorePort } from '../../core/profiles/writer';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { aggregatorConfigFromEnv as configFromEnv, settingsFrom, type AggregatorConfig } from './config';
import { DynamoProfileTable } from '../../adapters/dynamodb/profile-table';

export { AGGREGATOR_ENV, aggregatorConfigFromEnv, settingsFrom, type AggregatorConfig } from './config';

export interface AggregatorDeps {
  readonly config: AggregatorConfig;
  /** @default the DynamoDB profile table named in the config */
  readonly store?: ProfileStorePort;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  readonly stateLimits?: WindowStateLimits;
}

/** The window event Lambda sends with a tumbling window (the @types/aws-lambda type lacks shardId). */
export interface AggregatorWindowEvent extends KinesisStreamEvent {
  window: { start: string; end: string };
  state?: Record<string, unknown>;
  shardId?: string;
  isFinalInvokeForWindow?: boolean;
  isWindowTerminatedEarly?: boolean;
}

export interface AggregatorResponse {
  state?: Record<string, unknown>;
  batchItemFailures: { itemIdentifier: string }[];
}

export type AggregatorHandler = (event: KinesisStreamEvent | AggregatorWindowEvent, context?: Partial<Context>) => Promise<AggregatorResponse>;

/** Time kept in reserve at the end of an invocation: no retry is started that would eat into it. */
const DEADLINE_RESERVE_MS = 3_000;

/** Metric names (namespace from POWERTOOLS_METRICS_NAMESPACE, dimension `service`). */
export const AGGREGATOR_METRICS = {
  eventsIn: 'EventsIn',
  malformed: 'MalformedRecords',
  consentWithheld: 'ConsentWithheldEvents',
  erasedEvents: 'ErasedSubjectEvents',
  absorbedProfiles: 'AnonymousProfilesMerged',
  identifyConflicts: 'IdentifyConflicts',
  windowDuplicates: 'DuplicateEventsInWindow',
  usersUpdated: 'UsersUpdated',
  alreadyApplied: 'ConditionalSkips',
  appliedEvents: 'EventsApplied',
  profileDuplicates: 'DuplicateEventsSkipped',
  conflicts: 'VersionConflicts',
  ledgerWrites: 'LedgerWrites',
  ledgerRepairs: 'LedgerRepairs',
  ledgerDeferred: 'LedgerWritesDeferred',
  failedUsers: 'FailedUserWrites',
  throttleRetries: 'ThrottleRetries',
  transientRetries: 'TransientRetries',
  flushes: 'StateFlushes',
  stateBytes: 'WindowStateBytes',
  itemBytesMax: 'ProfileItemBytesMax',
} as const;

function shardOf(event: KinesisStreamEvent | AggregatorWindowEvent, first: KinesisStreamRecord | undefined): string {
  if ('shardId' in event && event.shardId) return event.shardId;
  // eventID is "<shardId>:<sequenceNumber>".
  const id = first?.eventID ?? '';
  const at = id.lastIndexOf(':');
  return at > 0 ? id.slice(0, at) : 'unknown-shard';
}

export function createAggregatorHandler(deps: AggregatorDeps): AggregatorHandler {
  const settings = settingsFrom(deps.config.profiles);
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  const now = deps.now ?? Date.now;
  const limits = deps.stateLimits ?? DEFAULT_STATE_LIMITS;
  // Caches and scratch buffers, one set per shard: this handler may serve several shards (at once in the
  // local runtime), and nothing of one shard's invocation may reach another's.
  const contexts = new ShardContexts();
  // The store of one invocation: its retries are counted for that invocation alone (the local runtime runs
  // several shards' invocations of one handler at once) and stop before the invocation's deadline.
  const storeFor = (retries: { throttle: number; transient: number }, deadlineMs: number | undefined): ProfileStorePort =>
    deps.store ??
    new DynamoProfileTable({
      tableName: deps.config.tableName,
      ledgerTableName: deps.config.ledgerTableName,
      client: documentClient(),
      ...(deadlineMs !== undefined ? { deadlineMs } : {}),
      onRetry: (kind, n) => {
        retries[kind] += n;
      },
    });

  return async (event, context) => {
    if (context?.awsRequestId) logger.addContext(context as Context);
    const retries = { throttle: 0, transient: 0 };
    const deadlineMs = context?.getRemainingTimeInMillis ? Date.now() + context.getRemainingTimeInMillis() - DEADLINE_RESERVE_MS : undefined;
    const store = storeFor(retries, deadlineMs);
    const windowed = 'window' in event && event.window !== undefined;
    const w = event as AggregatorWindowEvent;
    const records = event.Records ?? [];
    const shardId = shardOf(event, records[0]);
    const final = windowed ? Boolean(w.isFinalInvokeForWindow || w.isWindowTerminatedEarly) : true;
    let malformedLogged = 0;

    try {
      const result = await contexts.run(shardId, (shardContext) => aggregateInvocation(
        {
          shardId,
          // The payloads as they are: each has the sequenceNumber and data the aggregation reads.
          records: records.map((r) => r.kinesis),
          state: windowed ? (w.state as WindowStateJson | undefined) : undefined,
          flushAll: final,
          carriesState: windowed,
        },
        {
          store,
          settings,
          now,
          limits,
          concurrency: deps.config.profiles.writeConcurrency ?? 16,
          context: shardContext,
          onMalformed: (sequenceNumber, reason) => {
            // Retrying cannot fix a record that is not an event: skip it, count it, log the first few.
            if (malformedLogged++ < 5) logger.warn('skipping a record that is not a validated event', { shardId, sequenceNumber, reason });
          },
        },
      ));
      record(result.stats, metrics);
      if (result.failedSequenceNumber) {
        logger.warn('profile writes failed mid-window; the batch is retried from this record', { shardId, sequenceNumber: result.failedSequenceNumber });
      }
      if (final && windowed) {
        logger.info('window written', { shardId, window: w.window, early: Boolean(w.isWindowTerminatedEarly), ...summary(result.stats) });
      }
      const response: AggregatorResponse = {
        batchItemFailures: result.failedSequenceNumber ? [{ itemIdentifier: result.failedSequenceNumber }] : [],
      };
      if (windowed) {
        response.state = result.state as Record<string, unknown>;
        // The state's own size estimate (an upper bound of its JSON length): serializing it again here would
        // cost as much as the runtime's own serialization of the response.
        metrics.addMetric(AGGREGATOR_METRICS.stateBytes, MetricUnit.Bytes, result.stateBytes);
      }
      return response;
    } catch (err) {
      if (err instanceof ProfileWriteError) {
        metrics.addMetric(AGGREGATOR_METRICS.failedUsers, MetricUnit.Count, err.failedUsers.length);
        logger.error('profile writes failed; the invocation fails so the window is retried', { shardId, users: err.failedUsers.slice(0, 10), error: err.cause });
      } else {
        logger.error('aggregation failed', { shardId, error: err as Error });
      }
      throw err;
    } finally {
      if (retries.throttle > 0) metrics.addMetric(AGGREGATOR_METRICS.throttleRetries, MetricUnit.Count, retries.throttle);
      if (retries.transient > 0) metrics.addMetric(AGGREGATOR_METRICS.transientRetries, MetricUnit.Count, retries.transient);
      metrics.publishStoredMetrics();
    }
  };
}

function summary(stats: InvocationStats) {
  const sum = (f: (r: InvocationStats['writes'][number]) => number) => stats.writes.reduce((n, r) => n + f(r), 0);
  return {
    usersUpdated: sum((r) => r.written),
    alreadyApplied: sum((r) => r.alreadyApplied),
    eventsApplied: sum((r) => r.appliedEvents),
    duplicatesSkipped: sum((r) => r.duplicates),
    ledgerWrites: sum((r) => r.ledgerWrites),
    ledgerRepairs: sum((r) => r.ledgerRepairs),
    ledgerDeferred: sum((r) => r.ledgerDeferred),
    erasedEvents: sum((r) => r.erasedEvents),
    anonymousProfilesMerged: sum((r) => r.absorbed),
    identifyConflicts: sum((r) => r.identifyConflicts),
  };
}

function record(stats: InvocationStats, metrics: Metrics): void {
  const s = summary(stats);
  const add = (name: string, value: number) => {
    if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
  };
  add(AGGREGATOR_METRICS.eventsIn, stats.eventsIn);
  add(AGGREGATOR_METRICS.malformed, stats.malformed);
  add(AGGREGATOR_METRICS.consentWithheld, stats.consentWithheld);
  add(AGGREGATOR_METRICS.erasedEvents, s.erasedEvents);
  add(AGGREGATOR_METRICS.absorbedProfiles, s.anonymousProfilesMerged);
  add(AGGREGATOR_METRICS.identifyConflicts, s.identifyConflicts);
  add(AGGREGATOR_METRICS.windowDuplicates, stats.windowDuplicates);
  add(AGGREGATOR_METRICS.flushes, stats.flushes);
  add(AGGREGATOR_METRICS.usersUpdated, s.usersUpdated);
  add(AGGREGATOR_METRICS.alreadyApplied, s.alreadyApplied);
  add(AGGREGATOR_METRICS.appliedEvents, s.eventsApplied);
  add(AGGREGATOR_METRICS.profileDuplicates, s.duplicatesSkipped);
  add(AGGREGATOR_METRICS.ledgerWrites, s.ledgerWrites);
  add(AGGREGATOR_METRICS.ledgerRepairs, s.ledgerRepairs);
  add(AGGREGATOR_METRICS.ledgerDeferred, s.ledgerDeferred);
  add(AGGREGATOR_METRICS.conflicts, stats.writes.reduce((n, r) => n + r.conflicts, 0));
  add(AGGREGATOR_METRICS.failedUsers, stats.writes.reduce((n, r) => n + r.failed.length, 0));
  let max = 0;
  for (const report of stats.writes) {
    for (const u of report.users) if (u.profile) max = Math.max(max, itemSizeBytes(u.profile as unknown as Record<string, unknown>));
  }
  if (max > 0) metrics.addMetric(AGGREGATOR_METRICS.itemBytesMax, MetricUnit.Bytes, max);
}

let deployed: AggregatorHandler | undefined;

/** The deployed entry point: configuration from the environment the construct sets. */
export const handler: AggregatorHandler = (event, context) => {
  deployed ??= createAggregatorHandler({ config: configFromEnv() });
  return deployed(event, context);
};
