/**
 * The end of a local run: the lake read back with DuckDB (the catalog's tables as views over the local
 * copy), the accounting of every sent record, a few profiles as a personalization service reads them, and
 * the deployed named queries' results. Rendering is pure and plain text.
 */
import type { Row } from '../lake/query-runner';
import { LakeQueryRunner } from '../lake/query-runner';
import type { Accounting, LakeContents } from './accounting';
import { recordId } from './accounting';

/** Reads what the accounting needs from the lake's tables. */
export async function readLakeContents(runner: LakeQueryRunner): Promise<LakeContents> {
  const num = (rows: Row[]) => Number(rows[0]?.n ?? 0);
  const [raw, curated, ids, quarantined] = await Promise.all([
    runner.run('SELECT count(*) AS n FROM raw_events'),
    runner.run('SELECT count(*) AS n FROM curated_events'),
    runner.run('SELECT DISTINCT event_id FROM curated_events'),
    runner.run('SELECT DISTINCT shard_id, sequence_number FROM quarantine_events'),
  ]);
  return {
    rawLines: num(raw),
    curatedRows: num(curated),
    curatedEventIds: new Set(ids.map((r) => String(r.event_id))),
    quarantinedRecords: new Set(quarantined.map((r) => recordId(String(r.shard_id), String(r.sequence_number)))),
  };
}

export interface NamedQueryResult {
  id: string;
  name: string;
  rows: Row[];
  error?: string;
  ms: number;
}

/** Runs every deployed named query on the local lake; a failing query is reported, not fatal. */
export async function runNamedQueries(runner: LakeQueryRunner): Promise<NamedQueryResult[]> {
  const out: NamedQueryResult[] = [];
  for (const q of runner.queries.values()) {
    const started = Date.now();
    try {
      out.push({ id: q.id, name: q.name, rows: await runner.runNamedQuery(q.id), ms: Date.now() - started });
    } catch (err) {
      out.push({ id: q.id, name: q.name, rows: [], error: (err as Error).message.split('\n')[0]!, ms: Date.now() - started });
    }
  }
  return out;
}

/** A small fixed-width table of the first rows. */
export function renderRows(rows: readonly Row[], maxRows = 5, maxWidth = 28): string[] {
  if (rows.length === 0) return ['    (no rows)'];
  const columns = Object.keys(rows[0]!);
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s;
  };
  const shown = rows.slice(0, maxRows).map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...shown.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `    ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  const out = [line(columns), line(widths.map((w) => '-'.repeat(w))), ...shown.map(line)];
  if (rows.length > maxRows) out.push(`    … ${rows.length - maxRows} more row(s)`);
  return out;
}

export interface SummaryInput {
  accounting: Accounting;
  validatorDuplicates: number;
  quarantinedByReason: Record<string, number>;
  profiles: { updates: number; sample: { userId: string; lines: string[] }[]; drift?: { users: number; drifted: string[] } };
  queries: NamedQueryResult[];
  onFailureRecords: number;
  locations: { label: string; path: string }[];
  elapsedMs: number;
}

export function renderSummary(s: SummaryInput): string {
  const a = s.accounting;
  const out: string[] = [];
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  out.push('', `Summary (${(s.elapsedMs / 1000).toFixed(1)} s)`, '');
  out.push(
    `  sent ${a.sent}: ${a.sentValid} unique valid events, ${a.sentDuplicates} duplicate sends, ${a.sentInvalid} invalid records`,
  );
  out.push(
    `  curated ${a.curatedRows} rows (${a.duplicateRowsInCurated} duplicate rows the profiles ignore), quarantined ${a.quarantined}, ` +
      `duplicates dropped ${a.duplicatesDropped} (the validator counted ${s.validatorDuplicates})`,
  );
  const reasons = Object.entries(s.quarantinedByReason).sort((x, y) => y[1] - x[1]);
  if (reasons.length > 0) out.push(`  quarantine reasons: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  if (s.onFailureRecords > 0) out.push(`  on-failure destination: ${s.onFailureRecords} record(s) (see on-failure.jsonl)`);
  out.push('');
  for (const c of a.checks) out.push(`  [${mark(c.ok)}] ${c.label}${c.detail ? ` — ${c.detail}` : ''}`);
  if (s.profiles.drift) {
    const d = s.profiles.drift;
    out.push(
      `  [${mark(d.drifted.length === 0)}] profile counters equal the unique valid events for ${d.users - d.drifted.length} of ${d.users} users` +
        (d.drifted.length ? ` — drift for ${d.drifted.slice(0, 3).join(', ')}` : ''),
    );
  }
  out.push('', `Profiles (${s.profiles.updates} conditional updates; a few as a personalization service reads them)`);
  for (const p of s.profiles.sample) {
    out.push(`  ${p.userId}`);
    for (const l of p.lines) out.push(`    ${l}`);
  }
  out.push('', 'Named queries (the deployed Athena SQL, run with DuckDB on the local lake)');
  for (const q of s.queries) {
    out.push(`  ${q.name}  [${q.id}, ${q.ms} ms]`);
    if (q.error) out.push(`    error: ${q.error}`);
    else out.push(...renderRows(q.rows));
  }
  out.push('', 'Files');
  for (const l of s.locations) out.push(`  ${l.label.padEnd(22)} ${l.path}`);
  out.push('', a.ok && (s.profiles.drift?.drifted.length ?? 0) === 0 ? 'Everything reconciles.' : 'Something does not reconcile: see the FAIL lines above.');
  return out.join('\n');
}
