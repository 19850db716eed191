import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, dedupKey, eventFingerprint, validateRecord, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { EVENT_SCHEMA, validEventArbitrary } from '../support/event-arbitrary';

const ARRIVAL = Date.parse('2026-06-15T12:00:00.000Z');
const reference = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(EVENT_SCHEMA);
const encode = (e: unknown) => Buffer.from(JSON.stringify(e), 'utf8');
const events = validEventArbitrary(ARRIVAL);

type Mutation = { path: string; rules: string[]; apply: (e: Record<string, any>) => void };

/** Single mutations drawn from the schema: each breaks exactly one rule of one field. */
function mutations(event: BehaviouralEvent): Mutation[] {
  const out: Mutation[] = [];
  const props = EVENT_SCHEMA.properties as Record<string, any>;
  for (const name of EVENT_SCHEMA.required as string[]) {
    out.push({ path: `/${name}`, rules: ['required'], apply: (e) => delete e[name] });
  }
  for (const [name, s] of Object.entries(props)) {
    const present = (event as unknown as Record<string, unknown>)[name] !== undefined;
    if (!present) continue;
    if (s.type === 'string') {
      out.push({ path: `/${name}`, rules: ['type'], apply: (e) => (e[name] = 12345) });
      if (s.maxLength) out.push({ path: `/${name}`, rules: ['maxLength', 'pattern', 'format', 'enum'], apply: (e) => (e[name] = 'a'.repeat(s.maxLength + 1)) });
      if (s.pattern || s.enum || s.format) out.push({ path: `/${name}`, rules: ['pattern', 'enum', 'format'], apply: (e) => (e[name] = `${e[name].slice(0, -1)}\u0001`) });
    }
    if (s.type === 'integer' || s.type === 'number') {
      out.push({ path: `/${name}`, rules: ['type'], apply: (e) => (e[name] = String(e[name])) });
      if (s.maximum !== undefined) out.push({ path: `/${name}`, rules: ['maximum'], apply: (e) => (e[name] = s.maximum + 1) });
      if (s.minimum !== undefined) out.push({ path: `/${name}`, rules: ['minimum'], apply: (e) => (e[name] = s.minimum - 1) });
    }
    if (s.type === 'object') {
      out.push({ path: `/${name}`, rules: ['type'], apply: (e) => (e[name] = [e[name]]) });
      if (s.additionalProperties === false) out.push({ path: `/${name}/zz_unknown`, rules: ['additionalProperties'], apply: (e) => (e[name].zz_unknown = 1) });
    }
  }
  out.push({ path: '/zz_unknown', rules: ['additionalProperties'], apply: (e) => (e.zz_unknown = true) });
  return out;
}

describe('events generated from the schema', () => {
  it('are all accepted, and a reference JSON Schema validator agrees', () => {
    fc.assert(
      fc.property(events, (event) => {
        expect(reference(event), JSON.stringify(reference.errors)).toBe(true);
        const result = validateRecord(encode(event), ARRIVAL);
        expect(result.ok, JSON.stringify(result)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('normalize event_time to canonical UTC with the same instant', () => {
    fc.assert(
      fc.property(events, (event) => {
        const result = validateRecord(encode(event), ARRIVAL);
        if (!result.ok) throw new Error(JSON.stringify(result));
        expect(result.event.event_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
        expect(Date.parse(result.event.event_time)).toBe(Math.floor(Date.parse(event.event_time.replace(/(\.\d{3})\d+/, '$1'))));
        expect(result.eventTimeMs).toBe(Date.parse(result.event.event_time));
      }),
      { numRuns: 300 },
    );
  });

  it('validate idempotently: a normalized event validates to itself', () => {
    fc.assert(
      fc.property(events, (event) => {
        const once = validateRecord(encode(event), ARRIVAL);
        if (!once.ok) throw new Error(JSON.stringify(once));
        const twice = validateRecord(encode(once.event), ARRIVAL);
        expect(twice.ok && canonicalJson(twice.event)).toBe(canonicalJson(once.event));
      }),
      { numRuns: 200 },
    );
  });

  it('have a fingerprint that ignores key order and changes with any field', () => {
    fc.assert(
      fc.property(events, (event) => {
        const reordered = Object.fromEntries(Object.entries(event).reverse()) as BehaviouralEvent;
        expect(eventFingerprint(reordered)).toBe(eventFingerprint(event));
        expect(eventFingerprint({ ...event, session_id: `${event.session_id}x` })).not.toBe(eventFingerprint(event));
        expect(dedupKey(reordered)).toBe(dedupKey(event));
      }),
      { numRuns: 200 },
    );
  });
});

describe('a single mutation of a valid event', () => {
  it('is rejected as a schema violation with an error at the mutated path', () => {
    fc.assert(
      fc.property(events, fc.nat(), (event, pick) => {
        const candidates = mutations(event);
        const m = candidates[pick % candidates.length]!;
        const mutated = JSON.parse(JSON.stringify(event));
        m.apply(mutated);
        const result = validateRecord(encode(mutated), ARRIVAL);
        expect(result.ok, `${m.path} ${JSON.stringify(mutated)}`).toBe(false);
        if (result.ok) return;
        expect(result.reason).toBe('schema_violation');
        const at = result.errors.filter((e) => e.path === m.path || (m.rules.includes('required') && e.path.startsWith(m.path)));
        expect(at.length, `${m.path}: ${JSON.stringify(result.errors)}`).toBeGreaterThan(0);
        expect(m.rules).toContain(at[0]!.rule);
        expect(reference(mutated)).toBe(false);
      }),
      { numRuns: 600 },
    );
  });
});

describe('arbitrary bytes', () => {
  it('never make the validator throw, and always produce a reason with at least one error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const result = validateRecord(bytes, ARRIVAL);
        if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('nor do arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const result = validateRecord(encode(value), ARRIVAL);
        expect(result.ok).toBe(false);
        if (!result.ok) expect(['schema_violation', 'unsupported_schema_version', 'size_violation']).toContain(result.reason);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the normalized flag', () => {
  it('is false only when the record is exactly the compact JSON of the event, and true whenever a value changed', () => {
    fc.assert(
      fc.property(events, fc.constantFrom('', ' ', '\n', '\r\n', '\t'), fc.boolean(), (event, padding, pretty) => {
        const text = (pretty ? JSON.stringify(event, null, 2) : JSON.stringify(event)) + padding;
        const result = validateRecord(Buffer.from(text, 'utf8'), ARRIVAL);
        if (!result.ok) throw new Error(JSON.stringify(result));
        if (!result.normalized) expect(text).toBe(JSON.stringify(result.event));
        const unchanged = canonicalJson(JSON.parse(text)) === canonicalJson(result.event);
        if (!unchanged) expect(result.normalized).toBe(true);
        if (padding !== '' || pretty) expect(result.normalized).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
