import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateRecord, type ValidationResult } from '@personalization-data-platform/contract';
import { ARRIVAL_MS, HOSTILE_CORPUS, type HostileCase } from './fixtures/hostile-corpus';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'contract', 'event.schema.json'), 'utf8'));
// The reference implementation: a mainstream JSON Schema validator interpreting the same schema at run time.
const reference = addFormats(new Ajv2020({ strict: false, allErrors: true })).compile(schema);

/**
 * Where the contract deliberately differs from a plain reading of the schema, and why. The test fails if a
 * difference appears that is not listed here, or a listed one disappears.
 */
const DELIBERATE_DIFFERENCES: Record<string, string> = {
  'newer minor drops unknown top-level fields': 'forward compatibility: a newer minor version may add fields, which are dropped',
  'newer minor drops unknown nested fields': 'forward compatibility, as above, inside device and context',
  'event_time "2026-06-15T23:59:60Z"': 'leap seconds are rejected: producer clocks do not emit them and epoch time cannot hold them',
  'event_time "2026-06-15T11:59:30+0200"': 'RFC 3339 requires the colon in a numeric offset; ajv-formats is lenient',
};

function run(c: HostileCase): ValidationResult {
  const bytes = typeof c.payload === 'string' ? Buffer.from(c.payload, 'utf8') : c.payload;
  return validateRecord(bytes, ARRIVAL_MS);
}

function lookup(event: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], event);
}

describe('the hostile-input corpus', () => {
  it('has at least 150 cases with unique names', () => {
    expect(HOSTILE_CORPUS.length).toBeGreaterThanOrEqual(150);
    expect(new Set(HOSTILE_CORPUS.map((c) => c.name)).size).toBe(HOSTILE_CORPUS.length);
  });

  it.each(HOSTILE_CORPUS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const result = run(c);
    if (c.expect === 'valid') {
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (result.ok && c.normalized) {
        for (const [path, value] of Object.entries(c.normalized)) expect(lookup(result.event, path), path).toEqual(value);
      }
      if (result.ok && c.forwarded) expect(result.normalized ? 're-serialized' : 'as-sent').toBe(c.forwarded);
      // What the validated stream receives is one line of the event's compact JSON.
      if (result.ok && !result.normalized) expect(Buffer.from(c.payload).toString('utf8')).toBe(JSON.stringify(result.event));
      return;
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason, JSON.stringify(result.errors)).toBe(c.expect);
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors.length).toBeLessThanOrEqual(20);
    for (const e of result.errors) {
      expect(typeof e.path).toBe('string');
      expect(e.rule).toMatch(/^[A-Za-z]+$/);
      expect(e.message.length).toBeGreaterThan(0);
    }
    if (c.path !== undefined) {
      const at = result.errors.filter((e) => e.path === c.path);
      expect(at.length, `no error at ${c.path}: ${JSON.stringify(result.errors)}`).toBeGreaterThan(0);
      if (c.rule) expect(at.map((e) => e.rule)).toContain(c.rule);
    }
  });

  it('agrees with a reference JSON Schema validator on every JSON object in the corpus', () => {
    const disagreements: string[] = [];
    for (const c of HOSTILE_CORPUS) {
      if (c.normalizationChangesVerdict) continue;
      const text = typeof c.payload === 'string' ? c.payload : c.payload.toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        continue;
      }
      const ours = run(c);
      // The reference knows nothing of size, skew or version policy: compare on the schema verdict alone.
      if (!ours.ok && ours.reason !== 'schema_violation') continue;
      const theirs = reference(value);
      if (theirs !== ours.ok) disagreements.push(c.name);
    }
    expect(disagreements.sort()).toEqual(Object.keys(DELIBERATE_DIFFERENCES).sort());
  });

  it('never pollutes Object.prototype', () => {
    for (const c of HOSTILE_CORPUS) run(c);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });
});
