/**
 * fast-check arbitraries derived from contract/event.schema.json itself (not from a hand-written model of
 * it), so a rule added to the schema is exercised without touching the tests.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BehaviouralEvent } from '@personalization-data-platform/contract';

type Schema = Record<string, any>;

export const EVENT_SCHEMA: Schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'contract', 'event.schema.json'), 'utf8'));

function stringArbitrary(s: Schema, eventTime?: { arrivalMs: number }): fc.Arbitrary<string> {
  if (s.enum) return fc.constantFrom(...(s.enum as string[]));
  if (s.format === 'date-time') {
    const around = eventTime?.arrivalMs ?? Date.parse('2026-06-15T12:00:00Z');
    // Within the accepted skew window, in any of the offsets and precisions producers use.
    return fc
      .tuple(fc.integer({ min: -6 * 86_400_000, max: 240_000 }), fc.constantFrom(0, 60, -300, 330, 345, -720, 840), fc.constantFrom(0, 3, 6))
      .map(([delta, offsetMin, digits]) => {
        const local = new Date(around + delta + offsetMin * 60_000).toISOString();
        const base = local.slice(0, 19);
        const fraction = digits === 0 ? '' : '.' + local.slice(20, 23).padEnd(digits, '7');
        if (offsetMin === 0) return `${base}${fraction}Z`;
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        return `${base}${fraction}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      });
  }
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? 64, 64);
  const base = s.pattern ? fc.stringMatching(new RegExp(s.pattern, 'u'), { size: 'small' }) : fc.string({ minLength: min, maxLength: max });
  return base.filter((x) => [...x].length >= min && [...x].length <= (s.maxLength ?? Infinity) && (s['x-normalize'] === undefined || x === x.trim()));
}

function valueArbitrary(s: Schema, name: string, arrivalMs: number): fc.Arbitrary<unknown> {
  const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
  const options = types.map((t): fc.Arbitrary<unknown> => {
    switch (t) {
      case 'string':
        return stringArbitrary(s, name === 'event_time' ? { arrivalMs } : undefined);
      case 'integer':
        return fc.integer({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9 });
      case 'number':
        return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
      case 'boolean':
        return fc.boolean();
      case 'object':
        return objectArbitrary(s, arrivalMs);
      default:
        throw new Error(`no arbitrary for type ${t}`);
    }
  });
  return options.length === 1 ? options[0]! : fc.oneof(...options);
}

function objectArbitrary(s: Schema, arrivalMs: number): fc.Arbitrary<Record<string, unknown>> {
  if (!s.properties) {
    const keys = fc.stringMatching(new RegExp(s.propertyNames.pattern), { size: 'small' });
    return fc.dictionary(keys, valueArbitrary(s.additionalProperties, '', arrivalMs), { maxKeys: s.maxProperties ?? 8 });
  }
  const required = new Set<string>(s.required ?? []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, sub] of Object.entries(s.properties as Record<string, Schema>)) record[name] = valueArbitrary(sub, name, arrivalMs);
  return fc.record(record, { requiredKeys: [...required] }) as fc.Arbitrary<Record<string, unknown>>;
}

/** Adds what dependentRequired and the if/then clauses of the schema demand, drawing values from their subschemas. */
function satisfyConditionals(arrivalMs: number): (e: Record<string, unknown>) => fc.Arbitrary<Record<string, unknown>> {
  return (e) => {
    const missing = new Set<string>();
    for (const [name, deps] of Object.entries((EVENT_SCHEMA.dependentRequired ?? {}) as Record<string, string[]>)) {
      if (e[name] !== undefined) for (const d of deps) if (e[d] === undefined) missing.add(d);
    }
    const clauses = (EVENT_SCHEMA.allOf ?? []) as Schema[];
    // "At least one of": when none is present, the first is added.
    for (const clause of clauses) {
      if (!clause.anyOf) continue;
      const names = (clause.anyOf as Schema[]).map((b) => b.required[0] as string);
      if (names.every((n) => e[n] === undefined)) missing.add(names[0]!);
    }
    for (const clause of clauses) {
      if (!clause.if) continue;
      const [prop, test] = Object.entries(clause.if.properties as Record<string, Schema>)[0]!;
      const values: unknown[] = test.const !== undefined ? [test.const] : test.enum;
      if (values.includes(e[prop])) for (const r of clause.then.required as string[]) if (e[r] === undefined) missing.add(r);
    }
    // Adding a field can trigger a dependency of its own (value -> currency).
    for (const name of [...missing]) for (const d of EVENT_SCHEMA.dependentRequired?.[name] ?? []) if (e[d] === undefined) missing.add(d);
    if (missing.size === 0) return fc.constant(e);
    const extra: Record<string, fc.Arbitrary<unknown>> = {};
    for (const name of missing) extra[name] = valueArbitrary(EVENT_SCHEMA.properties[name], name, arrivalMs);
    return fc.record(extra).map((x) => ({ ...e, ...x }));
  };
}

/** Events that satisfy the schema and arrive at `arrivalMs`, with schema_version pinned to the contract's own. */
export function validEventArbitrary(arrivalMs: number): fc.Arbitrary<BehaviouralEvent> {
  return objectArbitrary(EVENT_SCHEMA, arrivalMs)
    .map((e) => ({ ...e, schema_version: EVENT_SCHEMA['x-version'] }))
    .chain(satisfyConditionals(arrivalMs)) as fc.Arbitrary<unknown> as fc.Arbitrary<BehaviouralEvent>;
}

/** Every JSON Pointer of a string-, number- or object-valued field present in the event. */
export function fieldPaths(event: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(event)) {
    const p = `${prefix}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    out.push(p);
    if (typeof v === 'object' && v !== null) out.push(...fieldPaths(v as Record<string, unknown>, p));
  }
  return out;
}
