/**
 * Erasure end to end on the local runtime: a person with anonymous and known events in every zone (profiles,
 * ledger and links, raw, curated, quarantine, a profile export) is erased; they are gone from every store,
 * every other person's data is byte for byte what it was, the audit log holds a hash and counts, and late
 * records of theirs (valid or not, by user or device id) are dropped with a reason at the raw and validation
 * gates: they reach no zone of the lake and no profile, while everyone else's late records land everywhere.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { readRawRecords } from '../../core/lake/raw-framing';
import { subjectHash } from '../../core/privacy/subject';
import { ProfileReader } from '@personalization-data-platform/profile-reader';
import { eraseOnLocalRuntime, LOCAL_AUDIT_LOG } from '../../local/runtime/erasure';
import { BlackBox } from '../../scripts/verify/black-box';
import { EXTERNAL, startTarget, type Target } from './support/target';

const VICTIM = 'erase-me';
const VICTIM_DEVICE = 'erase-dev-1';
/** Neither id occurs in anyone else's data, so "mentions the person" is a plain text search. */
const mentionsVictim = (text: string) => text.includes(VICTIM) || text.includes(VICTIM_DEVICE);

let n = 0;
function event(fields: Partial<BehaviouralEvent>): BehaviouralEvent {
  return {
    schema_version: '1.1',
    event_id: `er-${n++}`,
    session_id: `s-${fields.user_id ?? fields.anonymous_id}`,
    event_type: 'page_view',
    event_time: new Date(Date.now() - 60_000 + n * 10).toISOString(),
    ...fields,
  } as BehaviouralEvent;
}

const sent: { data: Buffer; partitionKey: string }[] = [];
const send = (e: BehaviouralEvent | Record<string, unknown>) => sent.push({ data: Buffer.from(JSON.stringify(e)), partitionKey: String(e.user_id ?? e.anonymous_id) });

/** Everything of every zone: objects' bytes by key, from S3 (raw, curated, quarantine) and the export in the mirror. */
type LakeState = Map<string, Buffer>;

let target: Target;
let box: BlackBox;
let before: LakeState;
let profilesBefore: Map<string, Record<string, unknown>>;

async function lakeState(): Promise<LakeState> {
  const out: LakeState = new Map();
  for (const [zone, bucket] of [['raw', box.names.rawBucket], ['curated', box.names.curatedBucket], ['quarantine', box.names.quarantineBucket]] as const) {
    for (const key of await box.keys(bucket)) out.set(`${zone}/${key}`, await box.object(bucket, key));
  }
  const lakeDir = target.local!.lakeDir;
  const exports = await import('node:fs/promises').then((fs) => fs.readdir(join(lakeDir, 'curated', 'profile-exports'), { recursive: true, withFileTypes: true }));
  for (const e of exports) if (e.isFile()) {
    const path = join(e.parentPath, e.name);
    out.set(`mirror/${path.slice(lakeDir.length + 1)}`, await readFile(path));
  }
  return out;
}

