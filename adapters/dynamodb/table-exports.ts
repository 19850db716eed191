/**
 * Point-in-time exports of a DynamoDB table, as the profile export function uses them: the table's restorable
 * window (DescribeContinuousBackups) and starting an export (ExportTableToPointInTime). The request itself is
 * built by the core (core/lake/profile-export.ts).
 */
import { DescribeContinuousBackupsCommand, ExportTableToPointInTimeCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ProfileExportRequest, RestorableWindow } from '../../core/lake/profile-export';
import { dynamoDbClient } from '../aws-clients';

export type { DynamoDBClient };

/** What DynamoDB says of an export it started (or had started already: the request's ClientToken). */
export interface StartedExport {
  readonly exportArn: string | undefined;
  readonly status: string | undefined;
}

export class DynamoTableExports {
  /** @param client @default the shared DynamoDB client (endpoint and region from the standard AWS variables) */
  constructor(private readonly client: DynamoDBClient = dynamoDbClient()) {}

  /** The window of times the table can be exported as of (point-in-time recovery). */
  async restorableWindow(tableArn: string): Promise<RestorableWindow> {
    const backups = await this.client.send(new DescribeContinuousBackupsCommand({ TableName: tableArn }));
    const pitr = backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription;
    return { status: pitr?.PointInTimeRecoveryStatus, earliest: pitr?.EarliestRestorableDateTime, latest: pitr?.LatestRestorableDateTime };
  }

  /** Starts the export the request describes. */
  async start(request: ProfileExportRequest): Promise<StartedExport> {
    const out = await this.client.send(new ExportTableToPointInTimeCommand(request));
    return { exportArn: out.ExportDescription?.ExportArn, status: out.ExportDescription?.ExportStatus };
  }
}
