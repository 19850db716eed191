/**
 * The layout's dependency rules (docs/layout.md; .dependency-cruiser.cjs), checked with dependency-cruiser:
 * the repository keeps them, and each rule fails a wrong-way import it exists for.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const FOLDERS = ['core', 'adapters', 'lambdas', 'lib', 'bin', 'clients', 'local', 'workload', 'scripts', 'bench', 'test'];

interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
}

const config = createRequire(__filename)(join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: { name: string }[];
  options: Record<string, unknown>;
};

/** The paths of baseDir's tsconfig.json (JSON with line comments), which tell dependency-cruiser an import is aliased. */
async function tsconfigPaths(baseDir: string): Promise<Record<string, string[]>> {
  const text = await readFile(join(baseDir, 'tsconfig.json'), 'utf8');
  return (JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;
}

/** Cruises `folders` of `baseDir` with the repository's rules. */
async function violations(baseDir: string, folders: readonly string[]): Promise<Violation[]> {
  const { cruise } = await import('dependency-cruiser');
  // The packages are imported by name, resolved through tsconfig.json's paths (the CLI reads options.tsConfig itself).
  // tsconfig-paths resolves the paths against the working directory: cruise from inside baseDir.
  const cwd = process.cwd();
  process.chdir(baseDir);
  let result: Awaited<ReturnType<typeof cruise>>;
  try {
    result = await cruise([...folders], { ...config.options, baseDir, validate: true, ruleSet: { forbidden: config.forbidden } } as never, { tsConfig: join(baseDir, 'tsconfig.json') } as never, {
      tsConfig: { options: { paths: await tsconfigPaths(baseDir) } },
    } as never);
  } finally {
    process.chdir(cwd);
  }
  const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string; cycle?: { name: string }[] }[] } };
  return output.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.cycle ? v.cycle.map((c) => c.name).join(' -> ') : v.to }));
}

