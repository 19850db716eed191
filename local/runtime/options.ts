/**
 * Command-line options of `npm start` (the local runtime). Pure: parsing never touches the process, so the
 * defaults and the error messages are specified by tests.
 */
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
  /** Share of users who browse with only an anonymous id first (most log in later, some never do). */
  readonly anonymousRatio: number;
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
  // Most traffic is from visitors who have not logged in; 30% of the users arrive anonymous, 70% of those log
  // in after a few events (an identify event) and the rest never do.
  anonymousRatio: 0.3,
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
  --anonymous-ratio <x>   share of users who browse anonymously first, 0..1; most of them log in later
                          (an identify event links them), some never do (default ${DEFAULT_OPTIONS.anonymousRatio})
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

type NumericKey = 'rate' | 'users' | 'durationSeconds' | 'windowSeconds' | 'seed' | 'invalidRatio' | 'duplicateRatio' | 'anonymousRatio' | 'bufferSeconds';

/** The numeric options: the key each sets and the values it takes. */
const NUMERIC: Record<string, { key: NumericKey; min: number; max: number; integer: boolean }> = {
  rate: { key: 'rate', min: 1, max: 5_000, integer: false },
  users: { key: 'users', min: 1, max: 1_000_000, integer: true },
  duration: { key: 'durationSeconds', min: 1, max: 86_400, integer: false },
  window: { key: 'windowSeconds', min: 0, max: 900, integer: true },
  seed: { key: 'seed', min: 0, max: 2 ** 32 - 1, integer: true },
  'invalid-ratio': { key: 'invalidRatio', min: 0, max: 1, integer: false },
  'duplicate-ratio': { key: 'duplicateRatio', min: 0, max: 1, integer: false },
  'anonymous-ratio': { key: 'anonymousRatio', min: 0, max: 1, integer: false },
  buffer: { key: 'bufferSeconds', min: 0.1, max: 900, integer: false },
};

/** Every option parseArgs accepts (the numbers as strings, checked below; HELP describes each). */
const PARSE_OPTIONS = {
  ...Object.fromEntries(Object.keys(NUMERIC).map((name) => [name, { type: 'string' }])),
  stage: { type: 'string' },
  'data-dir': { type: 'string' },
  'keep-running': { type: 'boolean' },
  plain: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

/** parseArgs' errors in the words of HELP: which option, and what it needs. */
function usageError(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code !== 'string' || !e.code.startsWith('ERR_PARSE_ARGS_')) return undefined;
  const message = String(e.message);
  const named = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${named} (see --help)`;
  if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ''} (see --help)`;
  if (/does not take an argument/.test(message)) return `${named} takes no value`;
  if (/ambiguous/.test(message)) return `${named} needs a value (write ${named}=<value> for a value that starts with '-')`;
  return `${named} needs a value`;
}

/** Parses `npm start -- ...` arguments (node:util parseArgs: `--name value` and `--name=value`). */
export function parseOptions(argv: readonly string[], cwd = process.cwd()): ParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    const message = usageError(err);
    if (message === undefined) throw err;
    return { kind: 'error', message };
  }
  if (values.help) return { kind: 'help' };
  const out: { -readonly [K in keyof RuntimeOptions]: RuntimeOptions[K] } = { ...DEFAULT_OPTIONS };
  if (values['keep-running']) out.keepRunning = true;
  if (values.plain) out.plain = true;
  for (const name of ['stage', 'data-dir'] as const) {
    const v = values[name];
    if (v === undefined) continue;
    if (v === '') return { kind: 'error', message: `--${name} needs a value` };
    if (name === 'stage') out.stage = v as string;
    else out.dataDir = v as string;
  }
  for (const [name, spec] of Object.entries(NUMERIC)) {
    const raw = values[name] as string | undefined;
    if (raw === undefined) continue;
    const n = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(n) || n < spec.min || n > spec.max || (spec.integer && !Number.isInteger(n))) {
      return { kind: 'error', message: `--${name} must be ${spec.integer ? 'an integer' : 'a number'} from ${spec.min} to ${spec.max}, got ${JSON.stringify(raw)}` };
    }
    out[spec.key] = n;
  }
  if (out.invalidRatio + out.duplicateRatio > 1) {
    return { kind: 'error', message: `--invalid-ratio plus --duplicate-ratio must not exceed 1, got ${out.invalidRatio + out.duplicateRatio}` };
  }
  out.dataDir = resolve(cwd, out.dataDir);
  return { kind: 'run', options: out };
}
