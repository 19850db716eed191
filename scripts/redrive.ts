/**
 * `npm run redrive -- --queue-url <url> [--function <name|arn>] [--dry-run] [--max-messages N] [--retention-hours H]`
 * `npm run redrive -- --file <on-failure-records.jsonl> ...`
 *
 * Redrives what a stream function's event source gave up on (the validation function's or the aggregator's).
 * Its on-failure messages name shard ranges, not records, so this reads each range back from the stream (while
 * the stream still retains it) and invokes the function that gave up on it (named in the message) with the
 * records as they are: the same sequence numbers, partition keys, payloads and arrival times, in events
 * like the ones its event source builds. The function's own rules then decide what was done already: the
 * profiles' ledger of applied event ids skips every event applied before, the validation function judges
 * an event by its original arrival time and writes its quarantine lines under keys derived from their
 * stream positions. A redrive, run once or several times, at any time while the stream retains the records,
 * therefore changes no profile that was right and completes every one that was not.
 *
 * A message is deleted only once every record of its range was read and the function accepted all of them.
 * Fix the cause first (a bug, a permission): a range that still fails is reported and kept.
 *
 * Endpoints and credentials come from the standard AWS variables (AWS_ENDPOINT_URL_LAMBDA, _KINESIS, _SQS),
 * so it works against AWS, LocalStack or the local runtime (`npm start -- --keep-running` serves Invoke).
 * It needs kinesis:GetShardIterator and kinesis:GetRecords on the stream, lambda:InvokeFunction on the
 * function, and sqs:ReceiveMessage, DeleteMessage and ChangeMessageVisibility on the queue.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { GetRecordsCommand, GetShardIteratorCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamEvent } from 'aws-lambda';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  compareSequenceNumbers,
  inRange,
  parseOnFailureRecord,
  planShardReads,
  rangeCompleteness,
  REPLAY_LIMITS,
  replayEvents,
  replayOutcome,
  retentionStatus,
  type RedriveRange,
  type ShardRead,
} from '../core/ingest/redrive';
import { kinesisClient, sqsClient } from '../adapters/aws-clients';
import { withRetry } from '../adapters/retry';
import { ConfigError, DependencyError, describeError } from '../core/errors';
import type { RetryPolicy } from '../core/retry-policy';

/** Replaying an event the function failed (or partly failed): up to 4 attempts, backing off up to 10 s. */
export const REPLAY_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 400, maxDelayMs: 10_000 };

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
  /** The function the range was replayed to. */
  readonly functionName: string;
  readonly retention: ReturnType<typeof retentionStatus>;
  readonly found: number;
  readonly complete: boolean;
  /** Records of this range the function accepted (0 in a dry run). */
  readonly replayed: number;
  /** True when every record was found and accepted: the message may be deleted. */
  readonly done: boolean;
  /** Why the range could not be read or replayed (no such shard, access denied, the function failed...). */
  readonly error?: string;
}

/** Invokes a function synchronously; `functionError` is Lambda's X-Amz-Function-Error when it failed. */
export type Invoke = (functionName: string, event: KinesisStreamEvent) => Promise<{ response: unknown; functionError?: string }>;

/** Invoke through the Lambda API (AWS_ENDPOINT_URL_LAMBDA locally), waiting as long as a function may run. */
export function lambdaInvoke(client = new LambdaClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 16 * 60_000 }) })): Invoke {
  return async (functionName, event) => {
    const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }));
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let response: unknown;
    try {
      response = text ? JSON.parse(text) : undefined;
    } catch {
      response = text;
    }
    return { response, ...(out.FunctionError ? { functionError: out.FunctionError } : {}) };
  };
}

