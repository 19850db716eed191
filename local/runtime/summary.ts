/**
 * The end of a local run: the lake read back with DuckDB (the catalog's tables as views over the local
 * copy), the accounting of every sent record, a few profiles as a personalization service reads them
 * (clients/profiles), the deployed named queries' results and the golden-dataset reconciliation's verdict.
 * Rendering is pure and plain text.
 */
import { canaryExclusion } from '../../core/canary';
import { describeFreshness, type FreshnessReport } from './freshness-probes';
import type { Row, TranslationOptions } from '../lake/query-runner';
import { LakeQueryRunner } from '../lake/query-runner';
import type { Accounting, LakeContents } from './accounting';
import { recordId } from './accounting';
import type { ProducerReport } from './synthetic-producer';

/** Reads what the accounting needs from the lake's tables. */
export async function readLakeContents(runner: LakeQueryRunner): Promise<LakeContents> {
  const num = (rows: Row[]) => Number(rows[0]?.n ?? 0);
  const [raw, curated, ids, quarantined] = await Promise.all([
    // The freshness canary's probes travel the pipeline but are not the workload's: its books leave them out
    // (and keep the anonymous visitors' events, which have no user id).
    runner.run(`SELECT count(*) AS n FROM raw_events WHERE user_id IS NULL OR ${canaryExclusion()}`),
    runner.run(`SELECT count(*) AS n FROM curated_events WHERE user_id IS NULL OR ${canaryExclusion()}`),
    runner.run(`SELECT DISTINCT event_id FROM curated_events WHERE user_id IS NULL OR ${canaryExclusion()}`),
    runner.run('SELECT DISTINCT shard_id, sequence_number FROM quarantine_events'),
  ]);
  return {
    rawLines: num(raw),
    curatedRows: num(curated),
    curatedEventIds: new Set(ids.map((r) => String(r.event_id))),
    quarantinedRecords: new Set(quarantined.map((r) => recordId(String(r.shard_id), String(r.sequence_number)))),
  };
}

/** The UTC day (YYYY-MM-DD) of the latest event in the curated zone (its `dt` partition), if any. */
export async function lastEventDay(runner: LakeQueryRunner): Promise<string | undefined> {
  const rows = await runner.run('SELECT max(dt) AS dt FROM curated_events');
  const dt = rows[0]?.dt;
  return typeof dt === 'string' && dt !== '' ? dt : undefined;
}

/**
 * The snapshot day of the local profile export. The golden-dataset query compares a profile export with the
 * events from before its snapshot day only, because in AWS an export taken during day D may or may not
 * include D's events. The local export is taken after the run, once every event is processed into the
 * profiles, so every event is settled: it is stamped with the day after the last event's day (`dt`), which
 * makes every event of the run "before the snapshot" and the comparison complete.
 */
