/**
 * `npm run produce` with a file of events (JSON lines) and with one event on the command line, as a user runs
 * it, against kinesis-local: what it sends, what it refuses and says why (line by line), and its exit code.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useEmulators } from '../support/emulators';
import { createStream, readStream } from './support';

const ROOT = join(__dirname, '..', '..');
const emulators = useEmulators({ kinesis: true });

function produce(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'produce.ts'), ...args], { cwd: ROOT, env: { ...process.env, ...emulators().env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const event = (user: string, extra: Record<string, unknown> = {}) => JSON.stringify({ user_id: user, session_id: `s-${user}`, event_type: 'page_view', ...extra });

describe('npm run produce', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pdp-produce-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends a file of JSON lines, filling missing ids and times, and names each line it cannot send', async () => {
    const { name } = await createStream('produce-file');
    const file = join(dir, 'events.jsonl');
    const complete = { event_id: 'e-fixed', schema_version: '1.0', event_time: new Date().toISOString() };
    await writeFile(file, [event('u-1'), '', event('u-2', complete), '{not json', event('u-3', { event_type: 'teleport' }), event('u-4'), ''].join('\n'));
    const run = await produce(['--file', file, '--stream', name]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout.trim())).toEqual({ stream: name, lines: 5, sent: 3, rejected: 2, failed: 0, calls: 1 });
    const problems = run.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(problems).toEqual([
      expect.objectContaining({ at: `${file}:4`, status: 'rejected', reason: 'not_json' }),
      expect.objectContaining({ at: `${file}:5`, status: 'rejected', reason: 'schema_violation', errors: [expect.objectContaining({ path: '/event_type' })] }),
    ]);
    const stored = (await readStream(name)).map((r) => JSON.parse(r.text));
    expect(stored.map((e) => e.user_id).sort()).toEqual(['u-1', 'u-2', 'u-4']);
    expect(stored.find((e) => e.user_id === 'u-2').event_id).toBe('e-fixed');
    for (const e of stored) expect(e).toMatchObject({ schema_version: expect.stringMatching(/^1\.[01]$/), event_id: expect.any(String), event_time: expect.any(String) });
  });

  it('reads the events from standard input with --file -, and sends them unvalidated with --no-validate', async () => {
    const { name } = await createStream('produce-stdin');
    const run = await produce(['--file', '-', '--stream', name, '--no-validate'], [event('u-1'), event('u-2', { event_type: 'teleport' })].join('\n'));
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ lines: 2, sent: 2 });
    expect((await readStream(name)).map((r) => JSON.parse(r.text).event_type).sort()).toEqual(['page_view', 'teleport']);
  });

  it('sends one event given on the command line and prints its outcome', async () => {
    const { name } = await createStream('produce-one');
    const sent = await produce(['--event', event('u-9'), '--stream', name]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(sent.stdout.trim())).toMatchObject({ stream: name, status: 'sent', sequenceNumber: expect.any(String), shardId: expect.any(String) });
    const refused = await produce(['--event', event('u-9', { session_id: '' }), '--stream', name]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout.trim())).toMatchObject({ status: 'rejected', reason: 'schema_violation', errors: expect.arrayContaining([expect.objectContaining({ path: '/session_id' })]) });
    expect(await readStream(name)).toHaveLength(1);
  });

  it('refuses two modes at once with a usage error', async () => {
    const run = await produce(['--event', '{}', '--file', 'x.jsonl']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/give exactly one of --event, --file, or --rate with --duration/);
  });
});
