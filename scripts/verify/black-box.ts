/**
 * What a user of the platform has, and nothing else: PutRecords to the raw stream, reads of the profile
 * table, listing and reading objects of the lake buckets. Endpoints and credentials come from the standard
 * AWS variables (AWS_ENDPOINT_URL[_SERVICE], AWS_REGION, AWS_ACCESS_KEY_ID, ...); resource names from:
 *
 *   PDP_RAW_STREAM, PDP_PROFILE_TABLE, PDP_RAW_BUCKET, PDP_CURATED_BUCKET, PDP_QUARANTINE_BUCKET
 *
 * so the same suite runs against the local runtime (which sets them) and against LocalStack after
 * `cdklocal deploy` (localstack/run-e2e.sh sets them from the stack outputs).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, type BatchGetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DuckDBInstance } from '@duckdb/node-api';
import { readRawRecords } from '../../core/lake/raw-framing';

export const NAME_VARIABLES = {
  rawStream: 'PDP_RAW_STREAM',
  profileTable: 'PDP_PROFILE_TABLE',
  rawBucket: 'PDP_RAW_BUCKET',
  curatedBucket: 'PDP_CURATED_BUCKET',
  quarantineBucket: 'PDP_QUARANTINE_BUCKET',
} as const;

export type Names = { [K in keyof typeof NAME_VARIABLES]: string };

export function namesFromEnv(env: NodeJS.ProcessEnv = process.env): Names {
  const missing = Object.values(NAME_VARIABLES).filter((v) => !env[v]);
  if (missing.length > 0) throw new Error(`the end-to-end suite needs ${missing.join(', ')} (see docs/local-and-testing.md, "End-to-end tests")`);
  return Object.fromEntries(Object.entries(NAME_VARIABLES).map(([k, v]) => [k, env[v]!])) as Names;
}

/** Plain SDK clients, built as a user would; the SDK itself reads the endpoint variables. */
export class BlackBox {
  readonly kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  readonly dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  readonly s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL) });

  constructor(readonly names: Names) {}

  /** PutRecords in calls of at most 500, retrying rejected entries; returns shard and sequence per record. */
  async put(records: readonly { data: Uint8Array; partitionKey: string }[]): Promise<{ shardId: string; sequenceNumber: string }[]> {
    const out: { shardId: string; sequenceNumber: string }[] = new Array(records.length);
    for (let start = 0; start < records.length; start += 500) {
      let pending = records.slice(start, start + 500).map((r, i) => ({ r, index: start + i }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`PutRecords kept rejecting ${pending.length} record(s)`);
        const res = await this.kinesis.send(
          new PutRecordsCommand({ StreamName: this.names.rawStream, Records: pending.map((p) => ({ Data: p.r.data, PartitionKey: p.r.partitionKey })) }),
        );
        const retry: typeof pending = [];
        res.Records!.forEach((entry, i) => {
          if (entry.ErrorCode) retry.push(pending[i]!);
          else out[pending[i]!.index] = { shardId: entry.ShardId!, sequenceNumber: entry.SequenceNumber! };
        });
        pending = retry;
        if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
    return out;
  }

  async profiles(userIds: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < userIds.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = userIds.slice(i, i + 100).map((user_id) => ({ user_id }));
      while (keys && keys.length > 0) {
        const got: BatchGetCommandOutput = await this.dynamodb.send(new BatchGetCommand({ RequestItems: { [this.names.profileTable]: { Keys: keys, ConsistentRead: true } } }));
        for (const item of got.Responses?.[this.names.profileTable] ?? []) out.set(String(item.user_id), item);
        keys = got.UnprocessedKeys?.[this.names.profileTable]?.Keys;
      }
    }
    return out;
  }

  /**
   * Every key of a bucket under a prefix (listed without a delimiter: s3rver drops deep common prefixes);
   * with `modifiedSince`, only objects written at or after that time (epoch ms), so a check against a busy
   * deployed stage reads what arrived during the check, not a whole partition.
   */
  async keys(bucket: string, prefix = '', modifiedSince?: number): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page: ListObjectsV2CommandOutput = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key && (modifiedSince === undefined || (o.LastModified?.getTime() ?? 0) >= modifiedSince)) keys.push(o.Key);
      }
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  }

  /** Deletes profiles (the canary users' after a verification). */
  async deleteProfiles(userIds: readonly string[]): Promise<void> {
    for (const user_id of userIds) await this.dynamodb.send(new DeleteCommand({ TableName: this.names.profileTable, Key: { user_id } }));
  }

  async object(bucket: string, key: string): Promise<Buffer> {
    const got = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  }

  /** Every record of the raw zone, read back as docs/lake.md documents (one line per record, see raw-framing). */
  async rawRecords(): Promise<Buffer[]> {
    const keys = (await this.keys(this.names.rawBucket, 'events/')).filter((k) => k.endsWith('.gz'));
    const bodies = await Promise.all(keys.map((k) => this.object(this.names.rawBucket, k)));
    return bodies.flatMap((b) => readRawRecords(gunzipSync(b)));
  }

  /**
   * The quarantine lines of the records at these stream positions, keyed by `<shard>/<sequence>`, once each
   * position has one (every line found, also a second line for one position, is in `lines`).
   */
  async quarantinedAt(positions: readonly { shardId: string; sequenceNumber: string }[], timeoutMs: number) {
    const mine = new Set(positions.map((p) => positionKey(p.shardId, p.sequenceNumber)));
    const lines = await eventually(
      async () => (await this.quarantineLines()).filter(({ line }) => mine.has(positionKey(String(line.shard_id), String(line.sequence_number)))),
      (l) => l.length >= positions.length,
      timeoutMs,
      'quarantine complete',
    );
    const byPosition = new Map(lines.map(({ line }) => [positionKey(String(line.shard_id), String(line.sequence_number)), line]));
    return { lines, byPosition };
  }

  /** Quarantine lines (JSON) with the key of the object each came from (of `keys`, or of every object). */
  async quarantineLines(only?: readonly string[]): Promise<{ key: string; line: Record<string, unknown> }[]> {
    const keys = only ?? (await this.keys(this.names.quarantineBucket, 'quarantine/'));
    const bodies = await Promise.all(keys.map(async (key) => ({ key, body: await this.object(this.names.quarantineBucket, key) })));
    return bodies.flatMap(({ key, body }) =>
      body
        .toString('utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => ({ key, line: JSON.parse(l) as Record<string, unknown> })),
    );
  }

  /** Rows of the curated zone's Parquet objects (of `keys`, or of every object): event id, event time and the object's key. */
  async curatedRows(only?: readonly string[]): Promise<{ event_id: string; event_time: string; key: string }[]> {
    const all = only ?? (await this.keys(this.names.curatedBucket, 'events/'));
    // Emulated Firehose without record format conversion (LocalStack's free edition) delivers JSON lines.
    const json = all.filter((k) => !k.endsWith('.parquet'));
    const jsonRows = (
      await Promise.all(
        json.map(async (key) => {
          const body = await this.object(this.names.curatedBucket, key);
          const text = (key.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8');
          return text
            .split('\n')
            .filter((l) => l.trim().length > 0)
            .map((l) => {
              const e = JSON.parse(l) as { event_id: string; event_time: string };
              return { event_id: e.event_id, event_time: e.event_time, key };
            });
        }),
      )
    ).flat();
    const keys = all.filter((k) => k.endsWith('.parquet'));
    if (keys.length === 0) return jsonRows;
    const dir = await mkdtemp(join(tmpdir(), 'e2e-curated-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const rows: { event_id: string; event_time: string; key: string }[] = [];
      await c.run(`SET TimeZone = 'UTC'`);
      for (const [i, key] of keys.entries()) {
        const file = join(dir, `${i}.parquet`);
        await writeFile(file, await this.object(this.names.curatedBucket, key));
        const read = await c.runAndReadAll(`SELECT event_id, strftime(event_time, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS event_time FROM read_parquet('${file}')`);
        for (const r of read.getRowObjectsJson() as { event_id: string; event_time: string }[]) rows.push({ ...r, key });
      }
      return [...rows, ...jsonRows];
    } finally {
      c.closeSync();
      db.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Copies the three zones into `<dir>/<zone>/<key>` (the local lake layout the DuckDB runner reads). */
  async downloadLake(dir: string): Promise<void> {
    const zones: [string, string][] = [
      ['raw', this.names.rawBucket],
      ['curated', this.names.curatedBucket],
      ['quarantine', this.names.quarantineBucket],
    ];
    for (const [zone, bucket] of zones) {
      for (const key of await this.keys(bucket)) {
        const path = join(dir, zone, ...key.split('/'));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, await this.object(bucket, key));
      }
    }
  }

  destroy(): void {
    this.kinesis.destroy();
    this.dynamodb.destroy();
    this.s3.destroy();
  }
}

/** A record's place in the stream, as the quarantine zone identifies it. */
export const positionKey = (shardId: string, sequenceNumber: string) => `${shardId}/${sequenceNumber}`;

/** Polls `probe` until it returns a value for which `done` holds, or fails with the last value after timeoutMs. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
