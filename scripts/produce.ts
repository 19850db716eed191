/**
 * `npm run produce` sends events to the raw stream, in one of three modes:
 *
 * - `--event '<json>'`: one event given on the command line; prints its outcome.
 * - `--file <events.jsonl>` (or `--file -` for standard input): a file of events, one JSON object per line,
 *   through the buffered producer; prints a line per event it could not send and a final count.
 * - `--rate N --users N --duration S [--invalid-ratio x --duplicate-ratio y] [--seed n]`: a load generator: a
 *   seeded, realistic workload (Zipf-distributed users, sessions, event-type mix; see workload/generator.ts)
 *   written at a steady rate, with a progress line and a final count. Invalid and duplicate events are sent as
 *   they are (no local validation) so the pipeline's quarantine and dedup get exercised.
 *
 * Events of the first two modes are validated against the contract before they are sent (`--no-validate`
 * sends them as they are, to exercise the quarantine), and `event_id`, `schema_version` and `event_time` are
 * filled when missing. Endpoints come from the standard AWS variables. Exit code 0 when every event was sent,
 * 1 when any was rejected or failed, 2 on a usage error.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { parseArgs } from 'node:util';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { BufferedProducer, EventProducer, buildEvent, type SendResult, type SendSummary } from '@personalization-data-platform/producer';
import { kinesisClient } from '../adapters/aws-clients';
import { Workload } from '../workload/generator';

const USAGE = `usage: npm run produce -- --event '<event as JSON>' [--stream <name|arn>] [--no-validate] [--create-stream]
       npm run produce -- --file <events.jsonl | -> [--stream <name|arn>] [--no-validate] [--create-stream]
       npm run produce -- --rate <events/s> --users <n> --duration <seconds>
         [--invalid-ratio <0-1>] [--duplicate-ratio <0-1>] [--stream <name|arn>] [--seed <n>] [--create-stream]`;

/** An event of a file or the command line: the builder fills what is missing (a JSON object only). */
function completed(value: unknown): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? buildEvent(value as Parameters<typeof buildEvent>[0]) : value;
}

/** One line of the outcome of an event that was not sent, for people and for jq. */
function describeOutcome(where: string, result: SendResult): string {
  if (result.status === 'rejected') return JSON.stringify({ at: where, status: 'rejected', reason: result.reason, errors: result.errors });
  if (result.status === 'failed') return JSON.stringify({ at: where, status: 'failed', errorCode: result.errorCode, errorMessage: result.errorMessage, attempts: result.attempts });
  return JSON.stringify({ at: where, ...result });
}

export interface FileTotals {
  lines: number;
  sent: number;
  rejected: number;
  failed: number;
  calls: number;
}

