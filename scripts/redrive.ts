/**
 * `npm run redrive -- --queue-url <url> [--target-stream <name>] [--dry-run] [--max-messages N] [--retention-hours H]`
 * `npm run redrive -- --file <on-failure-records.jsonl> ...`
 *
 * Redrives what the validation function's event source gave up on. Its on-failure messages name shard
 * ranges, not records, so this reads each range back from the stream (while the stream still retains it),
 * writes the records again with their original partition keys to the target stream (by default the stream
 * the range came from, so they are validated again), and deletes a message only once every record of its
 * range was re-read and written. Fix the cause first (a bug, a missing permission): redriving a poison
 * record that still fails just sends it back to the queue.
 *
 * Endpoints and credentials come from the standard AWS variables, so it works against AWS, LocalStack or
 * the local emulators alike.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EventProducer } from '../clients/producer';
import {
  compareSequenceNumbers,
  inRange,
  parseOnFailureRecord,
  planShardReads,
  rangeCompleteness,
  retentionStatus,
  type RedriveRange,
  type ShardRead,
} from '../lambdas/core/ingest/redrive';
import { kinesisClient, sqsClient } from '../lambdas/shared/aws-clients';

export interface StreamRecord {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly arrivalMs: number;
}

/**
 * Reads the records of one shard range, in order. Stops after the end sequence number, at the shard's tip
 * (an empty read that is not behind), or at a closed shard's end. Records the stream has trimmed are simply
 * not returned: callers compare the count with the on-failure record's.
 */
export async function readShardRange(kinesis: KinesisClient, read: Pick<ShardRead, 'streamArn' | 'shardId' | 'startSequenceNumber' | 'endSequenceNumber'>): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  let iterator: string | undefined;
  try {
    const it = await kinesis.send(
      new GetShardIteratorCommand({
        StreamARN: read.streamArn,
        ShardId: read.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: read.startSequenceNumber,
      }),
    );
    iterator = it.ShardIterator;
  } catch (err) {
    // A start that is no longer retained: read what is left of the range from the oldest record.
    if ((err as Error).name !== 'InvalidArgumentException') throw err;
    const it = await kinesis.send(new GetShardIteratorCommand({ StreamARN: read.streamArn, ShardId: read.shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    iterator = it.ShardIterator;
  }
  while (iterator) {
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, StreamARN: read.streamArn, Limit: 1000 }));
    for (const r of page.Records ?? []) {
      const seq = r.SequenceNumber!;
      if (compareSequenceNumbers(seq, read.endSequenceNumber) > 0) return out;
      if (inRange(seq, read)) {
        out.push({ sequenceNumber: seq, partitionKey: r.PartitionKey!, data: r.Data!, arrivalMs: r.ApproximateArrivalTimestamp?.getTime() ?? 0 });
      }
    }
    if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) return out;
    iterator = page.NextShardIterator;
  }
  return out;
}

export interface RedriveItem {
  /** Where the on-failure record came from (an SQS receipt handle, a file line). */
  readonly source: string;
  readonly range: RedriveRange;
}

export interface RedriveOutcome {
  readonly source: string;
  readonly range: RedriveRange;
  readonly retention: ReturnType<typeof retentionStatus>;
  readonly found: number;
  readonly complete: boolean;
  /** Records of this range written to the target (0 in a dry run). */
  readonly written: number;
  /** True when every record was found and written: the message may be deleted. */
  readonly done: boolean;
  /** Why the range could not be read at all (no such shard or stream, access denied...). */
  readonly error?: string;
}

