/**
 * `npm run build:packages [-- contract producer profile-reader]`: builds the installable packages into their
 * `dist/` folders, which `npm pack` / `npm publish` ship (each package's `prepack` runs this for itself).
 *
 * - JavaScript: one CommonJS bundle per package (esbuild). Code of the repository's layers that a package
 *   takes by an `@internal/` name (core/, adapters/) is inlined; the package's own dependencies (the AWS SDK
 *   clients, another package of the platform) stay imports, so an application shares one copy of each.
 *   The build fails when anything else would be inlined: a dependency a package uses must be declared.
 * - Types: declarations emitted by tsc for the entry and every file it reaches, in the repository's layout
 *   under dist/types/, with the `@internal/` names rewritten to relative paths inside dist/types.
 * - The contract package also ships contract/event.schema.json, byte for byte, as dist/event.schema.json.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';

const ROOT = join(__dirname, '..');

export interface PackageSpec {
  /** The short name used on the command line. */
  readonly id: string;
  /** Its folder, relative to the repository root. */
  readonly dir: string;
}

export const PACKAGES: readonly PackageSpec[] = [
  { id: 'contract', dir: 'core/contract' },
  { id: 'producer', dir: 'clients/producer' },
  { id: 'profile-reader', dir: 'clients/profiles' },
];

/** The repository layers a package may take code from by an `@internal/` name; its build inlines them. */
const INTERNAL_LAYERS = ['core', 'adapters'] as const;

interface Manifest {
  readonly name: string;
  readonly dependencies?: Record<string, string>;
}

function manifestOf(spec: PackageSpec): Manifest {
  return JSON.parse(readFileSync(join(ROOT, spec.dir, 'package.json'), 'utf8')) as Manifest;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Builds one package into `<dir>/dist`; returns the files written, relative to the package folder. */
export async function buildPackage(spec: PackageSpec): Promise<string[]> {
  const pkgDir = join(ROOT, spec.dir);
  const dist = join(pkgDir, 'dist');
  const manifest = manifestOf(spec);
  const dependencies = Object.keys(manifest.dependencies ?? {});
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });

  // JavaScript
  const result = await build({
    entryPoints: [join(pkgDir, 'index.ts')],
    outfile: join(dist, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    tsconfig: join(ROOT, 'tsconfig.json'),
    external: dependencies.flatMap((d) => [d, `${d}/*`]),
    metafile: true,
    sourcemap: 'linked',
    sourcesContent: true,
    legalComments: 'inline',
    logLevel: 'warning',
  });
  const otherPackages = PACKAGES.filter((p) => p !== spec).map((p) => `${p.dir}/`);
  const inlined = Object.keys(result.metafile.inputs).map((input) => relative(ROOT, join(process.cwd(), input)).split('\\').join('/'));
  const strays = inlined.filter((input) => input.includes('node_modules/') || otherPackages.some((p) => input.startsWith(p)));
  if (strays.length > 0) {
    throw new Error(`${manifest.name}: the bundle would inline ${strays.join(', ')}; declare what the package uses in its package.json dependencies`);
  }

  // Types
  const cacheDir = join(ROOT, 'node_modules', '.cache', 'package-build');
  mkdirSync(cacheDir, { recursive: true });
  const tsconfig = join(cacheDir, `${spec.id}.tsconfig.json`);
  const typesDir = join(dist, 'types');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: typesDir, rootDir: ROOT },
      include: [],
      files: [join(pkgDir, 'index.ts')],
    }),
  );
  execFileSync(process.execPath, [join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', tsconfig], { cwd: ROOT, stdio: 'inherit' });
  // Another package's declarations are that package's to ship; this one imports it by name.
  for (const other of otherPackages) rmSync(join(typesDir, other), { recursive: true, force: true });
  for (const file of filesUnder(typesDir)) {
    const fromDir = dirname(relative(typesDir, file)).split('\\').join('/');
    const text = readFileSync(file, 'utf8').replace(/(['"])@internal\/([a-z]+)\/([^'"]+)\1/g, (whole, quote: string, layer: string, rest: string) => {
      if (!(INTERNAL_LAYERS as readonly string[]).includes(layer)) throw new Error(`${file}: unknown internal layer in ${whole}`);
      let target = posix.relative(fromDir, `${layer}/${rest}`);
      if (!target.startsWith('.')) target = `./${target}`;
      return `${quote}${target}${quote}`;
    });
    writeFileSync(file, text);
  }
  const entryTypes = posix.join('types', spec.dir, 'index');
  writeFileSync(join(dist, 'index.d.ts'), `export * from './${entryTypes}';\n`);

  if (spec.id === 'contract') copyFileSync(join(ROOT, 'contract', 'event.schema.json'), join(dist, 'event.schema.json'));
  return filesUnder(dist).map((f) => relative(pkgDir, f).split('\\').join('/'));
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((id) => !PACKAGES.some((p) => p.id === id));
  if (unknown.length > 0) {
    console.error(`unknown package(s) ${unknown.join(', ')}; the packages are ${PACKAGES.map((p) => p.id).join(', ')}`);
    process.exit(2);
  }
  for (const spec of PACKAGES.filter((p) => wanted.length === 0 || wanted.includes(p.id))) {
    const files = await buildPackage(spec);
    const bytes = statSync(join(ROOT, spec.dir, 'dist', 'index.js')).size;
    console.log(`${manifestOf(spec).name}: ${files.length} files in ${spec.dir}/dist (index.js ${(bytes / 1024).toFixed(1)} KB)`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
