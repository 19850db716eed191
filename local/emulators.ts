/**
 * Starts the local AWS emulators (kinesis-local, dynalite, s3rver) as child processes on free ports of
 * 127.0.0.1 and hands back their endpoints in the standard AWS environment variables, so the SDK clients
 * built by adapters/aws-clients.ts reach them without any code path of their own.
 *
 * Used by the test suites (one set of emulators per test file) and by the local runtime.
 *
 * Lifetime: each emulator runs in a process group of its own, so a Ctrl-C on the terminal reaches only the
 * process that owns it, which stops it in order (after writing what it still holds); and each one watches
 * that owner (local/parent-watch.cjs) and exits by itself when the owner is gone, even after a SIGKILL, so
 * no emulator outlives its runtime or test. An emulator that exits while it should be running is reported
 * to onExit; restart() starts it again on the same port (with the same data directory for S3).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface StartEmulatorsOptions {
  kinesis?: boolean;
  dynamodb?: boolean;
  s3?: boolean;
  /** Directory s3rver keeps buckets in; a temporary one (removed on stop) when omitted. */
  s3Dir?: string;
  /** Receives every output line of every emulator, prefixed with its name. */
  log?: (line: string) => void;
  /** How long one emulator may take to answer its readiness probe. */
  readyTimeoutMs?: number;
  /** Told when an emulator exits on its own (not through stop() or restart()): a crash, or a kill from outside. */
  onExit?: (exit: EmulatorExit) => void;
}

export type EmulatorName = 'kinesis' | 'dynamodb' | 's3';

export interface EmulatorExit {
  name: EmulatorName;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The emulator's last output lines. */
  outputTail: string[];
}

export interface EmulatorEndpoints {
  kinesis?: string;
  dynamodb?: string;
  s3?: string;
}

export interface Emulators {
  endpoints: EmulatorEndpoints;
  /** AWS_ENDPOINT_URL_<SERVICE>, AWS_REGION and dummy credentials; merge into process.env or a child's env. */
  env: Record<string, string>;
  pids: number[];
  /** Where s3rver keeps its buckets, when S3 was started. */
  s3Dir?: string;
  /** The process id of one emulator (to pause it with SIGSTOP in a drill, say). */
  pid(name: EmulatorName): number | undefined;
  /** Whether the emulator's process is running. */
  isRunning(name: EmulatorName): boolean;
  /**
   * Starts an emulator that exited again, on the same port and, for S3, with the same data directory (Kinesis
   * and DynamoDB keep their data in memory: they come back empty). Resolves when it answers.
   */
  restart(name: EmulatorName): Promise<void>;
  /** Kills every emulator (SIGKILL) and removes a temporary S3 directory. Idempotent. */
  stop(): Promise<void>;
  /** Sends SIGKILL to every emulator at once, synchronously: for a process that is about to exit. */
  killNow(): void;
}

export const LOCAL_REGION = 'us-east-1';
/** kinesis-local namespaces streams under this account unless the access key id is a 12-digit account id. */
export const LOCAL_ACCOUNT_ID = '000000000000';

const HOST = '127.0.0.1';
const OUTPUT_TAIL_LINES = 40;
const DEFAULT_READY_TIMEOUT_MS = 30_000;

const requireFromHere = createRequire(__filename);

function packageDir(name: string): string {
  // Resolving package.json works from any cwd and does not depend on each package's "main".
  return dirname(requireFromHere.resolve(`${name}/package.json`));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('the OS returned no free port'))));
    });
  });
}

interface EmulatorSpec {
  name: EmulatorName;
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** Path probed over HTTP; any HTTP answer counts as ready unless okOnly. */
  probePath: string;
  okOnly: boolean;
}

interface RunningEmulator {
  spec: EmulatorSpec;
  child: ChildProcess;
  exited: Promise<void>;
  outputTail: string[];
  exitCode: number | null | undefined;
  /** Set before the owner kills it on purpose, so its exit is not reported as unexpected. */
  stopping: boolean;
}

/** Loaded into every emulator: it exits when its owner is gone. */
const PARENT_WATCH = join(__dirname, 'parent-watch.cjs');

