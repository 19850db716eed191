/**
 * The producer and reader packages against the local emulators, each against the plain SDK call a service
 * would otherwise make, measured in the same run and interleaved round by round (the machine is shared).
 * These are figures of this machine's emulators (kinesis-local, dynalite), NOT of AWS: what transfers is the
 * ratio, and the number of calls.
 *
 * producer: a BufferedProducer fed one event at a time, against one PutRecord call per event (awaited one by
 *   one, as a request handler would inline it, and 16 at a time): records/s and calls per 1,000 events.
 * reader: p50/p99 latency of ProfileReader.get and getMany(100), and items decoded per second by getMany,
 *   against a raw GetItem / BatchGetItem of the plain DynamoDB client (no unmarshalling, no features).
 */
import { BatchGetItemCommand, CreateTableCommand, DynamoDBClient, GetItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { BufferedProducer, buildEvent, type BehaviouralEvent } from '@personalization-data-platform/producer';
import { ProfileReader } from '@personalization-data-platform/profile-reader';
import { emptyProfile, type Profile } from '../core/profiles/model';
import { startEmulators } from '../local/emulators';
import { median, percentile, ratioFigure, type Figure } from './harness';

const EVENTS_PER_ROUND = 1_000;
const PRODUCER_ROUNDS = 3;
const SHARDS = 4;
const PROFILES = 1_000;
const GET_CALLS = 300;
const GET_MANY_CALLS = 40;

function events(round: number, candidate: string): BehaviouralEvent[] {
  return Array.from({ length: EVENTS_PER_ROUND }, (_, i) =>
    buildEvent({ user_id: `user-${(i * 7919) % 500}`, session_id: `s-${i % 50}`, event_type: i % 5 === 0 ? 'content_view' : 'page_view', content_id: `sku-${i}`, category: 'shoes>running', properties: { round, candidate, i } }),
  );
}

async function createStream(kinesis: KinesisClient, name: string): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: SHARDS }));
  for (;;) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function producerBench(): Promise<Figure[]> {
  const emulators = await startEmulators({ kinesis: true });
  const saved = { ...process.env };
  Object.assign(process.env, emulators.env);
  const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  try {
    const stream = 'bench-producer';
    await createStream(kinesis, stream);
    const samples: Record<string, { rps: number[]; calls: number[] }> = { sequential: { rps: [], calls: [] }, concurrent: { rps: [], calls: [] }, buffered: { rps: [], calls: [] } };
    const putRecord = (e: BehaviouralEvent) => kinesis.send(new PutRecordCommand({ StreamName: stream, PartitionKey: e.user_id, Data: Buffer.from(JSON.stringify(e)) }));
    const candidates: Record<string, (batch: BehaviouralEvent[]) => Promise<number>> = {
      sequential: async (batch) => {
        for (const e of batch) await putRecord(e);
        return batch.length;
      },
      concurrent: async (batch) => {
        let next = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (next < batch.length) await putRecord(batch[next++]!);
        }));
        return batch.length;
      },
      buffered: async (batch) => {
        const producer = new BufferedProducer({ streamName: stream, kinesis, flushBeforeExit: false });
        const outcomes = batch.map((e) => producer.put(e));
        await producer.close();
        const results = await Promise.all(outcomes);
        if (results.some((r) => r.status !== 'sent')) throw new Error('the buffered producer failed to send some events');
        return producer.stats().calls;
      },
    };
    for (let round = 0; round < PRODUCER_ROUNDS; round++) {
      for (const [name, run] of Object.entries(candidates)) {
        const batch = events(round, name);
        const started = process.hrtime.bigint();
        const calls = await run(batch);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        samples[name]!.rps.push(batch.length / seconds);
        samples[name]!.calls.push((calls / batch.length) * 1000);
      }
    }
    const rps = (name: string) => median(samples[name]!.rps);
    const calls = (name: string) => median(samples[name]!.calls);
    return [
      { name: 'PutRecord per event, one at a time', value: Math.round(rps('sequential')), unit: 'records/s' },
      ratioFigure('PutRecord per event, 16 in flight', rps('concurrent'), 'records/s', 'one at a time', rps('sequential')),
      ratioFigure('BufferedProducer.put per event', rps('buffered'), 'records/s', 'one at a time', rps('sequential')),
      { name: 'PutRecord per event: calls per 1,000 events', value: Math.round(calls('sequential')), unit: 'calls' },
      { name: 'BufferedProducer: calls per 1,000 events', value: Math.round(calls('buffered') * 10) / 10, unit: 'calls' },
      { name: 'calls: PutRecord per event / BufferedProducer', value: Math.round(calls('sequential') / calls('buffered')), unit: 'x fewer' },
    ];
  } finally {
    kinesis.destroy();
    process.env = saved;
    await emulators.stop();
  }
}

