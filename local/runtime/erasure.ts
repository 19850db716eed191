/**
 * Erasure on the local runtime: the same core steps as the deployed erasure function (core/privacy/erasure.ts)
 * against the runtime's DynamoDB and S3 emulators (endpoints from the standard AWS variables) and its lake
 * mirror, which DuckDB searches. The audit log is a JSON-lines file in the data folder.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { erasePerson, type AuditEntry, type AuditPort, type ErasureReport, type ErasureRequest } from '../../core/privacy/erasure';
import { DynamoPersonStore } from '../../adapters/dynamodb/person-store';
import { documentClient } from '../../adapters/dynamodb/document-client';
import { s3Client } from '../../adapters/aws-clients';
import { stageLedgerRetentionHours, type StageConfig } from '../../lib/config/stage-config';
import { LocalLakeErasure } from '../lake/erasure';
import type { StageResourceNames } from './resources';

/** The audit log of the local runtime: one JSON line per erasure. */
export class FileAuditLog implements AuditPort {
  constructor(readonly path: string) {}

  async record(entry: AuditEntry): Promise<string> {
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, JSON.stringify(entry) + '\n');
    return `${this.path} (erasure ${entry.erasure_id})`;
  }
}

export interface LocalErasureOptions {
  readonly stage: StageConfig;
  readonly names: StageResourceNames;
  /** The runtime's data folder (`--data-dir`): the lake mirror is its lake/ folder, the audit log goes beside it. */
  readonly dataDir: string;
  readonly request: ErasureRequest;
  readonly log?: (line: string) => void;
  readonly now?: () => number;
}

export const LOCAL_AUDIT_LOG = 'erasure-audit.jsonl';

export async function eraseOnLocalRuntime(options: LocalErasureOptions): Promise<ErasureReport> {
  const { names } = options;
  const store = new DynamoPersonStore({ tableName: names.profileTable, ledgerTableName: names.ledgerTable, client: documentClient() });
  const lake = await LocalLakeErasure.open({
    root: join(options.dataDir, 'lake'),
    buckets: { raw: names.rawBucket, curated: names.curatedBucket, quarantine: names.quarantineBucket },
    s3: s3Client(),
  });
  try {
    return await erasePerson(options.request, {
      store,
      lake,
      audit: new FileAuditLog(join(options.dataDir, LOCAL_AUDIT_LOG)),
      tombstoneHours: stageLedgerRetentionHours(options.stage),
      ...(options.log ? { log: options.log } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
  } finally {
    lake.close();
  }
}
