/**
 * The scheduled profile export: once a day, starts a DynamoDB export of the profile table into the curated
 * zone under `profile-exports/snapshot=<UTC day>/`, as of the full hour before the run's scheduled time, after
 * checking that this time is inside the table's restorable window (DescribeContinuousBackups). A thin adapter: the
 * request (prefix, day, idempotency token) is built by core/lake/profile-export. The export itself
 * runs in DynamoDB for minutes after this function returns.
 *
 * Any error (no point-in-time recovery, access denied, a bad event) is rethrown, so the invocation fails,
 * Lambda retries it with the same request (the token makes that harmless), and the errors alarm fires.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ExportTimeNotRestorableError, profileExportRequest, scheduledTimeOf, unrestorableReason } from '../../core/lake/profile-export';
import { DynamoTableExports, type DynamoDBClient } from '../../adapters/dynamodb/table-exports';
import { exportProfilesConfigFromEnv, type ExportProfilesConfig } from './config';

export { EXPORT_PROFILES_ENV, exportProfilesConfigFromEnv, type ExportProfilesConfig } from './config';

/** What the schedule sends: EventBridge Scheduler's `<aws.scheduler.scheduled-time>`. */
export interface ExportProfilesEvent {
  readonly scheduledTime: string;
}

export interface ExportProfilesResult {
  readonly exportArn: string | undefined;
  readonly status: string | undefined;
  readonly snapshotPrefix: string;
  readonly exportTime: string;
}

export interface ExportProfilesDeps {
  readonly config: ExportProfilesConfig;
  /** @default the shared DynamoDB client (endpoint and region from the standard variables) */
  readonly client?: DynamoDBClient;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export type ExportProfilesHandler = (event: ExportProfilesEvent) => Promise<ExportProfilesResult>;

export function createExportProfilesHandler(deps: ExportProfilesDeps): ExportProfilesHandler {
  const logger = deps.logger ?? new Logger();
  const now = deps.now ?? Date.now;
  return async (event) => {
    const request = profileExportRequest(deps.config, scheduledTimeOf(event, now()));
    const context = { tableArn: request.TableArn, bucket: request.S3Bucket, prefix: request.S3Prefix, exportTime: request.ExportTime.toISOString(), clientToken: request.ClientToken };
    const exports = new DynamoTableExports(deps.client);
    try {
      // Never ask for a time outside the restorable window: fail (Lambda retries in minutes) instead.
      const refused = unrestorableReason(request.ExportTime, await exports.restorableWindow(request.TableArn));
      if (refused) throw new ExportTimeNotRestorableError(refused);
      const started = await exports.start(request);
      logger.info('profile export requested', { ...context, exportArn: started.exportArn, status: started.status });
      return { exportArn: started.exportArn, status: started.status, snapshotPrefix: request.S3Prefix, exportTime: context.exportTime };
    } catch (error) {
      logger.error('profile export could not be started', { ...context, error: error as Error });
      throw error;
    }
  };
}

let deployed: ExportProfilesHandler | undefined;

/** The Lambda entry point: configuration from the environment, built on first use. */
export const handler: ExportProfilesHandler = (event) => {
  deployed ??= createExportProfilesHandler({ config: exportProfilesConfigFromEnv() });
  return deployed(event);
};