/** The rows of an object as comparable strings (Parquet through DuckDB; gzip and JSON lines as lines). */
async function rows(key: string, body: Buffer): Promise<string[]> {
  if (key.endsWith('.parquet')) {
    const dir = await mkdtemp(join(tmpdir(), 'erasure-rows-'));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      await writeFile(join(dir, 'o.parquet'), body);
      const r = await c.runAndReadAll(`SELECT to_json(t) AS j FROM read_parquet('${join(dir, 'o.parquet')}', hive_partitioning = false) t`);
      return (r.getRowObjectsJson() as { j: string }[]).map((x) => x.j).sort();
    } finally {
      c.closeSync();
      db.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (key.startsWith('raw/')) return readRawRecords(gunzipSync(body)).map((r) => r.toString('base64')).sort();
  const text = (key.endsWith('.gz') ? gunzipSync(body) : body).toString('utf8');
  return text.split('\n').filter((l) => l.length > 0).sort();
}

const rowText = (key: string, row: string) => (key.startsWith('raw/') ? Buffer.from(row, 'base64').toString('utf8') : row);

beforeAll(async () => {
  if (EXTERNAL) return;
  target = await startTarget();
  box = new BlackBox(target.names);
  // The person: anonymous browsing, the login, known events, a purchase, a record the validator rejects.
  send(event({ anonymous_id: VICTIM_DEVICE, event_type: 'content_view', content_id: 'sku-1', category: 'shoes' }));
  send(event({ anonymous_id: VICTIM_DEVICE }));
  send(event({ user_id: VICTIM, anonymous_id: VICTIM_DEVICE, event_type: 'identify' }));
  send(event({ user_id: VICTIM, event_type: 'purchase', value: 42, currency: 'EUR' }));
  send(event({ user_id: VICTIM, event_type: 'click', category: 'books' }));
  send({ ...event({ user_id: VICTIM }), event_type: 'hover' });
  // Everyone else: a known user, a user with an identified device, one without analytics consent, an
  // anonymous visitor, a rejected record.
  for (let i = 0; i < 3; i++) send(event({ user_id: 'keep-1', event_type: 'content_view', content_id: `sku-${i}` }));
  send(event({ anonymous_id: 'keep-dev-2' }));
  send(event({ user_id: 'keep-2', anonymous_id: 'keep-dev-2', event_type: 'identify' }));
  send(event({ user_id: 'keep-3', consent: { analytics: false } }));
  send(event({ user_id: 'keep-3', consent: { personalization: false } }));
  send(event({ anonymous_id: 'keep-visitor' }));
  send({ ...event({ user_id: 'keep-1' }), event_type: 'hover' });
  await box.put(sent);
  await target.local!.settle();
  await target.local!.mirrorQuarantine();
  // A profile export, as the scheduled export writes one.
  const items = [...(await box.profiles(['keep-1', 'keep-2', 'keep-3', VICTIM, `anon#${VICTIM_DEVICE}`, 'anon#keep-visitor'])).values()];
  await target.local!.lake.writeProfileExport(new Date().toISOString().slice(0, 10), items.map((p) => ({ user_id: String(p.user_id), counts: (p.counts ?? {}) as Record<string, number> })));
  before = await lakeState();
  profilesBefore = await box.profiles(['keep-1', 'keep-2', 'keep-3', 'anon#keep-dev-2', 'anon#keep-visitor']);
}, 180_000);

afterAll(async () => {
  box?.destroy();
  await target?.stop();
});

describe.skipIf(EXTERNAL)('erasure on the local runtime', { timeout: 180_000 }, () => {
  it('the pipeline first put the person in every store', async () => {
    const zones = new Set<string>();
    for (const [key, body] of before) if ((await rows(key, body)).some((r) => mentionsVictim(rowText(key, r)))) zones.add(key.split('/')[0]!);
    expect([...zones].sort()).toEqual(['curated', 'mirror', 'quarantine', 'raw']);
    const profile = (await box.profiles([VICTIM])).get(VICTIM)!;
    expect(profile.counts).toEqual({ content_view: 1, page_view: 1, identify: 1, purchase: 1, click: 1 });
    // Consent: keep-3's event without analytics consent is not curated; the one without personalization consent is not in its profile.
    expect((await box.profiles(['keep-3'])).get('keep-3')!.events).toBe(1);
    expect(target.local!.stats().lake.curatedDroppedByReason).toEqual({ no_analytics_consent: 1 });
  });

  it('erases the person everywhere, leaves everyone else byte for byte, and records a hash and counts', async () => {
    const local = target.local!;
    const report = await eraseOnLocalRuntime({ stage: local.stage, names: local.names, dataDir: local.dataDir, request: { userId: VICTIM, reference: 'ticket-1' } });
    expect(report.anonymous_ids).toBe(1);
    expect(report.profiles_erased).toBe(2);
    expect(report.lake.raw!.rows_removed).toBe(6);
    expect(report.lake.curated!.rows_removed).toBe(5);
    expect(report.lake.quarantine!.rows_removed).toBe(1);
    expect(report.lake.profileExports!.rows_removed).toBe(2);

    const after = await lakeState();
    for (const [key, body] of after) {
      const text = key.endsWith('.parquet') ? (await rows(key, body)).join('\n') : (await rows(key, body)).map((r) => rowText(key, r)).join('\n');
      expect(mentionsVictim(text), key).toBe(false);
    }
    for (const [key, old] of before) {
      const oldRows = await rows(key, old);
      const kept = oldRows.filter((r) => !mentionsVictim(rowText(key, r)));
      if (kept.length === oldRows.length) expect(after.get(key)?.equals(old), `${key} is untouched`).toBe(true);
      else if (kept.length === 0) expect(after.has(key), `${key} held only the person and is gone`).toBe(false);
      else expect(await rows(key, after.get(key)!), `${key} keeps everyone else's rows`).toEqual(kept);
    }
    expect(await box.profiles(['keep-1', 'keep-2', 'keep-3', 'anon#keep-dev-2', 'anon#keep-visitor'])).toEqual(profilesBefore);

    // The profiles are tombstones that hold nothing of the person, the ledger and the link are gone.
    for (const key of [VICTIM, `anon#${VICTIM_DEVICE}`]) {
      const item = (await box.profiles([key])).get(key)!;
      expect(Object.keys(item).sort()).toEqual(['erased_at', 'expires_at', 'updated_at', 'user_id', 'version']);
      const ledger = await box.dynamodb.send(new QueryCommand({ TableName: local.names.ledgerTable, KeyConditionExpression: 'user_id = :k', ExpressionAttributeValues: { ':k': key } }));
      expect(ledger.Items).toEqual([]);
    }
    const reader = new ProfileReader({ tableName: local.names.profileTable });
    expect(await reader.get(VICTIM, { consistent: true })).toBeUndefined();
    expect(await reader.get({ anonymousId: VICTIM_DEVICE }, { consistent: true })).toBeUndefined();
    // Nothing else in the ledger table names them (the tombstones' entries are hashes).
    const scan = await box.dynamodb.send(new ScanCommand({ TableName: local.names.ledgerTable }));
    expect(mentionsVictim(JSON.stringify(scan.Items))).toBe(false);

    const audit = (await readFile(join(local.dataDir, LOCAL_AUDIT_LOG), 'utf8')).trim().split('\n');
    expect(audit).toHaveLength(1);
    expect(mentionsVictim(audit[0]!)).toBe(false);
    expect(JSON.parse(audit[0]!)).toMatchObject({ subject_hash: subjectHash(VICTIM), reference: 'ticket-1', profiles_erased: 2 });
  });

  it('a rerun finds nothing left and changes nothing', async () => {
    const local = target.local!;
    const state = await lakeState();
    const report = await eraseOnLocalRuntime({ stage: local.stage, names: local.names, dataDir: local.dataDir, request: { userId: VICTIM } });
    expect(Object.values(report.lake).every((z) => z.rows_removed === 0)).toBe(true);
    expect(report.profiles_erased).toBe(0);
    const again = await lakeState();
    expect([...again.keys()].sort()).toEqual([...state.keys()].sort());
    for (const [key, body] of state) expect(again.get(key)!.equals(body), key).toBe(true);
  });

  it('late records of the person, valid or not, by user or device id, are dropped with a reason: in no zone, in no profile; everyone else\'s land everywhere', async () => {
    const local = target.local!;
    const before = local.stats();
    const erasedBefore = before.profiles.metrics.ErasedSubjectEvents ?? 0;
    const lakeBefore = await lakeState();
    // The person's late records: a valid event and a rejected record by user id, the same by device id.
    const late = [
      event({ user_id: VICTIM, event_type: 'purchase', value: 1, currency: 'EUR' }),
      { ...event({ user_id: VICTIM }), event_type: 'hover' },
      event({ anonymous_id: VICTIM_DEVICE, event_type: 'content_view', content_id: 'sku-9', category: 'shoes' }),
      { ...event({ anonymous_id: VICTIM_DEVICE }), event_time: 'not a time' },
    ];
    // Everyone else's late records: valid and rejected, known and anonymous.
    const others = [
      event({ user_id: 'keep-1', event_type: 'click', category: 'late' }),
      event({ anonymous_id: 'keep-visitor', event_type: 'click', category: 'late' }),
      { ...event({ user_id: 'keep-2' }), event_type: 'hover' },
      { ...event({ anonymous_id: 'keep-visitor' }), event_time: 'not a time' },
    ];
    const records = [...late, ...others];
    await box.put(records.map((e) => ({ data: Buffer.from(JSON.stringify(e)), partitionKey: String(e.user_id ?? e.anonymous_id) })));
    await local.settle();
    await local.mirrorQuarantine();

    // Each gate counted the person's four records with the reason: the raw delivery's transformation, and the
    // validation function (which quarantined and forwarded none of them, so the aggregator and the curated gate never saw them).
    const after = local.stats();
    expect(after.lake.rawDroppedByReason).toEqual({ erased_subject: late.length });
    expect(after.validation.droppedErasedSubject - before.validation.droppedErasedSubject).toBe(late.length);
    expect(after.validation.quarantined - before.validation.quarantined).toBe(2);
    expect(after.validation.forwarded - before.validation.forwarded).toBe(2);
    expect((after.profiles.metrics.ErasedSubjectEvents ?? 0) - erasedBefore).toBe(0);
    expect(after.lake.curatedDroppedByReason.erased_subject).toBeUndefined();

    // No zone holds anything of the person; the new objects hold exactly everyone else's late records.
    const lakeAfter = await lakeState();
    const added: { zone: string; rows: string[] }[] = [];
    for (const [key, body] of lakeAfter) {
      const rowsOf = (await rows(key, body)).map((r) => rowText(key, r));
      expect(mentionsVictim(rowsOf.join('\n')), key).toBe(false);
      if (!lakeBefore.has(key)) added.push({ zone: key.split('/')[0]!, rows: rowsOf });
    }
    const idsIn = (zone: string) =>
      added.filter((a) => a.zone === zone).flatMap((a) => a.rows.map((r) => {
        const row = JSON.parse(r) as { event_id?: string; payload_base64?: string };
        return row.payload_base64 !== undefined ? String(JSON.parse(Buffer.from(row.payload_base64, 'base64').toString('utf8')).event_id) : String(row.event_id);
      })).sort();
    const idsOf = (xs: readonly Record<string, unknown>[]) => xs.map((x) => String(x.event_id)).sort();
    expect(idsIn('raw')).toEqual(idsOf(others));
    expect(idsIn('quarantine')).toEqual(idsOf(others.slice(2)));
    expect(idsIn('curated')).toEqual(idsOf(others.slice(0, 2)));
    const curated = await box.curatedRows();
    expect(curated.filter((r) => late.some((e) => e.event_id === r.event_id))).toEqual([]);

    // The person stays erased in the profile table (tombstones, read as absent); the others' late events counted.
    const reader = new ProfileReader({ tableName: local.names.profileTable });
    expect(await reader.get(VICTIM, { consistent: true })).toBeUndefined();
    expect(await reader.get({ anonymousId: VICTIM_DEVICE }, { consistent: true })).toBeUndefined();
    for (const key of [VICTIM, `anon#${VICTIM_DEVICE}`]) {
      expect(Object.keys((await box.profiles([key])).get(key)!).sort()).toEqual(['erased_at', 'expires_at', 'updated_at', 'user_id', 'version']);
    }
    const profiles = await box.profiles(['keep-1', 'anon#keep-visitor']);
    expect((profiles.get('keep-1')!.counts as Record<string, number>).click).toBe(((profilesBefore.get('keep-1')!.counts as Record<string, number>).click ?? 0) + 1);
    expect((profiles.get('anon#keep-visitor')!.counts as Record<string, number>).click).toBe(1);
  });
});
