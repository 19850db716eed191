/**
 * The curated Firehose's data transformation: the gate of the curated lake (core/privacy/curation.ts). An
 * event whose producer withheld analytics consent, or whose subject was erased, comes back `Dropped` (counted
 * by reason); every other record comes back `Ok`, unchanged, and goes on to partitioning and Parquet.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { curationOf, ErasedSubjects, type CurationOutcome } from '../../core/privacy/curation';
import { DynamoTombstones } from '../../adapters/dynamodb/tombstones';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { curateConfigFromEnv } from './config';

export { CURATE_ENV, curateConfigFromEnv, type CurateConfig } from './config';

export const CURATE_METRICS = { dropped: 'RecordsDropped' } as const;

export interface CurateDeps {
  /** The hashes of the live tombstones. */
  readonly erased: () => Promise<ReadonlySet<string>>;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export type CurateHandler = (event: Pick<FirehoseTransformationEvent, 'records'> & Partial<FirehoseTransformationEvent>) => Promise<FirehoseTransformationResult>;

export function createCurateHandler(deps: CurateDeps): CurateHandler {
  const logger = deps.logger ?? new Logger();
  const metrics = deps.metrics ?? new Metrics();
  let gate: ErasedSubjects | undefined;
  return async (event) => {
    gate = ErasedSubjects.over(await deps.erased(), gate);
    const erased = gate;
    const dropped: Partial<Record<CurationOutcome, number>> = {};
    const records = event.records.map((r) => {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(r.data, 'base64').toString('utf8'));
      } catch {
        value = undefined;
      }
      const outcome = curationOf(value, erased);
      if (outcome === 'keep') return { recordId: r.recordId, result: 'Ok' as const, data: r.data };
      dropped[outcome] = (dropped[outcome] ?? 0) + 1;
      return { recordId: r.recordId, result: 'Dropped' as const, data: r.data };
    });
    for (const [reason, count] of Object.entries(dropped)) {
      const single = metrics.singleMetric();
      single.addDimension('reason', reason);
      single.addMetric(CURATE_METRICS.dropped, MetricUnit.Count, count);
    }
    if (Object.keys(dropped).length > 0) logger.info('records kept out of the curated lake', { records: event.records.length, dropped });
    return { records };
  };
}

let deployed: CurateHandler | undefined;

export const handler: CurateHandler = (event) => {
  if (!deployed) {
    const config = curateConfigFromEnv();
    const tombstones = new DynamoTombstones({ ledgerTableName: config.ledgerTableName, client: documentClient() });
    deployed = createCurateHandler({ erased: () => tombstones.hashes() });
  }
  return deployed(event);
};
