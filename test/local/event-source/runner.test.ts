import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { kinesisClient, resetClients } from '../../../adapters/aws-clients';
import { useEmulators } from '../../support/emulators';
import {
  KinesisEventSourceRunner,
  seededFaults,
  type InvocationInfo,
  type KinesisEventSourceRunnerOptions,
  type OnFailureRecord,
  type TumblingWindowEvent,
} from '../../../local/event-source/runner';

// Hash keys that land in the first and the last shard of a two-shard stream.
const FIRST_SHARD_KEY = '0';
const LAST_SHARD_KEY = '340282366920938463463374607431768211455';

useEmulators({ kinesis: true });
const runners: KinesisEventSourceRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

async function createStream(shardCount = 1): Promise<string> {
  const name = `stream-${randomUUID().slice(0, 8)}`;
  await kinesisClient().send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  for (;;) {
    const out = await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name;
    await sleep(20);
  }
}

/** Writes the payloads in order (one PutRecords call) and returns their sequence numbers. */
async function put(streamName: string, payloads: string[], hashKey = FIRST_SHARD_KEY): Promise<string[]> {
  const entries: PutRecordsRequestEntry[] = payloads.map((p) => ({
    Data: Buffer.from(p),
    PartitionKey: `pk-${p}`,
    ExplicitHashKey: hashKey,
  }));
  const out = await kinesisClient().send(new PutRecordsCommand({ StreamName: streamName, Records: entries }));
  expect(out.FailedRecordCount ?? 0).toBe(0);
  return (out.Records ?? []).map((r) => r.SequenceNumber!);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const decode = (r: KinesisStreamRecord) => Buffer.from(r.kinesis.data, 'base64').toString('utf8');
const payloads = (event: KinesisStreamEvent) => event.Records.map(decode);

/** A runner with fast polling and retries, stopped after each test. */
async function startRunner(
  options: Omit<KinesisEventSourceRunnerOptions, 'startingPosition'> & Partial<Pick<KinesisEventSourceRunnerOptions, 'startingPosition'>>,
): Promise<KinesisEventSourceRunner> {
  const runner = new KinesisEventSourceRunner({
    startingPosition: 'TRIM_HORIZON',
    pollIntervalMs: 20,
    retryBackoffMs: 5,
    maxRetryBackoffMs: 20,
    windowCloseGraceMs: 100,
    ...options,
  });
  runners.push(runner);
  await runner.start();
  return runner;
}

/** Waits until the wall clock is between `from` and `to` ms into a second, so a write stays in one window. */
async function alignWithinSecond(from: number, to: number): Promise<void> {
  for (;;) {
    const offset = Date.now() % 1000;
    if (offset >= from && offset < to) return;
    await sleep(offset < from ? from - offset : 1000 - offset + from);
  }
}

/** Waits until `offset` ms into the next whole second (the start of the next one-second window). */
async function nextSecond(offset: number): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + offset);
}

