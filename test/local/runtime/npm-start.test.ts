/**
 * `npm start` the way people end it: Ctrl-C on a terminal (SIGINT to the whole foreground process group:
 * npm, its shell and the runtime), while sending and while draining, and an emulator dying under it. Every
 * case ends within seconds, says what happened, and leaves no process behind. (The runtime killed with
 * SIGKILL: its emulators exit by themselves, test/local/emulators.test.ts.)
 *
 * Each run gets a process group of its own (as a terminal gives its foreground job), so the signal reaches
 * exactly what a Ctrl-C would.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunning, waitUntilGone } from '../../support/processes';

const ROOT = resolve(__dirname, '../../..');

interface Run {
  child: ChildProcess;
  output: string[];
  /** Emulator pids (kinesis, dynamodb, s3) and the runtime's pid, once the runtime printed them. */
  pids: Promise<{ kinesis: number; dynamodb: number; s3: number; runtime: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves when a line matching `pattern` was printed. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  dataDir: string;
}

const runs: Run[] = [];

function groupMembers(pgid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '-g', String(pgid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

async function npmStart(args: string[]): Promise<Run> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pdp-npm-start-'));
  const child = spawn('npm', ['start', '--', '--plain', '--data-dir', dataDir, '--rate', '20', ...args], {
    cwd: ROOT,
    // A process group of its own, as a terminal gives its foreground job.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      output.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal, at: Date.now() })),
  );
  const line = (pattern: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((done, fail) => {
      const found = output.find((l) => pattern.test(l));
      if (found) return done(found);
      const timer = setTimeout(() => fail(new Error(`no line matching ${pattern} in time; output:\n${output.join('\n')}`)), timeoutMs);
      waiters.push({ pattern, resolve: (l) => (clearTimeout(timer), done(l)) });
      void exited.then(() => setTimeout(() => fail(new Error(`npm start exited before printing ${pattern}; output:\n${output.join('\n')}`)), 50));
    });
  const pids = line(/\(pids \d+, \d+, \d+; runtime pid \d+\)/).then((l) => {
    const [kinesis, dynamodb, s3, runtime] = /\(pids (\d+), (\d+), (\d+); runtime pid (\d+)\)/.exec(l)!.slice(1).map(Number) as [number, number, number, number];
    return { kinesis, dynamodb, s3, runtime };
  });
  pids.catch(() => undefined);
  const run: Run = { child, output, pids, exited, line, dataDir };
  runs.push(run);
  return run;
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    // Whatever a failed test left behind: the group, then the emulators (their own groups).
    const pids = await Promise.race([run.pids, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10))]).catch(() => undefined);
    if (run.child.pid && groupMembers(run.child.pid).length > 0) process.kill(-run.child.pid, 'SIGKILL');
    for (const pid of pids ? [pids.kinesis, pids.dynamodb, pids.s3, pids.runtime] : []) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    await rm(run.dataDir, { recursive: true, force: true });
  }
});

describe('npm start', { timeout: 120_000 }, () => {
  it('stops everything within seconds on Ctrl-C while sending', async () => {
    const run = await npmStart(['--duration', '60']);
    const pids = await run.pids;
    await run.line(/\] sending sent=[1-9]/);
    const signalledAt = Date.now();
    process.kill(-run.child.pid!, 'SIGINT');
    const exit = await run.exited;
    expect(exit.at - signalledAt).toBeLessThan(10_000);
    expect(run.output.join('\n')).toContain('SIGINT: stopping every process the runtime started');
    expect(run.output.join('\n')).toContain('Stopped every process the runtime started (exit code 130).');
    expect(await waitUntilGone([pids.kinesis, pids.dynamodb, pids.s3, pids.runtime])).toEqual([]);
    expect(groupMembers(run.child.pid!)).toEqual([]);
  });

  it('stops everything within seconds on Ctrl-C while draining, with the S3 emulator gone, and says what was not uploaded', async () => {
    const run = await npmStart(['--duration', '3']);
    const pids = await run.pids;
    await run.line(/\] sending sent=[1-9]/);
    // S3 goes away under the running pipeline: lake uploads and quarantine writes start failing.
    process.kill(pids.s3, 'SIGKILL');
    await run.line(/\] draining /);
    await new Promise((r) => setTimeout(r, 1_000));
    const signalledAt = Date.now();
    process.kill(-run.child.pid!, 'SIGINT');
    const exit = await run.exited;
    expect(exit.at - signalledAt).toBeLessThan(10_000);
    const text = run.output.join('\n');
    expect(text).toMatch(/uploads_retrying=\d+|incidents=1/);
    expect(text).toMatch(/lake object\(s\) not uploaded to the S3 emulator; their local copies are in /);
    expect(text).toContain('Stopped every process the runtime started (exit code 130).');
    expect(await waitUntilGone([pids.kinesis, pids.dynamodb, pids.runtime])).toEqual([]);
    expect(groupMembers(run.child.pid!)).toEqual([]);
  });

  it('fails with a clear message, stops everything and exits non-zero when an emulator holding data in memory dies', async () => {
    const run = await npmStart(['--duration', '60']);
    const pids = await run.pids;
    await run.line(/\] sending sent=[1-9]/);
    process.kill(pids.dynamodb, 'SIGKILL');
    const exit = await run.exited;
    expect(exit.code).toBe(1);
    const text = run.output.join('\n');
    expect(text).toContain(`The local runtime failed: the dynamodb emulator (pid ${pids.dynamodb}) exited (signal SIGKILL); it kept its data in memory, so the run cannot go on.`);
    expect(text).toContain('Stopped every process the runtime started (exit code 1).');
    expect(await waitUntilGone([pids.kinesis, pids.s3, pids.runtime])).toEqual([]);
  });

  // Short runs of the default kind of workload: Zipf skew over few users (a heavy user sends a large share),
  // resends, invalid records, and half the users browsing anonymously first (most log in, some never do).
  it.each([7, 1_234])('ends with everything reconciled, anonymous visitors and their merges included (seed %i)', async (seed) => {
    const run = await npmStart([
      '--rate', '60', '--duration', '8', '--users', '60', '--window', '2', '--buffer', '1',
      '--anonymous-ratio', '0.5', '--duplicate-ratio', '0.1', '--invalid-ratio', '0.03', '--seed', String(seed),
    ]);
    const exit = await run.exited;
    const text = run.output.join('\n');
    expect(exit.code, text).toBe(0);
    expect(text).toContain('Everything reconciles.');
    expect(text).not.toContain('[FAIL]');
    const anonymous = /\[ok {2}\] anonymous visitors: (\d+) anonymous ids \((\d+) events without a user id\); (\d+) linked to a user by an identify event and merged into the user's profile, (\d+) not/.exec(text);
    expect(anonymous, text).not.toBeNull();
    const [ids, events, linked, notLinked] = anonymous!.slice(1).map(Number) as [number, number, number, number];
    expect(events).toBeGreaterThan(ids);
    expect(linked).toBeGreaterThan(0);
    expect(notLinked).toBeGreaterThan(0);
    expect(text).toMatch(/\[ok {2}\] profile counters equal the unique valid events for (\d+) of \1 profiles/);
    expect(text).toMatch(/\[ok {2}\] golden-dataset reconciliation: all \d+ sampled users match the lake/);
  });
});
