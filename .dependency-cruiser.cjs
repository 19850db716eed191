/**
 * The dependency rules of the layout (docs/layout.md): which folder may import which. `npm test` checks
 * them (test/layout/dependency-rules.test.ts); `npm run deps` prints the violations. Type-only imports count
 * like any other: "no AWS imports" means no AWS types either.
 */
const SHIPPED = '^(core|adapters|lambdas|lib|bin|clients|local|workload|scripts)/';
const AWS_SDK = 'node_modules/(@aws-sdk|@smithy)/';
const CDK = 'node_modules/(aws-cdk-lib|constructs|cdk-nag)/';
/** The installable packages (npm workspaces): the contract, the producer and the profile reader. */
const PACKAGES = '^(core/contract|clients/producer|clients/profiles)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'The domain core imports only itself and Node built-ins: no AWS SDK, no CDK, no Lambda types, no package at all.',
      severity: 'error',
      from: { path: '^core/' },
      to: { pathNot: '^core/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'adapters-adapt-the-core',
      comment: 'Adapters implement the core\'s ports over the AWS SDK; they know nothing of the functions, clients, CDK or the local runtime.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: ['^(lambdas|lib|bin|clients|local|workload|scripts|bench|test)/', CDK] },
    },
    {
      name: 'functions-only-wire',
      comment: 'A function wires the core and the adapters (and Powertools); it takes nothing from the clients, the CDK app, the local runtime or the workload.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: ['^(lib|bin|clients|local|workload|scripts|bench|test)/', CDK] },
    },
    {
      name: 'functions-call-aws-through-adapters',
      comment: 'AWS SDK calls live in adapters/, where the retries, timeouts and error classification are.',
      severity: 'error',
      from: { path: '^lambdas/' },
      to: { path: AWS_SDK },
    },
    {
      name: 'one-folder-per-function',
      comment: 'Functions do not import each other: what two of them share belongs in core/ or adapters/.',
      severity: 'error',
      from: { path: '^lambdas/([^/]+)/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/$1/' },
    },
    {
      name: 'function-config-is-pure',
      comment: 'A function\'s config.ts is its environment contract, which the CDK app writes: it may import only the core.',
      severity: 'error',
      from: { path: '^lambdas/[^/]+/config\\.ts$' },
      to: { pathNot: '^core/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'lib-deploys-it-does-not-run-it',
      comment: 'The CDK app reads the core (names, layouts, limits) and the functions\' config.ts; it never imports running code.',
      severity: 'error',
      from: { path: '^(lib|bin)/' },
      to: { path: ['^(adapters|clients|local|workload|scripts|bench|test)/', '^lambdas/[^/]+/(?!config\\.ts$)', AWS_SDK, 'node_modules/@aws-lambda-powertools/'] },
    },
    {
      name: 'clients-are-thin',
      comment: 'The clients are public APIs over the core and the adapters: no function internals, no CDK, no local runtime.',
      severity: 'error',
      from: { path: '^clients/' },
      to: { path: ['^(lambdas|lib|bin|local|workload|scripts|bench|test)/', CDK] },
    },
    {
      name: 'clients-call-aws-through-adapters',
      comment: 'Clients reach AWS through adapters/ (which also re-exports the SDK types their options name).',
      severity: 'error',
      from: { path: '^clients/' },
      to: { path: AWS_SDK },
    },
    {
      name: 'local-runs-the-deployed-code',
      comment: 'The local runtime runs the functions, adapters and clients as deployed; from lib/ it reads only the stage configuration and the named queries\' SQL, never the CDK constructs.',
      severity: 'error',
      from: { path: '^local/' },
      to: { path: ['^lib/(?!config/|lake/named-queries\\.ts$)', '^(bin|scripts|bench|test)/', CDK] },
    },
    {
      name: 'runtime-takes-nothing-from-the-workload',
      comment: 'Only the synthetic producer sends the workload; the rest of the local runtime (the event-source runner, faults, lake) must work with any traffic.',
      severity: 'error',
      from: { path: '^local/', pathNot: '^local/runtime/synthetic-producer\\.ts$' },
      to: { path: '^workload/' },
    },
    {
      name: 'workload-is-pure',
      comment: 'The synthetic workload is generated from the contract alone.',
      severity: 'error',
      from: { path: '^workload/' },
      to: { pathNot: '^(core|workload)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'nothing-shipped-imports-tests',
      comment: 'Tests and benchmarks depend on the code, never the other way round; what both need is shipped code in its own layer.',
      severity: 'error',
      from: { path: SHIPPED },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'benchmarks-import-no-tests',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
    {
      name: 'only-commands-import-commands',
      comment: 'scripts/ are the commands; the layers they use never import them.',
      severity: 'error',
      from: { path: '^(core|adapters|lambdas|lib|bin|clients|local|workload)/' },
      to: { path: '^scripts/' },
    },
    {
      name: 'packages-stand-alone',
      comment: 'A package is installed without the repository around it: it imports its own files by relative path and anything else by name (another package, or an @internal/ layer its build inlines).',
      severity: 'error',
      from: { path: PACKAGES },
      to: { dependencyTypes: ['local'], dependencyTypesNot: ['aliased'], pathNot: '^$1/' },
    },
    {
      name: 'contract-stands-alone',
      comment: 'The contract package depends on nothing but Node built-ins: producers in any setting install it.',
      severity: 'error',
      from: { path: '^core/contract/' },
      to: { pathNot: '^core/contract/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'packages-by-name',
      comment: 'The rest of the repository uses the packages the way their users do: by package name, through their public entry point.',
      severity: 'error',
      from: { pathNot: PACKAGES },
      to: { path: PACKAGES, dependencyTypesNot: ['aliased'] },
    },
    {
      name: 'no-circular',
      comment: 'A cycle hides which module is the lower layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve would only fail at run time.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // TypeScript 7 ships no compiler API for dependency-cruiser to parse with; swc parses TypeScript as well.
    parser: 'swc',
    // Keep imports that compile away (type-only): "no AWS imports" means types too.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    // The packages are imported by name: tsconfig.json's paths resolve the names to their sources.
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: ['^(cdk\\.out|\\.local|\\.bench)/', '/dist/'] },
  },
};
