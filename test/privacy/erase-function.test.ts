/**
 * The deployed erasure function: its handler over SQS messages, and its lake adapter (Athena finds and
 * rewrites, S3 replaces) against the S3 emulator with a scripted Athena (no Athena emulator exists), which
 * records every query and plays UNLOAD by writing the staged part the way Athena does.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { rawObjectBody, readRawRecords } from '../../core/lake/raw-framing';
import type { AuditEntry, ErasureOptions } from '../../core/privacy/erasure';
import { SubjectMatcher } from '../../core/privacy/subject';
import { AthenaLakeErasure, ERASURE_STAGING_PREFIX } from '../../adapters/athena/lake-erasure';
import { s3Client } from '../../adapters/aws-clients';
import { createEraseHandler, FOLLOW_UP_PASSES } from '../../lambdas/erase/handler';
import { useEmulators } from '../support/emulators';

useEmulators({ s3: true });

const quiet = { logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'test', serviceName: 'erase' }) };
const sqs = (bodies: string[]): SQSEvent => ({ Records: bodies.map((body, i) => ({ messageId: `m-${i}`, body }) as never) });

function erasure(fail = false): { options: Omit<ErasureOptions, 'log'>; audit: AuditEntry[] } {
  const audit: AuditEntry[] = [];
  return {
    audit,
    options: {
      store: {
        links: async () => ['dev-1'],
        tombstone: async () => {
          if (fail) throw new Error('DynamoDB is down');
          return true;
        },
        deleteLedger: async () => 3,
      },
      lake: { zones: [], find: async () => [], rewrite: async () => ({ removed: 0, deleted: false }) },
      audit: { record: async (e) => (audit.push(e), 'memory') },
      tombstoneHours: 240,
    },
  };
}

describe('erase handler', () => {
  it('erases, records, and sends itself the follow-up passes over the lake, then stops', async () => {
    const { options, audit } = erasure();
    const sent: [string, number][] = [];
    const handler = createEraseHandler({ erasure: options, followUp: async (b, d) => void sent.push([b, d]), followUpSeconds: 900, ...quiet });
    expect(await handler(sqs(['{"user_id":"u-1"}']))).toEqual({ batchItemFailures: [] });
    expect(audit).toHaveLength(1);
    expect(sent).toEqual([['{"user_id":"u-1","pass":1}', 900]]);
    await handler(sqs([sent[0]![0]]));
    await handler(sqs([sent[1]![0]]));
    expect(sent.map(([b]) => JSON.parse(b).pass)).toEqual([1, 2]);
    expect(FOLLOW_UP_PASSES).toBe(2);
  });

  it('reports a failed erasure for retry, drops a malformed request without retrying it', async () => {
    const { options } = erasure(true);
    const handler = createEraseHandler({ erasure: options, followUp: async () => undefined, followUpSeconds: 900, ...quiet });
    expect(await handler(sqs(['not json', '{"user_id":"u-1"}']))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
  });
});

describe('Athena lake adapter', () => {
  it('finds by "$path", rewrites line zones in place, rewrites Parquet through UNLOAD and a staging prefix, deletes results that mention the person', async () => {
    const s3 = s3Client();
    const buckets = { raw: 'raw', curated: 'curated', quarantine: 'quarantine', athenaResults: 'results' };
    for (const b of Object.values(buckets)) await s3.send(new CreateBucketCommand({ Bucket: b }));
    const put = (Bucket: string, Key: string, Body: Buffer | string) => s3.send(new PutObjectCommand({ Bucket, Key, Body }));
    const get = async (Bucket: string, Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
    const list = async (Bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket }))).Contents ?? []).map((o) => o.Key!).sort();

    const rawKey = 'events/dt=2026-03-01/hour=14/raw-1.gz';
    await put('raw', rawKey, gzipSync(rawObjectBody([Buffer.from('{"user_id":"u-1"}'), Buffer.from('{"user_id":"u-2"}')])));
    const curatedKey = 'events/dt=2026-03-01/hour=14/cur-1.parquet';
    await put('curated', curatedKey, 'old parquet');
    await put('results', 'q1.csv', '"user_id"\n"u-1"\n');
    await put('results', 'q2.csv', '"user_id"\n"u-2"\n');

    const queries: string[] = [];
    const athena = {
      send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
        const name = command.constructor.name;
        if (name === 'StartQueryExecutionCommand') {
          const sql = command.input.QueryString as string;
          queries.push(sql);
          expect(command.input.WorkGroup).toBe('wg');
          const m = /TO 's3:\/\/results\/([^']+)'/.exec(sql);
          if (m) await put('results', `${m[1]}part-0.parquet`, 'new parquet');
          return { QueryExecutionId: `q${queries.length}` };
        }
        if (name === 'GetQueryExecutionCommand') return { QueryExecution: { Status: { State: 'SUCCEEDED' } } };
        const sql = queries[Number(String(command.input.QueryExecutionId).slice(1)) - 1]!;
        const rows = sql.includes('raw_events') ? [`s3://raw/${rawKey}`] : sql.includes('count_if') ? null : sql.includes('curated_events') ? [`s3://curated/${curatedKey}`, 's3://elsewhere/x'] : [];
        const data = rows === null ? [{ Data: [{ VarCharValue: 'removed' }, { VarCharValue: 'total' }] }, { Data: [{ VarCharValue: '1' }, { VarCharValue: '3' }] }] : [{ Data: [{ VarCharValue: 'path' }] }, ...rows.map((r) => ({ Data: [{ VarCharValue: r }] }))];
        return { ResultSet: { Rows: data } };
      },
    };
    const lake = new AthenaLakeErasure({ athena: athena as never, s3, workGroup: 'wg', database: 'db', buckets, sleep: async () => undefined });
    const matcher = new SubjectMatcher({ userId: 'u-1', anonymousIds: [] });

    expect(await lake.find('raw', matcher)).toEqual([rawKey]);
    expect(await lake.rewrite('raw', rawKey, matcher)).toEqual({ removed: 1, deleted: false });
    expect(readRawRecords(gunzipSync(await get('raw', rawKey))).map(String)).toEqual(['{"user_id":"u-2"}']);

    // Objects of other buckets in the answer are not the zone's.
    expect(await lake.find('curated', matcher)).toEqual([curatedKey]);
    expect(await lake.rewrite('curated', curatedKey, matcher)).toEqual({ removed: 1, deleted: false });
    expect((await get('curated', curatedKey)).toString()).toBe('new parquet');
    expect((await list('results')).some((k) => k.startsWith(ERASURE_STAGING_PREFIX))).toBe(false);
    expect(queries.some((q) => q.startsWith('UNLOAD ('))).toBe(true);

    expect(await lake.find('athenaResults', matcher)).toEqual(['q1.csv', 'q2.csv']);
    expect(await lake.rewrite('athenaResults', 'q1.csv', matcher)).toEqual({ removed: 1, deleted: true });
    expect(await lake.rewrite('athenaResults', 'q2.csv', matcher)).toEqual({ removed: 0, deleted: false });
    expect(await list('results')).toEqual(['q2.csv']);
  });
});