export interface RedriveOptions {
  /** Invoke this function instead of the one each on-failure record names. */
  readonly functionName?: string;
  readonly dryRun?: boolean;
  /** Retention of the source stream, to flag ranges that are (nearly) gone. @default 24 */
  readonly retentionHours?: number;
  /** Records per invocation. @default 500 */
  readonly batchSize?: number;
  /** Invocations of one event before its records count as failed. @default REPLAY_RETRY_POLICY.maxAttempts (4) */
  readonly attempts?: number;
  readonly kinesis?: KinesisClient;
  readonly invoke?: Invoke;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

/** Kinesis keeps records from 24 hours up to 365 days. */
const RETENTION_HOURS = { min: 24, max: 8760 };
/** Lambda's largest Kinesis batch. */
const MAX_BATCH_SIZE = 10_000;

/** Throws a ConfigError naming every option whose value is not a number the redrive can use (NaN included). */
export function checkRedriveOptions(options: Pick<RedriveOptions, 'retentionHours' | 'batchSize' | 'attempts'>): void {
  const problems: string[] = [];
  const int = (name: string, value: number | undefined, min: number, max: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) problems.push(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  };
  int('retentionHours', options.retentionHours, RETENTION_HOURS.min, RETENTION_HOURS.max);
  int('batchSize', options.batchSize, 1, MAX_BATCH_SIZE);
  int('attempts', options.attempts, 1, 100);
  if (problems.length > 0) throw new ConfigError(`redrive: ${problems.join('; ')}`);
}

/** The function an on-failure record names: the last part of its ARN. */
function functionOf(range: RedriveRange, override: string | undefined): string | undefined {
  if (override) return override;
  const m = /:function:([A-Za-z0-9_-]+)/.exec(range.functionArn);
  return m?.[1];
}

/**
 * Re-reads the ranges of `items` and replays them to their functions; overlapping ranges of a shard for the
 * same function are read and replayed once.
 */
export async function redriveRanges(items: readonly RedriveItem[], options: RedriveOptions = {}): Promise<RedriveOutcome[]> {
  checkRedriveOptions(options);
  const kinesis = options.kinesis ?? kinesisClient();
  const invoke = options.invoke ?? lambdaInvoke();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = options.attempts ?? REPLAY_RETRY_POLICY.maxAttempts;
  const now = (options.now ?? Date.now)();
  const log = options.log ?? (() => undefined);
  const limits = { ...REPLAY_LIMITS, maxRecords: options.batchSize ?? REPLAY_LIMITS.maxRecords };
  const replayed = new Map<number, number>();
  const found = new Map<number, string[]>();
  const errors = new Map<number, string>();

  // One group of reads per function: a stream can have several consumers.
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const fn = functionOf(item.range, options.functionName);
    if (!fn) {
      errors.set(index, `the on-failure record names no function (${item.range.functionArn}); give one with --function`);
      return;
    }
    groups.set(fn, [...(groups.get(fn) ?? []), index]);
  });

  for (const [functionName, indexes] of groups) {
    const ranges = indexes.map((i) => items[i]!.range);
    for (const read of planShardReads(ranges)) {
      const covers = read.covers.map((c) => indexes[c]!);
      let records: StreamRecord[];
      try {
        records = await readShardRange(kinesis, read);
      } catch (err) {
        // One unreadable range (a wrong shard id, a deleted stream) must not stop the others being redriven.
        const error = `${(err as Error).name}: ${(err as Error).message}`;
        for (const index of covers) errors.set(index, error);
        log(`${read.shardId} ${read.startSequenceNumber}..${read.endSequenceNumber}: cannot be read (${error}); kept`);
        continue;
      }
      for (const index of covers) found.set(index, records.map((r) => r.sequenceNumber));
      log(`${read.shardId} ${read.startSequenceNumber}..${read.endSequenceNumber}: ${records.length} record(s) read, for ${functionName}`);
      if (options.dryRun || records.length === 0) continue;

      // Sequence numbers the function did not accept.
      const failed = new Set<string>();
      let failure: string | undefined;
      for (const first of replayEvents(read, records, limits)) {
        let event = first;
        try {
          await withRetry(
            async () => {
              let outcome: ReturnType<typeof replayOutcome>;
              try {
                const { response, functionError } = await invoke(functionName, event);
                outcome = replayOutcome(event, response, functionError);
              } catch (err) {
                outcome = { ok: false, error: describeError(err) };
              }
              if (outcome.ok) return;
              // A partial failure: the records from the lowest failed one are replayed again, as Lambda retries.
              if (outcome.from !== undefined) {
                const from = outcome.from;
                event = { Records: event.Records.filter((r) => compareSequenceNumbers(r.kinesis.sequenceNumber, from) >= 0) };
              }
              throw new DependencyError(outcome.error, 'ReplayFailed', 'transient');
            },
            { policy: { ...REPLAY_RETRY_POLICY, maxAttempts: attempts }, sleep },
          );
        } catch (err) {
          for (const r of event.Records) failed.add(r.kinesis.sequenceNumber);
          failure = err instanceof DependencyError ? err.message : describeError(err);
          log(`  ${event.Records.length} record(s) not accepted by ${functionName} after ${attempts} attempts: ${failure}`);
        }
      }
      for (const index of covers) {
        const mine = records.filter((r) => inRange(r.sequenceNumber, items[index]!.range));
        const bad = mine.filter((r) => failed.has(r.sequenceNumber)).length;
        replayed.set(index, mine.length - bad);
        if (bad > 0) errors.set(index, `${bad} record(s) not accepted by ${functionName}: ${failure ?? 'unknown error'}`);
      }
    }
  }

  return items.map((item, index) => {
    const { found: count, complete } = rangeCompleteness(item.range, found.get(index) ?? []);
    const r = replayed.get(index) ?? 0;
    return {
      source: item.source,
      range: item.range,
      functionName: functionOf(item.range, options.functionName) ?? 'unknown',
      retention: retentionStatus(item.range, now, options.retentionHours ?? 24),
      found: count,
      complete,
      replayed: r,
      done: !options.dryRun && complete && !errors.has(index) && r === count,
      ...(errors.has(index) ? { error: errors.get(index)! } : {}),
    };
  });
}

