/**
 * `npm run bench` prints every figure as a table; `npm run bench -- --json` prints one JSON object per line:
 * {"name", "value", "unit", "baseline", "ratio"}. `--only <substring>` runs the matching suites.
 */
import { buildDataset } from './dataset';
import type { Figure } from './harness';
import { validationBench } from './validation.bench';

type Suite = { name: string; run: () => Promise<Figure[]> | Figure[] };

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: npm run bench -- [--only <suite>] [--json]

  --only <suite>  run the suites whose name contains <suite>: validation, ingestion, profiles, local-runtime
  --json          one JSON object per figure: {"name", "value", "unit", "baseline", "ratio"}

Every ratio is measured against a baseline in the same run (the machine is shared): compare medians.`);
    return;
  }
  const json = args.includes('--json');
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  const log = (s: string) => { if (!json) console.error(s); };

  log('building the data set (100k events, base64 as Kinesis delivers them)...');
  const data = buildDataset();
  log(`  ${data.base64.length} events, mean ${data.meanBytes} bytes`);

  const suites: Suite[] = [
    { name: 'validation', run: () => validationBench(data) },
    { name: 'ingestion', run: async () => (await import('./ingestion.bench')).ingestionBench(data) },
    { name: 'profiles', run: async () => (await import('./profiles.bench')).profilesBench(data) },
    { name: 'local-runtime', run: async () => (await import('./local-runtime.bench')).localRuntimeBench() },
    { name: 'producer', run: async () => (await import('./clients.bench')).producerBench() },
    { name: 'reader', run: async () => (await import('./clients.bench')).readerBench() },
  ];
  for (const suite of suites) {
    if (only && !suite.name.includes(only)) continue;
    log(`\n${suite.name}`);
    const figures = await suite.run();
    for (const f of figures) {
      if (json) console.log(JSON.stringify({ name: f.name, value: f.value, unit: f.unit, baseline: f.baseline ?? null, ratio: f.ratio ?? null }));
      else console.log(`  ${f.name.padEnd(44)} ${String(f.value).padStart(12)} ${f.unit.padEnd(10)}${f.ratio !== undefined ? `  ${f.ratio.toFixed(2)}x ${f.baseline}${f.target ? ` (target ${f.target})` : ''}` : ''}`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
