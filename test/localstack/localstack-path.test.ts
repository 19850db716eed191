/**
 * The LocalStack path, checked without Docker (which this machine does not have): the image and cdklocal are
 * pinned, the scripts use them and deploy the localstack stage, and the gap table of docs/localstack.md is the
 * registry the end-to-end suite skips by, every skip in the suite naming a listed gap.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LOCALSTACK_GAPS } from '../e2e/support/localstack-gaps';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The rows of the docs table: gap id and its handling. */
function documentedGaps(): Record<string, string> {
  const section = read('docs/localstack.md').split('## What runs, what is skipped, and why')[1] ?? '';
  return Object.fromEntries([...section.matchAll(/^\| `([a-z0-9-]+)` \| (skipped|adapted) \|/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Every gap id the e2e suite passes to localstackGap(...). */
function gapsUsedBySuite(): Set<string> {
  const used = new Set<string>();
  for (const file of readdirSync(join(ROOT, 'test', 'e2e')).filter((f) => f.endsWith('.test.ts'))) {
    for (const call of read(join('test', 'e2e', file)).matchAll(/localstackGap\(([^)]*)\)/g)) {
      // The first argument says what is skipped; the others are gap ids.
      for (const id of [...call[1]!.matchAll(/'([^']*)'/g)].slice(1)) used.add(id[1]!);
    }
  }
  return used;
}

describe('the LocalStack path', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('skips a gap-dependent assertion only against LocalStack, printing the gap and why', async () => {
    const load = async () => (await import('../e2e/support/localstack-gaps')).localstackGap;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect((await load())('raw zone', 'firehose-prefixes')).toBe(false);
    vi.resetModules();
    vi.stubEnv('PDP_E2E_TARGET', 'external');
    expect((await load())('raw zone', 'firehose-prefixes'), 'another external target (AWS) runs everything').toBe(false);
    vi.resetModules();
    vi.stubEnv('PDP_E2E_PLATFORM', 'localstack');
    expect((await load())('raw zone', 'firehose-prefixes')).toBe(true);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^\[localstack\] skipped "raw zone": firehose-prefixes: Prefixes are used literally/));
  });

  it('documents exactly the gaps the suite knows, with the same handling', () => {
    expect(documentedGaps()).toEqual(Object.fromEntries(Object.entries(LOCALSTACK_GAPS).map(([id, g]) => [id, g.handling])));
  });

  it('skips only for listed gaps, and every skipped gap skips something', () => {
    const used = gapsUsedBySuite();
    const listed = Object.keys(LOCALSTACK_GAPS);
    expect(used.size).toBeGreaterThan(0);
    expect([...used].filter((id) => !listed.includes(id)), 'skips naming no listed gap').toEqual([]);
    const skipped = Object.entries(LOCALSTACK_GAPS).filter(([, g]) => g.handling === 'skipped').map(([id]) => id);
    expect(skipped.filter((id) => !used.has(id)), 'skipped gaps no assertion refers to').toEqual([]);
    const adapted = Object.entries(LOCALSTACK_GAPS).filter(([, g]) => g.handling === 'adapted').map(([id]) => id);
    expect(adapted.filter((id) => used.has(id)), 'adapted gaps are not skipped').toEqual([]);
    for (const g of Object.values(LOCALSTACK_GAPS)) expect(g.evidence.length).toBeGreaterThan(0);
  });

  it('pins the LocalStack image by version and digest, never a floating tag', () => {
    const images = [...read('localstack/docker-compose.yml').matchAll(/^\s*image:\s*(\S+)/gm)].map((m) => m[1]!);
    expect(images).toHaveLength(1);
    expect(images[0]).toMatch(/^localstack\/localstack:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(read('docs/localstack.md')).toContain(images[0]!);
  });

  it('deploys the localstack stage with the pinned cdklocal, fetching nothing at run time', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.devDependencies['aws-cdk-local']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(pkg.devDependencies['aws-cdk']).toMatch(/^\d+\.\d+\.\d+$/);
    const deploy = read('localstack/deploy.sh');
    expect(deploy).toContain('node_modules/.bin/cdklocal');
    expect(deploy).not.toMatch(/npx\s/);
    expect(deploy).toMatch(/STAGE="\$\{STAGE:-localstack\}"/);
    const run = read('localstack/run-e2e.sh');
    expect(run).toContain('export PDP_E2E_PLATFORM=localstack');
    expect(run).toContain('export PDP_E2E_TARGET=external');
    expect(run).not.toMatch(/npx\s/);
    expect(pkg.scripts['e2e:localstack']).toBe('bash localstack/run-e2e.sh');
  });
});
