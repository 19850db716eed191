/**
 * The redrive command's stream path and the producer client, against kinesis-local with the real SDK.
 * The on-failure record is produced by the event-source runner exactly as Lambda builds it.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { EventProducer } from '../../clients/producer';
import { parseOnFailureRecord } from '../../lambdas/core/ingest/redrive';
import { useEmulators } from '../support/emulators';
import { KinesisEventSourceRunner, type OnFailureRecord } from '../../local/event-source-runner';
import { Workload } from '../../local/workload';
import { readShardRange, redriveRanges } from '../../scripts/redrive';
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

describe('redrive', { timeout: 30_000 }, () => {
  it('re-reads the range of an on-failure record and re-injects exactly its records, keys and bytes', async () => {
    const raw = await createStream('raw');
    const target = await createStream('target');
    const sent = new Workload({ seed: 21, users: 10 }).take(8);
    const producer = new EventProducer({ streamName: raw.name, validate: false, sleep: noSleep });
    expect((await producer.sendRecords(sent)).sent).toBe(8);
    // A later record outside the failed range must not be re-injected.
    const [onFailure] = await failEverything(raw.name);
    await producer.sendRecords([{ data: Buffer.from('{"later":true}'), partitionKey: 'later' }]);

    const parsed = parseOnFailureRecord(JSON.stringify(onFailure));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.range).toMatchObject({ streamName: raw.name, batchSize: 8, condition: 'RetryAttemptsExhausted' });

    const [outcome] = await redriveRanges([{ source: 'message-1', range: parsed.range }], { targetStream: target.name });
    expect(outcome).toMatchObject({ found: 8, complete: true, written: 8, done: true, retention: 'retained' });
    const out = await readStream(target.name);
    expect(out.map((r) => [r.partitionKey, r.text])).toEqual(sent.map((r) => [r.partitionKey, r.data.toString('utf8')]));
  });

  it('writes nothing in a dry run, and keeps a range whose records are not all there', async () => {
    const raw = await createStream('raw');
    const target = await createStream('target');
    await new EventProducer({ streamName: raw.name, validate: false }).sendRecords(new Workload({ seed: 22 }).take(3));
    const [onFailure] = await failEverything(raw.name);
    const parsed = parseOnFailureRecord(JSON.stringify(onFailure));
    if (!parsed.ok) throw new Error(parsed.error);

    const [dry] = await redriveRanges([{ source: 'm', range: parsed.range }], { targetStream: target.name, dryRun: true });
    expect(dry).toMatchObject({ found: 3, complete: true, written: 0, done: false });
    // A range claiming more records than the stream holds (trimmed by retention) is incomplete: not done.
    const [short] = await redriveRanges([{ source: 'm', range: { ...parsed.range, batchSize: 5 } }], { targetStream: target.name });
    expect(short).toMatchObject({ found: 3, complete: false, done: false });
  });

  it('reads a range by its sequence numbers only, from the middle of a shard', async () => {
    const raw = await createStream('raw');
    const summary = await new EventProducer({ streamName: raw.name, validate: false }).sendRecords(
      Array.from({ length: 6 }, (_, i) => ({ data: Buffer.from(`r${i}`), partitionKey: 'k' })),
    );
    const seqs = summary.results.map((r) => (r.status === 'sent' ? r.sequenceNumber : ''));
    const read = await readShardRange((await import('../../lambdas/shared/aws-clients')).kinesisClient(), {
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