/** Children that are still running, across every startEmulators call of this process. */
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL is, and it is the only signal kinesis-local always obeys.
  process.on('exit', () => {
    for (const child of liveChildren) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // A loader inherited from the parent (tsx, a test runner) would only slow the emulators down.
  if (!('NODE_OPTIONS' in extra)) delete env.NODE_OPTIONS;
  return env;
}

function launch(spec: EmulatorSpec, log?: (line: string) => void, onExit?: (exit: EmulatorExit) => void): RunningEmulator {
  const child = spawn(process.execPath, ['--require', PARENT_WATCH, ...spec.args], {
    env: spec.env,
    // stdin is the pipe the emulator watches (parent-watch.cjs); the owner never writes to it.
    stdio: ['pipe', 'pipe', 'pipe'],
    // A process group of its own: a terminal's Ctrl-C goes to the owner, which stops the emulators in order.
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
  liveChildren.add(child);
  const running: RunningEmulator = {
    spec,
    child,
    outputTail: [],
    exitCode: undefined,
    stopping: false,
    exited: new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        running.exitCode = code;
        liveChildren.delete(child);
        if (!running.stopping) onExit?.({ name: spec.name, pid: child.pid, code, signal, outputTail: [...running.outputTail] });
        resolve();
      });
      child.once('error', (err) => {
        running.outputTail.push(`spawn error: ${err.message}`);
        running.exitCode ??= null;
        liveChildren.delete(child);
        resolve();
      });
    }),
  };
  // Writing to a pipe whose reader died raises EPIPE; nothing is ever written, but never let it throw.
  child.stdin?.on('error', () => undefined);
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      running.outputTail.push(line);
      if (running.outputTail.length > OUTPUT_TAIL_LINES) running.outputTail.shift();
      log?.(`[${spec.name}] ${line}`);
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return running;
}

