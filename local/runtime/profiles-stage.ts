/**
 * The profiles stage of the local runtime: the profile table's shape and the aggregator function behind the
 * event-source runner on the validated stream, with the event-source settings of the deployed mapping
 * (lib/profiles/profile-aggregator.ts) and the window the run asks for, and the typed reader personalization
 * services use (clients/profiles) configured as the aggregator is.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { StageConfig } from '../../lib/config/stage-config';
import { stageLedgerRetentionHours } from '../../lib/config/stage-config';
import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, MetadataBearer } from '@smithy/types';
import { ProfileReader, type ProfileReaderOptions } from '@personalization-data-platform/profile-reader';
import { dynamoDbClient } from '../../adapters/aws-clients';
import { createAggregatorHandler, type AggregatorHandler } from '../../lambdas/aggregate/handler';
import { KinesisEventSourceRunner, type KinesisEventSourceRunnerOptions, type RunnerStats } from '../event-source/runner';
import { aggregationMapping } from './event-source-settings';
import { MetricsTap } from './metrics-tap';
import type { StageResourceNames, TableShape } from './resources';

export interface ProfilesStageStartOptions extends Pick<KinesisEventSourceRunnerOptions, 'pollIntervalMs' | 'log' | 'faults' | 'onFailure'> {
  windowSeconds: number;
}

export interface ProfilesStageStats {
  /** Conditional profile writes that succeeded. */
  updates: number;
  runner?: RunnerStats;
  metrics: Record<string, number>;
}

export interface ProfilesStage {
  /** The tables the stage needs: the profile table and the ledger of applied event ids. */
  readonly tables: readonly { readonly name: string; readonly shape: TableShape }[];
  start(options: ProfilesStageStartOptions): Promise<void>;
  /** Waits until the validated stream is processed and every open window is written to the profiles. */
  drain(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
  stats(): ProfilesStageStats;
  iteratorAgeMs(): number;
  /**
   * A new instance of the aggregator function as deployed (its configuration, the run's window), for the
   * local Lambda endpoint: what a redrive invokes.
   */
  createHandler(): AggregatorHandler;
  /**
   * The reader a personalization service uses, on this stage's profile table and with the aggregator's
   * affinity half-life, so affinities decay at the rate they were written with.
   */
  reader(options?: Omit<ProfileReaderOptions, 'tableName' | 'affinityHalfLifeDays'>): ProfileReader;
}

/** The profile table: partition key user_id, TTL attribute expires_at (core/profiles/model.ts). */
export const PROFILE_TABLE_SHAPE: TableShape = {
  keySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
  attributes: [{ AttributeName: 'user_id', AttributeType: 'S' }],
  ttlAttribute: 'expires_at',
};

/** The ledger of applied event ids: partition key user_id, sort key slot, TTL expires_at (core/profiles/ledger.ts). */
export const LEDGER_TABLE_SHAPE: TableShape = {
  keySchema: [
    { AttributeName: 'user_id', KeyType: 'HASH' },
    { AttributeName: 'slot', KeyType: 'RANGE' },
  ],
  attributes: [
    { AttributeName: 'user_id', AttributeType: 'S' },
    { AttributeName: 'slot', AttributeType: 'S' },
  ],
  ttlAttribute: 'expires_at',
};

export function profilesStage(stage: StageConfig, names: StageResourceNames): ProfilesStage {
  const metrics = new MetricsTap();
  let runner: KinesisEventSourceRunner | undefined;
  let updates = 0;
  let windowSeconds = stage.profiles.windowSeconds;
  const counterName = 'localProfileUpdateCounter';
  const createHandler = () =>
    createAggregatorHandler({
      config: {
        tableName: names.profileTable,
        ledgerTableName: names.ledgerTable,
        windowSeconds,
        profiles: { ...stage.profiles, ledgerRetentionHours: stageLedgerRetentionHours(stage) },
      },
      metrics,
      logger: new Logger({ logLevel: 'SILENT' }),
    });
  return {
    tables: [
      { name: names.profileTable, shape: PROFILE_TABLE_SHAPE },
      { name: names.ledgerTable, shape: LEDGER_TABLE_SHAPE },
    ],
    createHandler,
    async start(options) {
      windowSeconds = options.windowSeconds;
      // Counted at the client, so the figure does not depend on what the function chooses to log.
      dynamoDbClient().middlewareStack.add(
        (next: InitializeHandler<object, MetadataBearer>, context: HandlerExecutionContext) => async (args: InitializeHandlerArguments<object>) => {
          const result = await next(args);
          const input = args.input as { TableName?: string };
          if (/^Update(Item)?Command$/.test(String(context.commandName)) && input.TableName === names.profileTable) updates++;
          return result;
        },
        { step: 'initialize', name: counterName, override: true },
      );
      runner = new KinesisEventSourceRunner({
        pollIntervalMs: options.pollIntervalMs,
        ...(options.log ? { log: options.log } : {}),
        ...(options.faults ? { faults: options.faults } : {}),
        ...(options.onFailure ? { onFailure: options.onFailure } : {}),
        streamName: names.validatedStream,
        functionName: names.aggregatorFunction,
        handler: createHandler() as KinesisEventSourceRunnerOptions['handler'],
        // The deployed mapping's settings, with the run's tumbling window (see event-source-settings.ts).
        ...aggregationMapping(stage, options.windowSeconds),
      });
      await runner.start();
    },
    async drain(timeoutMs) {
      await runner?.drain({ timeoutMs, flushWindows: true });
    },
    async stop() {
      await runner?.stop();
      dynamoDbClient().middlewareStack.remove(counterName);
    },
    stats() {
      return { updates, ...(runner ? { runner: runner.stats() } : {}), metrics: metrics.totals() };
    },
    iteratorAgeMs() {
      return runner?.iteratorAgeMs() ?? 0;
    },
    reader(options = {}) {
      return new ProfileReader({ ...options, tableName: names.profileTable, affinityHalfLifeDays: stage.profiles.affinityHalfLifeDays });
    },
  };
}
