/**
 * The buffered producer as a service uses it, one event at a time, against kinesis-local with the real SDK:
 * batches by count, bytes and linger time, retries of the entries Kinesis rejects, backpressure when the
 * stream stops taking events, a flush on close and when the process ends on its own, and an outcome per event.
 */
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BufferedProducer, buildEvent, type SendResult } from '@personalization-data-platform/producer';
import { CONTRACT_VERSION, validateEvent } from '@personalization-data-platform/contract';
import { useEmulators } from '../support/emulators';
import { createStream, kinesisWithPutRecordsFaults, readStream } from '../ingestion/support';

const emulators = useEmulators({ kinesis: true });

const event = (i: number, user = `u-${i % 7}`) => buildEvent({ user_id: user, session_id: `s-${user}`, event_type: 'page_view', properties: { n: i } });

/** A real client whose PutRecords calls wait until `open()`: a stream that stopped taking writes. */
function gatedClient(): { client: KinesisClient; open: () => void; calls: () => number } {
  const client = new KinesisClient({ requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PutRecordsCommand') {
        calls++;
        await gate;
      }
      return next(args);
    },
    { step: 'initialize', name: 'gate' },
  );
  return { client, open, calls: () => calls };
}

describe('buildEvent', () => {
  it('fills event_id, schema_version and event_time, keeps what is given, and builds valid events', () => {
    const now = Date.parse('2026-12-01T10:00:00.123Z');
    const built = buildEvent({ user_id: 'u', session_id: 's', event_type: 'click', content_id: 'c-1' }, { now: () => now, newId: () => 'id-1' });
    expect(built).toEqual({ user_id: 'u', session_id: 's', event_type: 'click', content_id: 'c-1', event_id: 'id-1', schema_version: CONTRACT_VERSION, event_time: '2026-12-01T10:00:00.123Z' });
    expect(validateEvent(built, now).ok).toBe(true);
    const kept = buildEvent({ ...built, event_id: 'mine', event_time: '2026-12-01T09:00:00Z' });
    expect(kept).toMatchObject({ event_id: 'mine', event_time: '2026-12-01T09:00:00Z' });
    expect(buildEvent({ user_id: 'u', session_id: 's', event_type: 'click' }).event_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('BufferedProducer', () => {
  it('sends events put one at a time in batches of at most maxBatchRecords, with an outcome per event', async () => {
    const { name } = await createStream('buffered-count', 2);
    const outcomes: SendResult[] = [];
    const producer = new BufferedProducer({ streamName: name, lingerMs: 60_000, maxBatchRecords: 100, onResult: (r) => void outcomes.push(r) });
    const puts = Array.from({ length: 250 }, (_, i) => producer.put(event(i)));
    await producer.flush();
    const results = await Promise.all(puts);
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(outcomes).toHaveLength(250);
    expect(producer.stats()).toMatchObject({ sent: 250, failed: 0, rejected: 0, calls: 3, buffered: 0, inFlight: 0 });
    const stored = await readStream(name);
    expect(stored).toHaveLength(250);
    await producer.close();
  });

  it('sends a batch when its bytes reach maxBatchBytes, and a lone event once it has lingered', async () => {
    const { name } = await createStream('buffered-bytes');
    const callBytes: number[] = [];
    const client = new KinesisClient({ requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const records = (args.input as { Records?: { Data: Uint8Array; PartitionKey: string }[] }).Records;
        if (context.commandName === 'PutRecordsCommand' && records) callBytes.push(records.reduce((n, r) => n + r.Data.byteLength + Buffer.byteLength(r.PartitionKey), 0));
        return next(args);
      },
      { step: 'initialize', name: 'measure' },
    );
    const producer = new BufferedProducer({ streamName: name, kinesis: client, lingerMs: 60_000, maxBatchBytes: 2_000 });
    const puts = Array.from({ length: 20 }, (_, i) => producer.put(event(i)));
    await producer.flush();
    expect((await Promise.all(puts)).every((r) => r.status === 'sent')).toBe(true);
    expect(callBytes.length).toBeGreaterThan(1);
    expect(Math.max(...callBytes)).toBeLessThanOrEqual(2_000);
    // Each call but the last was closed because the next event would not fit.
    for (const bytes of callBytes.slice(0, -1)) expect(bytes).toBeGreaterThan(2_000 - 400);
    await producer.close();
    client.destroy();

    const lingering = new BufferedProducer({ streamName: name, lingerMs: 50 });
    const started = Date.now();
    const lone = await lingering.put(event(99));
    expect(lone.status).toBe('sent');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await lingering.close();
  });

  it('retries the entries Kinesis rejects, and reports the ones that keep failing', async () => {
    const { name } = await createStream('buffered-retry');
    const faults = kinesisWithPutRecordsFaults((call, entry) => {
      const n = (JSON.parse(Buffer.from(entry.data).toString('utf8')) as { properties: { n: number } }).properties.n;
      if (n === 3) return 'InternalFailure';
      return call === 1 && n % 2 === 0 ? 'ProvisionedThroughputExceededException' : undefined;
    });
    const producer = new BufferedProducer({ streamName: name, kinesis: faults.client, lingerMs: 60_000, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    const puts = Array.from({ length: 10 }, (_, i) => producer.put(event(i)));
    await producer.flush();
    const results = await Promise.all(puts);
    expect(results.filter((r) => r.status === 'sent')).toHaveLength(9);
    expect(results[3]).toMatchObject({ status: 'failed', errorCode: 'InternalFailure', attempts: 3 });
    expect(results[2]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await readStream(name)).toHaveLength(9);
    await producer.close();
    faults.client.destroy();
  });

  it('applies backpressure when the stream stops taking events: put() waits, then fails with BufferFull', async () => {
    const { name } = await createStream('buffered-full');
    const gated = gatedClient();
    const options = { streamName: name, kinesis: gated.client, maxBatchRecords: 10, maxBufferedEvents: 30, maxConcurrentBatches: 1, lingerMs: 5 };
    const producer = new BufferedProducer({ ...options, maxBlockMs: 200 });
    const first = Array.from({ length: 30 }, (_, i) => producer.put(event(i)));
    // The buffer holds 30: the 31st waits, then gives up after maxBlockMs without growing the buffer.
    const started = Date.now();
    const overflow = await producer.put(event(30));
    expect(overflow).toMatchObject({ status: 'failed', errorCode: 'BufferFull' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(producer.stats()).toMatchObject({ blocked: 1 });
    expect(producer.stats().buffered + producer.stats().inFlight).toBe(30);
    gated.open();
    await producer.close();
    expect((await Promise.all(first)).every((r) => r.status === 'sent')).toBe(true);
    expect(await readStream(name)).toHaveLength(30);
    gated.client.destroy();
  });

  it('lets a waiting put() in as soon as the stream takes events again', async () => {
    const { name } = await createStream('buffered-wait');
    const gated = gatedClient();
    const producer = new BufferedProducer({ streamName: name, kinesis: gated.client, maxBatchRecords: 10, maxBufferedEvents: 30, maxConcurrentBatches: 1, lingerMs: 5, maxBlockMs: 60_000 });
    const first = Array.from({ length: 30 }, (_, i) => producer.put(event(i)));
    let settled = false;
    const waiting = producer.put(event(30)).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(settled, 'put() waits while the buffer is full').toBe(false);
    gated.open();
    expect((await waiting).status).toBe('sent');
    await producer.close();
    expect((await Promise.all(first)).every((r) => r.status === 'sent')).toBe(true);
    expect(await readStream(name)).toHaveLength(31);
    gated.client.destroy();
  });

  it('gives up on what it could not send within the time close() was given, and says so per event', async () => {
    const { name } = await createStream('buffered-shutdown');
    const gated = gatedClient();
    const producer = new BufferedProducer({ streamName: name, kinesis: gated.client, maxBatchRecords: 10, maxConcurrentBatches: 1, lingerMs: 60_000 });
    const puts = Array.from({ length: 30 }, (_, i) => producer.put(event(i)));
    const started = Date.now();
    await producer.close({ timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(2_000);
    // The first batch is in flight (the stream does not answer); the other two never left the buffer.
    const abandoned = await Promise.all(puts.slice(10));
    expect(abandoned.every((r) => r.status === 'failed' && r.errorCode === 'ShutdownTimeout')).toBe(true);
    expect(producer.stats()).toMatchObject({ buffered: 0, inFlight: 10, failed: 20 });
    gated.open();
    expect((await Promise.all(puts.slice(0, 10))).every((r) => r.status === 'sent')).toBe(true);
    expect(await readStream(name)).toHaveLength(10);
    gated.client.destroy();
  });

  it('rejects an event that breaks the contract at once, without buffering it', async () => {
    const { name } = await createStream('buffered-reject');
    const producer = new BufferedProducer({ streamName: name });
    const result = await producer.put({ ...event(1), event_type: 'teleport' });
    expect(result).toMatchObject({ status: 'rejected', reason: 'schema_violation' });
    expect(producer.stats()).toMatchObject({ rejected: 1, buffered: 0 });
    await producer.close();
    await expect(producer.put(event(2))).rejects.toThrow(/after close/);
  });

  it('flushes what it holds when the process ends on its own, without a flush() or close() call', async () => {
    const { name } = await createStream('buffered-exit');
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'exit-without-flush.ts'), name], {
      env: { ...process.env, ...emulators().env },
      encoding: 'utf8',
      timeout: 60_000,
      cwd: join(__dirname, '..', '..'),
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('sent=25');
    expect(await readStream(name)).toHaveLength(25);
  });

  it('shares one exit listener among all its producers, and removes it when the last one closes', async () => {
    const before = process.listenerCount('beforeExit');
    const producers = Array.from({ length: 20 }, () => new BufferedProducer({ streamName: 'never-used' }));
    expect(process.listenerCount('beforeExit')).toBe(before + 1);
    for (const p of producers) await p.close();
    expect(process.listenerCount('beforeExit')).toBe(before);
  });
});