export function localExportSnapshotDay(lastDay: string | undefined, now = new Date()): string {
  const day = lastDay ?? now.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a UTC day (YYYY-MM-DD): ${JSON.stringify(day)}`);
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Id of the golden-dataset reconciliation named query (lib/lake/queries/golden-reconciliation.sql). */
export const GOLDEN_RECONCILIATION_QUERY = 'golden-reconciliation';

export interface Reconciliation {
  /** Snapshot day of the profile export the query compared. */
  snapshot: string;
  /** Sampled users the query returned rows for. */
  users: number;
  /** (user, event type) counters compared. */
  counters: number;
  /** Users with at least one counter that is not 'match', by status, sorted. */
  mismatched: string[];
  unsettled: string[];
  /** Why there is no verdict (the query failed or returned nothing). */
  problem?: string;
  /** Every sampled user matches, and there was at least one. */
  ok: boolean;
}

/** The verdict of the golden-dataset query's rows (user_id, event_type, ..., status per counter). */
export function reconciliationVerdict(result: NamedQueryResult | undefined, snapshot: string): Reconciliation {
  const empty = { snapshot, users: 0, counters: 0, mismatched: [], unsettled: [], ok: false };
  if (!result) return { ...empty, problem: `the named query ${GOLDEN_RECONCILIATION_QUERY} is not deployed` };
  if (result.error) return { ...empty, problem: `the query failed: ${result.error}` };
  if (result.rows.length === 0) return { ...empty, problem: 'the query returned no rows' };
  const users = new Set<string>();
  const mismatched = new Set<string>();
  const unsettled = new Set<string>();
  for (const r of result.rows) {
    const user = String(r.user_id);
    users.add(user);
    if (r.status === 'unsettled') unsettled.add(user);
    else if (r.status !== 'match') mismatched.add(user);
  }
  return {
    snapshot,
    users: users.size,
    counters: result.rows.length,
    mismatched: [...mismatched].sort(),
    unsettled: [...unsettled].sort(),
    ok: mismatched.size === 0 && unsettled.size === 0,
  };
}

/** One line: whether every sampled user's profile counters equal the lake's unique events. */
export function describeReconciliation(r: Reconciliation): string {
  if (r.problem) return `golden-dataset reconciliation has no verdict: ${r.problem}`;
  const settled = `export snapshot ${r.snapshot}, the day after the last event: the local export is taken after the run, so every event is settled`;
  if (r.ok) return `golden-dataset reconciliation: all ${r.users} sampled users match the lake (${r.counters} counters; ${settled})`;
  const parts = [
    r.mismatched.length ? `mismatch for ${r.mismatched.slice(0, 3).join(', ')}${r.mismatched.length > 3 ? ` and ${r.mismatched.length - 3} more` : ''}` : '',
    r.unsettled.length ? `unsettled: ${r.unsettled.slice(0, 3).join(', ')}${r.unsettled.length > 3 ? ` and ${r.unsettled.length - 3} more` : ''}` : '',
  ].filter(Boolean);
  return `golden-dataset reconciliation: ${r.users - new Set([...r.mismatched, ...r.unsettled]).size} of ${r.users} sampled users match the lake (${settled}) — ${parts.join('; ')}`;
}

export interface NamedQueryResult {
  id: string;
  name: string;
  rows: Row[];
  error?: string;
  ms: number;
}

/** Runs every deployed named query on the local lake; a failing query is reported, not fatal. */
export async function runNamedQueries(runner: LakeQueryRunner, options: TranslationOptions = {}): Promise<NamedQueryResult[]> {
  const out: NamedQueryResult[] = [];
  for (const q of runner.queries.values()) {
    const started = Date.now();
    try {
      out.push({ id: q.id, name: q.name, rows: await runner.runNamedQuery(q.id, options), ms: Date.now() - started });
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
  profiles: { updates: number; readAt: Date; sample: { userId: string; lines: string[] }[]; drift?: { users: number; drifted: string[] } };
  /** The anonymous visitors of the run, when it had any. */
  anonymous?: AnonymousReport;
  queries: NamedQueryResult[];
  reconciliation: Reconciliation;
  onFailureRecords: number;
  /** On-failure records the destination did not take, after the runner's retries: their ranges are only in runtime.log. */
  onFailureDeliveryErrors?: number;
  /** What became of the records the producer was asked to send. */
  producer?: ProducerReport;
  /** Uploads of lake objects to the S3 emulator (the lake copy DuckDB reads is complete either way). */
  delivery?: LakeDeliveryReport;
  /** Things that went wrong during the run and were handled (an emulator that exited, say), one line each. */
  incidents?: string[];
  locations: { label: string; path: string }[];
  elapsedMs: number;
  /** The freshness canary's figures (reported, not part of whether the run reconciles: the laptop is not AWS). */
  freshness?: FreshnessReport;
}

/** Anonymous visitors: their ids in the unique valid events, and what became of their profiles. */
export interface AnonymousReport {
  /** Distinct anonymous ids the events named. */
  ids: number;
  /** Unique valid events that named only an anonymous id. */
  events: number;
  /** Anonymous ids an identify event linked to a user. */
  linked: number;
  /** Linked ids whose read (ProfileReader.get with the anonymous id) resolved to the linked user's profile. */
  resolved: number;
  /** Linked ids that did not read as their user's profile: `<anonymous id> -> <what it read as>`. */
  unresolved: string[];
}

/** One line: how many anonymous ids there were, how many were linked and merged, and how they read. */
export function describeAnonymous(a: AnonymousReport): string {
  const still = a.ids - a.linked;
  const base =
    `anonymous visitors: ${a.ids} anonymous ids (${a.events} events without a user id); ${a.linked} linked to a user by an identify event ` +
    `and merged into the user's profile, ${still} not (or not yet) logged in with a profile of their own`;
  if (a.unresolved.length === 0) return `${base}; every linked id reads as its user's profile`;
  return `${base} — ${a.unresolved.length} linked id(s) do not read as their user's profile: ${a.unresolved.slice(0, 3).join(', ')}`;
}

export interface LakeDeliveryReport {
  /** Upload attempts that failed and were retried. */
  uploadRetries: number;
  /** Objects still not uploaded when the run ended. */
  pendingUploads: number;
  /** Objects given up after the stand-in's retry time. */
  objectsNotDelivered: number;
  lastUploadError?: string;
}

/**
 * Whether the run reconciles: the accounting, the profiles against the oracle, the golden dataset, every lake
 * object in S3, and every on-failure record at its destination.
 */
export function summaryOk(s: Pick<SummaryInput, 'accounting' | 'profiles' | 'reconciliation' | 'delivery' | 'onFailureDeliveryErrors' | 'anonymous'>): boolean {
  const undelivered = (s.delivery?.pendingUploads ?? 0) + (s.delivery?.objectsNotDelivered ?? 0);
  return (
    s.accounting.ok &&
    (s.profiles.drift?.drifted.length ?? 0) === 0 &&
    (s.anonymous?.unresolved.length ?? 0) === 0 &&
    s.reconciliation.ok &&
    undelivered === 0 &&
    (s.onFailureDeliveryErrors ?? 0) === 0
  );
}

