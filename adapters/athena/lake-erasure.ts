/**
 * The lake side of an erasure in AWS: Athena finds the objects that hold the person's rows ("$path"), the JSON
 * line zones are rewritten here (S3 GET, the pure rewrite, a PUT of the same key), the curated Parquet objects
 * are written again by Athena (UNLOAD of the object's other rows to a staging prefix of the results bucket,
 * then copied over the original key), and query results that mention the person are deleted. Every replaced
 * key loses its older versions (S3LakeObjects).
 */
import { randomUUID } from 'node:crypto';
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ErasureZone, LakeErasurePort } from '../../core/privacy/erasure';
import { countCuratedRowsSql, findObjectsSql, parseS3Path, unloadCuratedSql } from '../../core/privacy/lake-queries';
import { resultMentions, rewriteLineObject } from '../../core/privacy/rewrite';
import { subjectIds, type SubjectMatcher } from '../../core/privacy/subject';
import { S3LakeObjects } from '../s3/lake-objects';

export interface AthenaLakeErasureOptions {
  readonly athena: Pick<AthenaClient, 'send'>;
  readonly s3: S3Client;
  readonly workGroup: string;
  readonly database: string;
  readonly buckets: { readonly raw: string; readonly curated: string; readonly quarantine: string; readonly athenaResults: string };
  /** Waits between polls of a running query. @default 1 s */
  readonly pollMs?: number;
  /** Longest a query may run. @default 5 minutes */
  readonly queryTimeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Where UNLOAD writes the rows it keeps, in the results bucket (the curated zone never holds a partial file). */
export const ERASURE_STAGING_PREFIX = 'erasure-staging/';

export class AthenaLakeErasure implements LakeErasurePort {
  readonly zones: readonly ErasureZone[] = ['raw', 'curated', 'quarantine', 'profileExports', 'athenaResults'];
  private readonly objects: S3LakeObjects;

  constructor(private readonly options: AthenaLakeErasureOptions) {
    this.objects = new S3LakeObjects(options.s3);
  }

  private bucketOf(zone: ErasureZone): string {
    const b = this.options.buckets;
    return zone === 'raw' ? b.raw : zone === 'quarantine' ? b.quarantine : zone === 'athenaResults' ? b.athenaResults : b.curated;
  }

  async find(zone: ErasureZone, matcher: SubjectMatcher): Promise<string[]> {
    const bucket = this.bucketOf(zone);
    if (zone === 'athenaResults') return (await this.list(bucket, '')).filter((k) => !k.startsWith(ERASURE_STAGING_PREFIX));
    const rows = await this.query(findObjectsSql(zone, this.options.database, matcher.subject));
    return [...new Set(rows.map((r) => parseS3Path(r[0]!)).filter((p) => p.bucket === bucket).map((p) => p.key))].sort();
  }

  async rewrite(zone: ErasureZone, key: string, matcher: SubjectMatcher): Promise<{ removed: number; deleted: boolean }> {
    const bucket = this.bucketOf(zone);
    if (zone === 'curated') return this.rewriteCurated(bucket, key, matcher);
    const body = await this.objects.get(bucket, key);
    if (!body) return { removed: 0, deleted: false };
    if (zone === 'athenaResults') {
      if (!resultMentions(body, matcher, subjectIds(matcher.subject))) return { removed: 0, deleted: false };
      await this.objects.replace(bucket, key, null);
      return { removed: 1, deleted: true };
    }
    const out = rewriteLineObject(zone, body, matcher);
    if (out.removed === 0) return { removed: 0, deleted: false };
    await this.objects.replace(bucket, key, out.body);
    return { removed: out.removed, deleted: out.body === null };
  }

  private async rewriteCurated(bucket: string, key: string, matcher: SubjectMatcher): Promise<{ removed: number; deleted: boolean }> {
    const { database } = this.options;
    const [counts] = await this.query(countCuratedRowsSql(database, bucket, key, matcher.subject));
    const removed = Number(counts?.[0] ?? 0);
    const total = Number(counts?.[1] ?? 0);
    if (removed === 0) return { removed: 0, deleted: false };
    if (removed === total) {
      await this.objects.replace(bucket, key, null);
      return { removed, deleted: true };
    }
    const staging = `${ERASURE_STAGING_PREFIX}${randomUUID()}/`;
    const results = this.options.buckets.athenaResults;
    try {
      await this.query(unloadCuratedSql(database, bucket, key, matcher.subject, `s3://${results}/${staging}`));
      const parts = (await this.list(results, staging)).filter((k) => !k.endsWith('/'));
      if (parts.length === 0) throw new Error(`UNLOAD of ${key} wrote nothing although ${total - removed} row(s) stay`);
      // The first part replaces the object; further parts (large objects) go beside it in the same partition.
      for (const [i, part] of parts.entries()) {
        const bytes = await this.objects.get(results, part);
        if (!bytes) throw new Error(`staged part ${part} vanished`);
        const target = i === 0 ? key : key.replace(/(\.parquet)?$/, `-${i}.parquet`);
        await this.objects.replace(bucket, target, bytes, 'application/vnd.apache.parquet');
      }
      return { removed, deleted: false };
    } finally {
      for (const k of await this.list(results, staging)) await this.options.s3.send(new DeleteObjectCommand({ Bucket: results, Key: k }));
    }
  }

  private async list(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** Runs a query in the workgroup; returns its data rows (the header row left out). */
  async query(sql: string): Promise<string[][]> {
    const { athena, workGroup, database } = this.options;
    const sleep = this.options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const started = await athena.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: workGroup, QueryExecutionContext: { Database: database } }));
    const id = started.QueryExecutionId!;
    const deadline = Date.now() + (this.options.queryTimeoutMs ?? 300_000);
    for (;;) {
      const out = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = out.QueryExecution?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`Athena query ${id} ${state}: ${out.QueryExecution?.Status?.StateChangeReason ?? ''}`);
      if (Date.now() > deadline) throw new Error(`Athena query ${id} still ${state} after ${this.options.queryTimeoutMs ?? 300_000} ms`);
      await sleep(this.options.pollMs ?? 1_000);
    }
    if (/^\s*UNLOAD\b/i.test(sql)) return [];
    const rows: string[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
      for (const row of page.ResultSet?.Rows ?? []) {
        if (first) {
          first = false;
          continue;
        }
        rows.push((row.Data ?? []).map((d) => d.VarCharValue ?? ''));
      }
      token = page.NextToken;
    } while (token);
    return rows;
  }
}
