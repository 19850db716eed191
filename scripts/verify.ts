/**
 * `npm run verify -- --stage <name> [--outputs-file <file> | --from stack|ssm] [--timeout <s>] [--users <n>] [--keep-canaries]`
 *
 * Proves a deployed stage works, end to end: resolves every name of the stage (from a `cdk deploy
 * --outputs-file` file, the stack's outputs or its SSM parameters), sends canary events (reserved canary users,
 * see core/canary) and checks, through the end-to-end suite's black box, that their profiles are
 * readable, that they landed in the curated zone, that the invalid one was quarantined with its reason, that
 * no alarm is in ALARM and that the profile export schedule is enabled; then removes the canary profiles.
 * Prints progress and a pass/fail table; exits 0 when nothing failed, 1 when a check failed, 2 on bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { resolveStage as resolveStageConfig, StageConfigError } from '../lib/config/stage-config';
import { resolveStageValues, StageResolutionError } from '../clients/stage/resolve';
import { DEFAULT_CANARY_USERS, renderTable, verifyStage } from './verify/stage-verification';

const USAGE = `usage: npm run verify -- --stage <name> [options]

  --stage <name>          the deployed stage (stack PersonalizationPlatform-<name>)
  --outputs-file <file>   read the names from this \`cdk deploy --outputs-file\` file (also: npm start -- --keep-running writes one)
  --from stack|ssm        otherwise read them from the stack's outputs (default) or its SSM parameters
  --timeout <seconds>     how long to wait for the canaries (default 900: windows and Firehose buffers)
  --users <n>             canary users with valid events (default 5: 20 valid events for the 1 invalid record)
  --keep-canaries         leave the canary profiles in the table
`;

async function main(): Promise<number> {
  const { values: a } = parseArgs({
    options: {
      stage: { type: 'string' },
      'outputs-file': { type: 'string' },
      from: { type: 'string' },
      timeout: { type: 'string' },
      users: { type: 'string' },
      'keep-canaries': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (a.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const timeout = Number(a.timeout ?? 900);
  const users = Number(a.users ?? DEFAULT_CANARY_USERS);
  const problems = [
    ...(!a.stage ? ['--stage is required'] : []),
    ...(a.from !== undefined && a.from !== 'stack' && a.from !== 'ssm' ? [`--from must be 'stack' or 'ssm', got ${JSON.stringify(a.from)}`] : []),
    ...(!(timeout > 0 && Number.isFinite(timeout)) || a.timeout?.trim() === '' ? [`--timeout must be a number of seconds above 0, got ${JSON.stringify(a.timeout)}`] : []),
    ...(!Number.isInteger(users) || users < 1 || users > 20 || a.users?.trim() === '' ? [`--users must be an integer from 1 to 20, got ${JSON.stringify(a.users)}`] : []),
  ];
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n\n${USAGE}`);
    return 2;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: { stages?: unknown } };
  const config = resolveStageConfig(a.stage, cdkJson.context?.stages ?? {});
  const resolved = await resolveStageValues({
    stage: config.name,
    resourcePrefix: config.resourcePrefix,
    ...(a['outputs-file'] ? { outputsFile: a['outputs-file'] } : { from: (a.from ?? 'stack') as 'stack' | 'ssm' }),
  });
  const where = resolved.source.kind === 'outputs-file' ? `outputs file ${resolved.source.path}` : resolved.source.kind === 'ssm' ? `SSM ${resolved.source.path}` : `stack ${resolved.source.stackName}`;
  say(`Verifying stage ${config.name}: ${Object.keys(resolved.values).length} names from the ${where}`);
  if (resolved.notModelled.size > 0) say(`  (the target does not model: ${[...resolved.notModelled.keys()].join(', ')})`);
  const report = await verifyStage({ resolved, timeoutMs: timeout * 1000, users, keepCanaries: Boolean(a['keep-canaries']), progress: (l) => say(`  ${l}`) });
  say('');
  say(renderTable(report.results));
  say('');
  say(report.ok ? `Stage ${config.name} verified (canary run ${report.runId}).` : `Stage ${config.name} FAILED verification (canary run ${report.runId}): see the FAIL rows.`);
  return report.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    const known = e instanceof StageResolutionError || e instanceof StageConfigError;
    process.stderr.write(`${known ? (e as Error).message : ((e as Error).stack ?? String(e))}\n`);
    process.exit(known ? 2 : 1);
  },
);
