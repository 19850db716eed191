/**
 * Generates, from contract/event.schema.json, the three artefacts that must never drift from it:
 *   - the validator (straight-line code, no schema compilation at Lambda cold start),
 *   - the TypeScript types,
 *   - the lake's column list (name and Hive type) used by the Glue tables and the Parquet conversion.
 *
 * The generator implements only the JSON Schema keywords listed in SUPPORTED below and refuses any other,
 * so the schema cannot use a rule that the generated validator would silently ignore.
 *
 *   npx tsx scripts/generate-contract.ts          write the files
 *   npx tsx scripts/generate-contract.ts --check  exit 1 when the committed files differ
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, any>;

export const SCHEMA_PATH = join(__dirname, '..', 'contract', 'event.schema.json');
export const GENERATED_DIR = join(__dirname, '..', 'core', 'contract', 'generated');

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
/** x-normalize names and the functions of core/contract/normalize.ts that implement them. */
const NORMALIZER_FUNCTIONS: Record<string, string> = { trim: 'trim', 'lowercase-trim': 'lowercaseTrim', locale: 'locale' };
const SUPPORTED = new Set([
  'type', 'enum', 'const', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
  'required', 'properties', 'additionalProperties', 'maxProperties', 'propertyNames', 'dependentRequired', 'allOf',
]);

function checkKeywords(schema: Schema, where: string): void {
  for (const k of Object.keys(schema)) {
    if (ANNOTATIONS.has(k) || k.startsWith('x-')) continue;
    if (!SUPPORTED.has(k)) throw new Error(`${where}: keyword '${k}' is not supported by the validator generator`);
  }
  if (schema.format !== undefined && schema.format !== 'date-time') {
    throw new Error(`${where}: format '${schema.format}' is not supported`);
  }
}

/**
 * Every number of the contract declares bounds within +-(2^53 - 1), as I-JSON (RFC 7493) recommends: beyond them a
 * double cannot hold every integer (9007199254740993 would silently become ...992) and 1e400 overflows to
 * Infinity, which the lake stores as null. The generator refuses an unbounded number rather than let one through.
 */
const MAX_EXACT_INTEGER = Number.MAX_SAFE_INTEGER;
function checkNumberBounds(schema: Schema, where: string): void {
  const { minimum, maximum } = schema;
  if (typeof minimum !== 'number' || typeof maximum !== 'number' || Math.abs(minimum) > MAX_EXACT_INTEGER || Math.abs(maximum) > MAX_EXACT_INTEGER) {
    throw new Error(`${where}: a number must declare minimum and maximum within +-${MAX_EXACT_INTEGER} (2^53 - 1), so that every accepted value is exact in a double`);
  }
}

const HEADER = (schemaHash: string) =>
  `// Generated from contract/event.schema.json (sha256 ${schemaHash}) by scripts/generate-contract.ts.\n` +
  `// Do not edit: change the schema and run \`npm run generate\`. A test fails when this file drifts.\n`;

// ---------------------------------------------------------------- validator

