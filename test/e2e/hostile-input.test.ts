/**
 * End to end, black box: each class of record that once got past the validator and broke a later stage (a
 * lone surrogate stopped the whole local runtime) goes through the running pipeline. Each is quarantined with
 * its reason, or stored normalized as the README documents; the raw zone keeps every record byte for byte on
 * one line, and its table still counts one row per record; valid events sent afterwards still flow, and
 * every record is accounted for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReasonCode } from '@personalization-data-platform/contract';
import { LakeQueryRunner, type Row } from '../../local/lake/query-runner';
import { BlackBox, eventually, positionKey } from '../../scripts/verify/black-box';
import { localstackGap } from './support/localstack-gaps';
import { EXTERNAL, startTarget, type Target } from './support/target';

interface Case {
  readonly name: string;
  readonly data: Buffer;
  /** The reason it is quarantined with, or the curated row it becomes (the fields that matter). */
  readonly expect: ReasonCode | { readonly curated: Record<string, unknown> };
}

const run = EXTERNAL ? `${Date.now() % 1_000_000}` : 'local';
const eventTime = new Date(Date.now() - 60_000);
const canonicalTime = eventTime.toISOString();
let n = 0;
const event = (change: Record<string, unknown> = {}) => ({
  schema_version: '1.0',
  event_id: `hostile-${run}-${++n}`,
  user_id: `hostile-${run}-user-${n % 3}`,
  session_id: 's-1',
  event_type: 'search',
  event_time: canonicalTime,
  device: { type: 'mobile', os: 'iOS' },
  context: { search_query: 'trail shoes' },
  properties: { position: 3 },
  ...change,
});
const json = (e: unknown) => JSON.stringify(e);
const text = (s: string) => Buffer.from(s, 'utf8');

function cases(): Case[] {
  const out: Case[] = [];
  const reject = (name: string, data: Buffer, reason: ReasonCode) => out.push({ name, data, expect: reason });
  const accept = (name: string, data: Buffer, curated: Record<string, unknown>) => out.push({ name, data, expect: { curated } });

  reject('a lone high surrogate (the record that stopped the runtime)', text(json(event()).replace('"iOS"', '"iOS\\ud800"')), 'invalid_unicode');
  reject('a lone low surrogate in the search query', text(json(event()).replace('"trail shoes"', '"\\udc00trail"')), 'invalid_unicode');
  reject('a C1 control character', text(json(event({ device: { type: 'mobile', os: 'iOS\u0085' } }))), 'schema_violation');
  reject('1e400', text(json(event()).replace('"position":3', '"position":1e400')), 'schema_violation');
  reject('an integer above 2^53', text(json(event()).replace('"position":3', '"position":9007199254740993')), 'schema_violation');
  reject('user_id twice', text(json(event()).replace('"session_id"', '"user_id":"someone-else","session_id"')), 'ambiguous_json');
  reject('two events in one record (JSON lines)', text(`${json(event())}\n${json(event())}`), 'not_json');
  reject('a record of newlines', text('\n\n\r\n'), 'not_json');
  reject('gzip bytes', gzipSync(text(json(event()))), 'not_utf8');

  const trailing = event();
  accept('an event with a trailing newline', text(`${json(trailing)}\n`), { event_id: trailing.event_id, search_query: 'trail shoes' });
  const pretty = event();
  accept('a pretty-printed event with CRLF line ends', text(JSON.stringify(pretty, null, 2).replace(/\n/g, '\r\n')), { event_id: pretty.event_id, search_query: 'trail shoes' });
  const fraction = event({ event_time: `${canonicalTime.slice(0, 23)}456789123Z` });
  accept('more than 9 fraction digits', text(json(fraction)), { event_id: fraction.event_id, event_time: canonicalTime });
  const spelled = event();
  accept('a number spelled 5.4e3', text(json(spelled).replace('"position":3', '"position":5.4e3')), { event_id: spelled.event_id, position: '5400' });
  const separators = event({ context: { search_query: 'trail\u2028shoes \u202eseohs\u202c \u200d' } });
  accept('line separators, bidi and zero-width characters', text(json(separators)), { event_id: separators.event_id, search_query: 'trail\u2028shoes \u202eseohs\u202c \u200d' });
  const pair = event();
  accept('an escaped surrogate pair', text(json(pair).replace('"trail shoes"', '"trail \\ud83d\\ude00"')), { event_id: pair.event_id, search_query: 'trail \u{1F600}' });
  return out;
}

let target: Target;
let box: BlackBox;
let hostile: Case[];
let sent: { data: Buffer; at: { shardId: string; sequenceNumber: string } }[];
const canaries: string[] = [];

