/**
 * The erasure function: works through the erasure queue, one request per message (core/privacy/erasure.ts).
 * A request that fails is reported as a batch item failure and comes back after the visibility timeout;
 * after maxReceiveCount it lands in the dead-letter queue (alarmed). A request erases everything at once,
 * then sends itself follow-up passes over the lake (delayed messages), for events that were already
 * buffered in the curated delivery when it began.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { erasePerson, erasureRequestBody, parseErasureRequest, type ErasureOptions, type ErasureReport, type ErasureRequest } from '../../core/privacy/erasure';
import { DynamoPersonStore } from '../../adapters/dynamodb/person-store';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { AthenaLakeErasure } from '../../adapters/athena/lake-erasure';
import { S3AuditLog } from '../../adapters/s3/audit-log';
import { s3Client } from '../../adapters/aws-clients';
import { athenaClient } from '../../adapters/athena/client';
import { sendErasureRequest } from '../../adapters/sqs/erasure-queue';
import { eraseConfigFromEnv, type EraseConfig } from './config';

export { ERASE_ENV, eraseConfigFromEnv, type EraseConfig } from './config';

/** Follow-up passes over the lake after the first (each `followUpSeconds` after the previous). */
export const FOLLOW_UP_PASSES = 2;

export const ERASE_METRICS = { erasures: 'Erasures', failed: 'ErasuresFailed', rowsRemoved: 'LakeRowsRemoved' } as const;

export interface EraseDeps {
  /** Everything erasePerson needs but the request. */
  readonly erasure: Omit<ErasureOptions, 'log'>;
  /** Sends a follow-up request (the same person) after `delaySeconds`. */
  readonly followUp: (body: string, delaySeconds: number) => Promise<void>;
  readonly followUpSeconds: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export type EraseHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export function createEraseHandler(deps: EraseDeps): EraseHandler {
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  return async (event) => {
    const failures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      let request: ErasureRequest;
      let pass = 0;
      try {
        request = parseErasureRequest(record.body);
        pass = Number((JSON.parse(record.body) as { pass?: unknown }).pass ?? 0) || 0;
      } catch (err) {
        // A malformed request cannot succeed later: it is logged (without its body) and not retried.
        logger.error('not an erasure request; dropped', { messageId: record.messageId, error: (err as Error).message });
        metrics.addMetric(ERASE_METRICS.failed, MetricUnit.Count, 1);
        continue;
      }
      try {
        const report: ErasureReport = await erasePerson(request, { ...deps.erasure, log: (line) => logger.info(line, { messageId: record.messageId }) });
        const rows = Object.values(report.lake).reduce((n, z) => n + z.rows_removed, 0);
        metrics.addMetric(ERASE_METRICS.erasures, MetricUnit.Count, 1);
        metrics.addMetric(ERASE_METRICS.rowsRemoved, MetricUnit.Count, rows);
        logger.info('erasure done', { messageId: record.messageId, pass, erasureId: report.erasure_id, subjectHash: report.subject_hash, audit: report.auditLocation });
        if (pass < FOLLOW_UP_PASSES) {
          const body = JSON.stringify({ ...JSON.parse(erasureRequestBody(request)), pass: pass + 1 });
          await deps.followUp(body, deps.followUpSeconds);
        }
      } catch (err) {
        logger.error('erasure failed; the request comes back after the visibility timeout', { messageId: record.messageId, error: err as Error });
        metrics.addMetric(ERASE_METRICS.failed, MetricUnit.Count, 1);
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    metrics.publishStoredMetrics();
    return { batchItemFailures: failures };
  };
}

function fromConfig(config: EraseConfig): EraseDeps {
  const s3 = s3Client();
  return {
    erasure: {
      store: new DynamoPersonStore({ tableName: config.profileTable, ledgerTableName: config.ledgerTable, client: documentClient() }),
      lake: new AthenaLakeErasure({
        athena: athenaClient(),
        s3,
        workGroup: config.workGroup,
        database: config.database,
        buckets: { raw: config.rawBucket, curated: config.curatedBucket, quarantine: config.quarantineBucket, athenaResults: config.athenaResultsBucket },
      }),
      audit: new S3AuditLog(s3, config.auditBucket),
      tombstoneHours: config.tombstoneHours,
    },
    followUp: async (body, delaySeconds) => {
      await sendErasureRequest(config.queueUrl, body, delaySeconds);
    },
    followUpSeconds: config.followUpSeconds,
  };
}

let deployed: EraseHandler | undefined;

export const handler: EraseHandler = (event) => {
  deployed ??= createEraseHandler(fromConfig(eraseConfigFromEnv()));
  return deployed(event);
};
