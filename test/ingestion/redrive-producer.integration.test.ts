/**
 * The redrive command's stream path and the producer client, against kinesis-local with the real SDK.
 * The on-failure record is produced by the event-source runner exactly as Lambda builds it; the function the
 * redrive invokes is a recording one (the local Lambda endpoint is tested in redrive-sqs.integration.test.ts).
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { EventProducer } from '@personalization-data-platform/producer';
import { parseOnFailureRecord, type RedriveRange } from '../../core/ingest/redrive';
import { useEmulators } from '../support/emulators';
import { KinesisEventSourceRunner, type OnFailureRecord } from '../../local/event-source/runner';
import { Workload } from '../../workload/generator';
import { readShardRange, redriveRanges, type Invoke } from '../../scripts/redrive';
import { createStream, kinesisWithPutRecordsFaults, readStream } from './support';

useEmulators({ kinesis: true });

const noSleep = async () => undefined;

/** Runs a function that always fails over the stream until the runner gives up, and returns its on-failure records. */
async function failEverything(streamName: string): Promise<OnFailureRecord[]> {
  const records: OnFailureRecord[] = [];
  const runner = new KinesisEventSourceRunner({
    streamName,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 100,
    retryAttempts: 0,
    reportBatchItemFailures: true,
    handler: async (_event: KinesisStreamEvent) => {
      throw new Error('validated stream unavailable');
    },
    onFailure: async (r) => void records.push(r),
    pollIntervalMs: 20,
    retryBackoffMs: 1,
  });
  await runner.start();
  try {
    await runner.drain();
  } finally {
    await runner.stop();
  }
  return records;
}

/** A function as the redrive invokes it, recording what it received; `answer` decides each response. */
function recordingFunction(answer: (event: KinesisStreamEvent, call: number) => { response: unknown; functionError?: string } = () => ({ response: { batchItemFailures: [] } })) {
  const calls: { functionName: string; sequenceNumbers: string[]; partitionKeys: string[]; texts: string[]; arrivalMs: number[] }[] = [];
  const invoke: Invoke = async (functionName, event) => {
    calls.push({
      functionName,
      sequenceNumbers: event.Records.map((r) => r.kinesis.sequenceNumber),
      partitionKeys: event.Records.map((r) => r.kinesis.partitionKey),
      texts: event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8')),
      arrivalMs: event.Records.map((r) => Math.round(r.kinesis.approximateArrivalTimestamp * 1000)),
    });
    return answer(event, calls.length);
  };
  return { calls, invoke };
}

