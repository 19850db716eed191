/**
 * `npm run soak -- [--seeds 1,2,3 | --runs N] [--rate 60] [--duration 40] [--window 3]`
 *
 * The long failure drill: for each seed, the whole pipeline on the local runtime with the default skewed
 * workload (Zipf activity over 300 users), producer duplicates and whole batches resent, and a harsher fault
 * schedule than the one `npm test` runs (more crashes after side effects, lost checkpoints, throttles, slow
 * invocations and DynamoDB throttling, and outages long enough to give ranges up: the heaviest users'
 * profile writes, another heavy user's records on the validated stream). Then every on-failure range is
 * redriven, twice, as an operator would with `npm run redrive`, and the run is checked from outside: every
 * record accounted for, every profile equal to what the unique valid events imply.
 *
 * Prints a pass/fail table; the exit code is 1 when any seed fails. Seeds not given are drawn at random and
 * printed, so a failing one can be run again. Each seed takes a few minutes on two cores.
 */
import { subjectKey } from '@personalization-data-platform/contract';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseOnFailureRecord } from '../core/ingest/redrive';
import { LakeQueryRunner } from '../local/lake/query-runner';
import { account } from '../local/runtime/accounting';
import { LocalRuntime } from '../local/runtime/local-runtime';
import { profileDrift } from '../local/runtime/profile-view';
import { readLakeContents } from '../local/runtime/summary';
import { SyntheticProducer } from '../local/runtime/synthetic-producer';
import { seededRandom } from '../core/seeded-random';
import { redriveRanges } from './redrive';

interface SoakOptions {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly windowSeconds: number;
}

interface SoakResult {
  seed: number;
  sent: number;
  onFailure: { validate: number; aggregate: number };
  redriven: [number, number];
  drifted: number;
  users: number;
  accounted: boolean;
  failures: string[];
  seconds: number;
}

/** The workload's users by rank: user-000000 is the most active (Zipf). */
const userOfRank = (rank: number) => `user-${String(rank).padStart(6, '0')}`;

