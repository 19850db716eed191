/**
 * The deployed validation handler, run by the Kinesis event-source runner against kinesis-local and s3rver:
 * real SDK clients, real Lambda event-source semantics (partial batch failures, bisection, bounded retries,
 * on-failure records), the real quarantine writer.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kinesisPutRecordsCall } from '../../adapters/kinesis/put-records';
import { dedupKey, type BehaviouralEvent, type ReasonCode } from '@personalization-data-platform/contract';
import type { ForwardRecord } from '../../core/ingest/batch';
import type { QuarantineLine } from '../../core/ingest/quarantine';
import { kinesisClient, s3Client } from '../../adapters/aws-clients';
import { createValidationHandler, VALIDATION_METRICS, type QuarantineSink, type ValidationHandlerConfig, type ValidationHandlerDeps } from '../../lambdas/validate/handler';
import { useEmulators } from '../support/emulators';
import { KinesisEventSourceRunner, type OnFailureRecord } from '../../local/event-source/runner';
import { Workload, type WorkloadRecord } from '../../workload/generator';
import { captureStdout, createStream, kinesisWithPutRecordsFaults, readStream } from './support';

const BUCKET = 'lake-quarantine';
const emulators = useEmulators({ kinesis: true, s3: true });
const runners: KinesisEventSourceRunner[] = [];
let stdout: ReturnType<typeof captureStdout>;

beforeAll(async () => {
  await s3Client().send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 60_000);

beforeEach(() => {
  stdout = captureStdout();
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  stdout.restore();
});

const KIND_REASON: Record<string, ReasonCode> = {
  not_json: 'not_json',
  missing_user_id: 'schema_violation',
  bad_event_type: 'schema_violation',
  future_timestamp: 'timestamp_out_of_range',
  oversized: 'size_violation',
  unsupported_version: 'unsupported_schema_version',
};

function config(validatedStreamName: string): ValidationHandlerConfig {
  return {
    validatedStreamName,
    quarantineBucket: BUCKET,
    validation: { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000 },
    quarantinePayloadMaxBytes: 4096,
    forwardRetry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
  };
}

/** Writes the records to the raw stream in order, one PutRecords call per 500. */
async function produce(streamName: string, records: readonly { data: Uint8Array; partitionKey: string }[]): Promise<string[]> {
  const sequenceNumbers: string[] = [];
  for (let i = 0; i < records.length; i += 500) {
    const out = await kinesisClient().send(
      new PutRecordsCommand({ StreamName: streamName, Records: records.slice(i, i + 500).map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })) }),
    );
    expect(out.FailedRecordCount ?? 0).toBe(0);
    sequenceNumbers.push(...(out.Records ?? []).map((r) => r.SequenceNumber!));
  }
  return sequenceNumbers;
}

async function quarantineObjects(): Promise<{ key: string; lines: QuarantineLine[] }[]> {
  const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: BUCKET }));
  const out: { key: string; lines: QuarantineLine[] }[] = [];
  for (const o of listed.Contents ?? []) {
    const body = await (await s3Client().send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))).Body!.transformToString();
    out.push({ key: o.Key!, lines: body.trim().split('\n').map((l) => JSON.parse(l) as QuarantineLine) });
  }
  return out;
}

async function quarantinedLines(shardSequenceNumbers: readonly string[]): Promise<QuarantineLine[]> {
  const wanted = new Set(shardSequenceNumbers);
  return (await quarantineObjects()).flatMap((o) => o.lines).filter((l) => wanted.has(l.sequence_number));
}

async function startRunner(
  rawStream: string,
  deps: Omit<ValidationHandlerDeps, 'config'> & { config: ValidationHandlerConfig },
  options: { batchSize?: number; retryAttempts?: number; onFailure?: (r: OnFailureRecord) => Promise<void> } = {},
): Promise<KinesisEventSourceRunner> {
  const handler = createValidationHandler({
    logger: new Logger({ serviceName: 'validate' }),
    metrics: new Metrics({ namespace: 'PersonalizationPlatform', serviceName: 'validate' }),
    ...deps,
  });
  const runner = new KinesisEventSourceRunner({
    streamName: rawStream,
    functionName: 'validate',
    handler: (event, context) => handler(event as Parameters<typeof handler>[0], context),
    startingPosition: 'TRIM_HORIZON',
    batchSize: options.batchSize ?? 500,
    reportBatchItemFailures: true,
    bisectBatchOnError: true,
    retryAttempts: options.retryAttempts ?? 3,
    ...(options.onFailure ? { onFailure: options.onFailure } : {}),
    pollIntervalMs: 20,
    retryBackoffMs: 5,
    maxRetryBackoffMs: 20,
  });
  runners.push(runner);
  await runner.start();
  return runner;
}

