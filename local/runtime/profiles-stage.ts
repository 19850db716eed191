/**
 * The profiles stage of the local runtime: the profile table's shape and the aggregator function behind the
 * event-source runner on the validated stream, with the stage's event-source settings and the window the
 * run asks for.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { StageConfig } from '../../lib/config/stage-config';
import { resourceName } from '../../lib/config/stage-config';
import type { HandlerExecutionContext, InitializeHandler, InitializeHandlerArguments, MetadataBearer } from '@smithy/types';
import { documentClient, dynamoDbClient } from '../../lambdas/shared/aws-clients';
import { createAggregatorHandler } from '../../lambdas/aggregate/handler';
import { KinesisEventSourceRunner, type KinesisEventSourceRunnerOptions, type RunnerStats } from '../event-source-runner';
import { MetricsTap } from './metrics-tap';
import type { ProfileTableShape, StageResourceNames } from './resources';

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
  readonly table: ProfileTableShape;
  start(options: ProfilesStageStartOptions): Promise<void>;
  /** Waits until the validated stream is processed and every open window is written to the profiles. */
  drain(timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
  stats(): ProfilesStageStats;
  iteratorAgeMs(): number;
  /** Profile items as stored, for the given users (BatchGetItem, unprocessed keys retried). */
  readItems(userIds: readonly string[]): Promise<Record<string, unknown>[]>;
}

/** The profile table: partition key user_id, TTL attribute expires_at (lambdas/core/profile/model.ts). */
export const PROFILE_TABLE_SHAPE: ProfileTableShape = {
  keySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }],
  attributes: [{ AttributeName: 'user_id', AttributeType: 'S' }],
  ttlAttribute: 'expires_at',
};

export function profilesStage(stage: StageConfig, names: StageResourceNames): ProfilesStage {
  const metrics = new MetricsTap();
  let runner: KinesisEventSourceRunner | undefined;
  let updates = 0;
  const counterName = 'localProfileUpdateCounter';
  return {
    table: PROFILE_TABLE_SHAPE,
    async start(options) {
      const p = stage.profiles;
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
        functionName: resourceName(stage, 'aggregate'),
        handler: createAggregatorHandler({
          config: { tableName: names.profileTable, windowSeconds: options.windowSeconds, profiles: p },
          metrics,
          logger: new Logger({ logLevel: 'SILENT' }),
        }) as KinesisEventSourceRunnerOptions['handler'],
        startingPosition: 'TRIM_HORIZON',
        batchSize: p.batchSize,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: p.retryAttempts,
        maxRecordAgeSeconds: p.maxRecordAgeSeconds,
        ...(options.windowSeconds > 0 ? { tumblingWindowSeconds: options.windowSeconds } : {}),
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
    async readItems(userIds) {
      const out: Record<string, unknown>[] = [];
      for (let i = 0; i < userIds.length; i += 100) {
        let keys: Record<string, unknown>[] | undefined = userIds.slice(i, i + 100).map((user_id) => ({ user_id }));
        for (let attempt = 0; keys && keys.length > 0; attempt++) {
          const got = await documentClient().send(new BatchGetCommand({ RequestItems: { [names.profileTable]: { Keys: keys, ConsistentRead: true } } }));
          out.push(...((got.Responses?.[names.profileTable] ?? []) as Record<string, unknown>[]));
          keys = got.UnprocessedKeys?.[names.profileTable]?.Keys as Record<string, unknown>[] | undefined;
          if (keys?.length) await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt)));
        }
      }
      return out;
    },
  };
}
