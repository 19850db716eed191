/**
 * Accepted means storable everywhere, as a differential property: fast-check writes records the way a hostile
 * or careless producer would (any Unicode code point including surrogate halves, C0/C1 controls, U+2028/2029,
 * bidirectional and zero-width characters; numbers spelled in every way JSON allows, out of range or not;
 * members named twice; white space and pretty-printing). Every record the validator rejects carries a reason,
 * and the one the generator's own knowledge says it must; every record it accepts is converted exactly as
 * the local lake converts the validated stream (JSON -> DuckDB -> Parquet with the catalog's columns) and
 * read back: it must equal the accepted event, after the lake's documented normalization (docs/producers.md, "Accepted
 * means storable everywhere").
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_CODES, findDuplicateName, validateRecord, type BehaviouralEvent, type ValidationResult } from '@personalization-data-platform/contract';
import { LocalLake } from '../../local/lake/local-lake';
import { validEventArbitrary } from '../support/event-arbitrary';

const ARRIVAL = Date.parse('2026-06-15T12:00:00.000Z');
const MAX_EXACT = Number.MAX_SAFE_INTEGER;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// ------------------------------------------------------------------ what a hostile producer writes

const SPECIAL_CHARACTERS = [
  '\u2028', '\u2029', '\u202e', '\u202c', '\u2066', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\ufeff', '\ufffe', '\uffff',
  '\ufffd', '\u00a0', '\u0085', '\u0080', '\u009b', '\u009f', '\u0000', '\t', '\n', '\u001f', '\u007f', '\ud800', '\udbff', '\udc00',
  '\udfff', '"', '\\', '/', ' ', '\u{1F600}', '\u{1F469}', '\u{10FFFF}', '\u05d0', '\u0627',
];
const hostileCharacter = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_CHARACTERS) },
  { weight: 4, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  // Any code point, surrogate halves (U+D800-U+DFFF, lone as code points) included.
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((cp) => String.fromCodePoint(cp)) },
);
const hostileString = fc.array(hostileCharacter, { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));

/** JSON spellings of numbers: in and out of the double range, exact or not, every notation. */
const numberLiteral = fc.oneof(
  fc.constantFrom(
    '1e400', '-1e400', '9007199254740993', '9007199254740992', '9007199254740991', '-9007199254740991', '1e-400', '5.4e3', '54e2',
    '5400', '0.1e1', '-0', '1E2', '100', '0.05', '5e-2', '123456789012345678901234567890', '1.7976931348623157e308', '4.9e-324',
    '0.30000000000000004', '86400000', '864e5', '0', '1.50', '2.5E-3',
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
);

type Layout = 'compact' | 'pretty' | 'padded';

interface Scenario {
  event: BehaviouralEvent;
  /** Free-text values to set: [object path ('' for the event), field, value]. */
  strings: [string, string, string][];
  /** Raw number literals for properties values (and maybe duration_ms). */
  numbers: { key: string; literal: string }[];
  durationLiteral?: string;
  /** Inject a member named twice into this object. */
  duplicateIn?: '' | 'device' | 'context' | 'properties';
  layout: Layout;
}

/** Mostly none, sometimes some: a record with every hostile part at once would almost never be accepted. */
const few = <T>(a: fc.Arbitrary<T>, maxLength: number) => fc.oneof(fc.constant([] as T[]), fc.array(a, { minLength: 1, maxLength }));
const sometimes = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

const scenario = fc.record({
  event: validEventArbitrary(ARRIVAL),
  strings: few(
    fc.tuple(
      fc.constantFrom<[string, string]>(['context', 'search_query'], ['device', 'os'], ['context', 'page_url'], ['context', 'referrer'], ['properties', 'note'], ['properties', 'label']),
      hostileString,
    ),
    2,
  ),
  numbers: few(fc.record({ key: fc.constantFrom('n1', 'n2', 'n3'), literal: numberLiteral }), 3),
  durationLiteral: sometimes(numberLiteral),
  duplicateIn: sometimes(fc.constantFrom<'' | 'device' | 'context' | 'properties'>('', 'device', 'context', 'properties')),
  layout: fc.constantFrom<Layout>('compact', 'compact', 'pretty', 'padded'),
}).map((s): Scenario => ({ ...s, strings: s.strings.map(([[obj, field], value]) => [obj, field, value]) }));

interface Record_ {
  text: string;
  /** What the generator knows the validator must do. */
  mustReject: 'invalid_unicode' | 'ambiguous_json' | 'control' | 'number' | undefined;
}

/** Writes the scenario as a record's text and says, from what was put in, whether it must be rejected. */
function write(s: Scenario, eventId: string): Record_ {
  const e = JSON.parse(JSON.stringify(s.event)) as Record<string, any>;
  e.event_id = eventId;
  let lone = false;
  let control = false;
  let outOfRange = false;
  for (const [obj, field, value] of s.strings) {
    e[obj] ??= obj === 'device' ? { type: 'mobile' } : {};
    e[obj][field] = value;
  }
  // Judged on the values that stay (a field set twice keeps the last).
  for (const [obj, field] of s.strings) {
    const value = field === 'search_query' ? (e[obj][field] as string).trim() : (e[obj][field] as string); // x-normalize: trim
    lone ||= LONE_SURROGATE.test(value);
    control ||= CONTROL.test(value);
  }
  const literals = new Map<string, string>();
  for (const [i, { key, literal }] of s.numbers.entries()) {
    e.properties ??= {};
    const marker = `@@number${i}@@`;
    e.properties[key] = marker;
    literals.set(marker, literal);
  }
  if (s.durationLiteral !== undefined) {
    e.duration_ms = '@@duration@@';
    literals.set('@@duration@@', s.durationLiteral);
  }
  // Only the last value of a repeated name is parsed: the numbers' range is judged on those.
  const finalNumbers = new Map<string, string>();
  for (const [i, { key }] of s.numbers.entries()) finalNumbers.set(key, literals.get(`@@number${i}@@`)!);
  for (const literal of finalNumbers.values()) {
    const n = JSON.parse(literal) as number;
    outOfRange ||= !(Math.abs(n) <= MAX_EXACT);
  }
  if (s.durationLiteral !== undefined) {
    const n = JSON.parse(s.durationLiteral) as number;
    outOfRange ||= !(Number.isInteger(n) && n >= 0 && n <= 86_400_000);
  }
  let text = s.layout === 'pretty' ? JSON.stringify(e, null, 2) : JSON.stringify(e);
  for (const [marker, literal] of literals) text = text.replace(`"${marker}"`, literal);
  if (s.layout === 'padded') text = ` \t${text}\r\n`;
  let duplicated = false;
  if (s.duplicateIn !== undefined) {
    const target = s.duplicateIn === '' ? e : e[s.duplicateIn];
    const names = target && typeof target === 'object' ? Object.keys(target) : [];
    const opening = s.duplicateIn === '' ? /^\s*\{/ : new RegExp(`"${s.duplicateIn}":\\s*\\{`);
    const at = opening.exec(text);
    if (names.length > 0 && at) {
      const end = at.index + at[0].length;
      text = `${text.slice(0, end)}${JSON.stringify(names[names.length - 1])}:"x",${text.slice(end)}`;
      duplicated = true;
    }
  }
  const mustReject = lone ? 'invalid_unicode' : duplicated ? 'ambiguous_json' : control ? 'control' : outOfRange ? 'number' : undefined;
  return { text, mustReject };
}

// ------------------------------------------------------------------ what the lake must give back

/** The curated row of an accepted event: the documented normalization of the lake. */
function expectedRow(event: BehaviouralEvent): Record<string, unknown> {
  // What the validated stream carries is the event's JSON (so -0 is 0).
  const e = JSON.parse(JSON.stringify(event)) as Record<string, any>;
  const struct = (value: Record<string, unknown> | undefined, fields: string[]) =>
    value === undefined ? null : Object.fromEntries(fields.map((f) => [f, value[f] ?? null]));
  return {
    schema_version: e.schema_version,
    event_id: e.event_id,
    user_id: e.user_id ?? null,
    anonymous_id: e.anonymous_id ?? null,
    session_id: e.session_id,
    event_type: e.event_type,
    event_time: e.event_time,
    content_id: e.content_id ?? null,
    category: e.category ?? null,
    duration_ms: e.duration_ms ?? null,
    value: e.value ?? null,
    currency: e.currency ?? null,
    device: struct(e.device, ['type', 'os', 'app_version']),
    context: struct(e.context, ['locale', 'page_url', 'referrer', 'search_query']),
    // Stored as strings: a number in JavaScript's shortest form, a boolean as true/false.
    properties: e.properties === undefined ? null : Object.fromEntries(Object.entries(e.properties).map(([k, v]) => [k, String(v)])),
    consent: struct(e.consent, ['personalization', 'analytics']),
  };
}

/** What the validation function forwards for an accepted record (core/ingest/batch.ts). */
function forwarded(text: string, result: Extract<ValidationResult, { ok: true }>): string {
  return result.normalized ? JSON.stringify(result.event) : text;
}

let dir: string;
let lake: LocalLake;
let db: DuckDBInstance;
let reader: DuckDBConnection;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'storable-'));
  lake = await LocalLake.open(dir);
  db = await DuckDBInstance.create(':memory:');
  reader = await db.connect();
});
afterAll(async () => {
  reader?.closeSync();
  db?.closeSync();
  await lake?.close();
  await rm(dir, { recursive: true, force: true });
});