// ------------------------------------------------------------------------------------------------ CLI

const USAGE = `usage: npm run redrive -- (--queue-url <url> | --file <jsonl>) [--function <name|arn>] [--dry-run]
                        [--max-messages <n>] [--retention-hours <h>] [--batch-size <n>]

Re-reads each on-failure range from its stream and invokes the function that gave up on it with the original
records (Lambda Invoke; AWS_ENDPOINT_URL_LAMBDA for a local runtime). Safe to run more than once.`;

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

/** The command line, checked: a usage error (exit code 2) names the option and the value. */
export function parseRedriveArgs(args: readonly string[]): { help: true } | { help: false; queueUrl?: string; file?: string; functionName?: string; dryRun: boolean; maxMessages: number; retentionHours: number; batchSize: number } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      'queue-url': { type: 'string' },
      file: { type: 'string' },
      function: { type: 'string' },
      'batch-size': { type: 'string', default: String(REPLAY_LIMITS.maxRecords) },
      'dry-run': { type: 'boolean', default: false },
      'max-messages': { type: 'string', default: '1000' },
      'retention-hours': { type: 'string', default: '24' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return { help: true };
  if (!values['queue-url'] === !values.file) throw new ConfigError('give exactly one of --queue-url and --file');
  // Digits only: Number() would take '', ' 7 ', '1e3', '0x10' and 'Infinity' as numbers.
  const integer = (name: string, text: string | undefined, min: number, max: number): number => {
    const n = /^[0-9]+$/.test(text ?? '') ? Number(text) : NaN;
    if (!(n >= min && n <= max)) throw new ConfigError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
    return n;
  };
  return {
    help: false,
    ...(values['queue-url'] ? { queueUrl: values['queue-url'] } : {}),
    ...(values.file ? { file: values.file } : {}),
    ...(values.function ? { functionName: values.function } : {}),
    dryRun: values['dry-run'],
    maxMessages: integer('max-messages', values['max-messages'], 1, 100_000),
    retentionHours: integer('retention-hours', values['retention-hours'], RETENTION_HOURS.min, RETENTION_HOURS.max),
    batchSize: integer('batch-size', values['batch-size'], 1, MAX_BATCH_SIZE),
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseRedriveArgs>;
  try {
    parsed = parseRedriveArgs(process.argv.slice(2));
  } catch (err) {
    // parseArgs' own errors (an unknown option, a missing value) are usage errors too.
    if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw err;
  }
  if (parsed.help) {
    console.log(USAGE);
    return;
  }
  const { maxMessages: max, retentionHours, batchSize } = parsed;
  const values = { 'queue-url': parsed.queueUrl, file: parsed.file, function: parsed.functionName, 'dry-run': parsed.dryRun };
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
    ...(values.function ? { functionName: values.function } : {}),
    dryRun: values['dry-run'],
    retentionHours,
    batchSize,
    log: (l) => console.error(l),
  });
  let deleted = 0;
  for (const o of outcomes) {
    const r = o.range;
    console.log(
      JSON.stringify({ source: o.source, function: o.functionName, stream: r.streamName, shardId: r.shardId, start: r.startSequenceNumber, end: r.endSequenceNumber, condition: r.condition, expected: r.batchSize, found: o.found, replayed: o.replayed, retention: o.retention, done: o.done, ...(o.error ? { error: o.error } : {}) }),
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
