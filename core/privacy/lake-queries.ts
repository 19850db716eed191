/**
 * The Athena SQL of an erasure in AWS (Trino dialect): which objects of a zone hold the person's rows
 * ("$path", the object a row was read from), how many rows of one object are theirs, and the UNLOAD that writes
 * the object again without them (same columns, Parquet with Snappy, as the curated delivery writes).
 * Ids are validated against the contract's pattern before they reach SQL, and quoted besides.
 */
import { CURATED_COLUMNS, LAKE_TABLES } from '../lake/catalog';
import { subjectIds, subjectKeys, type Subject } from './subject';

const ID = /^[A-Za-z0-9#][A-Za-z0-9._:@#-]{0,133}$/;

/** A SQL string literal of an id (ids are checked: anything else is refused, not escaped). */
export function sqlId(id: string): string {
  if (!ID.test(id)) throw new Error(`not an id: ${JSON.stringify(id)}`);
  return `'${id}'`;
}

const list = (ids: readonly string[]) => ids.map(sqlId).join(', ');

/** The person's rows of an event table (curated or raw): their user id, or no user id and one of their anonymous ids. */
export function eventRowsOf(subject: Subject): string {
  const parts: string[] = [];
  if (subject.userId !== undefined) parts.push(`user_id = ${sqlId(subject.userId)}`);
  if (subject.anonymousIds.length > 0) parts.push(`(user_id IS NULL AND anonymous_id IN (${list(subject.anonymousIds)}))`);
  return parts.length ? `(${parts.join(' OR ')})` : 'false';
}

/** Whether a text column mentions one of the person's ids as a JSON string. */
function mentions(column: string, subject: Subject): string {
  return subjectIds(subject)
    .map((id) => `strpos(${column}, '"${sqlId(id).slice(1, -1)}"') > 0`)
    .join(' OR ');
}

/** The objects of a zone that may hold the person's rows (a superset: the rewrite decides row by row). */
export function findObjectsSql(zone: 'raw' | 'curated' | 'quarantine' | 'profileExports', database: string, subject: Subject): string {
  const table = (name: string) => `"${database}"."${name}"`;
  switch (zone) {
    case 'curated':
      return `SELECT DISTINCT "$path" AS path FROM ${table(LAKE_TABLES.curated)} WHERE ${eventRowsOf(subject)}`;
    case 'raw':
      // A line that is not a JSON event (a record framed as base64, or not JSON) reads as a row without an
      // event_id: its object is looked at in full.
      return `SELECT DISTINCT "$path" AS path FROM ${table(LAKE_TABLES.raw)} WHERE ${eventRowsOf(subject)} OR event_id IS NULL`;
    case 'quarantine':
      return (
        `SELECT DISTINCT "$path" AS path FROM ${table(LAKE_TABLES.quarantine)} ` +
        `WHERE partition_key IN (${list(subjectIds(subject))}) OR ${mentions(`from_utf8(from_base64(payload_base64))`, subject)}`
      );
    case 'profileExports':
      return `SELECT DISTINCT "$path" AS path FROM ${table(LAKE_TABLES.profileExports)} WHERE item.user_id.s IN (${list(subjectKeys(subject))})`;
  }
}

/** Splits `s3://bucket/key` into its bucket and key. */
export function parseS3Path(path: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(path);
  if (!m) throw new Error(`not an S3 path: ${path}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** The hour partition of a curated key (events/dt=YYYY-MM-DD/hour=HH/...), used to prune the scan. */
function partitionOf(key: string): { dt: string; hour: string } {
  const m = /dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(key);
  if (!m) throw new Error(`not a curated partition key: ${key}`);
  return { dt: m[1]!, hour: m[2]! };
}

/** Rows of one curated object that are the person's, and all its rows. */
export function countCuratedRowsSql(database: string, bucket: string, key: string, subject: Subject): string {
  const { dt, hour } = partitionOf(key);
  return (
    `SELECT count_if(${eventRowsOf(subject)}) AS removed, count(*) AS total FROM "${database}"."${LAKE_TABLES.curated}" ` +
    `WHERE dt = '${dt}' AND hour = '${hour}' AND "$path" = '${s3Literal(bucket, key)}'`
  );
}

/** Writes one curated object's rows but the person's to `stagingPrefix`, as Parquet with Snappy. */
export function unloadCuratedSql(database: string, bucket: string, key: string, subject: Subject, stagingUri: string): string {
  const { dt, hour } = partitionOf(key);
  const columns = CURATED_COLUMNS.map((c) => `"${c.name}"`).join(', ');
  return (
    `UNLOAD (SELECT ${columns} FROM "${database}"."${LAKE_TABLES.curated}" ` +
    `WHERE dt = '${dt}' AND hour = '${hour}' AND "$path" = '${s3Literal(bucket, key)}' AND NOT coalesce(${eventRowsOf(subject)}, false)) ` +
    `TO '${stagingUri}' WITH (format = 'PARQUET', compression = 'SNAPPY')`
  );
}

function s3Literal(bucket: string, key: string): string {
  const uri = `s3://${bucket}/${key}`;
  if (uri.includes("'")) throw new Error(`an S3 path with a quote: ${uri}`);
  return uri;
}
