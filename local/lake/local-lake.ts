/**
 * The lake on the local disk, in exactly the deployed layout: one folder per zone bucket, object keys as
 * Firehose and the validation function write them (core/lake/layout.ts), Parquet with the catalog's
 * columns. It is the Firehose stand-in's sink in the local runtime and the data the DuckDB query runner reads.
 *
 *   <root>/raw/events/dt=YYYY-MM-DD/hour=HH/<stream>-1-<time>-<id>.gz      gzip, one line per record (raw-framing), by arrival time
 *   <root>/curated/events/dt=YYYY-MM-DD/hour=HH/<stream>-1-<time>-<id>.parquet   by event time
 *   <root>/quarantine/quarantine/dt=YYYY-MM-DD/hour=HH/<shard>-<first>-<last>.jsonl
 *   <root>/curated/profile-exports/snapshot=YYYY-MM-DD/AWSDynamoDB/<export id>/data/<id>.json.gz
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { CURATED_COLUMNS, profileExportPrefix } from '../../core/lake/catalog';
import { ZONE_PREFIX, eventTimePartition, hourPartition, partitionPath, type HourPartition } from '../../core/lake/layout';
import { rawObjectBody, readRawRecords } from '../../core/lake/raw-framing';
import { hiveToDuckDbType } from './duckdb-types';
import { PlatformError } from '../../core/errors';

/** The zone buckets, as folders under the lake root. */
export type LocalZone = 'raw' | 'curated' | 'quarantine';
export const LOCAL_ZONES: readonly LocalZone[] = ['raw', 'curated', 'quarantine'];

/** One record of the raw stream as Firehose receives it. */
export interface RawRecord {
  /** The record's bytes exactly as the producer sent them. */
  readonly data: Uint8Array | string;
  /** When the record reached the stream (Firehose partitions raw by this), epoch ms. */
  readonly arrivalMs: number;
}

/** One line of a quarantine object, as the validation function writes it. */
export interface QuarantineRecord {
  readonly reason: string;
  readonly errors: readonly { path: string; rule: string; message: string }[];
  readonly payload_base64: string;
  readonly payload_bytes: number;
  readonly payload_truncated: boolean;
  readonly shard_id: string;
  readonly sequence_number: string;
  readonly arrival_time: string;
  readonly validated_at: string;
  readonly validator_version: string;
  readonly contract_version: string;
}

/** The profile attributes the reconciliation reads from a DynamoDB export. */
export interface ProfileSnapshotItem {
  readonly user_id: string;
  /** Earliest event time of the profile, epoch ms. */
  readonly first_seen?: number;
  /** event_type -> lifetime count. */
  readonly counts: Readonly<Record<string, number>>;
}

export interface WriteOptions {
  /** Delivery stream name at the start of object names. @default 'local' */
  readonly streamName?: string;
  /** Time in the object name (Firehose uses the buffer's flush time), epoch ms. @default Date.now() */
  readonly writtenAtMs?: number;
}

/** `<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>`: Firehose's object name pattern. */
function objectName(o: WriteOptions): string {
  const iso = new Date(o.writtenAtMs ?? Date.now()).toISOString();
  const stamp = `${iso.slice(0, 10)}-${iso.slice(11, 13)}-${iso.slice(14, 16)}-${iso.slice(17, 19)}`;
  return `${o.streamName ?? 'local'}-1-${stamp}-${randomUUID()}`;
}

