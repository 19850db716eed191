/**
 * Rewriting one lake object without a person's rows, in the same format and layout: pure functions from the
 * object's bytes to the new bytes (or to "delete the object"), and how many rows went. The adapters do the
 * reading and the atomic replacement (a PUT of the same key: readers see the old object or the new one).
 *
 *   raw        gzip, one record per line as received (core/lake/raw-framing.ts)
 *   quarantine JSON lines of bad rows; the payload is base64 of the record as received
 *   exports    DynamoDB export data files: gzip JSON lines {"Item": {...}} (profile-exports/)
 *   results    Athena query results (CSV and its metadata): deleted when they mention the person; a query can
 *              be run again
 * The curated zone is Parquet and is rewritten by the lake's own engine (DuckDB locally, Athena in AWS).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { rawObjectBody, readRawRecords } from '../lake/raw-framing';
import type { SubjectMatcher } from './subject';

export type LineZone = 'raw' | 'quarantine' | 'profileExports';

export interface Rewritten {
  /** The new bytes, or null when no row is left (the object is deleted). */
  readonly body: Buffer | null;
  /** Rows (records, lines, items) removed. */
  readonly removed: number;
  /** Rows kept. */
  readonly kept: number;
}

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** An object of a line zone without the person's rows; `removed: 0` means leave it as it is. */
export function rewriteLineObject(zone: LineZone, body: Uint8Array, matcher: SubjectMatcher): Rewritten {
  const gz = isGzip(body);
  const plain = gz ? gunzipSync(body) : Buffer.from(body);
  if (zone === 'raw') {
    const records = readRawRecords(plain);
    const kept = records.filter((r) => !matcher.isRecord(r));
    const removed = records.length - kept.length;
    if (removed === 0) return { body: Buffer.from(body), removed, kept: kept.length };
    if (kept.length === 0) return { body: null, removed, kept: 0 };
    const next = rawObjectBody(kept);
    return { body: gz ? gzipSync(next) : next, removed, kept: kept.length };
  }
  const text = plain.toString('utf8');
  const lines = text.split('\n');
  const trailing = lines.length > 0 && lines[lines.length - 1] === '';
  if (trailing) lines.pop();
  const isTheirs = zone === 'quarantine' ? (l: string) => quarantineLineIsTheirs(l, matcher) : (l: string) => exportLineIsTheirs(l, matcher);
  const kept = lines.filter((l) => l.length === 0 || !isTheirs(l));
  const removed = lines.length - kept.length;
  if (removed === 0) return { body: Buffer.from(body), removed, kept: kept.length };
  if (kept.every((l) => l.length === 0)) return { body: null, removed, kept: 0 };
  const next = Buffer.from(kept.join('\n') + (trailing ? '\n' : ''), 'utf8');
  return { body: gz ? gzipSync(next) : next, removed, kept: kept.length };
}

function quarantineLineIsTheirs(line: string, matcher: SubjectMatcher): boolean {
  let row: { partition_key?: unknown; payload_base64?: unknown };
  try {
    row = JSON.parse(line) as typeof row;
  } catch {
    return matcher.mentions(line);
  }
  if (typeof row.payload_base64 === 'string') {
    const payload = Buffer.from(row.payload_base64, 'base64');
    // An event that says whose it is decides by that; anything else by its text and its partition key.
    const whose = matcher.ownerOf(payload);
    if (whose !== undefined) return whose;
    if (matcher.isRecord(payload)) return true;
  }
  // The producer's partition key is the person's id (an event too broken to say whose it is).
  return typeof row.partition_key === 'string' && matcher.mentions(JSON.stringify(row.partition_key));
}

function exportLineIsTheirs(line: string, matcher: SubjectMatcher): boolean {
  try {
    const key = (JSON.parse(line) as { Item?: { user_id?: { S?: unknown } } }).Item?.user_id?.S;
    return typeof key === 'string' && matcher.isKey(key);
  } catch {
    return false;
  }
}

/** Whether an Athena result object (CSV, or its .metadata) mentions the person: it is deleted. */
export function resultMentions(body: Uint8Array, matcher: SubjectMatcher, ids: readonly string[]): boolean {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  // CSV quotes every value: "u-1" (the JSON form), or an id inside a longer field.
  return matcher.mentions(text) || ids.some((id) => text.includes(id));
}