/** Sends every line of `input` (a path, or '-' for standard input) through a BufferedProducer. */
export async function produceFile(input: string, stream: string, validate: boolean, log: (line: string) => void): Promise<FileTotals> {
  const producer = new BufferedProducer({ streamName: stream, validate });
  const totals: FileTotals = { lines: 0, sent: 0, rejected: 0, failed: 0, calls: 0 };
  const count = (where: string, r: SendResult) => {
    if (r.status === 'sent') totals.sent++;
    else {
      if (r.status === 'rejected') totals.rejected++;
      else totals.failed++;
      log(describeOutcome(where, r));
    }
  };
  const pending: Promise<void>[] = [];
  const lines = createInterface({ input: input === '-' ? process.stdin : createReadStream(input), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    totals.lines++;
    const where = `${input === '-' ? 'stdin' : input}:${n}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      count(where, { status: 'rejected', reason: 'not_json', errors: [{ path: '', rule: 'json', message: (err as Error).message }] });
      continue;
    }
    pending.push(producer.put(completed(value)).then((r) => count(where, r)));
    // Read no further ahead than the producer buffers: a large file streams through in bounded memory.
    if (pending.length >= 5_000) await pending.shift();
  }
  await producer.close();
  await Promise.all(pending);
  totals.calls = producer.stats().calls;
  return totals;
}

/** Sends one event given as JSON text; resolves with its outcome. */
export async function produceOne(text: string, stream: string, validate: boolean): Promise<SendResult> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { status: 'rejected', reason: 'not_json', errors: [{ path: '', rule: 'json', message: (err as Error).message }] };
  }
  const producer = new EventProducer({ streamName: stream, validate });
  try {
    return (await producer.send([completed(value)])).results[0]!;
  } finally {
    producer.destroy();
  }
}

export interface ProduceTotals {
  sent: number;
  failed: number;
  throttled: number;
  retried: number;
  byKind: Record<string, number>;
}

function number(value: string | undefined, name: string, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(value)}\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

async function ensureStream(name: string): Promise<void> {
  try {
    await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: name }));
    return;
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  await kinesisClient().send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  for (;;) {
    const s = await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function progress(totals: ProduceTotals, target: number, elapsedS: number): string {
  const done = totals.sent + totals.failed;
  const width = 30;
  const filled = Math.min(width, Math.round((done / Math.max(target, 1)) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${target} ${(done / Math.max(elapsedS, 0.001)).toFixed(0)}/s sent=${totals.sent} failed=${totals.failed} throttled=${totals.throttled}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string' },
      users: { type: 'string', default: '1000' },
      duration: { type: 'string' },
      'invalid-ratio': { type: 'string', default: '0' },
      'duplicate-ratio': { type: 'string', default: '0' },
      stream: { type: 'string', default: process.env.PDP_RAW_STREAM ?? 'pdp-dev-events' },
      seed: { type: 'string', default: '42' },
      'create-stream': { type: 'boolean', default: false },
      event: { type: 'string' },
      file: { type: 'string' },
      'no-validate': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const modes = [values.event !== undefined, values.file !== undefined, values.rate !== undefined || values.duration !== undefined].filter(Boolean).length;
  if (modes !== 1) {
    console.error(`give exactly one of --event, --file, or --rate with --duration\n${USAGE}`);
    process.exit(2);
  }
  if (values.event !== undefined || values.file !== undefined) {
    const stream = values.stream!;
    if (values['create-stream']) await ensureStream(stream);
    const validate = !values['no-validate'];
    if (values.event !== undefined) {
      const result = await produceOne(values.event, stream, validate);
      console.log(JSON.stringify({ stream, ...result }));
      if (result.status !== 'sent') process.exitCode = 1;
      return;
    }
    const totals = await produceFile(values.file!, stream, validate, (line) => console.error(line));
    console.log(JSON.stringify({ stream, ...totals }));
    if (totals.rejected + totals.failed > 0) process.exitCode = 1;
    return;
  }
  const rate = number(values.rate, 'rate', 1, 1_000_000);
  const duration = number(values.duration, 'duration', 1, 86_400);
  const invalidRatio = number(values['invalid-ratio'], 'invalid-ratio', 0, 1);
  const duplicateRatio = number(values['duplicate-ratio'], 'duplicate-ratio', 0, 1);
  if (invalidRatio + duplicateRatio > 1) {
    console.error('--invalid-ratio plus --duplicate-ratio must not exceed 1');
    process.exit(2);
  }
  const workload = new Workload({
    users: number(values.users, 'users', 1, 10_000_000),
    seed: number(values.seed, 'seed', 0, 2 ** 32 - 1),
    invalidRatio,
    duplicateRatio,
    // Event times track the wall clock at the target rate, so the validator's timestamp window accepts them.
    meanGapMs: 1000 / rate,
  });
  const stream = values.stream!;
  if (values['create-stream']) await ensureStream(stream);

  const producer = new EventProducer({ streamName: stream, validate: false });
  const totals: ProduceTotals = { sent: 0, failed: 0, throttled: 0, retried: 0, byKind: {} };
  const target = Math.round(rate * duration);
  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastPrint = 0;
  const tickMs = 100;
  let produced = 0;
  const inFlight = new Set<Promise<void>>();

  while (produced < target) {
    // Each tick sends what the rate owes so far, so slow calls are caught up rather than lost.
    const owed = Math.min(target, Math.floor(((Date.now() - started) / 1000) * rate) + 1) - produced;
    if (owed > 0) {
      const records = workload.take(owed);
      produced += owed;
      for (const r of records) totals.byKind[r.kind] = (totals.byKind[r.kind] ?? 0) + 1;
      const p: Promise<void> = producer.sendRecords(records.map((r) => ({ data: r.data, partitionKey: r.partitionKey }))).then((s: SendSummary) => {
        totals.sent += s.sent;
        totals.failed += s.failed + s.rejected;
        totals.throttled += s.throttled;
        totals.retried += s.retried;
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      // Bounded concurrency: a slow stream slows the generator down instead of piling up requests.
      if (inFlight.size >= 8) await Promise.race(inFlight);
    }
    const now = Date.now();
    if (now - lastPrint >= (tty ? 200 : 5_000)) {
      lastPrint = now;
      process.stderr.write(`${tty ? '\r' : ''}${progress(totals, target, (now - started) / 1000)}${tty ? '' : '\n'}`);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(inFlight);
  const elapsed = (Date.now() - started) / 1000;
  process.stderr.write(`${tty ? '\r' : ''}${progress(totals, target, elapsed)}\n`);
  console.log(JSON.stringify({ stream, target, ...totals, seconds: Math.round(elapsed * 10) / 10 }));
  if (totals.failed > 0) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