describe('redrive', { timeout: 30_000 }, () => {
  it('replays exactly the records of an on-failure range to the function that gave up on them, with their identity', async () => {
    const raw = await createStream('raw');
    const sent = new Workload({ seed: 21, users: 10 }).take(8);
    const producer = new EventProducer({ streamName: raw.name, validate: false, sleep: noSleep });
    const summary = await producer.sendRecords(sent);
    expect(summary.sent).toBe(8);
    // A later record outside the failed range must not be replayed.
    const [onFailure] = await failEverything(raw.name);
    await producer.sendRecords([{ data: Buffer.from('{"later":true}'), partitionKey: 'later' }]);

    const parsed = parseOnFailureRecord(JSON.stringify(onFailure));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.range).toMatchObject({ streamName: raw.name, batchSize: 8, condition: 'RetryAttemptsExhausted' });

    const fn = recordingFunction();
    const [outcome] = await redriveRanges([{ source: 'message-1', range: parsed.range }], { invoke: fn.invoke, batchSize: 5, sleep: noSleep });
    expect(outcome).toMatchObject({ functionName: `${raw.name}-consumer`, found: 8, complete: true, replayed: 8, done: true, retention: 'retained' });
    // Two invocations (batches of 5), the original sequence numbers, keys, bytes and arrival times.
    expect(fn.calls.map((c) => c.sequenceNumbers.length)).toEqual([5, 3]);
    const sequences = summary.results.map((r) => (r.status === 'sent' ? r.sequenceNumber : ''));
    expect(fn.calls.flatMap((c) => c.sequenceNumbers)).toEqual(sequences);
    expect(fn.calls.flatMap((c) => c.partitionKeys.map((k, i) => [k, c.texts[i]]))).toEqual(sent.map((r) => [r.partitionKey, r.data.toString('utf8')]));
    expect(fn.calls.flatMap((c) => c.arrivalMs).every((ms) => Math.abs(ms - Date.now()) < 60_000)).toBe(true);
  });

  it('replays from the lowest record a function reports failed, and keeps a range whose records it keeps refusing', async () => {
    const raw = await createStream('raw');
    await new EventProducer({ streamName: raw.name, validate: false }).sendRecords(new Workload({ seed: 23 }).take(4));
    const [onFailure] = await failEverything(raw.name);
    const range = parseRange(onFailure!);

    // The first answer reports the third record failed: the replay resumes there, as Lambda retries.
    const partial = recordingFunction((event, call) => ({ response: { batchItemFailures: call === 1 ? [{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }] : [] } }));
    const [healed] = await redriveRanges([{ source: 'm', range }], { invoke: partial.invoke, sleep: noSleep });
    expect(partial.calls.map((c) => c.sequenceNumbers.length)).toEqual([4, 2]);
    expect(healed).toMatchObject({ replayed: 4, done: true });

    // A function that fails every time: the range is reported with the function's error and kept.
    const broken = recordingFunction(() => ({ response: { errorType: 'Error', errorMessage: 'still broken' }, functionError: 'Unhandled' }));
    const [kept] = await redriveRanges([{ source: 'm', range }], { invoke: broken.invoke, attempts: 3, sleep: noSleep });
    expect(broken.calls).toHaveLength(3);
    expect(kept).toMatchObject({ found: 4, replayed: 0, done: false, error: expect.stringContaining('still broken') });
  });

  it('invokes nothing in a dry run, and keeps a range whose records are not all there', async () => {
    const raw = await createStream('raw');
    await new EventProducer({ streamName: raw.name, validate: false }).sendRecords(new Workload({ seed: 22 }).take(3));
    const [onFailure] = await failEverything(raw.name);
    const range = parseRange(onFailure!);

    const fn = recordingFunction();
    const [dry] = await redriveRanges([{ source: 'm', range }], { invoke: fn.invoke, dryRun: true });
    expect(dry).toMatchObject({ found: 3, complete: true, replayed: 0, done: false });
    expect(fn.calls).toEqual([]);
    // A range claiming more records than the stream holds (trimmed by retention) is incomplete: not done.
    const [short] = await redriveRanges([{ source: 'm', range: { ...range, batchSize: 5 } }], { invoke: fn.invoke });
    expect(short).toMatchObject({ found: 3, complete: false, done: false });
  });

  it('reads a range by its sequence numbers only, from the middle of a shard', async () => {
    const raw = await createStream('raw');
    const summary = await new EventProducer({ streamName: raw.name, validate: false }).sendRecords(
      Array.from({ length: 6 }, (_, i) => ({ data: Buffer.from(`r${i}`), partitionKey: 'k' })),
    );
    const seqs = summary.results.map((r) => (r.status === 'sent' ? r.sequenceNumber : ''));
    const read = await readShardRange((await import('../../adapters/aws-clients')).kinesisClient(), {
      streamArn: raw.arn,
      shardId: 'shardId-000000000000',
      startSequenceNumber: seqs[2]!,
      endSequenceNumber: seqs[4]!,
    });
    expect(read.map((r) => Buffer.from(r.data).toString())).toEqual(['r2', 'r3', 'r4']);
  });
});