describe('hostile records through the running pipeline', { timeout: EXTERNAL ? 900_000 : 120_000 }, () => {
  beforeAll(async () => {
    target = await startTarget();
    box = new BlackBox(target.names);
    hostile = cases();
    const at = await box.put(hostile.map((c, i) => ({ data: c.data, partitionKey: `hostile-${run}-${i}` })));
    // Then ordinary traffic: the stages must still be running to deliver it.
    const after = Array.from({ length: 5 }, () => event());
    for (const e of after) canaries.push(e.event_id);
    const canaryAt = await box.put(after.map((e) => ({ data: text(json(e)), partitionKey: e.user_id })));
    sent = [...hostile.map((c, i) => ({ data: c.data, at: at[i]! })), ...after.map((e, i) => ({ data: text(json(e)), at: canaryAt[i]! }))];
  }, 90_000);

  afterAll(async () => {
    box?.destroy();
    await target?.stop();
  });

  const rejected = () => hostile.flatMap((c, i) => (typeof c.expect === 'string' ? [{ c, reason: c.expect, at: sent[i]!.at }] : []));
  const accepted = () => hostile.flatMap((c) => (typeof c.expect === 'string' ? [] : [{ c, row: c.expect.curated }]));

  it('quarantines each rejected class once, with its reason and the record as sent', async () => {
    const expected = rejected();
    const { lines, byPosition } = await box.quarantinedAt(expected.map(({ at }) => at), target.settleMs);
    expect(lines).toHaveLength(expected.length);
    expect(byPosition.size).toBe(expected.length);
    for (const { c, reason, at } of expected) {
      const line = byPosition.get(positionKey(at.shardId, at.sequenceNumber))!;
      expect(line.reason, c.name).toBe(reason);
      expect(Buffer.from(String(line.payload_base64), 'base64').equals(c.data), c.name).toBe(true);
    }
  });

  it.skipIf(localstackGap('hostile classes in the curated zone', 'firehose-prefixes', 'firehose-parquet'))('stores each accepted class in the curated zone as documented, and the events sent after them too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'e2e-hostile-'));
    try {
      const wanted = [...accepted().map(({ row }) => String(row.event_id)), ...canaries];
      const rows = await eventually(
        async () => {
          await rm(dir, { recursive: true, force: true });
          await box.downloadLake(dir);
          const runner = await LakeQueryRunner.open(dir);
          try {
            return await runner.run(
              `SELECT event_id, strftime(event_time, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS event_time, context.search_query AS search_query, ` +
                `element_at(properties, 'position') AS position FROM curated_events WHERE event_id LIKE 'hostile-${run}-%'`,
            );
          } finally {
            runner.close();
          }
        },
        (rs: Row[]) => wanted.every((id) => rs.some((r) => r.event_id === id)),
        target.settleMs,
        'curated complete',
      );
      for (const { c, row } of accepted()) {
        const got = rows.filter((r) => r.event_id === row.event_id);
        expect(got, c.name).toHaveLength(1);
        expect(got[0], c.name).toMatchObject(row);
      }
      expect(rows.filter((r) => canaries.includes(String(r.event_id)))).toHaveLength(canaries.length);
      // Nothing rejected reached the curated zone.
      expect(rows).toHaveLength(accepted().length + canaries.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(localstackGap('hostile records in the raw zone', 'firehose-s3-format', 'firehose-prefixes'))('keeps every record in the raw zone byte for byte, one table row per record', async () => {
    const wanted = sent.map((s) => s.data.toString('base64'));
    const got = await eventually(
      async () => (await box.rawRecords()).map((r) => r.toString('base64')).filter((r) => wanted.includes(r)),
      (rs) => rs.length >= wanted.length,
      target.settleMs,
      'raw complete',
    );
    expect(got.sort()).toEqual([...wanted].sort());
    if (EXTERNAL) return; // a shared deployment's raw table holds other runs' records too
    const dir = await mkdtemp(join(tmpdir(), 'e2e-hostile-raw-'));
    try {
      await box.downloadLake(dir);
      const runner = await LakeQueryRunner.open(dir);
      try {
        const rows = await runner.run('SELECT count(*) AS n FROM raw_events');
        expect(Number(rows[0]!.n)).toBe(sent.length);
      } finally {
        runner.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(localstackGap('hostile records accounted through the curated zone', 'firehose-prefixes', 'firehose-parquet'))('accounts for every record, and the runtime is still running', async () => {
    const quarantined = new Set((await box.quarantineLines()).map(({ line }) => positionKey(String(line.shard_id), String(line.sequence_number))));
    const stillQuarantined = rejected().filter(({ at }) => quarantined.has(positionKey(at.shardId, at.sequenceNumber))).length;
    const curated = new Set((await box.curatedRows()).map((r) => r.event_id));
    const inCurated = [...accepted().map(({ row }) => String(row.event_id)), ...canaries].filter((id) => curated.has(id)).length;
    expect(stillQuarantined + inCurated).toBe(sent.length);
    if (target.local) {
      for (const pid of target.local.pids) expect(() => process.kill(pid, 0), `emulator ${pid}`).not.toThrow();
      const stats = target.local.stats();
      expect(stats.validation.recordsIn).toBeGreaterThanOrEqual(sent.length);
      expect(stats.lake.raw.recordsToErrorPrefix + stats.lake.curated.recordsToErrorPrefix).toBe(0);
      expect(stats.onFailureRecords).toBe(0);
    }
  });
});