function groupBy<T>(items: readonly T[], key: (t: T) => HourPartition): Map<string, { partition: HourPartition; items: T[] }> {
  const groups = new Map<string, { partition: HourPartition; items: T[] }>();
  for (const item of items) {
    const p = key(item);
    const k = partitionPath(p);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { partition: p, items: [] }));
    g.items.push(item);
  }
  return groups;
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * The JSON line DuckDB converts for one event. `properties` is a map of strings in the catalog; Firehose's Hive
 * JSON deserializer fills a string column with a number's JSON text, which on the validated stream is always
 * JavaScript's shortest form (the validator forwards nothing else), so each number becomes String(n) here too
 * (DuckDB's own double-to-text differs: 1e-07 for 1e-7). Booleans become "true" / "false" either way.
 */
function curatedJson(event: BehaviouralEvent): string {
  const p = event.properties;
  if (p === undefined) return JSON.stringify(event);
  const asText: Record<string, string> = {};
  for (const k in p) asText[k] = String(p[k]);
  return JSON.stringify({ ...event, properties: asText });
}

/** A local lake rooted at a folder. DuckDB runs in process for Parquet; no network, no extensions to download. */
export class LocalLake {
  private constructor(
    readonly root: string,
    private readonly db: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(root: string): Promise<LocalLake> {
    await Promise.all(LOCAL_ZONES.map((z) => mkdir(join(root, z), { recursive: true })));
    const db = await DuckDBInstance.create(':memory:');
    return new LocalLake(root, db, await db.connect());
  }

  /** Folder standing in for a zone's bucket. */
  zoneDir(zone: LocalZone): string {
    return join(this.root, zone);
  }

  /** Path of an object. */
  pathOf(zone: LocalZone, key: string): string {
    return join(this.zoneDir(zone), ...key.split('/'));
  }

  /**
   * Raw zone, as the raw Firehose delivers: records grouped by arrival hour, one gzip object per hour,
   * one line per record whatever it holds (core/lake/raw-framing.ts, the deployed stream's
   * transformation). Returns the keys written.
   */
  async writeRaw(records: readonly RawRecord[], options: WriteOptions = {}): Promise<string[]> {
    const keys: string[] = [];
    for (const { partition, items } of groupBy(records, (r) => hourPartition(r.arrivalMs)).values()) {
      const body = rawObjectBody(items.map((r) => (typeof r.data === 'string' ? Buffer.from(r.data) : r.data)));
      const key = `${ZONE_PREFIX.raw}${partitionPath(partition)}${objectName(options)}.gz`;
      await this.put('raw', key, gzipSync(body));
      keys.push(key);
    }
    return keys;
  }

  /**
   * Curated zone, as the curated Firehose delivers: validated events grouped by the hour of their own
   * event_time (dynamic partitioning), one Snappy Parquet object per partition with the catalog's columns.
   * An object appears whole or not at all: it is written beside the lake and moved into place, so a
   * conversion that fails leaves nothing behind (CuratedConversionError names the partition).
   */
  async writeCurated(events: readonly BehaviouralEvent[], options: WriteOptions = {}): Promise<string[]> {
    const keys: string[] = [];
    for (const { partition, items } of groupBy(events, (e) => eventTimePartition(e.event_time)).values()) {
      const key = `${ZONE_PREFIX.curated}${partitionPath(partition)}${objectName(options)}.parquet`;
      const staged = await this.convertCurated(items);
      const path = this.pathOf('curated', key);
      await mkdir(dirname(path), { recursive: true });
      await rename(staged, path);
      keys.push(key);
    }
    return keys;
  }

  /**
   * Why these events cannot be converted to the curated Parquet (the error DuckDB gives), or undefined when
   * they can. Nothing is written to the lake.
   */
  async curatedConversionError(events: readonly BehaviouralEvent[]): Promise<string | undefined> {
    try {
      await rm(await this.convertCurated(events), { force: true });
      return undefined;
    } catch (err) {
      if (err instanceof CuratedConversionError) return err.message;
      throw err;
    }
  }

  /** Converts events to a Parquet file in the staging folder; returns its path. */
  private async convertCurated(events: readonly BehaviouralEvent[]): Promise<string> {
    const staging = join(this.root, '.staging');
    await mkdir(staging, { recursive: true });
    const columns = CURATED_COLUMNS.map((c) => `${sqlString(c.name)}: ${sqlString(c.name === 'event_time' ? 'VARCHAR' : hiveToDuckDbType(c.type))}`).join(', ');
    // event_time is canonical UTC ('YYYY-MM-DDTHH:mm:ss.sssZ'); Parquet stores it as a UTC timestamp.
    const select = CURATED_COLUMNS.map((c) =>
      c.name === 'event_time' ? `CAST(replace(replace(event_time, 'T', ' '), 'Z', '') AS TIMESTAMP) AS event_time` : `"${c.name}"`,
    ).join(', ');
    const id = randomUUID();
    const input = join(staging, `${id}.jsonl`);
    const output = join(staging, `${id}.parquet`);
    await writeFile(input, events.map(curatedJson).join('\n') + '\n');
    try {
      await this.connection.run(
        `COPY (SELECT ${select} FROM read_json(${sqlString(input)}, format = 'newline_delimited', columns = {${columns}})) ` +
          `TO ${sqlString(output)} (FORMAT parquet, COMPRESSION snappy)`,
      );
      return output;
    } catch (err) {
      await rm(output, { force: true });
      throw new CuratedConversionError((err as Error).message);
    } finally {
      await rm(input, { force: true });
    }
  }

  /** Quarantine zone: one JSON-lines object at `key` (use quarantineObjectKey), as the validation function writes. */
  async writeQuarantine(key: string, records: readonly QuarantineRecord[]): Promise<string> {
    await this.put('quarantine', key, Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    return key;
  }

  /**
   * A DynamoDB export of the profile table (DYNAMODB_JSON, gzip) under `profile-exports/snapshot=<day>/`, with
   * the files a real export writes next to the data: `_started` at once, the manifests (and their checksums)
   * when it completes. `complete: false` leaves an export as a failed or running one looks: no manifests.
   */
  async writeProfileExport(
    snapshotDay: string,
    items: readonly ProfileSnapshotItem[],
    exportId = `${Date.now()}-${randomUUID().slice(0, 8)}`,
    options: { complete?: boolean } = {},
  ): Promise<string[]> {
    const base = `${profileExportPrefix(snapshotDay)}AWSDynamoDB/${exportId}/`;
    const lines = items.map((p) =>
      JSON.stringify({
        Item: {
          user_id: { S: p.user_id },
          ...(p.first_seen !== undefined ? { first_seen: { N: String(p.first_seen) } } : {}),
          counts: { M: Object.fromEntries(Object.entries(p.counts).map(([k, v]) => [k, { N: String(v) }])) },
        },
      }),
    );
    await this.put('curated', `${base}_started`, Buffer.alloc(0));
    const dataKey = `${base}data/${randomUUID()}.json.gz`;
    await this.put('curated', dataKey, gzipSync(Buffer.from(lines.join('\n') + '\n')));
    if (options.complete === false) return [dataKey];
    const summaryKey = `${base}manifest-summary.json`;
    await this.put('curated', summaryKey, Buffer.from(JSON.stringify({ version: '2020-06-30', exportArn: `local/${exportId}`, itemCount: items.length, outputFormat: 'DYNAMODB_JSON' }) + '\n'));
    const filesKey = `${base}manifest-files.json`;
    await this.put('curated', filesKey, Buffer.from(JSON.stringify({ itemCount: items.length, dataFileS3Key: dataKey }) + '\n'));
    return [dataKey, summaryKey, filesKey];
  }

  /** Keys of a zone under a prefix, sorted. */
  async list(zone: LocalZone, prefix = ''): Promise<string[]> {
    const dir = this.zoneDir(zone);
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  /** An object's bytes as stored. */
  async read(zone: LocalZone, key: string): Promise<Buffer> {
    return readFile(this.pathOf(zone, key));
  }

  /** The records of a raw-zone object, byte for byte as they were sent. */
  async readRawRecords(key: string): Promise<Buffer[]> {
    return readRawRecords(gunzipSync(await this.read('raw', key)));
  }

  /** An object's lines, decompressed when the key ends in `.gz`. */
  async readLines(zone: LocalZone, key: string): Promise<string[]> {
    const bytes = await this.read(zone, key);
    const text = (key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
    return text.split('\n').filter((l) => l.length > 0);
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.db.closeSync();
  }

  /** Writes an object whole or not at all (beside the lake, then moved into place). */
  async put(zone: LocalZone, key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(zone, key);
    const staging = join(this.root, '.staging');
    await Promise.all([mkdir(dirname(path), { recursive: true }), mkdir(staging, { recursive: true })]);
    const staged = join(staging, randomUUID());
    try {
      await writeFile(staged, body);
      await rename(staged, path);
    } catch (err) {
      await rm(staged, { force: true });
      throw err;
    }
  }
}

/** DuckDB could not convert the events to the curated Parquet (the message is DuckDB's). */
export class CuratedConversionError extends PlatformError {
  override name = 'CuratedConversionError';
}
