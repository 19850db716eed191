import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { kinesisClient, s3Client } from '../../../adapters/aws-clients';
import { useEmulators } from '../../support/emulators';
import { LocalLake } from '../../../local/lake/local-lake';
import { FirehoseStandIn, type FirehoseStandInOptions } from '../../../local/runtime/firehose-standin';
import { Workload } from '../../../workload/generator';

const emulators = useEmulators({ kinesis: true, s3: true });
let lakeDir: string;
let lake: LocalLake;
const standIns: FirehoseStandIn[] = [];
let counter = 0;

beforeAll(async () => {
  lakeDir = await mkdtemp(join(tmpdir(), 'standin-lake-'));
  lake = await LocalLake.open(lakeDir);
}, 60_000);

afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await lake?.close();
  if (lakeDir) await rm(lakeDir, { recursive: true, force: true });
});

async function streamAndBucket(): Promise<{ stream: string; bucket: string }> {
  const id = `${process.pid}-${counter++}`;
  const stream = `src-${id}`;
  const bucket = `zone-${id}`;
  await kinesisClient().send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  while ((await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') {
    await new Promise((r) => setTimeout(r, 20));
  }
  await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
  return { stream, bucket };
}

async function put(stream: string, payloads: (string | Buffer)[]): Promise<void> {
  const out = await kinesisClient().send(
    new PutRecordsCommand({ StreamName: stream, Records: payloads.map((p, i) => ({ Data: Buffer.from(p), PartitionKey: `pk-${i}` })) }),
  );
  expect(out.FailedRecordCount ?? 0).toBe(0);
}

async function objects(bucket: string): Promise<{ key: string; body: Buffer }[]> {
  const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket }));
  return Promise.all(
    (listed.Contents ?? []).map(async (o) => {
      const got = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }));
      return { key: o.Key!, body: Buffer.from(await got.Body!.transformToByteArray()) };
    }),
  );
}

async function standIn(options: Omit<FirehoseStandInOptions, 'lake' | 'deliveryStreamName' | 'pollIntervalMs'>): Promise<FirehoseStandIn> {
  const s = new FirehoseStandIn({ deliveryStreamName: `ds-${counter}`, lake, pollIntervalMs: 20, ...options });
  standIns.push(s);
  await s.start();
  return s;
}

/** Valid events of two different event-time hours. */
function eventsInTwoHours(): string[] {
  const base = Date.UTC(2026, 0, 15, 9, 58);
  const events = new Workload({ seed: 3, startMs: base, meanGapMs: 20_000 }).take(30).map((r) => r.event!);
  return events.map((e) => JSON.stringify({ ...e, event_time: new Date(Date.parse(e.event_time)).toISOString() }));
}