/** The JS expression of a child's JSON Pointer, folded to a literal when the parent's is one. */
function childPath(parentExpr: string, name: string): string {
  const segment = '/' + name.replace(/~/g, '~0').replace(/\//g, '~1');
  if (parentExpr === "''") return JSON.stringify(segment);
  if (parentExpr.startsWith('"')) return JSON.stringify(JSON.parse(parentExpr) + segment);
  return `${parentExpr} + ${JSON.stringify(segment)}`;
}

class ValidatorEmitter {
  private patterns: string[] = [];
  private sets: string[] = [];
  private tmp = 0;

  constructor(private readonly root: Schema) {}

  emit(hash: string): string {
    checkKeywords(this.root, '#');
    const body = this.object(this.root, 'o', "''", '#', true, 1);
    const constants = [...this.patterns, ...this.sets].join('\n');
    return `${HEADER(hash)}/* eslint-disable */
import { isCanonicalUtc, parseRfc3339, toCanonicalUtc } from '../datetime';
import { escapePointer } from '../json-text';
import { locale, lowercaseTrim, trim } from '../normalize';

/** One violated rule: where (a JSON Pointer into the event), which schema keyword, and a readable message. */
export interface SchemaError {
  path: string;
  rule: string;
  message: string;
}

/**
 * What one validation pass learns besides the errors. The lengths let the caller prove, without scanning the
 * record's text again, that the text is exactly the compact JSON of the parsed object (then its bytes can be
 * forwarded as they are) or at least that it cannot hide a duplicate member name (see validate.ts).
 */
export interface ValidationPass {
  /** A normalization rewrote a value (never reset here). */
  changed: boolean;
  /**
   * Length in UTF-16 code units of the compact JSON of the object as parsed, before normalization: what
   * JSON.stringify gives when no string needs an escape, less otherwise. NaN when the object has members the
   * schema does not describe. Meaningful only when no error was found.
   */
  jsonLength: number;
  /** By how many characters, at most, the record's numbers could be spelled shorter than in jsonLength (864e5 for 86400000). */
  shorterNumbers: number;
  /** False when a number could be spelled another way in as few characters (5400 as 54e2, 0.05 as 5e-2). */
  canonicalNumbers: boolean;
}

/** A new pass, for validateEventSchema. */
export function newValidationPass(): ValidationPass {
  return { changed: false, jsonLength: 0, shorterNumbers: 0, canonicalNumbers: true };
}

/** Validation stops collecting after this many errors so a hostile payload cannot blow up a quarantine line. */
export const MAX_ERRORS = 20;

${constants}

/** Length in Unicode code points, as JSON Schema counts it (a surrogate pair is one character). */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff || i + 1 === s.length) n++;
    else {
      const d = s.charCodeAt(i + 1);
      n++;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/**
 * Length of JSON.stringify(v) for a number of the contract (finite, at most 2^53 - 1 in magnitude). Within that
 * range, JavaScript's shortest form is the only JSON spelling of its length or shorter, except for integers
 * ending in two or more zeros (5400 is also 54e2) and magnitudes below 0.1 (0.05 is also 5e-2): those are noted
 * in the pass, with how much shorter (at most) the record may spell them; no JSON number is under 3 characters
 * for them.
 */
function numberLength(v: number, pass: ValidationPass): number {
  const a = v < 0 ? -v : v;
  let n: number;
  if (Number.isInteger(a)) {
    n = a < 1e8
      ? (a < 1e4 ? (a < 100 ? (a < 10 ? 1 : 2) : a < 1e3 ? 3 : 4) : a < 1e6 ? (a < 1e5 ? 5 : 6) : a < 1e7 ? 7 : 8)
      : a < 1e12 ? (a < 1e10 ? (a < 1e9 ? 9 : 10) : a < 1e11 ? 11 : 12) : a < 1e14 ? (a < 1e13 ? 13 : 14) : a < 1e15 ? 15 : a < 1e16 ? 16 : String(a).length;
    if (v < 0) n++;
    if (a < 100 || a % 100 !== 0) return n;
  } else {
    n = String(v).length;
    if (a >= 0.1) return n;
  }
  pass.canonicalNumbers = false;
  if (n > 3) pass.shorterNumbers += n - 3;
  return n;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Checks a parsed JSON value against the event schema, appending every violation to \`errors\`, and applies
 * the schema's normalizations (x-normalize, and event_time to canonical UTC) in place.
 * With \`allowUnknown\` (an event of a newer minor version), properties the schema does not know are tolerated.
 * Records in \`pass\` whether a normalization rewrote a value and the lengths of the object's compact JSON.
 * Returns event_time as epoch milliseconds (NaN when absent or invalid). Never throws.
 */
export function validateEventSchema(o: any, errors: SchemaError[], allowUnknown: boolean, pass: ValidationPass): number {
  let eventTimeMs = NaN;
  // Summed in a local (a register) and stored once.
  let jsonLength = 0;
${body}
  pass.jsonLength = jsonLength;
  return eventTimeMs;
}
`;
  }

  private patternNames = new Map<string, string>();
  /** The object expression and property name of the value being emitted (for normalizers that write back). */
  private parentRef = 'o';
  private currentName = '';

  private pattern(source: string): string {
    const known = this.patternNames.get(source);
    if (known) return known;
    const name = `P${this.patterns.length}`;
    this.patternNames.set(source, name);
    // JSON Schema patterns are ECMA-262 regular expressions; 'u' makes classes operate on code points, as a
    // JSON Schema validator's do. (Measured: V8's irregexp beats generated char-code loops for these classes.)
    this.patterns.push(`const ${name} = new RegExp(${JSON.stringify(source)}, 'u');`);
    return name;
  }

  private set(values: unknown[]): string {
    const name = `S${this.sets.length}`;
    this.sets.push(`const ${name}: ReadonlySet<unknown> = new Set(${JSON.stringify(values)});`);
    return name;
  }

  private push(pathExpr: string, rule: string, messageExpr: string, indent: string): string {
    return `${indent}if (errors.length < MAX_ERRORS) errors.push({ path: ${pathExpr}, rule: '${rule}', message: ${messageExpr} });\n`;
  }

  private value(schema: Schema, v: string, path: string, where: string, depth: number): string {
    checkKeywords(schema, where);
    const ind = '  '.repeat(depth);
    const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
    if (types.length === 0) throw new Error(`${where}: every schema node must declare a type`);
    let out = '';
    const checks: string[] = [];
    for (const t of types) {
      switch (t) {
        case 'string': checks.push(`typeof ${v} === 'string'`); break;
        case 'number': checks.push(`(typeof ${v} === 'number')`); break;
        case 'integer': checks.push(`Number.isInteger(${v})`); break;
        case 'boolean': checks.push(`typeof ${v} === 'boolean'`); break;
        case 'object': checks.push(`(typeof ${v} === 'object' && ${v} !== null && !Array.isArray(${v}))`); break;
        default: throw new Error(`${where}: type '${t}' is not supported`);
      }
    }
    const typeName = types.join(' or ');
    out += `${ind}if (!(${checks.join(' || ')})) {\n`;
    out += this.push(path, 'type', `'must be ${typeName}, got ' + describe(${v})`, ind + '  ');
    out += `${ind}} else {\n`;
    const inner = ind + '  ';
    if (types.includes('number') || types.includes('integer')) checkNumberBounds(schema, where);
    if (types.includes('object') && types.length > 1) throw new Error(`${where}: an object cannot share a node with other types`);
    out += this.jsonLength(types, v, inner);
    if (schema['x-normalize'] !== undefined) {
      if (types.length !== 1 || types[0] !== 'string') throw new Error(`${where}: x-normalize applies to strings only`);
      const fn = NORMALIZER_FUNCTIONS[schema['x-normalize'] as string];
      if (!fn) throw new Error(`${where}: unknown normalizer '${schema['x-normalize']}'`);
      out += `${inner}{\n${inner}  const normalized = ${fn}(${v});\n${inner}  if (normalized !== ${v}) { ${v} = normalized; ${this.parentRef}[${JSON.stringify(this.currentName)}] = normalized; pass.changed = true; }\n${inner}}\n`;
    }
    if (types.includes('string')) out += this.stringChecks(schema, v, path, inner, types.length > 1);
    if (schema['x-event-time'] === true) {
      if (schema.format !== 'date-time') throw new Error(`${where}: x-event-time needs format date-time`);
      out += `${inner}if (!Number.isNaN(eventTimeMs) && !isCanonicalUtc(${v})) { ${this.parentRef}[${JSON.stringify(this.currentName)}] = toCanonicalUtc(eventTimeMs); pass.changed = true; }\n`;
    }
    if (types.includes('number') || types.includes('integer')) out += this.numberChecks(schema, v, path, inner, types.length > 1);
    if (types.includes('object')) out += this.object(schema, v, path, where, false, depth + 1);
    if (schema.enum !== undefined) {
      const s = this.set(schema.enum);
      out += `${inner}if (!${s}.has(${v})) {\n`;
      out += this.push(path, 'enum', `'must be one of ' + ${JSON.stringify(schema.enum.join(', '))}`, inner + '  ');
      out += `${inner}}\n`;
    }
    if (schema.const !== undefined) {
      out += `${inner}if (${v} !== ${JSON.stringify(schema.const)}) {\n`;
      out += this.push(path, 'const', `'must be ' + ${JSON.stringify(JSON.stringify(schema.const))}`, inner + '  ');
      out += `${inner}}\n`;
    }
    out += `${ind}}\n`;
    return out;
  }

  /** Adds the value's compact JSON length to jsonLength (objects add theirs member by member in object()). */
  private jsonLength(types: string[], v: string, ind: string): string {
    const lengths: [string, string][] = [];
    for (const t of types) {
      if (t === 'string') lengths.push([`typeof ${v} === 'string'`, `${v}.length + 2`]);
      else if (t === 'number' || t === 'integer') lengths.push([`typeof ${v} === 'number'`, `numberLength(${v}, pass)`]);
      else if (t === 'boolean') lengths.push([`typeof ${v} === 'boolean'`, `(${v} ? 4 : 5)`]);
    }
    if (lengths.length === 0) return '';
    if (lengths.length === 1) return `${ind}jsonLength += ${lengths[0]![1]};\n`;
    return lengths.map(([test, len], i) => `${ind}${i === 0 ? '' : 'else '}${i === lengths.length - 1 ? '' : `if (${test}) `}jsonLength += ${len};\n`).join('');
  }

  private stringChecks(schema: Schema, v: string, path: string, ind: string, guarded: boolean): string {
    let body = '';
    const i2 = guarded ? ind + '  ' : ind;
    if (schema.minLength !== undefined) {
      body += `${i2}if (${v}.length < ${schema.minLength} || (${v}.length < ${schema.minLength * 2} && codePoints(${v}) < ${schema.minLength})) {\n`;
      body += this.push(path, 'minLength', `'must have at least ${schema.minLength} characters'`, i2 + '  ');
      body += `${i2}}\n`;
    }
    if (schema.maxLength !== undefined) {
      body += `${i2}if (${v}.length > ${schema.maxLength} && codePoints(${v}) > ${schema.maxLength}) {\n`;
      body += this.push(path, 'maxLength', `'must have at most ${schema.maxLength} characters'`, i2 + '  ');
      body += `${i2}}\n`;
    }
    if (schema.pattern !== undefined) {
      const p = this.pattern(schema.pattern);
      body += `${i2}if (!${p}.test(${v})) {\n`;
      body += this.push(path, 'pattern', `'must match ' + ${JSON.stringify(schema.pattern)}`, i2 + '  ');
      body += `${i2}}\n`;
    }
    if (schema.format === 'date-time') {
      body += `${i2}if (Number.isNaN(${schema['x-event-time'] ? `(eventTimeMs = parseRfc3339(${v}))` : `parseRfc3339(${v})`})) {\n`;
      body += this.push(path, 'format', `'must be an RFC 3339 date-time with a time zone'`, i2 + '  ');
      body += `${i2}}\n`;
    }
    if (!body) return '';
    return guarded ? `${ind}if (typeof ${v} === 'string') {\n${body}${ind}}\n` : body;
  }

  private numberChecks(schema: Schema, v: string, path: string, ind: string, guarded: boolean): string {
    let body = '';
    const i2 = guarded ? ind + '  ' : ind;
    if (schema.minimum !== undefined) {
      body += `${i2}if (!(${v} >= ${schema.minimum})) {\n`;
      body += this.push(path, 'minimum', `'must be >= ${schema.minimum}'`, i2 + '  ');
      body += `${i2}}\n`;
    }
    if (schema.maximum !== undefined) {
      body += `${i2}if (!(${v} <= ${schema.maximum})) {\n`;
      body += this.push(path, 'maximum', `'must be <= ${schema.maximum}'`, i2 + '  ');
      body += `${i2}}\n`;
    }
    if (!body) return '';
    return guarded ? `${ind}if (typeof ${v} === 'number') {\n${body}${ind}}\n` : body;
  }

  /** Emits the checks of an object schema; `isRoot` skips the type check the caller already did. */
  private object(schema: Schema, v: string, path: string, where: string, isRoot: boolean, depth: number): string {
    const ind = '  '.repeat(depth);
    let out = '';
    if (isRoot) {
      out += `${ind}if (typeof ${v} !== 'object' || ${v} === null || Array.isArray(${v})) {\n`;
      out += this.push("''", 'type', `'must be object, got ' + describe(${v})`, ind + '  ');
      out += `${ind}  return NaN;\n${ind}}\n`;
    }
    // '{' + per member: name, ':', value, ',' or '}' (an empty object adds its '}' below).
    out += `${ind}jsonLength += 1;\n`;
    const props: Record<string, Schema> = schema.properties ?? {};
    const required: string[] = schema.required ?? [];
    // A closed object with nothing else to check per key: count the known properties found, count all keys,
    // and compare names only when the counts differ (the common, valid case then costs one increment per key).
    const counted = schema.additionalProperties === false && schema.propertyNames === undefined && schema.maxProperties === undefined;
    const present = `c${this.tmp++}`;
    if (counted) out += `${ind}let ${present} = 0;\n`;
    for (const [name, sub] of Object.entries(props)) {
      const t = `v${this.tmp++}`;
      const subPath = childPath(path, name);
      out += `${ind}let ${t} = ${v}[${JSON.stringify(name)}];\n`;
      if (counted) out += `${ind}if (${t} !== undefined) ${present}++;\n`;
      this.parentRef = v;
      this.currentName = name;
      out += `${ind}if (${t} === undefined) {\n`;
      if (required.includes(name)) out += this.push(subPath, 'required', `'must have property ${name}'`, ind + '  ');
      out += `${ind}} else {\n`;
      out += `${ind}  jsonLength += ${JSON.stringify(name).length + 2};\n`;
      out += this.value(sub, t, subPath, `${where}/properties/${name}`, depth + 1);
      out += `${ind}}\n`;
    }
    for (const r of required) {
      if (!(r in props)) throw new Error(`${where}: required property '${r}' has no schema`);
    }
    const additional = schema.additionalProperties;
    // Every member of an accepted event is described, so the pass can measure the whole object.
    if (additional === undefined || additional === true) throw new Error(`${where}: an object must declare additionalProperties (false or a schema)`);
    const needsKeyLoop = additional !== undefined || schema.maxProperties !== undefined || schema.propertyNames !== undefined;
    if (counted) {
      const k = `k${this.tmp++}`;
      const n = `n${this.tmp++}`;
      const guard = Object.keys(props).map((x) => `${k} !== ${JSON.stringify(x)}`).join(' && ') || 'true';
      out += `${ind}let ${n} = 0;\n`;
      out += `${ind}for (const ${k} in ${v}) ${n}++;\n`;
      out += `${ind}if (${n} === 0) jsonLength += 1;\n`;
      // Members the schema does not describe (a newer minor's, dropped later) are not measured.
      out += `${ind}if (${n} !== ${present}) jsonLength = NaN;\n`;
      out += `${ind}if (${n} !== ${present} && !allowUnknown) {\n`;
      // for-in on a JSON.parse result sees only own enumerable keys, including a literal "__proto__" key,
      // which JSON.parse defines as an ordinary property rather than a prototype.
      out += `${ind}  for (const ${k} in ${v}) {\n`;
      out += `${ind}    if (${guard}) {\n`;
      out += this.push(`${path} + '/' + escapePointer(${k})`, 'additionalProperties', `'is not a property of the schema'`, ind + '      ');
      out += `${ind}    }\n${ind}  }\n${ind}}\n`;
    } else if (needsKeyLoop) {
      const k = `k${this.tmp++}`;
      const n = `n${this.tmp++}`;
      out += `${ind}let ${n} = 0;\n`;
      // for-in on a JSON.parse result sees only own enumerable keys, including a literal "__proto__" key,
      // which JSON.parse defines as an ordinary property rather than a prototype.
      out += `${ind}for (const ${k} in ${v}) {\n`;
      out += `${ind}  ${n}++;\n`;
      const keyPath = `${path} + '/' + escapePointer(${k})`;
      if (schema.propertyNames !== undefined) {
        const pn = schema.propertyNames;
        checkKeywords(pn, `${where}/propertyNames`);
        if (Object.keys(pn).some((x) => x !== 'pattern')) throw new Error(`${where}: propertyNames supports only pattern`);
        const p = this.pattern(pn.pattern);
        out += `${ind}  if (!${p}.test(${k})) {\n`;
        out += this.push(keyPath, 'propertyNames', `'property name must match ' + ${JSON.stringify(pn.pattern)}`, ind + '    ');
        out += `${ind}    continue;\n${ind}  }\n`;
      }
      const known = Object.keys(props);
      if (additional === false) {
        const guard = known.length ? `${known.map((x) => `${k} !== ${JSON.stringify(x)}`).join(' && ')}` : 'true';
        out += `${ind}  if (${guard}) {\n`;
        out += `${ind}    jsonLength = NaN;\n`;
        out += `${ind}    if (!allowUnknown && errors.length < MAX_ERRORS) errors.push({ path: ${keyPath}, rule: 'additionalProperties', message: 'is not a property of the schema' });\n`;
        out += `${ind}  }\n`;
      } else if (additional !== undefined && typeof additional === 'object') {
        const guard = known.length ? `if (${known.map((x) => `${k} !== ${JSON.stringify(x)}`).join(' && ')}) ` : '';
        const t = `a${this.tmp++}`;
        out += `${ind}  ${guard}{\n`;
        out += `${ind}    jsonLength += ${k}.length + 4;\n`;
        out += `${ind}    const ${t} = ${v}[${k}];\n`;
        out += this.value(additional, t, keyPath, `${where}/additionalProperties`, depth + 2);
        out += `${ind}  }\n`;
      } else if (additional !== undefined && additional !== true) {
        throw new Error(`${where}: additionalProperties must be false, true or a schema`);
      }
      out += `${ind}}\n`;
      out += `${ind}if (${n} === 0) jsonLength += 1;\n`;
      if (schema.maxProperties !== undefined) {
        out += `${ind}if (${n} > ${schema.maxProperties}) {\n`;
        out += this.push(path, 'maxProperties', `'must have at most ${schema.maxProperties} properties'`, ind + '  ');
        out += `${ind}}\n`;
      }
    }
    if (schema.dependentRequired !== undefined) {
      for (const [name, deps] of Object.entries(schema.dependentRequired as Record<string, string[]>)) {
        for (const d of deps) {
          out += `${ind}if (${v}[${JSON.stringify(name)}] !== undefined && ${v}[${JSON.stringify(d)}] === undefined) {\n`;
          out += this.push(childPath(path, d), 'dependentRequired', `'must have property ${d} when ${name} is present'`, ind + '  ');
          out += `${ind}}\n`;
        }
      }
    }
    for (const [i, clause] of ((schema.allOf ?? []) as Schema[]).entries()) out += this.conditional(clause, v, path, `${where}/allOf/${i}`, ind);
    return out;
  }

  /**
   * Supports the two clause shapes the contract needs: "if property P is (one of) X then require Q", and
   * "at least one of these properties" (anyOf of single `required` lists).
   */
  private conditional(clause: Schema, v: string, path: string, where: string, ind: string): string {
    if (clause.anyOf !== undefined) return this.oneOfRequired(clause, v, path, where, ind);
    const { if: cond, then, ...rest } = clause;
    if (Object.keys(rest).length || !cond || !then) throw new Error(`${where}: only {if, then} clauses are supported`);
    const condProps = Object.entries((cond.properties ?? {}) as Record<string, Schema>);
    if (condProps.length !== 1) throw new Error(`${where}: 'if' must test exactly one property`);
    const [prop, test] = condProps[0]!;
    const values: unknown[] = test.const !== undefined ? [test.const] : test.enum;
    if (!Array.isArray(values)) throw new Error(`${where}: 'if' must use const or enum`);
    if (Object.keys(then).some((x) => x !== 'required')) throw new Error(`${where}: 'then' supports only required`);
    const s = this.set(values);
    let out = `${ind}if (${s}.has(${v}[${JSON.stringify(prop)}])) {\n`;
    for (const r of then.required as string[]) {
      out += `${ind}  if (${v}[${JSON.stringify(r)}] === undefined) {\n`;
      out += this.push(childPath(path, r), 'required', `'must have property ${r} when ${prop} is ' + ${v}[${JSON.stringify(prop)}]`, ind + '    ');
      out += `${ind}  }\n`;
    }
    return out + `${ind}}\n`;
  }

  /** `{ anyOf: [{ required: [a] }, { required: [b] }, ...] }`: at least one of the properties is present. */
  private oneOfRequired(clause: Schema, v: string, path: string, where: string, ind: string): string {
    const { anyOf, ...rest } = clause;
    if (Object.keys(rest).length || !Array.isArray(anyOf) || anyOf.length < 2) throw new Error(`${where}: anyOf must stand alone with at least two branches`);
    const names = (anyOf as Schema[]).map((b, i) => {
      if (Object.keys(b).some((x) => x !== 'required') || !Array.isArray(b.required) || b.required.length !== 1) {
        throw new Error(`${where}/anyOf/${i}: each branch must be { required: [one property] }`);
      }
      return b.required[0] as string;
    });
    let out = `${ind}if (${names.map((n) => `${v}[${JSON.stringify(n)}] === undefined`).join(' && ')}) {\n`;
    // Reported at the first property, the one a producer of an older minor version would be missing.
    out += this.push(childPath(path, names[0]!), 'required', `'must have property ${names.join(' or ')}'`, ind + '  ');
    return out + `${ind}}\n`;
  }
}

// ---------------------------------------------------------------- types

function tsType(schema: Schema, depth: number): string {
  if (schema.enum) return schema.enum.map((x: unknown) => JSON.stringify(x)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types
    .map((t) => {
      switch (t) {
        case 'string': return 'string';
        case 'number': case 'integer': return 'number';
        case 'boolean': return 'boolean';
        case 'object': {
          if (schema.properties) return tsObject(schema, depth);
          return `Record<string, ${tsType(schema.additionalProperties, depth)}>`;
        }
        default: throw new Error(`no TypeScript type for '${t}'`);
      }
    })
    .join(' | ');
}

function doc(text: string | undefined, ind: string): string {
  return text ? `${ind}/** ${text} */\n` : '';
}

function tsObject(schema: Schema, depth: number): string {
  const ind = '  '.repeat(depth + 1);
  const required = new Set<string>(schema.required ?? []);
  let out = '{\n';
  for (const [name, sub] of Object.entries(schema.properties as Record<string, Schema>)) {
    out += doc(sub.description, ind);
    out += `${ind}${name}${required.has(name) ? '' : '?'}: ${tsType(sub, depth + 1)};\n`;
  }
  return out + '  '.repeat(depth) + '}';
}

function knownFields(schema: Schema, path: string): [string, string[]][] {
  if (!schema.properties || schema.additionalProperties !== false) return [];
  const out: [string, string[]][] = [[path, Object.keys(schema.properties)]];
  for (const [name, sub] of Object.entries(schema.properties as Record<string, Schema>)) out.push(...knownFields(sub, path ? `${path}.${name}` : name));
  return out;
}

function emitTypes(schema: Schema, hash: string): string {
  const eventType = schema.properties.event_type.enum as string[];
  return `${HEADER(hash)}
${doc(schema.description, '')}export interface BehaviouralEvent ${tsObject(schema, 0)}

export type EventType = BehaviouralEvent['event_type'];

/** Every event type of the contract, in schema order. */
export const EVENT_TYPES: readonly EventType[] = ${JSON.stringify(eventType)};

/** The contract version this code was generated from (MAJOR.MINOR). */
export const CONTRACT_VERSION = ${JSON.stringify(schema['x-version'])};

/** The major version this code accepts; events of any other major are quarantined. */
export const SUPPORTED_MAJOR = ${Number(String(schema['x-version']).split('.')[0])};

/** The newest minor version this code knows; events of a newer minor are accepted without their unknown fields. */
export const KNOWN_MINOR = ${Number(String(schema['x-version']).split('.')[1])};

/** Default maximum size of one event in bytes of UTF-8 JSON (a stage can lower or raise it). */
export const MAX_EVENT_BYTES = ${Number(schema['x-max-bytes'])};

/** The fields the contract knows, per object ('' is the event itself): a newer minor's other fields are dropped. */
export const KNOWN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
${knownFields(schema, '').map(([p, names]) => `  ${JSON.stringify(p)}: new Set(${JSON.stringify(names)}),`).join('\n')}
};

/** First 12 hex digits of the schema's sha256: identifies the validator build in quarantine records. */
export const CONTRACT_HASH = ${JSON.stringify(hash.slice(0, 12))};
`;
}

// ---------------------------------------------------------------- lake columns

function hiveType(schema: Schema): string {
  const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 1) return 'string'; // mixed scalars are stored as their string form
  switch (types[0]) {
    case 'string': return schema.format === 'date-time' ? 'timestamp' : 'string';
    case 'integer': return 'bigint';
    case 'number': return 'double';
    case 'boolean': return 'boolean';
    case 'object':
      if (schema.properties) {
        return `struct<${Object.entries(schema.properties as Record<string, Schema>).map(([n, s]) => `${n}:${hiveType(s)}`).join(',')}>`;
      }
      return `map<string,${hiveType(schema.additionalProperties)}>`;
    default: throw new Error(`no Hive type for '${types[0]}'`);
  }
}

function emitColumns(schema: Schema, hash: string): string {
  const columns = Object.entries(schema.properties as Record<string, Schema>).map(([name, sub]) => ({
    name,
    type: hiveType(sub),
    comment: String(sub.description ?? '').slice(0, 255),
  }));
  return `${HEADER(hash)}
/** A column of the curated events table: the contract's fields with their Hive (Glue/Athena) types. */
export interface EventColumn {
  readonly name: string;
  readonly type: string;
  readonly comment: string;
}

/** The columns of the curated (Parquet) events table, in schema order. Partition columns are defined by the lake. */
export const EVENT_COLUMNS: readonly EventColumn[] = ${JSON.stringify(columns, null, 2)};
`;
}

// ---------------------------------------------------------------- entry points

export function generateContract(schemaText: string): Record<string, string> {
  const schema = JSON.parse(schemaText) as Schema;
  const hash = createHash('sha256').update(schemaText).digest('hex');
  return {
    'event-validator.ts': new ValidatorEmitter(schema).emit(hash),
    'event-types.ts': emitTypes(schema, hash),
    'event-columns.ts': emitColumns(schema, hash),
  };
}

if (require.main === module) {
  const files = generateContract(readFileSync(SCHEMA_PATH, 'utf8'));
  const check = process.argv.includes('--check');
  let drift = false;
  for (const [name, content] of Object.entries(files)) {
    const path = join(GENERATED_DIR, name);
    if (check) {
      let current = '';
      try { current = readFileSync(path, 'utf8'); } catch { /* missing counts as drift */ }
      if (current !== content) { drift = true; console.error(`drift: ${path} is not what the schema generates`); }
    } else {
      writeFileSync(path, content);
      console.log(`wrote ${path}`);
    }
  }
  if (drift) process.exit(1);
}