describe('the repository', () => {
  it('keeps every dependency rule of the layout', async () => {
    const found = await violations(ROOT, FOLDERS);
    expect(found.map((v) => `${v.rule}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 60_000);
});

describe('each rule', () => {
  let dir: string;

  /** A tree of one-line modules: path -> the imports it makes. */
  const FIXTURE: Record<string, string[]> = {
    // allowed
    'core/contract/index.ts': ["import { createHash } from 'node:crypto';", "import './json-text';"],
    'core/contract/json-text.ts': ["import 'node:buffer';"],
    'core/profiles/model.ts': ["import '@personalization-data-platform/contract';"],
    'core/ingest/quarantine.ts': ["import '@personalization-data-platform/contract';", "import '../retry-policy';"],
    'core/retry-policy.ts': ["import './errors';"],
    'core/errors.ts': [],
    'adapters/aws-clients.ts': ["import '@aws-sdk/client-kinesis';", "import '@personalization-data-platform/contract';"],
    'lambdas/validate/config.ts': ["import '@personalization-data-platform/contract';"],
    'lambdas/validate/handler.ts': ["import './config';", "import '../../adapters/aws-clients';", "import '@aws-lambda-powertools/logger';"],
    'lib/ingestion/validation-stage.ts': ["import '../../lambdas/validate/config';", "import 'aws-cdk-lib';"],
    'clients/producer/index.ts': ["import '@internal/adapters/aws-clients';", "import '@internal/core/retry-policy';", "import '@personalization-data-platform/contract';", "import './buffered';"],
    'clients/producer/buffered.ts': [],
    'local/runtime/synthetic-producer.ts': ["import '../../workload/generator';", "import '@personalization-data-platform/producer';"],
    'local/runtime/options.ts': ["import '../../lib/config/stage-config';"],
    'lib/config/stage-config.ts': ["import '../../core/profiles/model';"],
    'workload/generator.ts': ["import '@personalization-data-platform/contract';"],
    'test/support/helper.ts': ["import '../../local/runtime/options';"],
    // forbidden, one per rule
    'core/ingest/redrive.ts': ["import type { KinesisStreamEvent } from 'aws-lambda';"],
    'core/ingest/batch.ts': ["import '../../adapters/aws-clients';"],
    'core/profiles/ledger.ts': ["import './window';"],
    'core/profiles/window.ts': ["import './ledger';"],
    'adapters/dynamodb/profile-table.ts': ["import '../../lambdas/aggregate/handler';"],
    'lambdas/aggregate/handler.ts': ["import '@personalization-data-platform/producer';", "import '@aws-sdk/lib-dynamodb';", "import '../validate/config';"],
    'lambdas/aggregate/config.ts': ["import '../../adapters/aws-clients';"],
    'lib/profiles/profile-aggregator.ts': ["import '../../lambdas/aggregate/handler';"],
    'clients/profiles/reader.ts': ["import '../../lambdas/aggregate/config';", "import '@aws-sdk/lib-dynamodb';", "import '../../core/profiles/model';"],
    'core/contract/validate.ts': ["import '@internal/core/retry-policy';"],
    'local/event-source/runner.ts': ["import '../../workload/generator';", "import '../../lib/profiles/profile-aggregator';"],
    'local/lake/local-lake.ts': ["import '../../core/contract/index';"],
    'workload/zipf.ts': ["import '../local/runtime/options';"],
    'scripts/verify.ts': ["import '../test/support/helper';"],
    'bench/profiles.bench.ts': ["import '../test/support/helper';"],
    'lib/app.ts': ["import '../scripts/verify';"],
    'test/support/broken.ts': ["import './no-such-module';"],
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pdp-layout-'));
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    for (const file of ['tsconfig.json', 'package.json']) await writeFile(join(dir, file), await readFile(join(ROOT, file)));
    for (const [path, imports] of Object.entries(FIXTURE)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), `${imports.join('\n')}\nexport {};\n`);
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the wrong-way imports it exists for, and only those', async () => {
    const found = await violations(dir, FOLDERS.filter((f) => f !== 'bin'));
    const summary = found.map((v) => `${v.rule}: ${v.from} -> ${v.to.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, '$1')}`).sort();
    expect(summary).toEqual(
      [
        'core-is-pure: core/ingest/redrive.ts -> @types/aws-lambda',
        'core-is-pure: core/ingest/batch.ts -> adapters/aws-clients.ts',
        'no-circular: core/profiles/ledger.ts -> core/profiles/window.ts -> core/profiles/ledger.ts',
        'adapters-adapt-the-core: adapters/dynamodb/profile-table.ts -> lambdas/aggregate/handler.ts',
        'functions-only-wire: lambdas/aggregate/handler.ts -> clients/producer/index.ts',
        'functions-call-aws-through-adapters: lambdas/aggregate/handler.ts -> @aws-sdk/lib-dynamodb',
        'one-folder-per-function: lambdas/aggregate/handler.ts -> lambdas/validate/config.ts',
        'function-config-is-pure: lambdas/aggregate/config.ts -> adapters/aws-clients.ts',
        'lib-deploys-it-does-not-run-it: lib/profiles/profile-aggregator.ts -> lambdas/aggregate/handler.ts',
        'clients-are-thin: clients/profiles/reader.ts -> lambdas/aggregate/config.ts',
        'clients-call-aws-through-adapters: clients/profiles/reader.ts -> @aws-sdk/lib-dynamodb',
        'runtime-takes-nothing-from-the-workload: local/event-source/runner.ts -> workload/generator.ts',
        'local-runs-the-deployed-code: local/event-source/runner.ts -> lib/profiles/profile-aggregator.ts',
        'workload-is-pure: workload/zipf.ts -> local/runtime/options.ts',
        'nothing-shipped-imports-tests: scripts/verify.ts -> test/support/helper.ts',
        'benchmarks-import-no-tests: bench/profiles.bench.ts -> test/support/helper.ts',
        'only-commands-import-commands: lib/app.ts -> scripts/verify.ts',
        'lib-deploys-it-does-not-run-it: lib/app.ts -> scripts/verify.ts',
        'packages-stand-alone: clients/profiles/reader.ts -> core/profiles/model.ts',
        'packages-stand-alone: clients/profiles/reader.ts -> lambdas/aggregate/config.ts',
        'contract-stands-alone: core/contract/validate.ts -> core/retry-policy.ts',
        'packages-by-name: local/lake/local-lake.ts -> core/contract/index.ts',
        'not-to-unresolvable: test/support/broken.ts -> ./no-such-module',
      ].sort(),
    );
    // Every rule of the configuration is exercised here.
    const exercised = new Set(found.map((v) => v.rule));
    expect(config.forbidden.map((r) => r.name).filter((name) => !exercised.has(name))).toEqual([]);
  }, 60_000);
});