describe('FirehoseStandIn', () => {
  it('delivers the raw stream as gzip JSON lines by arrival hour, every record as received', async () => {
    const { stream, bucket } = await streamAndBucket();
    const payloads = ['{"a":1}', 'not json at all', JSON.stringify({ event_id: 'x', nested: { k: [1, 2] } })];
    const s = await standIn({ streamName: stream, bucket, format: 'raw', bufferIntervalMs: 60_000, bufferBytes: 1 << 20 });
    await put(stream, payloads);
    await s.catchUp();
    await s.flush();
    const written = await objects(bucket);
    expect(written).toHaveLength(1);
    const [object] = written;
    const now = new Date().toISOString();
    expect(object!.key).toMatch(new RegExp(`^events/dt=${now.slice(0, 10)}/hour=\\d\\d/ds-\\d+-1-\\d{4}-\\d\\d-\\d\\d-\\d\\d-\\d\\d-\\d\\d-.+\\.gz$`));
    expect(gunzipSync(object!.body).toString('utf8')).toBe(payloads.map((p) => `${p}\n`).join(''));
    expect(await lake.read('raw', object!.key)).toEqual(object!.body);
    expect(s.stats()).toMatchObject({ recordsIn: 3, recordsDelivered: 3, objectsWritten: 1, bufferedRecords: 0 });
  });

  it('partitions the curated stream by event time and converts it to Parquet with the catalog columns', async () => {
    const { stream, bucket } = await streamAndBucket();
    const payloads = eventsInTwoHours();
    const s = await standIn({ streamName: stream, bucket, format: 'curated', bufferIntervalMs: 60_000, bufferBytes: 1 << 20 });
    await put(stream, payloads);
    await s.catchUp();
    await s.flush();
    const written = await objects(bucket);
    const hours = new Set(payloads.map((p) => (JSON.parse(p) as { event_time: string }).event_time.slice(0, 13)));
    expect(hours.size).toBeGreaterThan(1);
    expect(written.map((o) => o.key.split('/').slice(0, 3).join('/')).sort()).toEqual(
      [...hours].sort().map((h) => `events/dt=${h.slice(0, 10)}/hour=${h.slice(11, 13)}`),
    );
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const rows = (
      await c.runAndReadAll(`SELECT event_id, strftime(event_time, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS t, dt, hour FROM read_parquet('${join(lakeDir, 'curated', 'events')}/**/*.parquet', hive_partitioning = true)`)
    ).getRowObjectsJson() as { event_id: string; t: string; dt: string; hour: string }[];
    c.closeSync();
    db.closeSync();
    const sent = payloads.map((p) => JSON.parse(p) as { event_id: string; event_time: string });
    expect(rows.map((r) => r.event_id).sort()).toEqual(sent.map((e) => e.event_id).sort());
    for (const r of rows) {
      expect(r.t).toBe(sent.find((e) => e.event_id === r.event_id)!.event_time);
      expect(`${r.dt}T${r.hour}`).toBe(r.t.slice(0, 13));
    }
  });

  it('sends curated records it cannot partition or convert to the error prefix with their payload and reason', async () => {
    const { stream, bucket } = await streamAndBucket();
    const good = eventsInTwoHours().slice(0, 1);
    const bad = ['{"broken', JSON.stringify({ event_id: 'no-time' })];
    const s = await standIn({ streamName: stream, bucket, format: 'curated', bufferIntervalMs: 60_000, bufferBytes: 1 << 20 });
    await put(stream, [...good, ...bad]);
    await s.catchUp();
    await s.flush();
    const errors = (await objects(bucket)).filter((o) => o.key.startsWith('errors/'));
    const lines = errors.flatMap((o) => o.body.toString('utf8').trim().split('\n').map((l) => ({ key: o.key, rawData: (JSON.parse(l) as { rawData: string }).rawData })));
    expect(lines.map((l) => Buffer.from(l.rawData, 'base64').toString('utf8')).sort()).toEqual([...bad].sort());
    expect(lines.find((l) => (l.rawData) === Buffer.from(bad[0]!).toString('base64'))!.key).toMatch(/^errors\/format-conversion-failed\/dt=/);
    expect(lines.find((l) => (l.rawData) === Buffer.from(bad[1]!).toString('base64'))!.key).toMatch(/^errors\/partitioning-failed\/dt=/);
    expect(s.stats()).toMatchObject({ recordsIn: 3, recordsDelivered: 1, recordsToErrorPrefix: 2 });
  });

  it('holds records until the buffering interval has passed', async () => {
    const { stream, bucket } = await streamAndBucket();
    const s = await standIn({ streamName: stream, bucket, format: 'raw', bufferIntervalMs: 1_500, bufferBytes: 1 << 20 });
    await put(stream, ['{"n":1}']);
    await s.catchUp();
    expect(await objects(bucket)).toHaveLength(0);
    const deadline = Date.now() + 5_000;
    while ((await objects(bucket)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await objects(bucket)).toHaveLength(1);
  });

  it('writes as soon as a buffer reaches the size hint, without waiting for the interval', async () => {
    const { stream, bucket } = await streamAndBucket();
    const s = await standIn({ streamName: stream, bucket, format: 'raw', bufferIntervalMs: 600_000, bufferBytes: 2_000 });
    await put(stream, Array.from({ length: 40 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(80) })));
    await s.catchUp();
    const deadline = Date.now() + 5_000;
    while ((await objects(bucket)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const lines = (await objects(bucket)).flatMap((o) => gunzipSync(o.body).toString('utf8').trim().split('\n'));
    expect(lines).toHaveLength(40);
  });

  it('sends a record DuckDB cannot convert to errors/format-conversion-failed/, delivers the rest of its partition and keeps going', async () => {
    const { stream, bucket } = await streamAndBucket();
    const [first, ...others] = new Workload({ seed: 17, startMs: Date.UTC(2026, 0, 16, 9, 10), meanGapMs: 1_000 })
      .take(10)
      .map((r) => JSON.stringify({ ...r.event!, event_time: new Date(Date.parse(r.event!.event_time)).toISOString() }));
    // A lone high surrogate in a string: valid JSON, accepted by JSON.parse, but not Unicode; DuckDB's
    // read_json rejects it ("no low surrogate in string").
    const poison = JSON.stringify({ ...(JSON.parse(first!) as object), event_id: 'poison' }).replace('"poison"', '"poi\\ud800son"');
    expect(poison).toContain('\\ud800');
    const s = await standIn({ streamName: stream, bucket, format: 'curated', bufferIntervalMs: 60_000, bufferBytes: 1 << 20 });
    await put(stream, [...others.slice(0, 3), poison, ...others.slice(3, 6)]);
    await s.catchUp();
    await s.flush();
    // Delivery goes on after it.
    await put(stream, others.slice(6, 9));
    await s.catchUp();
    await s.flush();

    const written = await objects(bucket);
    expect(written.every((o) => o.body.byteLength > 0)).toBe(true);
    const lakeFiles = (await lake.list('curated')).map((k) => k);
    for (const key of lakeFiles) expect((await lake.read('curated', key)).byteLength).toBeGreaterThan(0);

    const errors = written.filter((o) => o.key.startsWith('errors/'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.key).toMatch(/^errors\/format-conversion-failed\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/ds-\d+-1-/);
    const line = JSON.parse(errors[0]!.body.toString('utf8').trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ attemptsMade: 1, ErrorCode: 'DataFormatConversion.MalformedData', subSequenceNumber: 0 });
    expect(line.ErrorMessage).toMatch(/surrogate/i);
    expect(Buffer.from(line.rawData as string, 'base64').toString('utf8')).toBe(poison);

    const parquet = written.filter((o) => o.key.endsWith('.parquet')).map((o) => `'${lake.pathOf('curated', o.key)}'`);
    expect(parquet).toHaveLength(2);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const ids = (await c.runAndReadAll(`SELECT event_id FROM read_parquet([${parquet.join(', ')}])`)).getRowObjectsJson() as { event_id: string }[];
    c.closeSync();
    db.closeSync();
    expect(ids.map((r) => r.event_id).sort()).toEqual(others.slice(0, 9).map((p) => (JSON.parse(p) as { event_id: string }).event_id).sort());
    expect(s.stats()).toMatchObject({ recordsIn: 10, recordsDelivered: 9, recordsToErrorPrefix: 1, pendingUploads: 0 });
  });

  it('keeps an object it cannot upload, retries it in the background without holding up delivery, and uploads it once S3 takes it', async () => {
    const { stream } = await streamAndBucket();
    // A bucket that does not exist yet: every upload fails at once (NoSuchBucket), as when a bucket is gone.
    const bucket = `late-${process.pid}-${counter++}`;
    const s = await standIn({ streamName: stream, bucket, format: 'raw', bufferIntervalMs: 60_000, bufferBytes: 1 << 20 });
    await put(stream, ['{"n":1}', '{"n":2}']);
    await s.catchUp();
    const started = Date.now();
    await s.flush(500);
    expect(Date.now() - started).toBeLessThan(3_000);
    const waiting = s.stats();
    expect(waiting).toMatchObject({ recordsDelivered: 2, objectsWritten: 0, pendingUploads: 1 });
    expect(waiting.uploadRetries).toBeGreaterThan(0);
    expect(waiting.lastUploadError).toMatch(/NoSuchBucket/);
    expect(waiting.dataFreshnessMs).toBeGreaterThan(0);
    // The local copy is in the lake already.
    const [key] = s.pendingKeys();
    expect(gunzipSync(await lake.read('raw', key!)).toString('utf8')).toBe('{"n":1}\n{"n":2}\n');

    await s3Client().send(new CreateBucketCommand({ Bucket: bucket }));
    const deadline = Date.now() + 30_000; // the next background retry may be a few seconds away on a loaded machine
    while (s.stats().pendingUploads > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(s.stats()).toMatchObject({ pendingUploads: 0, objectsWritten: 1, dataFreshnessMs: 0 });
    expect((await objects(bucket)).map((o) => o.key)).toEqual([key]);
  });

  it('stops within seconds when S3 keeps failing, reporting what is not uploaded, and gives an upload up after its retry time', async () => {
    const { stream } = await streamAndBucket();
    const bucket = `missing-${process.pid}-${counter++}`;
    const lines: string[] = [];
    const s = await standIn({ streamName: stream, bucket, format: 'raw', bufferIntervalMs: 60_000, bufferBytes: 1 << 20, maxDeliveryRetryMs: 400, log: (l) => lines.push(l) });
    await put(stream, ['{"n":1}']);
    await s.catchUp();
    await s.flush(1_000);
    expect(s.stats()).toMatchObject({ pendingUploads: 0, objectsNotDelivered: 1, objectsWritten: 0 });
    expect(lines.some((l) => /gave up uploading events\/.* after \d+ attempts/.test(l))).toBe(true);

    await put(stream, ['{"n":2}']);
    await s.catchUp();
    const started = Date.now();
    standIns.splice(standIns.indexOf(s), 1);
    await s.stop();
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(s.stats().pendingUploads + s.stats().objectsNotDelivered).toBe(2);
    expect(lines.some((l) => /stopped with events\/.* not uploaded \(NoSuchBucket/.test(l) || /gave up uploading/.test(l))).toBe(true);
  });

  it('stops within seconds when S3 hangs (accepts connections, answers nothing), keeping what it could not upload', async () => {
    const { stream, bucket } = await streamAndBucket();
    const s = await standIn({ streamName: stream, bucket, format: 'raw', bufferIntervalMs: 60_000, bufferBytes: 1 << 20 });
    await put(stream, ['{"n":1}']);
    await s.catchUp();
    const pid = emulators().pid('s3')!;
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      standIns.splice(standIns.indexOf(s), 1);
      await s.stop();
      // The stop budget (3 s), not the S3 client's own timeouts and retries (up to ~33 s per upload).
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(s.stats()).toMatchObject({ recordsDelivered: 1, objectsWritten: 0, pendingUploads: 1 });
    expect(s.stats().lastUploadError).toMatch(/deadline|abort/i);
    expect(gunzipSync(await lake.read('raw', s.pendingKeys()[0]!)).toString('utf8')).toBe('{"n":1}\n');
  });
});