function profile(userId: string, now: number): Profile {
  const days: Record<string, number> = {};
  for (let d = 0; d < 30; d++) days[new Date(now - d * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')] = 1 + (d % 4);
  return {
    ...emptyProfile(userId),
    version: 12,
    updated_at: now,
    first_seen: now - 40 * 86_400_000,
    last_seen: now - 60_000,
    events: 240,
    counts: { page_view: 150, content_view: 60, click: 20, add_to_cart: 6, purchase: 4 },
    days,
    session_count: 35,
    session_ms: 35 * 300_000,
    recent_sessions: Array.from({ length: 5 }, (_, i) => [`h${i}abcdef`, now - (i + 1) * 3_600_000, now - i * 3_600_000] as [string, number, number]),
    affinity: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`category-${i}>sub`, 10 - i])),
    affinity_at: now - 60_000,
    recent_content: Array.from({ length: 10 }, (_, i) => [`sku-${i}-${userId}`, now - i * 60_000] as [string, number]),
    purchase_count: 4,
    purchase_value_milli: { EUR: 129_990, USD: 20_000 },
    device: { type: 'mobile', os: 'iOS', app_version: '5.12.0' },
    device_at: now - 60_000,
    locale: 'de-DE',
    locale_at: now - 60_000,
  };
}

export async function readerBench(): Promise<Figure[]> {
  const emulators = await startEmulators({ dynamodb: true });
  const saved = { ...process.env };
  Object.assign(process.env, emulators.env);
  const raw = new DynamoDBClient({});
  try {
    const table = 'bench-profiles';
    await raw.send(
      new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'user_id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'user_id', AttributeType: 'S' }] }),
    );
    // CreateTable returns while the table is CREATING; writes before ACTIVE fail.
    await waitUntilTableExists({ client: raw, minDelay: 1, maxDelay: 1, maxWaitTime: 60 }, { TableName: table });
    const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
    const now = Date.now();
    const users = Array.from({ length: PROFILES }, (_, i) => `user-${i}`);
    for (let i = 0; i < users.length; i += 25) await Promise.all(users.slice(i, i + 25).map((u) => doc.send(new PutCommand({ TableName: table, Item: profile(u, now) }))));
    const reader = new ProfileReader({ tableName: table });
    await reader.warmUp();
    await raw.send(new GetItemCommand({ TableName: table, Key: { user_id: { S: users[0]! } } }));

    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const started = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    // Interleaved call by call, so a busy moment of the machine slows both alike.
    const getMs = { raw: [] as number[], reader: [] as number[] };
    for (let i = 0; i < GET_CALLS; i++) {
      const user = users[(i * 37) % users.length]!;
      getMs.raw.push(await time(() => raw.send(new GetItemCommand({ TableName: table, Key: { user_id: { S: user } } }))));
      getMs.reader.push(await time(() => reader.get(user)));
    }
    const manyMs = { raw: [] as number[], reader: [] as number[] };
    for (let i = 0; i < GET_MANY_CALLS; i++) {
      const ids = Array.from({ length: 100 }, (_, k) => users[(i * 100 + k * 13) % users.length]!);
      const unique = [...new Set(ids)];
      manyMs.raw.push(await time(async () => {
        let keys = unique.map((u) => ({ user_id: { S: u } }));
        while (keys.length > 0) {
          const out = await raw.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys } } }));
          keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as typeof keys;
        }
      }));
      manyMs.reader.push(await time(async () => {
        const batch = await reader.getMany(unique);
        if (!batch.complete || batch.size !== unique.length) throw new Error('getMany did not read every profile');
      }));
    }
    const p = (v: number[], q: number) => Math.round(percentile(v, q) * 100) / 100;
    const rawItemsPerS = 100_000 / median(manyMs.raw);
    const readerItemsPerS = 100_000 / median(manyMs.reader);
    return [
      { name: 'raw GetItem p50', value: p(getMs.raw, 50), unit: 'ms' },
      { name: 'raw GetItem p99', value: p(getMs.raw, 99), unit: 'ms' },
      { ...ratioFigure('ProfileReader.get p50', p(getMs.reader, 50), 'ms', 'raw GetItem p50', p(getMs.raw, 50)), value: p(getMs.reader, 50) },
      { ...ratioFigure('ProfileReader.get p99', p(getMs.reader, 99), 'ms', 'raw GetItem p99', p(getMs.raw, 99)), value: p(getMs.reader, 99) },
      { name: 'raw BatchGetItem(100) p50', value: p(manyMs.raw, 50), unit: 'ms' },
      { name: 'raw BatchGetItem(100) p99', value: p(manyMs.raw, 99), unit: 'ms' },
      { ...ratioFigure('ProfileReader.getMany(100) p50', p(manyMs.reader, 50), 'ms', 'raw BatchGetItem p50', p(manyMs.raw, 50)), value: p(manyMs.reader, 50) },
      { ...ratioFigure('ProfileReader.getMany(100) p99', p(manyMs.reader, 99), 'ms', 'raw BatchGetItem p99', p(manyMs.raw, 99)), value: p(manyMs.reader, 99) },
      { name: 'raw BatchGetItem items/s (undecoded)', value: Math.round(rawItemsPerS), unit: 'items/s' },
      ratioFigure('getMany items decoded/s (with features)', readerItemsPerS, 'items/s', 'raw BatchGetItem', rawItemsPerS),
    ];
  } finally {
    raw.destroy();
    process.env = saved;
    await emulators.stop();
  }
}
