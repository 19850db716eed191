import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { GENERATED_DIR, SCHEMA_PATH, generateContract } from '../../scripts/generate-contract';
import { EVENT_COLUMNS, EVENT_TYPES, KNOWN_FIELDS, REASON_CODES, type BehaviouralEvent } from '@personalization-data-platform/contract';

const schemaText = readFileSync(SCHEMA_PATH, 'utf8');
const schema = JSON.parse(schemaText);

describe('artefacts derived from the schema', () => {
  it.each(Object.entries(generateContract(schemaText)))('%s is exactly what the schema generates (run `npm run generate`)', (name, content) => {
    expect(readFileSync(join(GENERATED_DIR, name), 'utf8')).toBe(content);
  });

  it('lake columns are the schema properties, in order, with their Hive types', () => {
    expect(EVENT_COLUMNS.map((c) => c.name)).toEqual(Object.keys(schema.properties));
    const byName = Object.fromEntries(EVENT_COLUMNS.map((c) => [c.name, c.type]));
    expect(byName).toMatchObject({
      event_id: 'string',
      event_time: 'timestamp',
      duration_ms: 'bigint',
      value: 'double',
      device: 'struct<type:string,os:string,app_version:string>',
      properties: 'map<string,string>',
    });
    for (const c of EVENT_COLUMNS) expect(c.comment.length).toBeLessThanOrEqual(255);
  });

  it('event types and known fields follow the schema', () => {
    expect(EVENT_TYPES).toEqual(schema.properties.event_type.enum);
    expect([...KNOWN_FIELDS['']!]).toEqual(Object.keys(schema.properties));
    expect([...KNOWN_FIELDS.device!]).toEqual(Object.keys(schema.properties.device.properties));
  });

  it('TypeScript types: required fields are required, optional ones optional', () => {
    expectTypeOf<BehaviouralEvent['event_id']>().toEqualTypeOf<string>();
    // Since 1.1 an event names a user, an anonymous visitor or both: neither id is required on its own.
    expectTypeOf<BehaviouralEvent['user_id']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<BehaviouralEvent['anonymous_id']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<BehaviouralEvent['duration_ms']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<BehaviouralEvent['event_type']>().toEqualTypeOf<(typeof EVENT_TYPES)[number]>();
    const required = Object.keys(schema.properties).filter((k) => schema.required.includes(k));
    expect(required.sort()).toEqual([...schema.required].sort());
  });

  it('the producers page documents every field and reason code of the contract', () => {
    const page = readFileSync(join(__dirname, '..', '..', 'docs', 'producers.md'), 'utf8');
    const start = page.indexOf('<!-- section:contract -->');
    const end = page.indexOf('<!-- /section:contract -->');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const section = page.slice(start, end);
    for (const name of Object.keys(schema.properties)) expect(section).toContain(`\`${name}\``);
    for (const reason of REASON_CODES) expect(section).toContain(`\`${reason}\``);
  });

  it('the generator refuses a keyword it cannot enforce instead of ignoring it', () => {
    const withUnsupported = JSON.stringify({ ...schema, properties: { ...schema.properties, user_id: { ...schema.properties.user_id, uniqueItems: true } } });
    expect(() => generateContract(withUnsupported)).toThrow(/uniqueItems/);
    const withFormat = JSON.stringify({ ...schema, properties: { ...schema.properties, user_id: { type: 'string', format: 'email' } } });
    expect(() => generateContract(withFormat)).toThrow(/format 'email'/);
  });

  it('the generator refuses a number without bounds a double holds exactly, and an object open to any member', () => {
    const props = schema.properties;
    const unbounded = JSON.stringify({ ...schema, properties: { ...props, duration_ms: { type: 'integer', minimum: 0 } } });
    expect(() => generateContract(unbounded)).toThrow(/minimum and maximum within/);
    const tooLarge = JSON.stringify({ ...schema, properties: { ...props, value: { ...props.value, maximum: 2 ** 53 } } });
    expect(() => generateContract(tooLarge)).toThrow(/2\^53 - 1/);
    const open = JSON.stringify({ ...schema, properties: { ...props, device: { ...props.device, additionalProperties: true } } });
    expect(() => generateContract(open)).toThrow(/must declare additionalProperties/);
  });

  it('every free-text pattern of the schema refuses C0 and C1 controls and lone surrogates', () => {
    const patterns: [string, string][] = [];
    const walk = (s: any, where: string) => {
      if (s === null || typeof s !== 'object') return;
      if (typeof s.pattern === 'string') patterns.push([where, s.pattern]);
      for (const [k, v] of Object.entries(s)) if (typeof v === 'object') walk(v, `${where}/${k}`);
    };
    walk(schema, '#');
    expect(patterns.length).toBeGreaterThan(8);
    for (const [where, source] of patterns) {
      const p = new RegExp(source, 'u');
      for (const bad of ['\u0000', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\ud800', '\udfff', 'a\ud83d']) {
        expect(p.test(bad) || p.test(`a${bad}`) || p.test(`${bad}a`), `${where} accepts ${JSON.stringify(bad)}`).toBe(false);
      }
    }
  });

  it('a change to the schema changes the generated validator (the drift check can fail)', () => {
    const changed = JSON.stringify({ ...schema, properties: { ...schema.properties, user_id: { ...schema.properties.user_id, maxLength: 64 } } });
    expect(generateContract(changed)['event-validator.ts']).not.toBe(generateContract(schemaText)['event-validator.ts']);
  });
});
