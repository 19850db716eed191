/**
 * `npm run cost`: the monthly estimate of a stage at a given load, per service, from the stage's configuration
 * (built-in or from cdk.json) and the unit prices in core/cost/prices.ts, beside the published cost of AWS's
 * Clickstream Analytics on AWS solution at the same request rate.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_WORKLOAD, estimateCost, type Workload } from '../core/cost/estimate';
import { renderCostMarkdown, renderCostText } from '../core/cost/render';
import { resolveStage, StageConfigError } from '../lib/config/stage-config';

const HELP = `usage: npm run cost -- [options]

  --stage <name>              the stage whose configuration is priced (built-in dev, prod, or one in cdk.json); default dev
  --events-per-second <n>     sustained event rate; default ${DEFAULT_WORKLOAD.eventsPerSecond}
  --event-bytes <n>           average event size as sent; default ${DEFAULT_WORKLOAD.eventBytes}
  --users <n>                 distinct users; default ${DEFAULT_WORKLOAD.users}
  --window <seconds>          aggregation window (0: per batch); default the stage's profiles.windowSeconds
  --zipf <s>                  Zipf exponent of user activity (0: uniform); default ${DEFAULT_WORKLOAD.zipfExponent}
  --reads-per-second <n>      profile reads by personalization services; default 0
  --markdown                  print the table of docs/cost.md instead
  --json                      print the estimate as JSON
  -h, --help                  this text

Unit prices: core/cost/prices.ts (us-east-1 list prices). How each line is computed: docs/cost.md.`;

type Numeric = 'events-per-second' | 'event-bytes' | 'users' | 'window' | 'zipf' | 'reads-per-second';
const LIMITS: Record<Numeric, { min: number; max: number; integer: boolean }> = {
  'events-per-second': { min: 0.001, max: 10_000_000, integer: false },
  'event-bytes': { min: 1, max: 1024 * 1024, integer: true },
  users: { min: 1, max: 100_000_000, integer: true },
  window: { min: 0, max: 900, integer: true },
  zipf: { min: 0, max: 5, integer: false },
  'reads-per-second': { min: 0, max: 10_000_000, integer: false },
};

export function main(argv: readonly string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        stage: { type: 'string' },
        'events-per-second': { type: 'string' },
        'event-bytes': { type: 'string' },
        users: { type: 'string' },
        window: { type: 'string' },
        zipf: { type: 'string' },
        'reads-per-second': { type: 'string' },
        markdown: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const o = parsed.values;
  if (o.help) {
    console.log(HELP);
    return 0;
  }
  const problems: string[] = [];
  const num = (name: Numeric): number | undefined => {
    const raw = o[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    const l = LIMITS[name];
    if (raw.trim() === '' || !Number.isFinite(n) || n < l.min || n > l.max || (l.integer && !Number.isInteger(n))) {
      problems.push(`--${name} must be ${l.integer ? 'a whole number' : 'a number'} from ${l.min} to ${l.max}, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  const workload: Workload = {
    eventsPerSecond: num('events-per-second') ?? DEFAULT_WORKLOAD.eventsPerSecond,
    eventBytes: num('event-bytes') ?? DEFAULT_WORKLOAD.eventBytes,
    users: num('users') ?? DEFAULT_WORKLOAD.users,
    zipfExponent: num('zipf') ?? DEFAULT_WORKLOAD.zipfExponent,
    profileReadsPerSecond: num('reads-per-second') ?? DEFAULT_WORKLOAD.profileReadsPerSecond,
    ...(o.window !== undefined ? { windowSeconds: num('window')! } : {}),
  };
  if (problems.length) {
    console.error(`${problems.join('\n')}\n\n${HELP}`);
    return 2;
  }
  let stage;
  try {
    stage = resolveStage(o.stage ?? 'dev', userStages());
  } catch (err) {
    if (err instanceof StageConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const estimate = estimateCost(stage, workload);
  if (o.json) console.log(JSON.stringify(estimate, null, 2));
  else if (o.markdown) console.log(renderCostMarkdown(estimate));
  else console.log(renderCostText(estimate));
  return 0;
}

/** The stages defined in cdk.json (context `stages`), as the CDK app reads them. */
function userStages(): unknown {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: { stages?: unknown } }).context?.stages ?? {};
  } catch {
    return {};
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
