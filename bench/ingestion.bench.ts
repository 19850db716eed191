/**
 * The validation function's in-memory path per batch of 500 (decode, validate and normalize, dedup, group
 * into PutRecords calls, build the quarantine objects) against the decode + JSON.parse floor, the same path
 * with the erased-subject gate holding 1,000 live tombstones (a stage with past erasures; nobody of the data
 * set is erased), measured twice: every subject seen for the first time in each pass (a cold function, or the
 * minute after an erasure changed the tombstones: each subject is hashed once), and in the steady state (the
 * function keeps one gate while the tombstones are unchanged: a remembered answer per subject), and the size of the function's bundle as deployed (esbuild with
 * PLATFORM_BUNDLING and the function's own aliases).
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import { planBatch, type RawRecord } from '../core/ingest/batch';
import { chunkForPutRecords } from '../core/ingest/put-records';
import { ErasedSubjects, tombstoneHash } from '../core/privacy/curation';
import { PLATFORM_BUNDLE_ALIASES } from '../lib/shared/platform-function';
import { PLATFORM_BUNDLING } from '../lib/shared/platform-function';
import type { Dataset } from './dataset';
import { ratioFigure, measure, type Figure } from './harness';

/** Bundle budget of each function, in bytes (300 KiB). */
export const BUNDLE_BUDGET_BYTES = 300 * 1024;

export interface BundleSize {
  readonly bytes: number;
  /** Bytes of the output per package (or source folder), largest first. */
  readonly byPackage: readonly [string, number][];
}

/** Bundles a handler (path under lambdas/) exactly as the deployed function is bundled, in memory. */
export async function measureBundle(handlerPath: string, aliases: Readonly<Record<string, string>> = {}): Promise<BundleSize> {
  const root = join(__dirname, '..');
  const result = await build({
    entryPoints: [join(root, 'lambdas', handlerPath)],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: PLATFORM_BUNDLING.format === 'esm' ? 'esm' : 'cjs',
    target: PLATFORM_BUNDLING.target,
    mainFields: PLATFORM_BUNDLING.mainFields,
    minify: PLATFORM_BUNDLING.minify,
    external: PLATFORM_BUNDLING.externalModules,
    banner: { js: PLATFORM_BUNDLING.banner },
    alias: { ...aliases },
    outfile: join(root, '.bench', 'bundle', 'index.mjs'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.mjs') || f.path.endsWith('.js'))!;
  const byPackage = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = m ? m[1]! : path.split('/').slice(0, 2).join('/');
      byPackage.set(key, (byPackage.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return { bytes: js.contents.byteLength, byPackage: [...byPackage.entries()].sort((a, b) => b[1] - a[1]) };
}

interface DeliveredRecord {
  /** base64, as in Records[].kinesis.data */
  readonly b64: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
}

/** The data set as Kinesis delivers it, with every 50th record replaced by a broken one so quarantine lines get built. */
function asDelivered(data: Dataset): DeliveredRecord[] {
  const broken = Buffer.from('{"schema_version":"1.0","event_id":').toString('base64');
  return data.base64.map((b64, i) => ({
    b64: i % 50 === 49 ? broken : b64,
    partitionKey: `pk-${i % 997}`,
    sequenceNumber: String(49_000_000_000_000_000_000n + BigInt(i)),
  }));
}

export async function ingestionBench(data: Dataset): Promise<Figure[]> {
  const records = asDelivered(data);
  const batches: DeliveredRecord[][] = [];
  for (let i = 0; i < records.length; i += 500) batches.push(records.slice(i, i + 500));
  const options = { validation: { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000 }, processedAtMs: data.arrivalMs };
  // Tombstones of people who no longer send anything: the gate's cost without changing what is forwarded.
  const tombstones = new Set(Array.from({ length: 1_000 }, (_, i) => tombstoneHash(`erased-user-${i}`)));
  const steady = new ErasedSubjects(tombstones);
  const handlerPath = (items: readonly DeliveredRecord[][], gate?: ErasedSubjects) => {
    let n = 0;
    for (const batch of items) {
      const raw: RawRecord[] = batch.map((rec) => ({
        data: Buffer.from(rec.b64, 'base64'),
        partitionKey: rec.partitionKey,
        shardId: 'shardId-000000000000',
        sequenceNumber: rec.sequenceNumber,
        arrivalMs: data.arrivalMs,
      }));
      const plan = planBatch(raw, gate ? { ...options, erased: gate } : options);
      n += chunkForPutRecords(plan.forward).length + plan.quarantineObjects.length;
    }
    return n;
  };
  const m = measure(batches, {
    floor: (items) => {
      let n = 0;
      for (const batch of items) {
        for (const rec of batch) {
          try {
            n += JSON.parse(Buffer.from(rec.b64, 'base64').toString('utf8')) ? 1 : 0;
          } catch {
            n--;
          }
        }
      }
      return n;
    },
    handler: (items) => handlerPath(items),
    gated: (items) => handlerPath(items, new ErasedSubjects(tombstones)),
    steady: (items) => handlerPath(items, steady),
  });
  const r = m.throughput;
  const perRecord = (batchesPerSecond: number) => batchesPerSecond * 500;
  const bundle = await measureBundle('validate/handler.ts', PLATFORM_BUNDLE_ALIASES);
  return [
    { name: 'ingest: decode+parse (floor)', value: Math.round(perRecord(r.floor!)), unit: 'records/s' },
    ratioFigure('ingest: handler in-memory path', perRecord(r.handler!), 'records/s', 'ingest: decode+parse (floor)', perRecord(r.floor!), '>= 0.6', m.ratio.handler),
    ratioFigure('ingest: gate on, subjects first seen', perRecord(r.gated!), 'records/s', 'ingest: decode+parse (floor)', perRecord(r.floor!), '>= 0.6', m.ratio.gated),
    ratioFigure('ingest: gate on, steady state', perRecord(r.steady!), 'records/s', 'ingest: decode+parse (floor)', perRecord(r.floor!), '>= 0.6', m.ratio.steady),
    { name: 'bundle: validate', value: Math.round(bundle.bytes / 1024), unit: 'KiB', baseline: 'budget 300 KiB', ratio: Math.round((bundle.bytes / BUNDLE_BUDGET_BYTES) * 100) / 100, target: '<= 1.0' },
  ];
}
