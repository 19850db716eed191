/**
 * The workspace packages' manifests: what an installer and a bundler read. The contract package's version
 * follows the contract's, the packages depend on each other at the versions they have, and the repository
 * itself uses the packages through the workspace (by name).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACT_VERSION } from '@personalization-data-platform/contract';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const root = read('package.json');
const manifests = (root.workspaces as string[]).map((dir) => ({ dir, manifest: read(join(dir, 'package.json')) }));

describe('the workspace packages', () => {
  it('are the contract, the producer and the profile reader', () => {
    expect(manifests.map((m) => m.manifest.name)).toEqual([
      '@personalization-data-platform/contract',
      '@personalization-data-platform/producer',
      '@personalization-data-platform/profile-reader',
    ]);
  });

  it.each(manifests.map((m) => [m.manifest.name as string, m] as const))('%s publishes types, exports and a README, under the project licence', (_name, { dir, manifest }) => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe(root.license);
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.types).toBe('./dist/index.d.ts');
    expect(manifest.files).toEqual(['dist', 'README.md']);
    expect(manifest.engines.node).toBe(root.engines.node);
    expect(manifest.scripts.prepack).toMatch(/build-packages\.ts /);
    expect(readFileSync(join(ROOT, dir, 'README.md'), 'utf8')).toMatch(/```js\n\/\/ example\.mjs/);
  });

  it('gives the contract package the major and minor version of the contract it implements', () => {
    const contract = manifests.find((m) => m.manifest.name.endsWith('/contract'))!.manifest;
    expect(String(contract.version).split('.').slice(0, 2).join('.'), 'bump core/contract/package.json with the schema x-version').toBe(CONTRACT_VERSION);
  });

  it('depends on each other at the versions they have, and the repository on all of them', () => {
    const versions = Object.fromEntries(manifests.map((m) => [m.manifest.name, m.manifest.version]));
    for (const { manifest } of manifests) {
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) if (dep in versions) expect(range, `${manifest.name} -> ${dep}`).toBe(versions[dep]);
    }
    for (const [name, version] of Object.entries(versions)) expect(root.dependencies[name]).toBe(version);
  });

  it('keeps the SDK ranges of the repository, so one copy of each client serves both', () => {
    for (const { manifest } of manifests) {
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) if (!dep.startsWith('@personalization-data-platform/')) expect(range, `${manifest.name} -> ${dep}`).toBe(root.dependencies[dep]);
    }
  });
});