async function soak(seed: number, options: SoakOptions, log: (line: string) => void): Promise<SoakResult> {
  const started = Date.now();
  const random = seededRandom(seed);
  const dataDir = await mkdtemp(join(tmpdir(), 'pdp-soak-'));
  const writeOutageUsers = [userOfRank(0), userOfRank(1 + Math.floor(random() * 3)), userOfRank(10 + Math.floor(random() * 40))];
  const forwardOutageUsers = [userOfRank(4 + Math.floor(random() * 6))];
  const runtime = await LocalRuntime.start({
    dataDir,
    windowSeconds: options.windowSeconds,
    bufferMs: 2_000,
    bufferBytes: 4 * 1024 * 1024,
    pollIntervalMs: 200,
    faults: {
      seed,
      crashAfterSideEffects: 0.3,
      redeliver: 0.4,
      throttle: 0.2,
      delay: 0.4,
      delayMs: [5, 200],
      dynamoDbThrottle: 0.2,
      ensureEach: true,
      writeOutage: { userIds: writeOutageUsers, durationMs: 30_000, untilGivenUp: true },
      forwardOutage: { userIds: forwardOutageUsers, durationMs: 30_000, untilGivenUp: true },
    },
  });
  const failures: string[] = [];
  try {
    const producer = new SyntheticProducer({
      streamName: runtime.names.rawStream,
      rate: options.rate,
      resendRatio: 0.3,
      workload: { seed, users: 300, invalidRatio: 0.05, duplicateRatio: 0.1 },
    });
    log(`seed ${seed}: sending ${options.rate} events/s for ${options.durationSeconds} s; outages: writes of ${writeOutageUsers.join(', ')}, forwarding of ${forwardOutageUsers.join(', ')}`);
    await producer.run(options.durationSeconds * 1000);
    const report = producer.report();
    // What the producer could not send is not the pipeline's to account for (the books cover what was acknowledged).
    const unsent = report.notSent > 0 ? `; ${report.notSent} not sent (${report.notSentReason})` : '';
    log(`seed ${seed}: sent ${producer.sent.length} records${unsent}; waiting for the pipeline to settle`);
    await runtime.settle(300_000);

    const redriven: [number, number] = [0, 0];
    for (let run = 0; run < 2; run++) {
      const items = runtime.onFailureRecords().map((record, i) => {
        const parsed = parseOnFailureRecord(JSON.stringify(record));
        if (!parsed.ok) throw new Error(parsed.error);
        return { source: `on-failure ${i + 1}`, range: parsed.range };
      });
      const outcomes = await redriveRanges(items, { sleep: async () => undefined });
      redriven[run] = outcomes.filter((o) => o.done).length;
      for (const o of outcomes.filter((x) => !x.done)) failures.push(`redrive ${run + 1}: ${o.range.shardId} ${o.range.startSequenceNumber}: ${o.error ?? 'not done'}`);
      log(`seed ${seed}: redrive ${run + 1}: ${redriven[run]}/${outcomes.length} ranges`);
      await runtime.settle(300_000);
    }

    const byFunction = { validate: 0, aggregate: 0 };
    for (const r of runtime.onFailureRecords()) {
      if (r.requestContext.functionArn.endsWith('-validate')) byFunction.validate++;
      else byFunction.aggregate++;
    }

    const uniqueValid = [...producer.uniqueValid.values()];
    const users = [...new Set(uniqueValid.map((e) => subjectKey(e)))];
    const profiles = await runtime.profiles.reader().getMany(users, { consistent: true });
    const drifted = profileDrift(uniqueValid, profiles);
    if (drifted.length > 0) failures.push(`profiles drifted: ${drifted.slice(0, 5).map((d) => JSON.stringify(d)).join('; ')}`);
    const runner = await LakeQueryRunner.open(runtime.lakeDir);
    let accounted = false;
    try {
      const books = account(producer.sent, await readLakeContents(runner));
      accounted = books.ok;
      for (const c of books.checks.filter((x) => !x.ok)) failures.push(`accounting: ${c.label}${c.detail ? ` (${c.detail})` : ''}`);
    } finally {
      runner.close();
    }
    const stats = runtime.stats();
    if (stats.outageFailures === 0) failures.push('no outage was injected: the workload never reached the chosen users');
    return {
      seed,
      sent: producer.sent.length,
      onFailure: byFunction,
      redriven,
      drifted: drifted.length,
      users: users.length,
      accounted,
      failures,
      seconds: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function table(results: readonly SoakResult[]): string {
  const rows = [
    ['seed', 'records sent', 'on-failure ranges (validate/aggregate)', 'redriven (1st/2nd run)', 'profiles drifted', 'accounted', 'time', 'result'],
    ...results.map((r) => [
      String(r.seed),
      String(r.sent),
      `${r.onFailure.validate}/${r.onFailure.aggregate}`,
      `${r.redriven[0]}/${r.redriven[1]}`,
      `${r.drifted} of ${r.users} users`,
      r.accounted ? 'yes' : 'NO',
      `${r.seconds} s`,
      r.failures.length === 0 ? 'PASS' : 'FAIL',
    ]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')).join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      runs: { type: 'string', default: '3' },
      rate: { type: 'string', default: '60' },
      duration: { type: 'string', default: '40' },
      window: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run soak -- [--seeds 1,2,3 | --runs N] [--rate <events/s>] [--duration <s>] [--window <s>]\n');
    return 0;
  }
  const int = (name: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  const seeds = values.seeds
    ? values.seeds.split(',').map((s) => int('seeds', s.trim(), 0))
    : Array.from({ length: int('runs', values.runs, 1) }, () => Math.floor(Math.random() * 1e9));
  const options: SoakOptions = { rate: int('rate', values.rate, 1), durationSeconds: int('duration', values.duration, 5), windowSeconds: int('window', values.window, 0) };
  const results: SoakResult[] = [];
  for (const seed of seeds) {
    const result = await soak(seed, options, (line) => process.stderr.write(`${line}\n`));
    results.push(result);
    for (const f of result.failures) process.stderr.write(`  seed ${seed}: ${f}\n`);
  }
  process.stdout.write(`\n${table(results)}\n`);
  const failed = results.filter((r) => r.failures.length > 0);
  process.stdout.write(failed.length === 0 ? `\nAll ${results.length} seeds pass.\n` : `\n${failed.length} of ${results.length} seeds fail: ${failed.map((r) => r.seed).join(', ')}\n`);
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