async function readBack(keys: string[]): Promise<Map<string, Record<string, unknown>>> {
  const files = keys.map((k) => `'${lake.pathOf('curated', k).replace(/'/g, "''")}'`).join(', ');
  const rows = await reader.runAndReadAll(
    `SELECT to_json(t) AS j FROM (SELECT * EXCLUDE (dt, hour) REPLACE (strftime(event_time, '%Y-%m-%dT%H:%M:%S.%g') || 'Z' AS event_time) ` +
      `FROM read_parquet([${files}], hive_partitioning = true)) t`,
  );
  const out = new Map<string, Record<string, unknown>>();
  for (const { j } of rows.getRowObjectsJson() as { j: string }[]) {
    const row = JSON.parse(j) as Record<string, unknown>;
    out.set(String(row.event_id), row);
  }
  return out;
}

let batch = 0;

describe('accepted means storable everywhere', () => {
  it('every hostile record is rejected with a reason or comes back from Parquet equal to the accepted event', { timeout: 120_000 }, async () => {
    const seen = { accepted: 0, rejected: {} as Record<string, number> };
    await fc.assert(
      fc.asyncProperty(fc.array(scenario, { minLength: 20, maxLength: 40 }), async (scenarios) => {
        batch++;
        const accepted: { event: BehaviouralEvent; line: string }[] = [];
        for (const [i, s] of scenarios.entries()) {
          const { text, mustReject } = write(s, `e-${batch}-${i}`);
          const result = validateRecord(Buffer.from(text, 'utf8'), ARRIVAL);
          if (!result.ok) {
            seen.rejected[result.reason] = (seen.rejected[result.reason] ?? 0) + 1;
            expect(REASON_CODES).toContain(result.reason);
            expect(result.errors.length).toBeGreaterThan(0);
            if (mustReject === 'invalid_unicode' || mustReject === 'ambiguous_json') expect(result.reason, text).toBe(mustReject);
            if (mustReject === 'control' || mustReject === 'number') expect(result.reason, text).toBe('schema_violation');
            continue;
          }
          expect(mustReject, `accepted although it must be rejected (${mustReject}): ${text}`).toBeUndefined();
          const line = forwarded(text, result);
          // One line, the event's own JSON, nothing a UTF-8 store cannot hold.
          expect(line).not.toMatch(/[\n\r]/);
          expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(result.event)));
          expect(LONE_SURROGATE.test(line)).toBe(false);
          expect(Buffer.from(Buffer.from(line, 'utf8').toString('utf8'), 'utf8').toString('utf8')).toBe(line);
          accepted.push({ event: result.event, line });
        }
        seen.accepted += accepted.length;
        if (accepted.length === 0) return;
        // The Firehose stand-in parses each validated record and hands it to the local lake (Parquet).
        const keys = await lake.writeCurated(accepted.map(({ line }) => JSON.parse(line) as BehaviouralEvent));
        const rows = await readBack(keys);
        expect(rows.size).toBe(accepted.length);
        for (const { event } of accepted) expect(rows.get(event.event_id), event.event_id).toEqual(expectedRow(event));
      }),
      { numRuns: 25 },
    );
    // The generator reaches every class, so the property is not passing vacuously.
    expect(seen.accepted).toBeGreaterThan(100);
    for (const reason of ['invalid_unicode', 'ambiguous_json', 'schema_violation']) expect(seen.rejected[reason] ?? 0, reason).toBeGreaterThan(5);
  });
});