describe('EventProducer', { timeout: 30_000 }, () => {
  it('sends valid events keyed by user id, normalized, and rejects invalid ones without sending them', async () => {
    const stream = await createStream('producer');
    const workload = new Workload({ seed: 31, users: 5, startMs: Date.now() - 1000 });
    const good = workload.nextEvent();
    const events: unknown[] = [{ ...good, category: ' Shoes ' }, { ...workload.nextEvent(), event_type: 'hover' }, 'not an event'];
    const summary = await new EventProducer({ streamName: stream.name, sleep: noSleep }).send(events);

    expect(summary.results.map((r) => r.status)).toEqual(['sent', 'rejected', 'rejected']);
    expect(summary.results[1]).toMatchObject({ reason: 'schema_violation', errors: [expect.objectContaining({ path: '/event_type' })] });
    expect(summary).toMatchObject({ sent: 1, rejected: 2, failed: 0, calls: 1 });
    const out = await readStream(stream.name);
    expect(out).toHaveLength(1);
    expect(out[0]!.partitionKey).toBe(good.user_id);
    expect(JSON.parse(out[0]!.text).category).toBe('shoes');
  });

  it('batches by count and bytes (limits at 500 records / 5 MiB unless set) and returns results in the order given', async () => {
    const stream = await createStream('producer');
    const events = new Workload({ seed: 32, users: 50, startMs: Date.now() - 60_000, meanGapMs: 1 }).take(11).map((r) => r.event!);
    const summary = await new EventProducer({ streamName: stream.name, sleep: noSleep, limits: { maxRecords: 4, maxBytes: 5 * 1024 * 1024 } }).send(events);
    expect(summary).toMatchObject({ sent: 11, calls: 3 });
    const bySeq = new Map((await readStream(stream.name)).map((r) => [r.sequenceNumber, JSON.parse(r.text).event_id]));
    summary.results.forEach((r, i) => expect(r.status === 'sent' && bySeq.get(r.sequenceNumber)).toBe(events[i]!.event_id));
  });

  it('retries throttled entries with backoff and full jitter, and surfaces the throttling', async () => {
    const stream = await createStream('producer');
    const events = new Workload({ seed: 33, users: 5, startMs: Date.now() - 1000 }).take(4).map((r) => r.event!);
    const stuck = events[3]!.event_id;
    // Entry 2 is throttled once; entry 4 on every attempt.
    const faulty = kinesisWithPutRecordsFaults((call, e) => {
      const text = Buffer.from(e.data).toString();
      if (text.includes(stuck) || (call === 1 && text.includes(events[1]!.event_id))) return 'ProvisionedThroughputExceededException';
      return undefined;
    });
    const delays: number[] = [];
    const throttleReports: unknown[] = [];
    const producer = new EventProducer({
      streamName: stream.name,
      kinesis: faulty.client,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150 },
      random: () => 0.5,
      sleep: async (ms) => void delays.push(ms),
      onThrottled: (info) => void throttleReports.push(info),
    });
    const summary = await producer.send(events);

    expect(summary.results.map((r) => [r.status, r.status !== 'rejected' ? r.attempts : 0])).toEqual([
      ['sent', 1],
      ['sent', 2],
      ['sent', 1],
      ['failed', 3],
    ]);
    expect(summary.results[3]).toMatchObject({ errorCode: 'ProvisionedThroughputExceededException', throttled: true });
    expect(delays).toEqual([50, 75]);
    expect(summary).toMatchObject({ sent: 3, failed: 1, throttled: 4, retried: 3 });
    expect(throttleReports).toEqual([{ throttledEntries: 4, failedEntries: 1 }]);
    expect((await readStream(stream.name)).map((r) => JSON.parse(r.text).event_id).sort()).toEqual(events.slice(0, 3).map((e) => e.event_id).sort());
    faulty.client.destroy();
  });

  it('fails fast, without retrying, when the stream does not exist', async () => {
    const summary = await new EventProducer({ streamName: 'no-such-stream', sleep: noSleep }).send([new Workload({ seed: 34, startMs: Date.now() }).nextEvent()]);
    expect(summary.results[0]).toMatchObject({ status: 'failed', errorCode: 'ResourceNotFoundException', attempts: 1, throttled: false });
  });
});

function parseRange(record: OnFailureRecord): RedriveRange {
  const parsed = parseOnFailureRecord(JSON.stringify(record));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.range;
}
