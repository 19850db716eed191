/** Resolving a deployed stage's names from a `cdk deploy --outputs-file` file. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partialOutputsFile, resolveStageValues, StageResolutionError } from '../../clients/stage/resolve';
import { requiredValueNames, STAGE_VALUE_NAMES } from '../../core/discovery/catalog';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stage-resolve-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string, content: unknown) => {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(content));
  return path;
};
const all = Object.fromEntries(requiredValueNames().map((n) => [n, `${n}-value`]));

describe('names from an outputs file', () => {
  it("reads the stage's stack among others and keeps only the catalogue's names", async () => {
    const path = await file('all.json', { 'PersonalizationPlatform-prod': { ...all, SomethingElse: 'x' }, OtherStack: { RawStreamName: 'not-ours' } });
    const r = await resolveStageValues({ stage: 'prod', outputsFile: path });
    expect(r.source).toEqual({ kind: 'outputs-file', path });
    expect(r.values).toEqual(all);
    expect(r.notModelled.size).toBe(0);
  });

  it('refuses a file without the stage, or without a required name, saying what is missing', async () => {
    const other = await file('other.json', { 'PersonalizationPlatform-dev': all });
    await expect(resolveStageValues({ stage: 'prod', outputsFile: other })).rejects.toThrow(/has no stack PersonalizationPlatform-prod \(it has: PersonalizationPlatform-dev\)/);
    const { AlarmTopicArn: _, ...withoutTopic } = all;
    const partial = await file('partial.json', { 'PersonalizationPlatform-prod': withoutTopic });
    await expect(resolveStageValues({ stage: 'prod', outputsFile: partial })).rejects.toThrow(StageResolutionError);
    await expect(resolveStageValues({ stage: 'prod', outputsFile: partial })).rejects.toThrow(/lacks AlarmTopicArn/);
  });

  it('accepts a partial model of a stage that says what it does not model, and why', async () => {
    const { AlarmTopicArn: _, ...withoutTopic } = all;
    const path = await file('local.json', partialOutputsFile('dev', withoutTopic, { AlarmTopicArn: 'no CloudWatch here' }));
    const r = await resolveStageValues({ stage: 'dev', outputsFile: path });
    expect(r.values.AlarmTopicArn).toBeUndefined();
    expect(r.notModelled.get('AlarmTopicArn')).toBe('no CloudWatch here');
    expect(STAGE_VALUE_NAMES).toContain('AlarmTopicArn');
  });
});