export interface RedriveOptions {
  /** Stream to write to. @default the stream each range was read from */
  readonly targetStream?: string;
  readonly dryRun?: boolean;
  /** Retention of the source stream, to flag ranges that are (nearly) gone. @default 24 */
  readonly retentionHours?: number;
  readonly kinesis?: KinesisClient;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

/** Re-reads and re-injects the ranges of `items`; overlapping ranges of a shard are read and written once. */
export async function redriveRanges(items: readonly RedriveItem[], options: RedriveOptions = {}): Promise<RedriveOutcome[]> {
  const kinesis = options.kinesis ?? kinesisClient();
  const now = (options.now ?? Date.now)();
  const log = options.log ?? (() => undefined);
  const ranges = items.map((i) => i.range);
  const written = new Map<number, number>();
  const found = new Map<number, string[]>();
  const failedItems = new Set<number>();
  const readErrors = new Map<number, string>();

  for (const read of planShardReads(ranges)) {
    let records: StreamRecord[];
    try {
      records = await readShardRange(kinesis, read);
    } catch (err) {
      // One unreadable range (a wrong shard id, a deleted stream) must not stop the others being redriven.
      const error = `${(err as Error).name}: ${(err as Error).message}`;
      for (const index of read.covers) readErrors.set(index, error);
      log(`${read.shardId} ${read.startSequenceNumber}..${read.endSequenceNumber}: cannot be read (${error}); kept`);
      continue;
    }
    for (const index of read.covers) found.set(index, records.map((r) => r.sequenceNumber));
    log(`${read.shardId} ${read.startSequenceNumber}..${read.endSequenceNumber}: ${records.length} record(s) read`);
    if (options.dryRun || records.length === 0) continue;
    const producer = new EventProducer({ streamName: options.targetStream ?? read.streamArn, kinesis, validate: false });
    const result = await producer.sendRecords(records.map((r) => ({ data: r.data, partitionKey: r.partitionKey })));
    const failedSeqs = new Set(records.filter((_, i) => result.results[i]!.status !== 'sent').map((r) => r.sequenceNumber));
    for (const index of read.covers) {
      const mine = records.filter((r) => inRange(r.sequenceNumber, ranges[index]!));
      if (mine.some((r) => failedSeqs.has(r.sequenceNumber))) failedItems.add(index);
      written.set(index, mine.filter((r) => !failedSeqs.has(r.sequenceNumber)).length);
    }
    if (result.failed > 0) log(`  ${result.failed} record(s) could not be written (throttled: ${result.throttled}); their messages are kept`);
  }

  return items.map((item, index) => {
    const { found: count, complete } = rangeCompleteness(item.range, found.get(index) ?? []);
    const w = written.get(index) ?? 0;
    return {
      source: item.source,
      range: item.range,
      retention: retentionStatus(item.range, now, options.retentionHours ?? 24),
      found: count,
      complete,
      written: w,
      done: !options.dryRun && complete && !failedItems.has(index) && w === count,
      ...(readErrors.has(index) ? { error: readErrors.get(index)! } : {}),
    };
  });
}

// ------------------------------------------------------------------------------------------------ CLI

const USAGE = `usage: npm run redrive -- (--queue-url <url> | --file <jsonl>) [--target-stream <name|arn>] [--dry-run]
                        [--max-messages <n>] [--retention-hours <h>]`;

async function receiveAll(queueUrl: string, max: number): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < max) {
    const out = await sqsClient().send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - messages.length),
        WaitTimeSeconds: 1,
        // Long enough to read and re-inject before another receiver could see the message.
        VisibilityTimeout: 300,
      }),
    );
    if (!out.Messages?.length) break;
    messages.push(...out.Messages);
  }
  return messages;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'queue-url': { type: 'string' },
      file: { type: 'string' },
      'target-stream': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'max-messages': { type: 'string', default: '1000' },
      'retention-hours': { type: 'string', default: '24' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || (!values['queue-url'] === !values.file)) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const max = Number(values['max-messages']);
  const retentionHours = Number(values['retention-hours']);
  const items: RedriveItem[] = [];
  const handles = new Map<string, string>();
  const bodies: { source: string; body: string }[] = [];
  if (values['queue-url']) {
    for (const m of await receiveAll(values['queue-url'], max)) {
      bodies.push({ source: m.MessageId!, body: m.Body ?? '' });
      handles.set(m.MessageId!, m.ReceiptHandle!);
    }
  } else {
    const lines = (await readFile(values.file!, 'utf8')).split('\n');
    lines.forEach((line, i) => line.trim() && bodies.push({ source: `${values.file}:${i + 1}`, body: line }));
  }
  let unreadable = 0;
  for (const { source, body } of bodies) {
    const parsed = parseOnFailureRecord(body);
    if (parsed.ok) items.push({ source, range: parsed.range });
    else {
      unreadable++;
      console.error(`${source}: skipped, ${parsed.error}`);
    }
  }
  console.error(`${items.length} on-failure record(s) to redrive${unreadable ? `, ${unreadable} unreadable (kept)` : ''}${values['dry-run'] ? ' (dry run)' : ''}`);
  const outcomes = await redriveRanges(items, {
    targetStream: values['target-stream'],
    dryRun: values['dry-run'],
    retentionHours,
    log: (l) => console.error(l),
  });
  let deleted = 0;
  for (const o of outcomes) {
    const r = o.range;
    console.log(
      JSON.stringify({ source: o.source, stream: r.streamName, shardId: r.shardId, start: r.startSequenceNumber, end: r.endSequenceNumber, condition: r.condition, expected: r.batchSize, found: o.found, written: o.written, retention: o.retention, done: o.done, ...(o.error ? { error: o.error } : {}) }),
    );
    if (o.done && values['queue-url']) {
      await sqsClient().send(new DeleteMessageCommand({ QueueUrl: values['queue-url'], ReceiptHandle: handles.get(o.source)! }));
      handles.delete(o.source);
      deleted++;
    }
  }
  // Messages not deleted (a dry run, unreadable or incomplete ranges) are made visible again at once rather
  // than after the receive's visibility timeout, so a dry run hides nothing from the real run that follows.
  for (const [source, handle] of handles) {
    try {
      await sqsClient().send(new ChangeMessageVisibilityCommand({ QueueUrl: values['queue-url'], ReceiptHandle: handle, VisibilityTimeout: 0 }));
    } catch (err) {
      console.error(`${source}: could not be made visible again (${(err as Error).name}); visible after the timeout`);
    }
  }
  const incomplete = outcomes.filter((o) => !o.complete).length;
  console.error(
    `redriven ranges: ${outcomes.filter((o) => o.done).length}/${outcomes.length}` +
      (values['queue-url'] ? `, messages deleted: ${deleted}` : '') +
      (incomplete ? `; ${incomplete} range(s) incomplete (trimmed by retention or unreadable): kept for inspection` : ''),
  );
  // Anything left behind (unreadable messages, incomplete or unwritten ranges) is a non-zero exit.
  if ((outcomes.some((o) => !o.done) || unreadable > 0) && !values['dry-run']) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
