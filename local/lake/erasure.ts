/**
 * The lake side of an erasure on the local runtime: DuckDB finds the objects that hold the person's rows
 * (its `filename` column standing in for Athena's "$path"), and each is rewritten without them in the same
 * format, on disk (the mirror DuckDB reads) and in the S3 emulator's bucket under the same key.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { S3Client } from '@aws-sdk/client-s3';
import { PROFILE_EXPORT_PREFIX } from '../../core/lake/catalog';
import { ZONE_PREFIX } from '../../core/lake/layout';
import type { ErasureZone, LakeErasurePort } from '../../core/privacy/erasure';
import { rewriteLineObject } from '../../core/privacy/rewrite';
import type { SubjectMatcher } from '../../core/privacy/subject';
import { S3LakeObjects } from '../../adapters/s3/lake-objects';
import type { LocalZone } from './local-lake';

export interface LocalLakeErasureOptions {
  /** The local lake's root (LocalRuntime.lakeDir): raw/, curated/, quarantine/. */
  readonly root: string;
  /** The zones' buckets in the S3 emulator, when it runs: each rewritten object is replaced there too. */
  readonly buckets?: { readonly raw: string; readonly curated: string; readonly quarantine: string };
  readonly s3?: S3Client;
}

const WHERE: Record<Exclude<ErasureZone, 'athenaResults'>, { dir: LocalZone; prefix: string }> = {
  raw: { dir: 'raw', prefix: ZONE_PREFIX.raw },
  curated: { dir: 'curated', prefix: ZONE_PREFIX.curated },
  quarantine: { dir: 'quarantine', prefix: ZONE_PREFIX.quarantine },
  profileExports: { dir: 'curated', prefix: PROFILE_EXPORT_PREFIX },
};

const sql = (s: string) => `'${s.replace(/'/g, "''")}'`;

export class LocalLakeErasure implements LakeErasurePort {
  /** The local runtime has no Athena: query results are not kept anywhere. */
  readonly zones: readonly ErasureZone[] = ['raw', 'curated', 'quarantine', 'profileExports'];
  private readonly objects?: S3LakeObjects;

