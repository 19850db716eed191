/**
 * Command-line options of `npm start` (the local runtime). Pure: parsing never touches the process, so the
 * defaults and the error messages are specified by tests.
 */
import { resolve } from 'node:path';
import { BUILT_IN_STAGES } from '../../lib/config/stage-config';

/** The deployed dev stage's aggregator window, in seconds (for the help text). */
const DEV_WINDOW_SECONDS = BUILT_IN_STAGES.dev!.profiles.windowSeconds;

export interface RuntimeOptions {
  /** Events per second the synthetic producer sends. */
  readonly rate: number;
  /** Distinct users of the workload (Zipf-distributed activity). */
  readonly users: number;
  /** Seconds of load. */
  readonly durationSeconds: number;
  /** Tumbling window of the aggregator in seconds (0 = per-batch mode). */
  readonly windowSeconds: number;
  /** Seed of the workload: the same seed sends the same events. */
  readonly seed: number;
  /** Share of events made invalid on purpose (each with a known defect). */
  readonly invalidRatio: number;
  /** Share of events resent with the same event_id, as a retrying producer does. */
  readonly duplicateRatio: number;
  /** How long the Firehose stand-in buffers before writing an object, in seconds. */
  readonly bufferSeconds: number;
  /** After the summary, keep everything running and print the endpoints until Ctrl-C. */
  readonly keepRunning: boolean;
  /** Where the emulators' S3 data and the lake mirror go. */
  readonly dataDir: string;
  /** Stage whose configuration names the resources and sets the event-source settings. */
  readonly stage: string;
  /** Line-per-second progress even on a terminal. */
  readonly plain: boolean;
}

export const DEFAULT_OPTIONS: RuntimeOptions = {
  // 100 events/s for 30 s is 3,000 events: enough for every named query to have something to say, while
  // kinesis-local (CPU-bound, slower as a shard fills) keeps up on a busy two-core laptop.
  rate: 100,
  users: 300,
  durationSeconds: 30,
  // The deployed dev window is 120 s (DEV_WINDOW_SECONDS); 5 s lets a 30 s run show several windows closing
  // into the profiles. Every other event-source setting is the stage's.
  windowSeconds: 5,
  seed: 42,
  invalidRatio: 0.02,
  duplicateRatio: 0.02,
  // Firehose buffers at least 60 s in AWS; 5 s locally so objects appear while you watch.
  bufferSeconds: 5,
  keepRunning: false,
  dataDir: '.local/runtime',
  stage: 'dev',
  plain: false,
};

export const HELP = `Runs the whole personalization data platform on this machine: Kinesis, DynamoDB and S3 emulators,
the deployed validation and aggregation handlers behind a Lambda event-source runner, a Firehose stand-in
writing the lake in the deployed layout, a synthetic producer, and DuckDB running the deployed named
queries. No AWS account and no Docker needed.

Usage: npm start -- [options]

  --rate <n>              events per second sent by the synthetic producer (default ${DEFAULT_OPTIONS.rate})
  --users <n>             distinct users, Zipf-distributed activity (default ${DEFAULT_OPTIONS.users})
  --duration <s>          seconds of load (default ${DEFAULT_OPTIONS.durationSeconds})
  --window <s>            aggregator tumbling window in seconds, 0 = per batch (default ${DEFAULT_OPTIONS.windowSeconds};
                          the deployed dev stage uses ${DEV_WINDOW_SECONDS})
  --seed <n>              workload seed: the same seed sends the same events (default ${DEFAULT_OPTIONS.seed})
  --invalid-ratio <x>     share of invalid events, 0..1 (default ${DEFAULT_OPTIONS.invalidRatio})
  --duplicate-ratio <x>   share of duplicate sends, 0..1 (default ${DEFAULT_OPTIONS.duplicateRatio})
  --buffer <s>            Firehose stand-in buffering interval in seconds (default ${DEFAULT_OPTIONS.bufferSeconds};
                          Firehose itself buffers 60 s or more)
  --stage <name>          stage configuration naming the resources (default ${DEFAULT_OPTIONS.stage})
  --data-dir <path>       where S3 objects and the lake mirror are kept (default ${DEFAULT_OPTIONS.dataDir})
  --keep-running          after the summary, keep the emulators and handlers running and print
                          export AWS_ENDPOINT_URL_*=... lines for the AWS CLI or SDKs; Ctrl-C stops it
  --plain                 one progress line per second instead of the live display
  -h, --help              this text

Ctrl-C stops every process the runtime started.`;

export type ParseResult = { kind: 'run'; options: RuntimeOptions } | { kind: 'help' } | { kind: 'error'; message: string };

type NumericKey = 'rate' | 'users' | 'durationSeconds' | 'windowSeconds' | 'seed' | 'invalidRatio' | 'duplicateRatio' | 'bufferSeconds';

const NUMERIC: Record<string, { key: NumericKey; min: number; max: number; integer: boolean }> = {
  '--rate': { key: 'rate', min: 1, max: 5_000, integer: false },
  '--users': { key: 'users', min: 1, max: 1_000_000, integer: true },
  '--duration': { key: 'durationSeconds', min: 1, max: 86_400, integer: false },
  '--window': { key: 'windowSeconds', min: 0, max: 900, integer: true },
  '--seed': { key: 'seed', min: 0, max: 2 ** 32 - 1, integer: true },
  '--invalid-ratio': { key: 'invalidRatio', min: 0, max: 1, integer: false },
  '--duplicate-ratio': { key: 'duplicateRatio', min: 0, max: 1, integer: false },
  '--buffer': { key: 'bufferSeconds', min: 0.1, max: 900, integer: false },
};

/** Parses `npm start -- ...` arguments; accepts `--name value` and `--name=value`. */
export function parseOptions(argv: readonly string[], cwd = process.cwd()): ParseResult {
  const out: { -readonly [K in keyof RuntimeOptions]: RuntimeOptions[K] } = { ...DEFAULT_OPTIONS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];

    if (name === '-h' || name === '--help') return { kind: 'help' };
    if (name === '--keep-running' || name === '--plain') {
      if (inline !== undefined) return { kind: 'error', message: `${name} takes no value` };
      if (name === '--keep-running') out.keepRunning = true;
      else out.plain = true;
      continue;
    }
    if (name === '--stage' || name === '--data-dir') {
      const v = value();
      if (v === undefined || v === '' || v.startsWith('--')) return { kind: 'error', message: `${name} needs a value` };
      if (name === '--stage') out.stage = v;
      else out.dataDir = v;
      continue;
    }
    const spec = NUMERIC[name];
    if (!spec) return { kind: 'error', message: `unknown option ${arg} (see --help)` };
    const raw = value();
    const n = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || n < spec.min || n > spec.max || (spec.integer && !Number.isInteger(n))) {
      return {
        kind: 'error',
        message: `${name} must be ${spec.integer ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}, got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`,
      };
    }
    out[spec.key] = n;
  }
  if (out.invalidRatio + out.duplicateRatio > 1) {
    return { kind: 'error', message: `--invalid-ratio plus --duplicate-ratio must not exceed 1, got ${out.invalidRatio + out.duplicateRatio}` };
  }
  out.dataDir = resolve(cwd, out.dataDir);
  return { kind: 'run', options: out };
}