/** One line: what became of the records the producer was asked to send. */
export function describeProducer(p: ProducerReport): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const failed = Object.values(p.failedByCode).reduce((a, b) => a + b, 0);
  if (p.notSent === 0 && failed === 0) return `producer: all ${n(p.planned)} planned records accepted by the stream`;
  const parts = [`producer: ${n(p.accepted)} of ${n(p.planned)} planned records accepted by the stream`];
  if (p.notSent > 0) parts.push(`${n(p.notSent)} not sent: ${p.notSentReason ?? 'unknown reason'}`);
  if (failed > 0) parts.push(`${n(failed)} failed after the client's retries (${Object.entries(p.failedByCode).map(([code, k]) => `${code}: ${n(k)}`).join(', ')})`);
  return parts.join('; ');
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
    `  curated ${a.curatedRows} rows (${a.duplicateRowsInCurated} copies of an event id, which the queries and the profiles count once), quarantined ${a.quarantined}, ` +
      `resends ${a.resends} (the validator dropped ${s.validatorDuplicates} within a batch)`,
  );
  const reasons = Object.entries(s.quarantinedByReason).sort((x, y) => y[1] - x[1]);
  if (reasons.length > 0) out.push(`  quarantine reasons: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')}`);
  if (s.onFailureRecords > 0) out.push(`  on-failure destination: ${s.onFailureRecords} record(s) (see on-failure.jsonl)`);
  if (s.producer) out.push(`  ${describeProducer(s.producer)}`);
  for (const incident of s.incidents ?? []) out.push(`  incident: ${incident}`);
  out.push('');
  for (const c of a.checks) out.push(`  [${mark(c.ok)}] ${c.label}${c.detail ? ` — ${c.detail}` : ''}`);
  if (s.delivery) {
    const d = s.delivery;
    const missing = d.pendingUploads + d.objectsNotDelivered;
    out.push(
      missing === 0
        ? `  [ok  ] every lake object is in the S3 emulator${d.uploadRetries ? ` (${d.uploadRetries} failed upload attempt(s) were retried)` : ''}`
        : `  [FAIL] every lake object is in the S3 emulator — ${missing} object(s) not uploaded (${d.lastUploadError ?? 'see runtime.log'}); ` +
            'their local copies are in the lake folder DuckDB read',
    );
  }
  if (s.onFailureDeliveryErrors) {
    out.push(`  [FAIL] every on-failure record reached its destination — ${s.onFailureDeliveryErrors} did not; their ranges are in runtime.log`);
  }
  if (s.profiles.drift) {
    const d = s.profiles.drift;
    out.push(
      `  [${mark(d.drifted.length === 0)}] profile counters equal the unique valid events for ${d.users - d.drifted.length} of ${d.users} profiles` +
        (s.anonymous ? ` (users, with the anonymous ids linked to them, and anonymous visitors)` : '') +
        (d.drifted.length ? ` — drift for ${d.drifted.slice(0, 3).join(', ')}` : ''),
    );
  }
  if (s.anonymous) out.push(`  [${mark(s.anonymous.unresolved.length === 0)}] ${describeAnonymous(s.anonymous)}`);
  out.push(`  [${mark(s.reconciliation.ok)}] ${describeReconciliation(s.reconciliation)}`);
  out.push(
    '',
    `Profiles (${s.profiles.updates} conditional updates; the most active users as a personalization service reads them, ` +
      `with ProfileReader and the features it derives at ${s.profiles.readAt.toISOString().replace(/\.\d{3}Z$/, 'Z')})`,
  );
  for (const p of s.profiles.sample) {
    out.push(`  ${p.userId}`);
    for (const l of p.lines) out.push(`    ${l}`);
  }
  if (s.freshness) out.push('', ...describeFreshness(s.freshness));
  out.push('', 'Named queries (the deployed Athena SQL, run with DuckDB on the local lake)');
  for (const q of s.queries) {
    out.push(`  ${q.name}  [${q.id}, ${q.ms} ms]`);
    if (q.error) out.push(`    error: ${q.error}`);
    else out.push(...renderRows(q.rows));
    if (q.id === GOLDEN_RECONCILIATION_QUERY) {
      const r = s.reconciliation;
      out.push(
        r.problem
          ? `    no verdict: ${r.problem}`
          : r.ok
            ? `    all ${r.users} sampled users match the lake (export snapshot ${r.snapshot})`
            : `    ${r.mismatched.length} sampled user(s) mismatch, ${r.unsettled.length} unsettled, of ${r.users}`,
      );
    }
  }
  out.push('', 'Files');
  for (const l of s.locations) out.push(`  ${l.label.padEnd(22)} ${l.path}`);
  out.push('', summaryOk(s) ? 'Everything reconciles.' : 'Something does not reconcile: see the FAIL lines above.');
  return out.join('\n');
}