  private constructor(
    private readonly options: LocalLakeErasureOptions,
    private readonly db: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {
    if (options.s3 && options.buckets) this.objects = new S3LakeObjects(options.s3);
  }

  static async open(options: LocalLakeErasureOptions): Promise<LocalLakeErasure> {
    const db = await DuckDBInstance.create(':memory:');
    return new LocalLakeErasure(options, db, await db.connect());
  }

  close(): void {
    this.connection.closeSync();
    this.db.closeSync();
  }

  async find(zone: ErasureZone, matcher: SubjectMatcher): Promise<string[]> {
    if (zone === 'athenaResults') return [];
    const { dir, prefix } = WHERE[zone];
    const base = join(this.options.root, dir, ...prefix.split('/').filter(Boolean));
    if (!(await hasFiles(base))) return [];
    const subject = matcher.subject;
    const quoted = [...(subject.userId !== undefined ? [subject.userId] : []), ...subject.anonymousIds].map((id) => JSON.stringify(id));
    const mentions = (expr: string) => quoted.map((q) => `contains(${expr}, ${sql(q)})`).join(' OR ') || 'false';
    const lines = (glob: string, compression: string) =>
      `read_csv(${sql(glob)}, columns = {'line': 'VARCHAR'}, delim = '\x1f', quote = '', escape = '', header = false, compression = ${sql(compression)}, filename = true, hive_partitioning = false)`;
    let query: string;
    if (zone === 'curated') {
      const users = subject.userId !== undefined ? `user_id = ${sql(subject.userId)}` : 'false';
      const anonymous = subject.anonymousIds.length ? `(user_id IS NULL AND anonymous_id IN (${subject.anonymousIds.map(sql).join(', ')}))` : 'false';
      query = `SELECT DISTINCT filename FROM read_parquet(${sql(join(base, '*', '*', '*.parquet'))}, filename = true, union_by_name = true, hive_partitioning = false) WHERE ${users} OR ${anonymous}`;
    } else if (zone === 'raw') {
      // A record framed as base64 (0x1E line) cannot be searched as text: its object is looked at in full.
      query = `SELECT DISTINCT filename FROM ${lines(join(base, '*', '*', '*.gz'), 'gzip')} WHERE ${mentions('line')} OR starts_with(line, chr(30))`;
    } else if (zone === 'quarantine') {
      query =
        `SELECT DISTINCT filename FROM ${lines(join(base, '*', '*', '*.jsonl'), 'none')} ` +
        `WHERE ${mentions('line')} OR ${mentions(`CAST(from_base64(json_extract_string(line, '$.payload_base64')) AS VARCHAR)`)}`;
    } else {
      query = `SELECT DISTINCT filename FROM ${lines(join(base, '**', '*.json.gz'), 'gzip')} WHERE ${mentions('line')}`;
    }
    const rows = (await this.connection.runAndReadAll(query)).getRowObjectsJson() as { filename: string }[];
    return rows.map((r) => relative(join(this.options.root, dir), r.filename).split(sep).join('/')).sort();
  }

  async rewrite(zone: ErasureZone, key: string, matcher: SubjectMatcher): Promise<{ removed: number; deleted: boolean }> {
    if (zone === 'athenaResults') return { removed: 0, deleted: false };
    const { dir } = WHERE[zone];
    const path = join(this.options.root, dir, ...key.split('/'));
    const out = zone === 'curated' ? await this.rewriteParquet(path, matcher) : rewriteLineObject(zone, await readFile(path), matcher);
    if (out.removed === 0) return { removed: 0, deleted: false };
    // The S3 copy first: should this stop midway, the mirror still shows the person and a rerun finds them.
    const bucket = this.options.buckets?.[dir];
    if (this.objects && bucket && (await this.objects.exists(bucket, key))) {
      await this.objects.replace(bucket, key, out.body, zone === 'curated' ? 'application/vnd.apache.parquet' : undefined);
    }
    if (out.body === null) await rm(path, { force: true });
    else await replaceFile(path, out.body);
    return { removed: out.removed, deleted: out.body === null };
  }

  /** The Parquet object without the person's rows, written by DuckDB with the same columns and compression. */
  private async rewriteParquet(path: string, matcher: SubjectMatcher): Promise<{ body: Buffer | null; removed: number }> {
    const subject = matcher.subject;
    const any =
      [
        ...(subject.userId !== undefined ? [`user_id = ${sql(subject.userId)}`] : []),
        ...(subject.anonymousIds.length ? [`(user_id IS NULL AND anonymous_id IN (${subject.anonymousIds.map(sql).join(', ')}))`] : []),
      ].join(' OR ') || 'false';
    // A comparison with NULL is NULL: every row is either theirs or not.
    const theirs = `coalesce((${any}), false)`;
    const source = `read_parquet(${sql(path)}, hive_partitioning = false)`;
    const counts = (await this.connection.runAndReadAll(`SELECT count(*) FILTER (WHERE ${theirs}) AS removed, count(*) AS total FROM ${source}`)).getRowObjectsJson()[0] as {
      removed: string | number;
      total: string | number;
    };
    const removed = Number(counts.removed);
    if (removed === 0) return { body: Buffer.alloc(0), removed: 0 };
    if (removed === Number(counts.total)) return { body: null, removed };
    await mkdir(join(this.options.root, '.staging'), { recursive: true });
    const staged = join(this.options.root, '.staging', `erasure-${randomUUID()}.parquet`);
    try {
      await this.connection.run(`COPY (SELECT * FROM ${source} WHERE NOT ${theirs}) TO ${sql(staged)} (FORMAT parquet, COMPRESSION snappy)`);
      return { body: await readFile(staged), removed };
    } finally {
      await rm(staged, { force: true });
    }
  }
}

async function hasFiles(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.some((e) => e.isFile());
}

/** Writes beside the file and renames over it: the file is the old one or the new one, never a part. */
async function replaceFile(path: string, body: Buffer): Promise<void> {
  const staged = `${path}.erasure-${randomUUID()}`;
  await writeFile(staged, body);
  await rename(staged, path);
}
