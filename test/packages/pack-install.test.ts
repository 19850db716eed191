/**
 * The packages as their users get them: `npm pack` each workspace package (its prepack builds it), install the
 * tarballs into a scratch project outside the repository, and run each package README's example there, with
 * plain Node, against the local emulators (Kinesis and DynamoDB) this file starts and stops. A TypeScript file
 * in the scratch project checks that the installed declarations resolve and type the public API.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyProfile, type Profile } from '../../core/profiles/model';
import { useEmulators } from '../support/emulators';
import { createStream, readStream } from '../ingestion/support';
import { createActiveTable, USER_KEYED } from '../support/tables';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackageUnderTest {
  readonly name: string;
  readonly dir: string;
  /** What its README example prints when it works. */
  readonly expectOutput: RegExp[];
}

const PACKAGES: readonly PackageUnderTest[] = [
  {
    name: '@personalization-data-platform/contract',
    dir: 'core/contract',
    expectOutput: [/^valid 1\.\d+ event, normalized category: shoes>running$/m, /^rejected as schema_violation at \/event_type \(enum\); reasons: \d+$/m, /^schema https:\/\/personalization-data-platform\.github\.io\//m],
  },
  {
    name: '@personalization-data-platform/producer',
    dir: 'clients/producer',
    expectOutput: [/^send\(\): 2 sent, 1 rejected \(schema_violation\), 0 failed$/m, /^BufferedProducer: 1000 of 1000 sent in [1-9]\d? PutRecords calls$/m],
  },
  {
    name: '@personalization-data-platform/profile-reader',
    dir: 'clients/profiles',
    expectOutput: [/^user-42: seen \d+s ago, 3 events in 7 days, likes shoes \(1\.00\)$/m, /^affinities as of 20\d\d-.*Z, item written 20\d\d-/m, /^read 2, no profile: nobody, not read in time: 0$/m],
  },
];

const emulators = useEmulators({ kinesis: true, dynamodb: true });

/** The first ```js block of a README: the example it promises runs. */
function exampleOf(readme: string): string {
  const block = /```js\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('the README has no ```js example');
  return block[1]!;
}

function profile(userId: string, now: number): Profile {
  return {
    ...emptyProfile(userId),
    version: 1,
    updated_at: now,
    first_seen: now - 3_600_000,
    last_seen: now - 60_000,
    events: 3,
    counts: { content_view: 3 },
    days: { [new Date(now).toISOString().slice(0, 10).replaceAll('-', '')]: 3 },
    session_count: 1,
    session_ms: 120_000,
    recent_sessions: [['a1b2c3d4', now - 180_000, now - 60_000]],
    affinity: { shoes: 3 },
    affinity_at: now - 60_000,
    recent_content: [['sku-1', now - 60_000]],
  };
}

describe('the packages, packed and installed outside the repository', () => {
  let work: string;
  let app: string;
  let packed: { name: string; filename: string; files: { path: string }[] }[];
  let env: Record<string, string>;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pdp-packages-'));
    const tarballs = join(work, 'tarballs');
    await mkdir(tarballs);
    // prepack builds each package; its output comes before npm's JSON report.
    const { stdout } = await run(NPM, ['pack', '--workspaces', '--pack-destination', tarballs, '--json'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    packed = JSON.parse(stdout.slice(stdout.indexOf('[\n'))) as typeof packed;

    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'scratch-service', version: '1.0.0', private: true }, null, 2));
    // Dependencies (the AWS SDK clients) come from npm's cache when it has them.
    await run(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...packed.map((p) => join(tarballs, p.filename))], { cwd: app, maxBuffer: 64 * 1024 * 1024 });

    const stream = await createStream('packages', 1);
    const table = `profiles-${Date.now()}`;
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await createActiveTable(dynamo, { TableName: table, ...USER_KEYED });
    for (const user of ['user-42', 'user-7']) await dynamo.send(new PutCommand({ TableName: table, Item: profile(user, Date.now()) }));
    dynamo.destroy();
    // The reader example's budget is 50 ms, for DynamoDB in a Region; the emulator on a busy machine gets more.
    env = { ...(process.env as Record<string, string>), ...emulators().env, EVENTS_STREAM: stream.name, PROFILE_TABLE: table, READ_BUDGET_MS: '2000' };
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs the built code, its declarations and README, and nothing of the repository besides', () => {
    expect(packed.map((p) => p.name).sort()).toEqual(PACKAGES.map((p) => p.name).sort());
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      expect(files, p.name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
      expect(files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md'].includes(f)), p.name).toEqual([]);
      expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), p.name).toEqual([]);
    }
  });

  it('ships the contract schema byte for byte', async () => {
    const installed = await readFile(join(app, 'node_modules', '@personalization-data-platform', 'contract', 'dist', 'event.schema.json'));
    expect(installed.equals(await readFile(join(ROOT, 'contract', 'event.schema.json')))).toBe(true);
  });

  it.each(PACKAGES.map((p) => [p.name, p] as const))("runs the example of %s's README", async (_name, pkg) => {
    const example = exampleOf(await readFile(join(ROOT, pkg.dir, 'README.md'), 'utf8'));
    const file = join(app, `${pkg.dir.replaceAll('/', '-')}.mjs`);
    await writeFile(file, example);
    const { stdout } = await run(process.execPath, [file], { cwd: app, env, timeout: 120_000 });
    for (const line of pkg.expectOutput) expect(stdout).toMatch(line);
    if (pkg.name.endsWith('/producer')) expect(await readStream(env.EVENTS_STREAM!)).toHaveLength(1002);
  }, 180_000);

  it('loads with require() as well as import, and types its API for a TypeScript service', async () => {
    const required = await run(process.execPath, ['-e', PACKAGES.map((p) => `require(${JSON.stringify(p.name)});`).join('') + 'console.log("ok")'], { cwd: app, env });
    expect(required.stdout.trim()).toBe('ok');
    await writeFile(
      join(app, 'service.ts'),
      [
        "import { buildEvent, validateEvent, type BehaviouralEvent, type ReasonCode } from '@personalization-data-platform/contract';",
        "import { BufferedProducer, type SendResult } from '@personalization-data-platform/producer';",
        "import { ProfileReader, ReadDeadlineError, type ProfileBatch, type UserProfile } from '@personalization-data-platform/profile-reader';",
        "const event: BehaviouralEvent = buildEvent({ user_id: 'u', session_id: 's', event_type: 'click' });",
        'const verdict = validateEvent(event, Date.now());',
        "const reason: ReasonCode | undefined = verdict.ok ? undefined : verdict.reason;",
        "const producer = new BufferedProducer({ streamName: 's', lingerMs: 10 });",
        'export const sent: Promise<SendResult> = producer.put(event);',
        "const reader = new ProfileReader({ tableName: 't', timeoutMs: 20 });",
        "export const one: Promise<UserProfile | undefined> = reader.get('u');",
        "export const many: Promise<ProfileBatch> = reader.getMany(['u']);",
        'export const freshness = one.then((p) => p?.freshness.affinities);',
        'export const isDeadline = (e: unknown): boolean => e instanceof ReadDeadlineError;',
        'export { reason };',
        '// @ts-expect-error the contract has no such event type',
        "buildEvent({ user_id: 'u', session_id: 's', event_type: 'teleport' });",
      ].join('\n'),
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] },
        files: ['service.ts'],
      }),
    );
    const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')], { cwd: app }).catch((err: { stdout: string }) => ({ stdout: err.stdout, failed: true }));
    expect(checked.stdout).toBe('');
  }, 120_000);
});
