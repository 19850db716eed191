/**
 * `npm run produce -- --rate N --users N --duration S [--invalid-ratio x --duplicate-ratio y] [--stream name] [--seed n]`
 *
 * A load generator: a seeded, realistic workload (Zipf-distributed users, sessions, event-type mix; see
 * workload/generator.ts) written to the raw stream at a steady rate through the producer client, with a
 * progress line and a final count. Invalid and duplicate events are sent as they are (no local validation)
 * so the pipeline's quarantine and dedup get exercised. Endpoints come from the standard AWS variables.
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { parseArgs } from 'node:util';
import { EventProducer, type SendSummary } from '@personalization-data-platform/producer';
import { kinesisClient } from '../adapters/aws-clients';
import { Workload } from '../workload/generator';

const USAGE = `usage: npm run produce -- --rate <events/s> --users <n> --duration <seconds>
         [--invalid-ratio <0-1>] [--duplicate-ratio <0-1>] [--stream <name|arn>] [--seed <n>] [--create-stream]`;

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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
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