describe('finding a member named twice', () => {
  /** Every UTF-16 unit of a name as a \\u escape: the same name, spelled differently. */
  const escaped = (name: string) => `"${name.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`;

  /**
   * Serializes with optional white space, repeating a member of the `repeatAt`-th object (depth-first) when
   * given, its name spelled as JSON.stringify does or fully escaped.
   */
  function serialize(value: unknown, ws: string, repeatAt: number | undefined, escapeRepeat: boolean): { text: string; repeated: boolean } {
    let objects = 0;
    let repeated = false;
    const go = (v: unknown): string => {
      if (Array.isArray(v)) return `[${ws}${v.map(go).join(`,${ws}`)}${ws}]`;
      if (v === null || typeof v !== 'object') return JSON.stringify(v);
      const entries = Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}${ws}:${ws}${go(x)}`);
      if (objects++ === repeatAt && entries.length > 0) {
        const name = Object.keys(v)[0]!;
        entries.push(`${escapeRepeat ? escaped(name) : JSON.stringify(name)}${ws}:${ws}null`);
        repeated = true;
      }
      return `{${ws}${entries.join(`,${ws}`)}${ws}}`;
    };
    return { text: go(value), repeated };
  }

  it('finds one exactly when the text has one, whatever the nesting, strings and white space', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 5, stringUnit: fc.oneof(fc.constantFrom('"', '\\', 'a', '\u0000', '\ud800', '\u{1F600}'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })) }),
        fc.constantFrom('', ' ', '\n', '\t\r\n'),
        fc.option(fc.nat({ max: 6 }), { nil: undefined }),
        fc.boolean(),
        (value, ws, repeatAt, escapeRepeat) => {
          const { text, repeated } = serialize(value, ws, repeatAt, escapeRepeat);
          expect(() => JSON.parse(text)).not.toThrow();
          expect(findDuplicateName(text) !== undefined, text).toBe(repeated);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
