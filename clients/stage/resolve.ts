import { readFile } from 'node:fs/promises';
import { parametersUnder, stackOutputs, type CloudFormationClient, type SSMClient } from '../../adapters/stage-values';
import { STAGE_VALUE_NAMES, parameterPathOf, requiredValueNames, stackNameOf, type StageValueName, type StageValues } from '../../core/discovery/catalog';
import { ConfigError } from '../../core/errors';

/** Where a stage's names were read from. */
export type StageSource = { kind: 'outputs-file'; path: string } | { kind: 'stack'; stackName: string } | { kind: 'ssm'; path: string };

export interface ResolvedStage {
  readonly stage: string;
  readonly source: StageSource;
  readonly values: StageValues;
  /** Values the target does not have because it does not model their service (the local runtime), with why. */
  readonly notModelled: ReadonlyMap<StageValueName, string>;
}

/**
 * The key under which an outputs file written by a partial model of a stage (the local runtime) lists the
 * values it cannot have: `{ "<name>": "<why>" }`. A deployed stack never writes it.
 */
export const NOT_MODELLED_KEY = 'NotModelledHere';

/** An outputs file in the shape `cdk deploy --outputs-file` writes, for a target that models part of a stage. */
export function partialOutputsFile(stage: string, values: StageValues, notModelled: Partial<Record<StageValueName, string>>): Record<string, Record<string, string>> {
  return { [stackNameOf(stage)]: { ...(values as Record<string, string>), [NOT_MODELLED_KEY]: JSON.stringify(notModelled) } };
}

/** The stage's names could not be found where they were looked for: the message says where and what is missing. */
export class StageResolutionError extends ConfigError {
  override name = 'StageResolutionError';
}

const known = new Set<string>(STAGE_VALUE_NAMES);

/** Keeps the catalogue's values of a name -> value record (an outputs file may hold other stacks' outputs too). */
function pick(record: Record<string, unknown>): StageValues {
  const out: StageValues = {};
  for (const [k, v] of Object.entries(record)) if (known.has(k) && typeof v === 'string' && v !== '') out[k as StageValueName] = v;
  return out;
}

/** Refuses values without every required name (but those the target says it does not model): a verification against half a stage proves nothing. */
export function checkComplete(values: StageValues, where: string, notModelled: ReadonlyMap<StageValueName, string> = new Map()): StageValues {
  const missing = requiredValueNames().filter((n) => !values[n] && !notModelled.has(n));
  if (missing.length > 0) throw new StageResolutionError(`${where} lacks ${missing.join(', ')}`);
  return values;
}

/**
 * The values of `stackName` in a file written by `cdk deploy --outputs-file <path>`:
 * `{ "<stack name>": { "<output name>": "<value>", ... }, ... }`.
 */
export async function valuesFromOutputsFile(path: string, stackName: string): Promise<StageValues> {
  return (await outputsFileOf(path, stackName)).values;
}

async function outputsFileOf(path: string, stackName: string): Promise<{ values: StageValues; notModelled: Map<StageValueName, string> }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new StageResolutionError(`cannot read the outputs file ${path}: ${(e as Error).message}`);
  }
  const stacks = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const own = stacks[stackName];
  if (typeof own !== 'object' || own === null) {
    throw new StageResolutionError(`the outputs file ${path} has no stack ${stackName} (it has: ${Object.keys(stacks).join(', ') || 'none'})`);
  }
  const record = own as Record<string, unknown>;
  const notModelled = new Map<StageValueName, string>();
  if (typeof record[NOT_MODELLED_KEY] === 'string') {
    for (const [k, why] of Object.entries(JSON.parse(record[NOT_MODELLED_KEY] as string) as Record<string, string>)) if (known.has(k)) notModelled.set(k as StageValueName, why);
  }
  return { values: pick(record), notModelled };
}

/** The outputs of the deployed stack (CloudFormation DescribeStacks). */
export async function valuesFromStack(stackName: string, client?: CloudFormationClient): Promise<StageValues> {
  const outputs = await stackOutputs(stackName, client);
  if (!outputs) throw new StageResolutionError(`stack ${stackName} not found`);
  return pick(outputs);
}

/** The stage's SSM parameters under `/<prefix>/<stage>/`. */
export async function valuesFromParameters(path: string, client?: SSMClient): Promise<StageValues> {
  return pick(await parametersUnder(path, client));
}

export interface ResolveOptions {
  readonly stage: string;
  /** Prefix of the stage's resource names (the SSM path). @default 'pdp' */
  readonly resourcePrefix?: string;
  /** Read this `cdk deploy --outputs-file` file instead of asking AWS. */
  readonly outputsFile?: string;
  /** 'stack' (CloudFormation outputs) or 'ssm'. @default 'stack' (when no outputs file) */
  readonly from?: 'stack' | 'ssm';
  readonly cloudFormation?: CloudFormationClient;
  readonly ssm?: SSMClient;
}

/** Every name of a deployed stage, from the source asked for; throws StageResolutionError naming what is missing. */
export async function resolveStageValues(o: ResolveOptions): Promise<ResolvedStage> {
  const stackName = stackNameOf(o.stage);
  const none = new Map<StageValueName, string>();
  if (o.outputsFile) {
    const { values, notModelled } = await outputsFileOf(o.outputsFile, stackName);
    return { stage: o.stage, source: { kind: 'outputs-file', path: o.outputsFile }, values: checkComplete(values, `the outputs file ${o.outputsFile} (stack ${stackName})`, notModelled), notModelled };
  }
  if (o.from === 'ssm') {
    const path = parameterPathOf(o.resourcePrefix ?? 'pdp', o.stage);
    const values = await valuesFromParameters(path, o.ssm);
    return { stage: o.stage, source: { kind: 'ssm', path }, values: checkComplete(values, `SSM path ${path}`), notModelled: none };
  }
  const values = await valuesFromStack(stackName, o.cloudFormation);
  return { stage: o.stage, source: { kind: 'stack', stackName }, values: checkComplete(values, `the outputs of stack ${stackName}`), notModelled: none };
}