const eventOf = (text: string) => JSON.parse(text) as BehaviouralEvent;

describe('validation function on a Kinesis event source', { timeout: 30_000 }, () => {
  it('forwards exactly the unique valid events and quarantines each invalid one with its reason', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    // One batch: duplicates of the workload are resends within the batch, so each is dropped once.
    const records: WorkloadRecord[] = new Workload({ seed: 3, users: 40, startMs: Date.now() - 60_000, meanGapMs: 100, invalidRatio: 0.2, duplicateRatio: 0.1 }).take(300);
    const sequenceNumbers = await produce(raw.name, records);
    const runner = await startRunner(raw.name, { config: config(validated.name) });
    await runner.drain();

    const kinds = records.map((r) => r.kind);
    expect(new Set(kinds)).toEqual(new Set(['valid', 'duplicate', ...Object.keys(KIND_REASON)]));

    // Validated stream: each valid event once, normalized, keyed by its user id, and nothing else.
    const out = await readStream(validated.name);
    const expected = new Map<string, WorkloadRecord>();
    for (const r of records) if (r.kind === 'valid' || r.kind === 'duplicate') expected.set(dedupKey(r.event!), r);
    expect(out.map((r) => dedupKey(eventOf(r.text))).sort()).toEqual([...expected.keys()].sort());
    for (const r of out) {
      const event = eventOf(r.text);
      expect(r.partitionKey).toBe(event.user_id);
      expect(event).toEqual(expected.get(dedupKey(event))!.event);
    }

    // Quarantine: one line per invalid record, the reason its defect implies, the original bytes kept.
    const lines = await quarantinedLines(sequenceNumbers);
    const invalid = records.map((r, i) => ({ r, seq: sequenceNumbers[i]! })).filter(({ r }) => r.kind in KIND_REASON);
    expect(lines.map((l) => l.sequence_number).sort()).toEqual(invalid.map((x) => x.seq).sort());
    const bySeq = new Map(lines.map((l) => [l.sequence_number, l]));
    for (const { r, seq } of invalid) {
      const line = bySeq.get(seq)!;
      expect(line.reason, r.kind).toBe(KIND_REASON[r.kind]);
      expect(line.errors.length).toBeGreaterThan(0);
      expect(line.shard_id).toBe('shardId-000000000000');
      expect(line.partition_key).toBe(r.partitionKey);
      const kept = Buffer.from(line.payload_base64, 'base64');
      expect(line.payload_bytes).toBe(r.data.length);
      expect(kept).toEqual(r.data.subarray(0, 4096));
      expect(line.payload_truncated).toBe(r.data.length > 4096);
    }

    // Nothing lost, nothing added: forwarded + quarantined + dropped duplicates = records in.
    const duplicatesDropped = records.filter((r) => r.kind === 'valid' || r.kind === 'duplicate').length - expected.size;
    expect(out.length + lines.length + duplicatesDropped).toBe(records.length);
    expect(runner.stats()).toMatchObject({ partialFailures: 0, functionErrors: 0, onFailureRecords: 0 });

    // The invocation's metrics (EMF) and its result log.
    const emitted = stdout.lines();
    const totals = emitted.find((l) => l[VALIDATION_METRICS.recordsIn] !== undefined)!;
    expect(totals).toMatchObject({
      service: 'validate',
      [VALIDATION_METRICS.recordsIn]: 300,
      [VALIDATION_METRICS.forwarded]: expected.size,
      [VALIDATION_METRICS.quarantined]: invalid.length,
      [VALIDATION_METRICS.duplicates]: duplicatesDropped,
      [VALIDATION_METRICS.failedRecords]: 0,
    });
    expect((totals._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'PersonalizationPlatform',
      Dimensions: [['service']],
    });
    const byReason = emitted.filter((l) => l.reason !== undefined && l[VALIDATION_METRICS.quarantined] !== undefined);
    const countsByReason: Record<string, number> = {};
    for (const { r } of invalid) countsByReason[KIND_REASON[r.kind]!] = (countsByReason[KIND_REASON[r.kind]!] ?? 0) + 1;
    expect(Object.fromEntries(byReason.map((l) => [l.reason, l[VALIDATION_METRICS.quarantined]]))).toEqual(countsByReason);
    for (const l of byReason) {
      expect((l._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] }).CloudWatchMetrics[0]!.Dimensions[0]!.sort()).toEqual(['reason', 'service']);
    }
    const log = emitted.find((l) => l.message === 'batch validated')!;
    expect(log).toMatchObject({ level: 'INFO', recordsIn: 300, duplicates: duplicatesDropped, quarantined: invalid.length, forwarded: expected.size });
  });

  it('quarantines an oversized record as a size violation, keeping its start and its size', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    const event = new Workload({ seed: 9, startMs: Date.now() - 1000 }).nextEvent();
    const big = Buffer.from(JSON.stringify({ ...event, properties: { note: 'y'.repeat(20_000) } }));
    const [seq] = await produce(raw.name, [{ data: big, partitionKey: event.user_id }]);
    const runner = await startRunner(raw.name, { config: config(validated.name) });
    await runner.drain();

    expect(await readStream(validated.name)).toEqual([]);
    const [line] = await quarantinedLines([seq!]);
    expect(line).toMatchObject({ reason: 'size_violation', payload_bytes: big.length, payload_truncated: true });
    expect(line!.errors[0]).toMatchObject({ rule: 'maxBytes' });
    expect(Buffer.from(line!.payload_base64, 'base64')).toEqual(big.subarray(0, 4096));
  });

  it('retries the entries PutRecords rejects, so a partial failure neither loses nor doubles events', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    const records = new Workload({ seed: 11, users: 20, startMs: Date.now() - 10_000 }).take(60);
    await produce(raw.name, records);
    // The first call rejects every third entry as throttled, the second one InternalFailure for one more.
    let n = 0;
    const faulty = kinesisWithPutRecordsFaults((call) => {
      n++;
      if (call === 1 && n % 3 === 0) return 'ProvisionedThroughputExceededException';
      if (call === 2 && n === 61) return 'InternalFailure';
      return undefined;
    });
    const runner = await startRunner(raw.name, { config: config(validated.name), forward: kinesisPutRecordsCall<ForwardRecord>(faulty.client, validated.name) });
    await runner.drain();

    const out = await readStream(validated.name);
    expect(out.map((r) => eventOf(r.text).event_id).sort()).toEqual(records.map((r) => r.event!.event_id).sort());
    expect(faulty.calls()).toBe(3);
    expect(runner.stats()).toMatchObject({ partialFailures: 0, retries: 0 });
    const totals = stdout.lines().find((l) => l[VALIDATION_METRICS.recordsIn] !== undefined)!;
    expect(totals).toMatchObject({ [VALIDATION_METRICS.forwardRetries]: 21, [VALIDATION_METRICS.forwardThrottles]: 20, [VALIDATION_METRICS.forwarded]: 60 });
    faulty.client.destroy();
  });

  it('reports what still fails as batch item failures, so Lambda redelivers from there', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    const records = new Workload({ seed: 12, users: 20, startMs: Date.now() - 10_000 }).take(10);
    const seqs = await produce(raw.name, records);
    // Every PutRecords entry for the 4th event fails for the whole first invocation (4 attempts), then recovers.
    const victim = records[3]!.event!.event_id;
    let invocationsSeen = 0;
    const faulty = kinesisWithPutRecordsFaults((call, e) => (call <= 4 && Buffer.from(e.data).toString().includes(victim) ? 'InternalFailure' : undefined));
    const forward = kinesisPutRecordsCall<ForwardRecord>(faulty.client, validated.name);
    const runner = await startRunner(raw.name, {
      config: config(validated.name),
      forward: async (entries) => {
        invocationsSeen++;
        return forward(entries);
      },
    });
    await runner.drain();

    const out = await readStream(validated.name);
    // The victim and everything after it in the batch were delivered again: the later ones arrive twice
    // (at-least-once; the aggregator dedups), and every event arrives at least once.
    const ids = out.map((r) => eventOf(r.text).event_id);
    expect(new Set(ids)).toEqual(new Set(records.map((r) => r.event!.event_id)));
    expect(ids.filter((id) => id === victim)).toHaveLength(1);
    expect(ids).toHaveLength(10 + 6);
    expect(runner.stats()).toMatchObject({ partialFailures: 1, onFailureRecords: 0 });
    const warn = stdout.lines().find((l) => l.level === 'WARN')!;
    expect(warn).toMatchObject({ failedRecords: 1, lowestFailedSequenceNumber: seqs[3], forwardErrors: { InternalFailure: 1 } });
    expect(invocationsSeen).toBeGreaterThanOrEqual(2);
    faulty.client.destroy();
  });

  it('does not let a record that always fails block its shard: it goes to the on-failure destination', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    const records = new Workload({ seed: 13, users: 20, startMs: Date.now() - 10_000 }).take(12);
    const seqs = await produce(raw.name, records);
    const poison = records[5]!.event!.event_id;
    const faulty = kinesisWithPutRecordsFaults((_call, e) => (Buffer.from(e.data).toString().includes(poison) ? 'InternalFailure' : undefined));
    const onFailure: OnFailureRecord[] = [];
    const runner = await startRunner(
      raw.name,
      { config: config(validated.name), forward: kinesisPutRecordsCall<ForwardRecord>(faulty.client, validated.name) },
      { retryAttempts: 2, onFailure: async (r) => void onFailure.push(r) },
    );
    await runner.drain();

    const ids = new Set((await readStream(validated.name)).map((r) => eventOf(r.text).event_id));
    expect(ids).toEqual(new Set(records.filter((_, i) => i !== 5).map((r) => r.event!.event_id)));
    // Lambda retries from the lowest reported failure to the end of the batch, so the range it gives up on
    // runs from the poison record to the batch's end, although the records after it were forwarded.
    expect(onFailure).toHaveLength(1);
    expect(onFailure[0]!.KinesisBatchInfo).toMatchObject({ shardId: 'shardId-000000000000', startSequenceNumber: seqs[5], endSequenceNumber: seqs[11], batchSize: 7 });
    expect(onFailure[0]!.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(runner.stats().shards['shardId-000000000000']!.checkpoint).toBe(seqs[11]);
    faulty.client.destroy();
  });

  it('keeps forwarding valid events while the quarantine store is down; the retry forwards the later ones again', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    const [first, second, third] = new Workload({ seed: 21, users: 3, startMs: Date.now() - 60_000 }).take(3);
    await produce(raw.name, [first!, { data: Buffer.from('not json'), partitionKey: 'p' }, second!, third!]);
    let failuresLeft = 2;
    let stored = 0;
    const sink: QuarantineSink = {
      async put() {
        if (failuresLeft-- > 0) throw new Error('injected: S3 unavailable');
        stored++;
      },
    };
    const runner = await startRunner(raw.name, { config: config(validated.name), quarantine: sink });
    await runner.drain();

    // Every valid event was forwarded on the first attempt, outage or not; each retry (from the record whose
    // quarantine failed) forwarded the ones after it again: copies the profiles' ledger recognizes.
    const ids = (await readStream(validated.name)).map((r) => eventOf(r.text).event_id);
    const [a, b, c] = [first!, second!, third!].map((r) => r.event!.event_id);
    expect(ids).toEqual([a, b, c, b, c, b, c]);
    expect(stored).toBe(1);
    expect(runner.stats()).toMatchObject({ partialFailures: 2 });
  });

  it('retries a batch whose quarantine write failed, rewriting the same object key', async () => {
    const raw = await createStream('raw');
    const validated = await createStream('validated');
    const seqs = await produce(raw.name, [
      { data: Buffer.from('{"broken'), partitionKey: 'p1' },
      { data: Buffer.from('[]'), partitionKey: 'p2' },
    ]);
    const keys: string[] = [];
    let failuresLeft = 1;
    const handlerSink: QuarantineSink = {
      async put(key, body) {
        keys.push(key);
        if (failuresLeft-- > 0) throw new Error('injected: S3 unavailable');
        await real.put(key, body);
      },
    };
    // The real sink, built the way the deployed handler builds it.
    const { s3QuarantineSink } = await import('../../adapters/s3/quarantine-sink');
    const k = kinesisClient();
    const real = s3QuarantineSink({ bucket: BUCKET, region: k.config.region, credentials: k.config.credentials, endpoint: emulators().endpoints.s3, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    const runner = await startRunner(raw.name, { config: config(validated.name), quarantine: handlerSink });
    await runner.drain();

    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    const objects = (await quarantineObjects()).filter((o) => o.key === keys[0]);
    expect(objects).toHaveLength(1);
    expect(objects[0]!.lines.map((l) => [l.sequence_number, l.reason])).toEqual([
      [seqs[0], 'not_json'],
      [seqs[1], 'schema_violation'],
    ]);
    expect(runner.stats()).toMatchObject({ partialFailures: 1 });
  });
});
