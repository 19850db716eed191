/**
 * The raw zone keeps one line per record whatever the record holds, reads back byte for byte, and its table
 * counts one row per record (docs/lake.md, "Reading the raw zone").
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENCODED_LINE_MARK, fitsOnOneLine, rawLine, rawObjectBody, readRawRecords } from '../../core/lake/raw-framing';
import { LocalLake } from '../../local/lake/local-lake';
import { LakeQueryRunner } from '../../local/lake/query-runner';

const EVENT = JSON.stringify({ schema_version: '1.0', event_id: 'e-1', user_id: 'user-1', session_id: 's-1', event_type: 'page_view', event_time: '2026-06-15T11:59:30.000Z' });

/** Records a hostile producer sends: every one must stay one line. */
const HOSTILE: [string, Buffer][] = [
  ['a compact event', Buffer.from(EVENT)],
  ['a pretty-printed event', Buffer.from(JSON.stringify(JSON.parse(EVENT), null, 2))],
  ['an event with a trailing CRLF', Buffer.from(`${EVENT}\r\n`)],
  ['two JSON lines in one record', Buffer.from(`${EVENT}\n${EVENT}`)],
  ['a record of newlines only', Buffer.from('\n\n\n\r\r\n')],
  ['an empty record', Buffer.alloc(0)],
  ['gzip bytes', gzipSync(Buffer.from(EVENT))],
  ['Latin-1 text', Buffer.from('{"user_id":"Jos\xe9"}', 'latin1')],
  ['a NUL byte', Buffer.from('{"a":"\u0000"}')],
  ['text starting with the record separator', Buffer.from('\u001eeyJ9')],
  ['a unit separator', Buffer.from('a\u001fb')],
  ['white space only', Buffer.from('   \t ')],
  ['U+2028 and U+0085 in text', Buffer.from('{"q":"a\u2028b\u0085c"}')],
];

describe('raw-zone framing', () => {
  it.each(HOSTILE)('%s is one line and reads back byte for byte', (_name, record) => {
    const line = rawLine(record);
    expect(line.indexOf(0x0a)).toBe(line.length - 1);
    expect(line.indexOf(0x0d)).toBe(-1);
    expect(line.length).toBeGreaterThan(1);
    expect(readRawRecords(line)).toEqual([record]);
  });

  it('keeps compact JSON, tabs and any Unicode text as sent; encodes what could break a line', () => {
    for (const text of [EVENT, 'a\tb', '{"q":"\u2028\u202e\u0085\uffff\u{1F600}"}', 'x']) {
      expect(fitsOnOneLine(Buffer.from(text)), text).toBe(true);
      expect(rawLine(Buffer.from(text)).toString('utf8')).toBe(`${text}\n`);
    }
    for (const [, record] of HOSTILE.slice(1, 11)) {
      expect(fitsOnOneLine(record)).toBe(false);
      expect(rawLine(record)[0]).toBe(ENCODED_LINE_MARK);
      expect(rawLine(record).subarray(1, -1).toString('latin1')).toBe(record.toString('base64'));
    }
  });

  it('reads back any sequence of records, whatever bytes they hold', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.string({ unit: 'binary', maxLength: 32 }).map((s) => Buffer.from(s, 'utf8')),
      fc.array(fc.constantFrom('\n', '\r', '\u001e', '{', '"', 'a', '\t', ' ', '\u2028'), { maxLength: 12 }).map((cs) => Buffer.from(cs.join(''))),
    );
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 20 }), (records) => {
        const body = rawObjectBody(records);
        const back = readRawRecords(body);
        return body.filter((b) => b === 0x0a).length === records.length && back.length === records.length && back.every((r, i) => r.equals(records[i]!));
      }),
      { numRuns: 200 },
    );
  });
});

describe('the local raw table', () => {
  let root: string;
  let lake: LocalLake;
  let runner: LakeQueryRunner;
  const arrivalMs = Date.parse('2026-06-15T12:00:00.000Z');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'raw-framing-'));
    lake = await LocalLake.open(root);
    await lake.writeRaw(HOSTILE.map(([, data]) => ({ data, arrivalMs })));
    runner = await LakeQueryRunner.open(root);
  });
  afterAll(async () => {
    runner?.close();
    await lake?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('has one row per record, so the accounting and the quarantine rate reconcile', async () => {
    const rows = await runner.run('SELECT count(*) AS n FROM raw_events');
    expect(Number(rows[0]!.n)).toBe(HOSTILE.length);
  });

  it('reads the fields of records kept as sent, and encoded records as rows of NULLs', async () => {
    const rows = await runner.run("SELECT user_id, event_id FROM raw_events WHERE dt = '2026-06-15' AND hour = '12'");
    expect(rows.filter((r) => r.event_id === 'e-1').map((r) => r.user_id)).toEqual(['user-1']);
    expect(rows.filter((r) => r.user_id === null)).toHaveLength(HOSTILE.length - 1);
  });

  it('gives back every record byte for byte from the objects', async () => {
    const keys = await lake.list('raw');
    const records = (await Promise.all(keys.map((k) => lake.readRawRecords(k)))).flat();
    expect(records.map((r) => r.toString('hex')).sort()).toEqual(HOSTILE.map(([, r]) => r.toString('hex')).sort());
  });
});