describe('KinesisEventSourceRunner', { timeout: 20_000 }, () => {
  describe('batching and event shape', () => {
    it('delivers records in the Lambda Kinesis event shape, each batch from one shard, with a Lambda context', async () => {
      const stream = await createStream(2);
      const first = await put(stream, ['a1', 'a2'], FIRST_SHARD_KEY);
      const last = await put(stream, ['b1'], LAST_SHARD_KEY);
      const events: KinesisStreamEvent[] = [];
      const contexts: { ctx: Context; remaining: number }[] = [];
      const runner = await startRunner({
        streamName: stream,
        functionName: 'shape-check',
        async handler(event, context) {
          events.push(event);
          contexts.push({ ctx: context, remaining: context.getRemainingTimeInMillis() });
        },
      });
      await runner.drain();

      const { StreamDescriptionSummary } = await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      const streamArn = StreamDescriptionSummary!.StreamARN!;
      expect(events).toHaveLength(2);
      const bySeq = new Map(events.flatMap((e) => e.Records).map((r) => [r.kinesis.sequenceNumber, r]));
      expect([...bySeq.keys()].sort()).toEqual([...first, ...last].sort());
      for (const event of events) {
        const shardIds = new Set(event.Records.map((r) => r.eventID.split(':')[0]));
        expect(shardIds.size).toBe(1);
      }
      const record = bySeq.get(first[0]!)!;
      expect(record).toEqual({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'pk-a1',
          sequenceNumber: first[0],
          data: Buffer.from('a1').toString('base64'),
          approximateArrivalTimestamp: expect.any(Number),
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${first[0]}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: expect.stringMatching(/^arn:aws:iam::\d{12}:role\//),
        awsRegion: 'us-east-1',
        eventSourceARN: streamArn,
      });
      expect(Math.abs(record.kinesis.approximateArrivalTimestamp - Date.now() / 1000)).toBeLessThan(60);
      expect(bySeq.get(last[0]!)!.eventID).toBe(`shardId-000000000001:${last[0]}`);

      const { ctx, remaining } = contexts[0]!;
      expect(ctx.functionName).toBe('shape-check');
      expect(ctx.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:shape-check');
      expect(ctx.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(contexts[1]!.ctx.awsRequestId).not.toBe(ctx.awsRequestId);
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(60_000);
    });

    it('invokes with at most batchSize records, in shard order', async () => {
      const stream = await createStream();
      await put(stream, ['1', '2', '3', '4', '5', '6', '7']);
      const batches: string[][] = [];
      const runner = await startRunner({ streamName: stream, batchSize: 3, handler: async (e) => void batches.push(payloads(e)) });
      await runner.drain();
      expect(batches).toEqual([['1', '2', '3'], ['4', '5', '6'], ['7']]);
    });

    it('gathers records for up to the batching window before invoking', async () => {
      const stream = await createStream();
      const batches: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        maxBatchingWindowMs: 1_000,
        handler: async (e) => void batches.push(payloads(e)),
      });
      await put(stream, ['1', '2', '3']);
      await sleep(100);
      await put(stream, ['4', '5']);
      await runner.drain();
      expect(batches).toEqual([['1', '2', '3', '4', '5']]);
    });

    it('with LATEST delivers only records written after start', async () => {
      const stream = await createStream();
      await put(stream, ['before']);
      const seen: string[] = [];
      const runner = await startRunner({ streamName: stream, startingPosition: 'LATEST', handler: async (e) => void seen.push(...payloads(e)) });
      await put(stream, ['after']);
      await runner.drain();
      expect(seen).toEqual(['after']);
    });
  });

  describe('partial batch responses', () => {
    it('checkpoints at the lowest failed sequence number and redelivers from there', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['r0', 'r1', 'r2', 'r3', 'r4']);
      const batches: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        reportBatchItemFailures: true,
        async handler(event) {
          batches.push(payloads(event));
          if (batches.length === 1) {
            // Reported out of order: the lowest one decides where processing resumes.
            return { batchItemFailures: [{ itemIdentifier: seqs[4]! }, { itemIdentifier: seqs[2]! }] };
          }
          return { batchItemFailures: [] };
        },
      });
      await runner.drain();
      expect(batches).toEqual([
        ['r0', 'r1', 'r2', 'r3', 'r4'],
        ['r2', 'r3', 'r4'],
      ]);
      const stats = runner.stats();
      expect(stats.shards['shardId-000000000000']!.checkpoint).toBe(seqs[4]);
      expect(stats.partialFailures).toBe(1);
      expect(stats.retries).toBe(1);
    });

    it('treats an empty or unknown itemIdentifier as a failure of the whole batch', async () => {
      const stream = await createStream();
      await put(stream, ['r0', 'r1']);
      const batches: string[][] = [];
      const responses = [
        { batchItemFailures: [{ itemIdentifier: '' }] },
        { batchItemFailures: [{ itemIdentifier: '12345' }] },
        { batchItemFailures: [{ identifier: 'wrong key name' }] },
        null,
      ];
      const runner = await startRunner({
        streamName: stream,
        reportBatchItemFailures: true,
        async handler(event) {
          batches.push(payloads(event));
          return responses[batches.length - 1] as never;
        },
      });
      await runner.drain();
      expect(batches).toEqual([
        ['r0', 'r1'],
        ['r0', 'r1'],
        ['r0', 'r1'],
        ['r0', 'r1'],
      ]);
      expect(runner.stats().partialFailures).toBe(0);
    });

    it('ignores batchItemFailures unless reportBatchItemFailures is enabled', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['r0', 'r1']);
      const batches: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        async handler(event) {
          batches.push(payloads(event));
          return { batchItemFailures: [{ itemIdentifier: seqs[0]! }] };
        },
      });
      await runner.drain();
      expect(batches).toEqual([['r0', 'r1']]);
    });

    it('without bisection re-reads from the checkpoint at the full batch size', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      const batches: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        batchSize: 4,
        reportBatchItemFailures: true,
        async handler(event) {
          batches.push(payloads(event));
          return batches.length === 1 ? { batchItemFailures: [{ itemIdentifier: seqs[2]! }] } : undefined;
        },
      });
      await runner.drain();
      expect(batches).toEqual([
        ['r0', 'r1', 'r2', 'r3'],
        ['r2', 'r3', 'r4', 'r5'],
      ]);
    });

    it('with bisection retries only the remaining records of the partially failed batch', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
      const batches: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        batchSize: 4,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        async handler(event) {
          batches.push(payloads(event));
          return batches.length === 1 ? { batchItemFailures: [{ itemIdentifier: seqs[2]! }] } : undefined;
        },
      });
      await runner.drain();
      expect(batches).toEqual([
        ['r0', 'r1', 'r2', 'r3'],
        ['r2', 'r3'],
        ['r4', 'r5'],
      ]);
    });
  });

  describe('function errors, retries and the on-failure destination', () => {
    it('bisects a failing batch until the poison record is isolated, without spending retries on the splits', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['r0', 'r1', 'r2', 'r3', 'r4', 'POISON', 'r6', 'r7']);
      const batches: string[][] = [];
      const processed: string[] = [];
      const failures: OnFailureRecord[] = [];
      const runner = await startRunner({
        streamName: stream,
        bisectBatchOnError: true,
        retryAttempts: 1,
        onFailure: async (r) => void failures.push(r),
        async handler(event) {
          const batch = payloads(event);
          batches.push(batch);
          if (batch.includes('POISON')) throw new Error('cannot process POISON');
          processed.push(...batch);
        },
      });
      await runner.drain();
      expect(batches).toEqual([
        ['r0', 'r1', 'r2', 'r3', 'r4', 'POISON', 'r6', 'r7'],
        ['r0', 'r1', 'r2', 'r3'],
        ['r4', 'POISON', 'r6', 'r7'],
        ['r4', 'POISON'],
        ['r4'],
        ['POISON'],
        ['POISON'],
        ['r6', 'r7'],
      ]);
      expect(processed).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r6', 'r7']);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: seqs[5], endSequenceNumber: seqs[5], batchSize: 1 });
      expect(failures[0]!.requestContext.approximateInvokeCount).toBe(5);
      expect(runner.stats()).toMatchObject({ bisections: 3, retries: 1, onFailureRecords: 1, discardedRecords: 1 });
    });

    it('sends an on-failure record with the shard and sequence range after the retries are exhausted, then moves on', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['bad-1', 'bad-2', 'bad-3']);
      const failures: OnFailureRecord[] = [];
      const batches: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        functionName: 'always-fails',
        retryAttempts: 2,
        onFailure: async (r) => void failures.push(r),
        async handler(event) {
          batches.push(payloads(event));
          if (payloads(event).some((p) => p.startsWith('bad'))) throw new Error('boom');
        },
      });
      await runner.drain();
      expect(batches).toHaveLength(3); // the first delivery and two retries
      expect(failures).toEqual([
        {
          requestContext: {
            requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:always-fails',
            condition: 'RetryAttemptsExhausted',
            approximateInvokeCount: 3,
          },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          version: '1.0',
          timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          KinesisBatchInfo: {
            shardId: 'shardId-000000000000',
            startSequenceNumber: seqs[0],
            endSequenceNumber: seqs[2],
            approximateArrivalOfFirstRecord: expect.stringMatching(/Z$/),
            approximateArrivalOfLastRecord: expect.stringMatching(/Z$/),
            batchSize: 3,
            streamArn: runner.streamArn,
          },
        },
      ]);

      await put(stream, ['good']);
      await runner.drain();
      expect(batches.at(-1)).toEqual(['good']);
      expect(runner.stats().shards['shardId-000000000000']!.checkpoint).not.toBe(seqs[2]);
    });

    it('sends the on-failure record to an SQS queue when the destination is a queue URL', async () => {
      const received: { target: string; body: { QueueUrl: string; MessageBody: string } }[] = [];
      const sqs: Server = createServer((req, res) => {
        let raw = '';
        req.on('data', (c) => (raw += c));
        req.on('end', () => {
          const body = JSON.parse(raw) as { QueueUrl: string; MessageBody: string };
          received.push({ target: String(req.headers['x-amz-target']), body });
          res.setHeader('content-type', 'application/x-amz-json-1.0');
          res.end(
            JSON.stringify({ MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(body.MessageBody).digest('hex') }),
          );
        });
      });
      await new Promise<void>((r) => sqs.listen(0, '127.0.0.1', r));
      process.env.AWS_ENDPOINT_URL_SQS = `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`;
      resetClients();
      try {
        const stream = await createStream();
        const seqs = await put(stream, ['bad']);
        const queueUrl = `${process.env.AWS_ENDPOINT_URL_SQS}/000000000000/stream-failures`;
        const runner = await startRunner({
          streamName: stream,
          retryAttempts: 0,
          onFailure: { queueUrl },
          handler: async () => {
            throw new Error('boom');
          },
        });
        await runner.drain();
        expect(received).toHaveLength(1);
        expect(received[0]!.target).toBe('AmazonSQS.SendMessage');
        expect(received[0]!.body.QueueUrl).toBe(queueUrl);
        const record = JSON.parse(received[0]!.body.MessageBody) as OnFailureRecord;
        expect(record.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 });
        expect(record.KinesisBatchInfo).toMatchObject({ startSequenceNumber: seqs[0], endSequenceNumber: seqs[0], batchSize: 1 });
      } finally {
        delete process.env.AWS_ENDPOINT_URL_SQS;
        resetClients();
        await new Promise((r) => sqs.close(r));
      }
    });

    it('skips records older than maxRecordAge to the on-failure destination without invoking the function', async () => {
      const stream = await createStream();
      const old = await put(stream, ['old-1', 'old-2', 'old-3']);
      await sleep(1_100);
      await put(stream, ['new-1', 'new-2']);
      const seen: string[] = [];
      const failures: OnFailureRecord[] = [];
      const runner = await startRunner({
        streamName: stream,
        maxRecordAgeSeconds: 1,
        onFailure: async (r) => void failures.push(r),
        handler: async (e) => void seen.push(...payloads(e)),
      });
      await runner.drain();
      expect(seen).toEqual(['new-1', 'new-2']);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: 0 });
      expect(failures[0]!.responseContext).toBeUndefined();
      expect(failures[0]!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: old[0], endSequenceNumber: old[2], batchSize: 3 });
    });

    it('with unbounded retries keeps retrying until the records exceed maxRecordAge', async () => {
      const stream = await createStream();
      await put(stream, ['bad']);
      const failures: OnFailureRecord[] = [];
      let attempts = 0;
      const runner = await startRunner({
        streamName: stream,
        retryAttempts: -1,
        // Long enough for a second attempt even when the machine is busy.
        maxRecordAgeSeconds: 1.5,
        onFailure: async (r) => void failures.push(r),
        handler: async () => {
          attempts++;
          throw new Error('boom');
        },
      });
      await runner.drain();
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.requestContext).toMatchObject({ condition: 'RecordAgeExceeded', approximateInvokeCount: attempts });
      expect(failures[0]!.responseContext).toEqual({ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' });
    });

    it('never lets a shard that keeps failing hold back another shard', async () => {
      const stream = await createStream(2);
      await put(stream, ['stuck'], FIRST_SHARD_KEY);
      await put(stream, ['b1', 'b2'], LAST_SHARD_KEY);
      const delivered: string[] = [];
      let stuckAttempts = 0;
      const runner = await startRunner({
        streamName: stream,
        retryAttempts: -1,
        async handler(event) {
          if (payloads(event).includes('stuck')) {
            stuckAttempts++;
            throw new Error('never succeeds');
          }
          delivered.push(...payloads(event));
        },
      });
      await waitFor(() => delivered.length === 2 && stuckAttempts > 3);
      await put(stream, ['b3'], LAST_SHARD_KEY);
      await waitFor(() => delivered.includes('b3'));
      expect(delivered).toEqual(['b1', 'b2', 'b3']);
      await expect(runner.drain({ timeoutMs: 200 })).rejects.toThrow(/shardId-000000000000/);
    });

    it('fails an invocation that runs past the function timeout and retries it', async () => {
      const stream = await createStream();
      await put(stream, ['slow']);
      const remaining: number[] = [];
      const runner = await startRunner({
        streamName: stream,
        functionTimeoutMs: 150,
        async handler(_event, context) {
          remaining.push(context.getRemainingTimeInMillis());
          if (remaining.length === 1) await sleep(400);
        },
      });
      await runner.drain();
      expect(remaining).toHaveLength(2);
      expect(remaining[0]).toBeLessThanOrEqual(150);
      expect(runner.stats()).toMatchObject({ functionErrors: 1, retries: 1 });
    });
  });

  describe('tumbling windows', () => {
    type Call = { records: string[]; state: Record<string, unknown>; final: boolean; early: boolean; window: { start: string; end: string } };
    const asWindowEvent = (e: KinesisStreamEvent) => e as TumblingWindowEvent;
    const record = (calls: Call[], e: TumblingWindowEvent) =>
      calls.push({
        records: e.Records.map(decode),
        state: e.state,
        final: e.isFinalInvokeForWindow,
        early: e.isWindowTerminatedEarly,
        window: e.window,
      });

    it('carries tumbling-window state and makes one final invocation per window', async () => {
      const stream = await createStream();
      const calls: Call[] = [];
      const runner = await startRunner({
        streamName: stream,
        batchSize: 2,
        tumblingWindowSeconds: 1,
        async handler(event) {
          const e = asWindowEvent(event);
          record(calls, e);
          if (e.isFinalInvokeForWindow) return { state: {} };
          return { state: { count: Number(e.state.count ?? 0) + e.Records.length } };
        },
      });
      await alignWithinSecond(50, 500);
      await put(stream, ['w1-a', 'w1-b', 'w1-c']);
      await nextSecond(150);
      await put(stream, ['w2-a', 'w2-b']);
      await runner.drain();

      expect(calls.map(({ records, state, final }) => ({ records, state, final }))).toEqual([
        { records: ['w1-a', 'w1-b'], state: {}, final: false },
        { records: ['w1-c'], state: { count: 2 }, final: false },
        { records: [], state: { count: 3 }, final: true },
        { records: ['w2-a', 'w2-b'], state: {}, final: false },
        { records: [], state: { count: 2 }, final: true },
      ]);
      const [w1, w2] = [calls[0]!.window, calls[3]!.window];
      for (const w of [w1, w2]) {
        expect(w.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(Date.parse(w.end) - Date.parse(w.start)).toBe(1_000);
      }
      expect(Date.parse(w2.start)).toBeGreaterThanOrEqual(Date.parse(w1.end));
      expect(calls.every((c) => !c.early)).toBe(true);
      expect(runner.stats().windowsClosed).toBe(2);
    });

    it('retries a failed window invocation with the state from before it, including the final one', async () => {
      const stream = await createStream();
      const calls: Call[] = [];
      let failedAggregate = false;
      let failedFinal = false;
      const runner = await startRunner({
        streamName: stream,
        batchSize: 1,
        tumblingWindowSeconds: 1,
        retryAttempts: 3,
        async handler(event) {
          const e = asWindowEvent(event);
          record(calls, e);
          if (e.isFinalInvokeForWindow && !failedFinal) {
            failedFinal = true;
            throw new Error('final write failed');
          }
          if (e.Records.map(decode).includes('b') && !failedAggregate) {
            failedAggregate = true;
            throw new Error('aggregation failed');
          }
          return { state: { count: Number(e.state.count ?? 0) + e.Records.length } };
        },
      });
      await alignWithinSecond(50, 500);
      await put(stream, ['a', 'b']);
      await runner.drain();
      expect(calls.map(({ records, state, final }) => ({ records, state, final }))).toEqual([
        { records: ['a'], state: {}, final: false },
        { records: ['b'], state: { count: 1 }, final: false },
        { records: ['b'], state: { count: 1 }, final: false },
        { records: [], state: { count: 2 }, final: true },
        { records: [], state: { count: 2 }, final: true },
      ]);
    });

    it('treats a window response without a state object as a failed invocation', async () => {
      const stream = await createStream();
      const calls: Call[] = [];
      const runner = await startRunner({
        streamName: stream,
        tumblingWindowSeconds: 1,
        async handler(event) {
          const e = asWindowEvent(event);
          record(calls, e);
          if (calls.length === 1) return { batchItemFailures: [] } as never;
          return { state: { seen: Number(e.state.seen ?? 0) + e.Records.length } };
        },
      });
      await put(stream, ['a']);
      await runner.drain();
      expect(calls.map(({ records, state, final }) => ({ records, state, final }))).toEqual([
        { records: ['a'], state: {}, final: false },
        { records: ['a'], state: {}, final: false },
        { records: [], state: { seen: 1 }, final: true },
      ]);
      expect(runner.stats().functionErrors).toBe(1);
    });

    it('closes open windows once caught up when drained with flushWindows', async () => {
      const stream = await createStream();
      const calls: Call[] = [];
      const runner = await startRunner({
        streamName: stream,
        tumblingWindowSeconds: 300,
        async handler(event) {
          const e = asWindowEvent(event);
          record(calls, e);
          return { state: { count: Number(e.state.count ?? 0) + e.Records.length } };
        },
      });
      await put(stream, ['a', 'b']);
      await runner.drain({ flushWindows: true, timeoutMs: 5_000 });
      expect(calls.map(({ records, state, final }) => ({ records, state, final }))).toEqual([
        { records: ['a', 'b'], state: {}, final: false },
        { records: [], state: { count: 2 }, final: true },
      ]);
      expect(Date.parse(calls[0]!.window.end) - Date.parse(calls[0]!.window.start)).toBe(300_000);
    });

    it('terminates a window early when its state exceeds the size limit and continues it with a fresh state', async () => {
      const stream = await createStream();
      const calls: Call[] = [];
      const runner = await startRunner({
        streamName: stream,
        batchSize: 2,
        tumblingWindowSeconds: 1,
        maxWindowStateBytes: 40,
        async handler(event) {
          const e = asWindowEvent(event);
          record(calls, e);
          if (e.isFinalInvokeForWindow) return { state: {} };
          return { state: { items: [...((e.state.items as string[]) ?? []), ...e.Records.map(decode)] } };
        },
      });
      await alignWithinSecond(50, 400);
      await put(stream, ['item-1', 'item-2', 'item-3', 'item-4', 'item-5', 'item-6']);
      await runner.drain();

      const finals = calls.filter((c) => c.final);
      const early = finals.filter((c) => c.early);
      expect(early.length).toBeGreaterThan(0);
      for (const c of early) expect(JSON.stringify(c.state).length).toBeGreaterThan(40);
      const afterEarly = calls[calls.indexOf(early[0]!) + 1]!;
      expect(afterEarly.state).toEqual({});
      expect(afterEarly.window).toEqual(early[0]!.window);
      // Every record is in exactly one final state, whether the window ended early or on time.
      expect(finals.flatMap((c) => (c.state.items as string[] | undefined) ?? [])).toEqual([
        'item-1',
        'item-2',
        'item-3',
        'item-4',
        'item-5',
        'item-6',
      ]);
      expect(runner.stats().windowsTerminatedEarly).toBe(early.length);
    });
  });

  describe('fault injection', () => {
    it('replays a batch whose invocation crashed after its side effects', async () => {
      const stream = await createStream();
      await put(stream, ['a', 'b']);
      const writes: string[] = [];
      let crashed = false;
      const runner = await startRunner({
        streamName: stream,
        faults: {
          afterInvoke: () => {
            if (crashed) return 'none';
            crashed = true;
            return 'crash-after-side-effects';
          },
        },
        handler: async (e) => void writes.push(...payloads(e)),
      });
      await runner.drain();
      expect(writes).toEqual(['a', 'b', 'a', 'b']);
      expect(runner.stats()).toMatchObject({ injectedCrashes: 1, retries: 1, onFailureRecords: 0 });
    });

    it('redelivers a batch whose checkpoint was lost, without counting a retry', async () => {
      const stream = await createStream();
      await put(stream, ['a']);
      const writes: string[] = [];
      let lost = false;
      const runner = await startRunner({
        streamName: stream,
        retryAttempts: 0,
        faults: {
          afterInvoke: () => {
            if (lost) return 'none';
            lost = true;
            return 'redeliver';
          },
        },
        handler: async (e) => void writes.push(...payloads(e)),
      });
      await runner.drain();
      expect(writes).toEqual(['a', 'a']);
      expect(runner.stats()).toMatchObject({ redeliveries: 1, retries: 0, onFailureRecords: 0 });
    });

    it('seededFaults makes the same decisions for the same seed and batch, whatever the call order', () => {
      const invocations: InvocationInfo[] = Array.from({ length: 200 }, (_, i) => ({
        shardId: `shardId-00000000000${i % 2}`,
        firstSequenceNumber: String(1000 + i),
        lastSequenceNumber: String(1010 + i),
        size: 10,
        attempt: 0,
        isFinalInvokeForWindow: false,
      }));
      const decide = (seed: number, order: InvocationInfo[]) => {
        const faults = seededFaults({ seed, crashAfterSideEffects: 0.3, redeliver: 0.2, throttle: 0.1, delay: 0.2, delayMs: [1, 9] });
        const decisions = new Map<string, string>();
        for (const i of order) {
          const before = faults.beforeInvoke!(i);
          const after = faults.afterInvoke!(i, 'success');
          decisions.set(i.firstSequenceNumber!, JSON.stringify([before, after]));
        }
        return decisions;
      };
      const forward = decide(7, invocations);
      expect(decide(7, [...invocations].reverse())).toEqual(forward);
      expect(decide(8, invocations)).not.toEqual(forward);
      const kinds = [...forward.values()].join(' ');
      for (const kind of ['throttle', 'delayMs', 'crash-after-side-effects', 'redeliver']) expect(kinds).toContain(kind);
    });

    it('seededFaults with ensureEach gives every configured fault kind to the first invocations, even at tiny probabilities', () => {
      const faults = seededFaults({ seed: 1, crashAfterSideEffects: 1e-9, redeliver: 1e-9, throttle: 1e-9, delay: 1e-9, delayMs: [4, 6], ensureEach: true });
      const info = (i: number): InvocationInfo => ({ shardId: 'shardId-000000000000', firstSequenceNumber: String(i), lastSequenceNumber: String(i), size: 1, attempt: 0, isFinalInvokeForWindow: false });
      const decisions = Array.from({ length: 4 }, (_, i) => [faults.beforeInvoke!(info(i)), faults.afterInvoke!(info(i), 'success')]);
      expect(decisions).toEqual([
        ['throttle', 'crash-after-side-effects'],
        [{ delayMs: 5 }, 'redeliver'],
        ['none', 'none'],
        ['none', 'none'],
      ]);
    });

    it('under seeded chaos delivers every record at least once and loses none', async () => {
      const stream = await createStream(2);
      const expected = Array.from({ length: 30 }, (_, i) => `e${i}`);
      await put(stream, expected.slice(0, 15), FIRST_SHARD_KEY);
      await put(stream, expected.slice(15), LAST_SHARD_KEY);
      const writes: string[] = [];
      const runner = await startRunner({
        streamName: stream,
        batchSize: 4,
        bisectBatchOnError: true,
        retryAttempts: -1,
        faults: seededFaults({ seed: 42, crashAfterSideEffects: 0.3, redeliver: 0.2, throttle: 0.1, delay: 0.2, delayMs: [1, 5] }),
        handler: async (e) => void writes.push(...payloads(e)),
      });
      await runner.drain();
      expect(new Set(writes)).toEqual(new Set(expected));
      expect(writes.length).toBeGreaterThan(expected.length);
      const stats = runner.stats();
      expect(stats.injectedCrashes + stats.redeliveries).toBeGreaterThan(0);
      expect(stats.onFailureRecords).toBe(0);
    });
  });

  describe('lifecycle and observability', () => {
    it('stop() lets the in-flight invocation finish, and start() resumes from the checkpoint', async () => {
      const stream = await createStream();
      await put(stream, ['a', 'b']);
      const started: string[][] = [];
      const finished: string[][] = [];
      const runner = await startRunner({
        streamName: stream,
        async handler(event) {
          started.push(payloads(event));
          await sleep(300);
          finished.push(payloads(event));
        },
      });
      await waitFor(() => started.length === 1);
      await runner.stop();
      expect(finished).toEqual([['a', 'b']]);

      await put(stream, ['c']);
      await runner.start();
      await runner.drain();
      expect(started).toEqual([['a', 'b'], ['c']]);
    });

    it('shows a hanging invocation as a growing iterator age, and 0 again once it is done and caught up', async () => {
      const stream = await createStream();
      await put(stream, ['a', 'b']);
      let release!: () => void;
      const hanging = new Promise<void>((r) => (release = r));
      const runner = await startRunner({ streamName: stream, handler: () => hanging });
      await waitFor(() => runner.stats().invocations === 1);
      const early = runner.iteratorAgeMs();
      await sleep(800);
      const later = runner.iteratorAgeMs();
      expect(later - early).toBeGreaterThanOrEqual(700);
      // Lambda's own figure is only known when the invocation ends.
      expect(runner.stats().shards['shardId-000000000000']!.iteratorAgeMs).toBe(0);
      release();
      await runner.drain();
      expect(runner.iteratorAgeMs()).toBe(0);
    });

    it('reports invocations, records, checkpoints and iterator age per shard', async () => {
      const stream = await createStream();
      const seqs = await put(stream, ['a', 'b', 'c']);
      const runner = await startRunner({ streamName: stream, batchSize: 2, handler: async () => undefined });
      await runner.drain();
      const stats = runner.stats();
      expect(stats).toMatchObject({ invocations: 2, recordsDelivered: 3, retries: 0, bisections: 0, onFailureRecords: 0 });
      expect(stats.shards['shardId-000000000000']).toMatchObject({
        checkpoint: seqs[2],
        pendingRecords: 0,
        invocations: 2,
        windowOpen: false,
        iteratorAgeMs: 0,
      });
      expect(runner.iteratorAgeMs()).toBe(0);
    });
  });
});