async function probe(port: number, path: string, okOnly: boolean): Promise<boolean> {
  try {
    const res = await fetch(`http://${HOST}:${port}${path}`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer().catch(() => undefined);
    return okOnly ? res.ok : true;
  } catch {
    return false;
  }
}

async function waitUntilReady(emulator: RunningEmulator, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let delay = 25;
  while (Date.now() - started < timeoutMs) {
    if (emulator.exitCode !== undefined) {
      throw new Error(
        `${emulator.spec.name} emulator exited with code ${emulator.exitCode} before it was ready:\n` +
          emulator.outputTail.join('\n'),
      );
    }
    if (await probe(emulator.spec.port, emulator.spec.probePath, emulator.spec.okOnly)) return;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  throw new Error(
    `${emulator.spec.name} emulator did not answer http://${HOST}:${emulator.spec.port}${emulator.spec.probePath} ` +
      `within ${timeoutMs} ms. Last output:\n${emulator.outputTail.join('\n') || '(none)'}`,
  );
}

function killNow(emulator: RunningEmulator): void {
  emulator.stopping = true;
  if (emulator.exitCode === undefined) {
    try {
      emulator.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function kill(emulator: RunningEmulator): Promise<void> {
  killNow(emulator);
  await emulator.exited;
}

export async function startEmulators(opts: StartEmulatorsOptions = {}): Promise<Emulators> {
  installExitHook();
  const specs: EmulatorSpec[] = [];
  let s3Dir = opts.s3Dir;
  let ownS3Dir: string | undefined;

  if (opts.kinesis) {
    const dir = packageDir('kinesis-local');
    const [port, tlsPort] = [await freePort(), await freePort()];
    specs.push({
      name: 'kinesis',
      port,
      probePath: '/healthcheck',
      okOnly: true,
      args: [join(dir, 'main.js')],
      env: childEnv({
        KINESIS_MOCK_CERT_PATH: join(dir, 'server.json'),
        KINESIS_MOCK_PLAIN_PORT: String(port),
        KINESIS_MOCK_TLS_PORT: String(tlsPort),
        // Stream lifecycle operations complete at once; tests create a stream per case.
        CREATE_STREAM_DURATION: '0ms',
        DELETE_STREAM_DURATION: '0ms',
        UPDATE_SHARD_COUNT_DURATION: '0ms',
        UPDATE_STREAM_MODE_DURATION: '0ms',
        SPLIT_SHARD_DURATION: '0ms',
        MERGE_SHARDS_DURATION: '0ms',
        REGISTER_STREAM_CONSUMER_DURATION: '0ms',
        DEREGISTER_STREAM_CONSUMER_DURATION: '0ms',
        START_STREAM_ENCRYPTION_DURATION: '0ms',
        STOP_STREAM_ENCRYPTION_DURATION: '0ms',
        LOG_LEVEL: 'ERROR',
        ROOT_LOG_LEVEL: 'ERROR',
        AWS_REGION: LOCAL_REGION,
        AWS_ACCOUNT_ID: LOCAL_ACCOUNT_ID,
        SHOULD_PERSIST_DATA: 'false',
        LOAD_DATA_IF_EXISTS: 'false',
      }),
    });
  }
  if (opts.dynamodb) {
    const port = await freePort();
    specs.push({
      name: 'dynamodb',
      port,
      probePath: '/',
      okOnly: false,
      args: [
        join(packageDir('dynalite'), 'cli.js'),
        '--host', HOST,
        '--port', String(port),
        '--createTableMs', '0',
        '--deleteTableMs', '0',
        '--updateTableMs', '0',
      ],
      env: childEnv({}),
    });
  }
  if (opts.s3) {
    const port = await freePort();
    if (!s3Dir) {
      ownS3Dir = await mkdtemp(join(tmpdir(), 's3rver-'));
      s3Dir = ownS3Dir;
    }
    specs.push({
      name: 's3',
      port,
      probePath: '/',
      okOnly: false,
      args: [join(packageDir('s3rver'), 'bin', 's3rver.js'), '-d', s3Dir, '-a', HOST, '-p', String(port), '--silent'],
      // s3rver's paging signs continuation tokens with a cipher OpenSSL 3 only offers as legacy.
      env: childEnv({ NODE_OPTIONS: '--openssl-legacy-provider' }),
    });
  }

  const running = specs.map((spec) => launch(spec, opts.log, opts.onExit));
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(running.map(kill));
      if (ownS3Dir) await rm(ownS3Dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const find = (name: EmulatorName): number => {
    const at = running.findIndex((r) => r.spec.name === name);
    if (at < 0) throw new Error(`the ${name} emulator was not started`);
    return at;
  };

  try {
    await Promise.all(running.map((r) => waitUntilReady(r, opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS)));
  } catch (err) {
    await stop();
    throw err;
  }

  const endpoints: EmulatorEndpoints = {};
  const env: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    // s3rver only accepts its own fixed key pair; kinesis-local and dynalite accept any.
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  for (const r of running) {
    const url = `http://${HOST}:${r.spec.port}`;
    endpoints[r.spec.name] = url;
    const variable = { kinesis: 'AWS_ENDPOINT_URL_KINESIS', dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB', s3: 'AWS_ENDPOINT_URL_S3' }[
      r.spec.name
    ];
    env[variable] = url;
  }

  const emulators: Emulators = {
    endpoints,
    env,
    pids: running.map((r) => r.child.pid).filter((pid): pid is number => typeof pid === 'number'),
    ...(s3Dir ? { s3Dir } : {}),
    pid: (name) => running[find(name)]!.child.pid,
    isRunning: (name) => running[find(name)]!.exitCode === undefined,
    async restart(name) {
      if (stopped) throw new Error('the emulators are stopped');
      const at = find(name);
      await kill(running[at]!);
      if (name === 's3' && s3Dir) {
        for (const key of await removeUnfinishedS3Objects(s3Dir)) opts.log?.(`[s3] removed ${key}: its write was cut short when the emulator stopped`);
      }
      const next = launch(running[at]!.spec, opts.log, opts.onExit);
      running[at] = next;
      emulators.pids = running.map((r) => r.child.pid).filter((pid): pid is number => typeof pid === 'number');
      await waitUntilReady(next, opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    },
    stop,
    killNow: () => running.forEach(killNow),
  };
  return emulators;
}

/** s3rver's file names for an object's bytes and its metadata, written in that order. */
const S3RVER_OBJECT = '._S3rver_object';
const S3RVER_METADATA = '._S3rver_metadata.json';

/**
 * Removes the objects whose PUT s3rver did not finish before it stopped, and returns their paths. s3rver
 * writes an object's bytes, then its checksum, then its metadata, and only then answers; an emulator killed
 * in between leaves an object without complete metadata, on which every later listing of its prefix fails
 * with InternalError. S3 never stores a PUT it did not complete, and the writer (which got no answer) sends
 * it again, so removing it is what S3 would show.
 */
export async function removeUnfinishedS3Objects(dir: string): Promise<string[]> {
  const removed: string[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith(S3RVER_OBJECT)) continue;
    const object = join(entry.parentPath, entry.name);
    const stem = object.slice(0, -S3RVER_OBJECT.length);
    const metadata = await readFile(`${stem}${S3RVER_METADATA}`, 'utf8').catch(() => undefined);
    let complete = false;
    try {
      complete = metadata !== undefined && typeof JSON.parse(metadata) === 'object';
    } catch {
      complete = false;
    }
    if (complete) continue;
    await Promise.all([object, `${object}.md5`, `${stem}${S3RVER_METADATA}`].map((f) => rm(f, { force: true })));
    removed.push(stem.slice(dir.length + 1));
  }
  return removed;
}
