/**
 * `npm run import-retained -- --stage <name> --outputs-file <file> [--out <mapping.json>]`
 *
 * Writes the resource mapping that adopts a destroyed stage's retained resources into a new stack with
 * `npx cdk import`, from the stage's synthesized template and the outputs of the deployment that was destroyed
 * (the file `npx cdk deploy --outputs-file <file>` wrote). See docs/deploy.md, "Redeploying after cdk destroy".
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPlatformApp } from '../lib/app';
import { stackNameOf } from '../core/discovery/catalog';
import { importPlan, type SynthesizedTemplate } from '../lib/discovery/retained';
import { StageResolutionError, valuesFromOutputsFile } from '../clients/stage/resolve';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { stage: { type: 'string' }, 'outputs-file': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
  if (values.help || !values.stage || !values['outputs-file']) {
    process.stderr.write('usage: npm run import-retained -- --stage <name> --outputs-file <cdk deploy --outputs-file of the destroyed deployment> [--out mapping.json]\n');
    return values.help ? 0 : 2;
  }
  const stage = values.stage;
  const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context?: { stages?: unknown } };
  const { app, stack } = createPlatformApp({ context: { stage, stages: cdkJson.context?.stages ?? {} }, builtinCloudFormationValidation: false } as never);
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as SynthesizedTemplate;
  const previous = await valuesFromOutputsFile(values['outputs-file'], stackNameOf(stage));
  const plan = importPlan(template, previous);
  const json = JSON.stringify(plan.mapping, null, 2) + '\n';
  if (values.out) writeFileSync(values.out, json);
  else process.stdout.write(json);
  const say = (s: string) => process.stderr.write(`${s}\n`);
  say(`${Object.keys(plan.mapping).length} retained resources of ${stack.stackName} to import.`);
  for (const l of plan.leftBehind) say(`left behind: ${l.logicalId} (${l.type}): ${l.why}`);
  for (const m of plan.missing) say(`MISSING: ${m.logicalId} (${m.type})${m.output ? `: the outputs file has no ${m.output}` : ''}`);
  if (plan.missing.length > 0) return 1;
  say(`next: npx cdk import -c stage=${stage} --resource-mapping ${values.out ?? '<this mapping>'} ${stack.stackName}`);
  say(`then: npx cdk deploy -c stage=${stage} --outputs-file ${values['outputs-file']}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`${e instanceof StageResolutionError ? e.message : (e as Error).stack}\n`);
    process.exit(1);
  },
);
