// Generated from contract/event.schema.json (sha256 541bd20a3a77e90f6800ecc9e69a53645a40ec6c297aee5f7162c3d36bbc607d) by scripts/generate-contract.ts.
// Do not edit: change the schema and run `npm run generate`. A test fails when this file drifts.
/* eslint-disable */
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

const P0 = new RegExp("^[0-9]{1,3}\\.[0-9]{1,3}$", 'u');
const P1 = new RegExp("^[A-Za-z0-9][A-Za-z0-9._:-]*$", 'u');
const P2 = new RegExp("^[A-Za-z0-9][A-Za-z0-9._:@-]*$", 'u');
const P3 = new RegExp("^[a-z0-9]+(?:[_-][a-z0-9]+)*(?:>[a-z0-9]+(?:[_-][a-z0-9]+)*){0,3}$", 'u');
const P4 = new RegExp("^[A-Z]{3}$", 'u');
const P5 = new RegExp("^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$", 'u');
const P6 = new RegExp("^[A-Za-z0-9][A-Za-z0-9.+_-]*$", 'u');
const P7 = new RegExp("^[a-z]{2,3}(?:-[A-Z]{2}|-[0-9]{3})?$", 'u');
const P8 = new RegExp("^[^\\u0000-\\u0020\\u007f-\\u009f\\ud800-\\udfff]+$", 'u');
const P9 = new RegExp("^[a-z][a-z0-9_]{0,39}$", 'u');
const S0: ReadonlySet<unknown> = new Set(["page_view","content_view","click","search","add_to_cart","remove_from_cart","purchase","identify"]);
const S1: ReadonlySet<unknown> = new Set(["desktop","mobile","tablet","tv","other"]);
const S2: ReadonlySet<unknown> = new Set(["purchase"]);
const S3: ReadonlySet<unknown> = new Set(["content_view","add_to_cart","remove_from_cart"]);
const S4: ReadonlySet<unknown> = new Set(["identify"]);

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
 * Checks a parsed JSON value against the event schema, appending every violation to `errors`, and applies
 * the schema's normalizations (x-normalize, and event_time to canonical UTC) in place.
 * With `allowUnknown` (an event of a newer minor version), properties the schema does not know are tolerated.
 * Records in `pass` whether a normalization rewrote a value and the lengths of the object's compact JSON.
 * Returns event_time as epoch milliseconds (NaN when absent or invalid). Never throws.
 */
export function validateEventSchema(o: any, errors: SchemaError[], allowUnknown: boolean, pass: ValidationPass): number {
  let eventTimeMs = NaN;
  // Summed in a local (a register) and stored once.
  let jsonLength = 0;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    if (errors.length < MAX_ERRORS) errors.push({ path: '', rule: 'type', message: 'must be object, got ' + describe(o) });
    return NaN;
  }
  jsonLength += 1;
  let c0 = 0;
  let v1 = o["schema_version"];
  if (v1 !== undefined) c0++;
  if (v1 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/schema_version", rule: 'required', message: 'must have property schema_version' });
  } else {
    jsonLength += 18;
    if (!(typeof v1 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/schema_version", rule: 'type', message: 'must be string, got ' + describe(v1) });
    } else {
      jsonLength += v1.length + 2;
      if (!P0.test(v1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/schema_version", rule: 'pattern', message: 'must match ' + "^[0-9]{1,3}\\.[0-9]{1,3}$" });
      }
    }
  }
  let v2 = o["event_id"];
  if (v2 !== undefined) c0++;
  if (v2 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'required', message: 'must have property event_id' });
  } else {
    jsonLength += 12;
    if (!(typeof v2 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'type', message: 'must be string, got ' + describe(v2) });
    } else {
      jsonLength += v2.length + 2;
      if (v2.length < 1 || (v2.length < 2 && codePoints(v2) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v2.length > 64 && codePoints(v2) > 64) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'maxLength', message: 'must have at most 64 characters' });
      }
      if (!P1.test(v2)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:-]*$" });
      }
    }
  }
  let v3 = o["user_id"];
  if (v3 !== undefined) c0++;
  if (v3 === undefined) {
  } else {
    jsonLength += 11;
    if (!(typeof v3 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'type', message: 'must be string, got ' + describe(v3) });
    } else {
      jsonLength += v3.length + 2;
      if (v3.length < 1 || (v3.length < 2 && codePoints(v3) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v3.length > 128 && codePoints(v3) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P2.test(v3)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:@-]*$" });
      }
    }
  }
  let v4 = o["anonymous_id"];
  if (v4 !== undefined) c0++;
  if (v4 === undefined) {
  } else {
    jsonLength += 16;
    if (!(typeof v4 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/anonymous_id", rule: 'type', message: 'must be string, got ' + describe(v4) });
    } else {
      jsonLength += v4.length + 2;
      if (v4.length < 1 || (v4.length < 2 && codePoints(v4) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/anonymous_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v4.length > 128 && codePoints(v4) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/anonymous_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P2.test(v4)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/anonymous_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:@-]*$" });
      }
    }
  }
  let v5 = o["session_id"];
  if (v5 !== undefined) c0++;
  if (v5 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'required', message: 'must have property session_id' });
  } else {
    jsonLength += 14;
    if (!(typeof v5 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'type', message: 'must be string, got ' + describe(v5) });
    } else {
      jsonLength += v5.length + 2;
      if (v5.length < 1 || (v5.length < 2 && codePoints(v5) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v5.length > 128 && codePoints(v5) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P1.test(v5)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:-]*$" });
      }
    }
  }
  let v6 = o["event_type"];
  if (v6 !== undefined) c0++;
  if (v6 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/event_type", rule: 'required', message: 'must have property event_type' });
  } else {
    jsonLength += 14;
    if (!(typeof v6 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/event_type", rule: 'type', message: 'must be string, got ' + describe(v6) });
    } else {
      jsonLength += v6.length + 2;
      if (!S0.has(v6)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_type", rule: 'enum', message: 'must be one of ' + "page_view, content_view, click, search, add_to_cart, remove_from_cart, purchase, identify" });
      }
    }
  }
  let v7 = o["event_time"];
  if (v7 !== undefined) c0++;
  if (v7 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'required', message: 'must have property event_time' });
  } else {
    jsonLength += 14;
    if (!(typeof v7 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'type', message: 'must be string, got ' + describe(v7) });
    } else {
      jsonLength += v7.length + 2;
      if (v7.length > 40 && codePoints(v7) > 40) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'maxLength', message: 'must have at most 40 characters' });
      }
      if (Number.isNaN((eventTimeMs = parseRfc3339(v7)))) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'format', message: 'must be an RFC 3339 date-time with a time zone' });
      }
      if (!Number.isNaN(eventTimeMs) && !isCanonicalUtc(v7)) { o["event_time"] = toCanonicalUtc(eventTimeMs); pass.changed = true; }
    }
  }
  let v8 = o["content_id"];
  if (v8 !== undefined) c0++;
  if (v8 === undefined) {
  } else {
    jsonLength += 14;
    if (!(typeof v8 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'type', message: 'must be string, got ' + describe(v8) });
    } else {
      jsonLength += v8.length + 2;
      if (v8.length < 1 || (v8.length < 2 && codePoints(v8) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v8.length > 128 && codePoints(v8) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P1.test(v8)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:-]*$" });
      }
    }
  }
  let v9 = o["category"];
  if (v9 !== undefined) c0++;
  if (v9 === undefined) {
  } else {
    jsonLength += 12;
    if (!(typeof v9 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'type', message: 'must be string, got ' + describe(v9) });
    } else {
      jsonLength += v9.length + 2;
      {
        const normalized = lowercaseTrim(v9);
        if (normalized !== v9) { v9 = normalized; o["category"] = normalized; pass.changed = true; }
      }
      if (v9.length < 1 || (v9.length < 2 && codePoints(v9) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v9.length > 64 && codePoints(v9) > 64) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'maxLength', message: 'must have at most 64 characters' });
      }
      if (!P3.test(v9)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'pattern', message: 'must match ' + "^[a-z0-9]+(?:[_-][a-z0-9]+)*(?:>[a-z0-9]+(?:[_-][a-z0-9]+)*){0,3}$" });
      }
    }
  }
  let v10 = o["duration_ms"];
  if (v10 !== undefined) c0++;
  if (v10 === undefined) {
  } else {
    jsonLength += 15;
    if (!(Number.isInteger(v10))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/duration_ms", rule: 'type', message: 'must be integer, got ' + describe(v10) });
    } else {
      jsonLength += numberLength(v10, pass);
      if (!(v10 >= 0)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/duration_ms", rule: 'minimum', message: 'must be >= 0' });
      }
      if (!(v10 <= 86400000)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/duration_ms", rule: 'maximum', message: 'must be <= 86400000' });
      }
    }
  }
  let v11 = o["value"];
  if (v11 !== undefined) c0++;
  if (v11 === undefined) {
  } else {
    jsonLength += 9;
    if (!((typeof v11 === 'number'))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'type', message: 'must be number, got ' + describe(v11) });
    } else {
      jsonLength += numberLength(v11, pass);
      if (!(v11 >= 0)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'minimum', message: 'must be >= 0' });
      }
      if (!(v11 <= 1000000000)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'maximum', message: 'must be <= 1000000000' });
      }
    }
  }
  let v12 = o["currency"];
  if (v12 !== undefined) c0++;
  if (v12 === undefined) {
  } else {
    jsonLength += 12;
    if (!(typeof v12 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'type', message: 'must be string, got ' + describe(v12) });
    } else {
      jsonLength += v12.length + 2;
      if (!P4.test(v12)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'pattern', message: 'must match ' + "^[A-Z]{3}$" });
      }
    }
  }
  let v13 = o["device"];
  if (v13 !== undefined) c0++;
  if (v13 === undefined) {
  } else {
    jsonLength += 10;
    if (!((typeof v13 === 'object' && v13 !== null && !Array.isArray(v13)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/device", rule: 'type', message: 'must be object, got ' + describe(v13) });
    } else {
      jsonLength += 1;
      let c14 = 0;
      let v15 = v13["type"];
      if (v15 !== undefined) c14++;
      if (v15 === undefined) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/device/type", rule: 'required', message: 'must have property type' });
      } else {
        jsonLength += 8;
        if (!(typeof v15 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device/type", rule: 'type', message: 'must be string, got ' + describe(v15) });
        } else {
          jsonLength += v15.length + 2;
          if (!S1.has(v15)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/type", rule: 'enum', message: 'must be one of ' + "desktop, mobile, tablet, tv, other" });
          }
        }
      }
      let v16 = v13["os"];
      if (v16 !== undefined) c14++;
      if (v16 === undefined) {
      } else {
        jsonLength += 6;
        if (!(typeof v16 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'type', message: 'must be string, got ' + describe(v16) });
        } else {
          jsonLength += v16.length + 2;
          if (v16.length < 1 || (v16.length < 2 && codePoints(v16) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v16.length > 32 && codePoints(v16) > 32) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'maxLength', message: 'must have at most 32 characters' });
          }
          if (!P5.test(v16)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$" });
          }
        }
      }
      let v17 = v13["app_version"];
      if (v17 !== undefined) c14++;
      if (v17 === undefined) {
      } else {
        jsonLength += 15;
        if (!(typeof v17 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'type', message: 'must be string, got ' + describe(v17) });
        } else {
          jsonLength += v17.length + 2;
          if (v17.length < 1 || (v17.length < 2 && codePoints(v17) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v17.length > 32 && codePoints(v17) > 32) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'maxLength', message: 'must have at most 32 characters' });
          }
          if (!P6.test(v17)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9.+_-]*$" });
          }
        }
      }
      let n19 = 0;
      for (const k18 in v13) n19++;
      if (n19 === 0) jsonLength += 1;
      if (n19 !== c14) jsonLength = NaN;
      if (n19 !== c14 && !allowUnknown) {
        for (const k18 in v13) {
          if (k18 !== "type" && k18 !== "os" && k18 !== "app_version") {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device" + '/' + escapePointer(k18), rule: 'additionalProperties', message: 'is not a property of the schema' });
          }
        }
      }
    }
  }
  let v20 = o["context"];
  if (v20 !== undefined) c0++;
  if (v20 === undefined) {
  } else {
    jsonLength += 11;
    if (!((typeof v20 === 'object' && v20 !== null && !Array.isArray(v20)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/context", rule: 'type', message: 'must be object, got ' + describe(v20) });
    } else {
      jsonLength += 1;
      let c21 = 0;
      let v22 = v20["locale"];
      if (v22 !== undefined) c21++;
      if (v22 === undefined) {
      } else {
        jsonLength += 10;
        if (!(typeof v22 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/locale", rule: 'type', message: 'must be string, got ' + describe(v22) });
        } else {
          jsonLength += v22.length + 2;
          {
            const normalized = locale(v22);
            if (normalized !== v22) { v22 = normalized; v20["locale"] = normalized; pass.changed = true; }
          }
          if (!P7.test(v22)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/locale", rule: 'pattern', message: 'must match ' + "^[a-z]{2,3}(?:-[A-Z]{2}|-[0-9]{3})?$" });
          }
        }
      }
      let v23 = v20["page_url"];
      if (v23 !== undefined) c21++;
      if (v23 === undefined) {
      } else {
        jsonLength += 12;
        if (!(typeof v23 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'type', message: 'must be string, got ' + describe(v23) });
        } else {
          jsonLength += v23.length + 2;
          if (v23.length < 1 || (v23.length < 2 && codePoints(v23) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v23.length > 2048 && codePoints(v23) > 2048) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'maxLength', message: 'must have at most 2048 characters' });
          }
          if (!P8.test(v23)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u0020\\u007f-\\u009f\\ud800-\\udfff]+$" });
          }
        }
      }
      let v24 = v20["referrer"];
      if (v24 !== undefined) c21++;
      if (v24 === undefined) {
      } else {
        jsonLength += 12;
        if (!(typeof v24 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'type', message: 'must be string, got ' + describe(v24) });
        } else {
          jsonLength += v24.length + 2;
          if (v24.length < 1 || (v24.length < 2 && codePoints(v24) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v24.length > 2048 && codePoints(v24) > 2048) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'maxLength', message: 'must have at most 2048 characters' });
          }
          if (!P8.test(v24)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u0020\\u007f-\\u009f\\ud800-\\udfff]+$" });
          }
        }
      }
      let v25 = v20["search_query"];
      if (v25 !== undefined) c21++;
      if (v25 === undefined) {
      } else {
        jsonLength += 16;
        if (!(typeof v25 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'type', message: 'must be string, got ' + describe(v25) });
        } else {
          jsonLength += v25.length + 2;
          {
            const normalized = trim(v25);
            if (normalized !== v25) { v25 = normalized; v20["search_query"] = normalized; pass.changed = true; }
          }
          if (v25.length < 1 || (v25.length < 2 && codePoints(v25) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v25.length > 256 && codePoints(v25) > 256) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'maxLength', message: 'must have at most 256 characters' });
          }
          if (!P5.test(v25)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$" });
          }
        }
      }
      let n27 = 0;
      for (const k26 in v20) n27++;
      if (n27 === 0) jsonLength += 1;
      if (n27 !== c21) jsonLength = NaN;
      if (n27 !== c21 && !allowUnknown) {
        for (const k26 in v20) {
          if (k26 !== "locale" && k26 !== "page_url" && k26 !== "referrer" && k26 !== "search_query") {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context" + '/' + escapePointer(k26), rule: 'additionalProperties', message: 'is not a property of the schema' });
          }
        }
      }
    }
  }
  let v28 = o["properties"];
  if (v28 !== undefined) c0++;
  if (v28 === undefined) {
  } else {
    jsonLength += 14;
    if (!((typeof v28 === 'object' && v28 !== null && !Array.isArray(v28)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/properties", rule: 'type', message: 'must be object, got ' + describe(v28) });
    } else {
      jsonLength += 1;
      let n31 = 0;
      for (const k30 in v28) {
        n31++;
        if (!P9.test(k30)) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k30), rule: 'propertyNames', message: 'property name must match ' + "^[a-z][a-z0-9_]{0,39}$" });
          continue;
        }
        {
          jsonLength += k30.length + 4;
          const a32 = v28[k30];
          if (!(typeof a32 === 'string' || (typeof a32 === 'number') || typeof a32 === 'boolean')) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k30), rule: 'type', message: 'must be string or number or boolean, got ' + describe(a32) });
          } else {
            if (typeof a32 === 'string') jsonLength += a32.length + 2;
            else if (typeof a32 === 'number') jsonLength += numberLength(a32, pass);
            else jsonLength += (a32 ? 4 : 5);
            if (typeof a32 === 'string') {
              if (a32.length > 256 && codePoints(a32) > 256) {
                if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k30), rule: 'maxLength', message: 'must have at most 256 characters' });
              }
              if (!P5.test(a32)) {
                if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k30), rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]*$" });
              }
            }
            if (typeof a32 === 'number') {
              if (!(a32 >= -9007199254740991)) {
                if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k30), rule: 'minimum', message: 'must be >= -9007199254740991' });
              }
              if (!(a32 <= 9007199254740991)) {
                if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k30), rule: 'maximum', message: 'must be <= 9007199254740991' });
              }
            }
          }
        }
      }
      if (n31 === 0) jsonLength += 1;
      if (n31 > 16) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/properties", rule: 'maxProperties', message: 'must have at most 16 properties' });
      }
    }
  }
  let v33 = o["consent"];
  if (v33 !== undefined) c0++;
  if (v33 === undefined) {
  } else {
    jsonLength += 11;
    if (!((typeof v33 === 'object' && v33 !== null && !Array.isArray(v33)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/consent", rule: 'type', message: 'must be object, got ' + describe(v33) });
    } else {
      jsonLength += 1;
      let c34 = 0;
      let v35 = v33["personalization"];
      if (v35 !== undefined) c34++;
      if (v35 === undefined) {
      } else {
        jsonLength += 19;
        if (!(typeof v35 === 'boolean')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/consent/personalization", rule: 'type', message: 'must be boolean, got ' + describe(v35) });
        } else {
          jsonLength += (v35 ? 4 : 5);
        }
      }
      let v36 = v33["analytics"];
      if (v36 !== undefined) c34++;
      if (v36 === undefined) {
      } else {
        jsonLength += 13;
        if (!(typeof v36 === 'boolean')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/consent/analytics", rule: 'type', message: 'must be boolean, got ' + describe(v36) });
        } else {
          jsonLength += (v36 ? 4 : 5);
        }
      }
      let n38 = 0;
      for (const k37 in v33) n38++;
      if (n38 === 0) jsonLength += 1;
      if (n38 !== c34) jsonLength = NaN;
      if (n38 !== c34 && !allowUnknown) {
        for (const k37 in v33) {
          if (k37 !== "personalization" && k37 !== "analytics") {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/consent" + '/' + escapePointer(k37), rule: 'additionalProperties', message: 'is not a property of the schema' });
          }
        }
      }
    }
  }
  let n40 = 0;
  for (const k39 in o) n40++;
  if (n40 === 0) jsonLength += 1;
  if (n40 !== c0) jsonLength = NaN;
  if (n40 !== c0 && !allowUnknown) {
    for (const k39 in o) {
      if (k39 !== "schema_version" && k39 !== "event_id" && k39 !== "user_id" && k39 !== "anonymous_id" && k39 !== "session_id" && k39 !== "event_type" && k39 !== "event_time" && k39 !== "content_id" && k39 !== "category" && k39 !== "duration_ms" && k39 !== "value" && k39 !== "currency" && k39 !== "device" && k39 !== "context" && k39 !== "properties" && k39 !== "consent") {
        if (errors.length < MAX_ERRORS) errors.push({ path: '' + '/' + escapePointer(k39), rule: 'additionalProperties', message: 'is not a property of the schema' });
      }
    }
  }
  if (o["value"] !== undefined && o["currency"] === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'dependentRequired', message: 'must have property currency when value is present' });
  }
  if (o["currency"] !== undefined && o["value"] === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'dependentRequired', message: 'must have property value when currency is present' });
  }
  if (o["user_id"] === undefined && o["anonymous_id"] === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'required', message: 'must have property user_id or anonymous_id' });
  }
  if (S2.has(o["event_type"])) {
    if (o["value"] === undefined) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'required', message: 'must have property value when event_type is ' + o["event_type"] });
    }
    if (o["currency"] === undefined) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'required', message: 'must have property currency when event_type is ' + o["event_type"] });
    }
  }
  if (S3.has(o["event_type"])) {
    if (o["content_id"] === undefined) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'required', message: 'must have property content_id when event_type is ' + o["event_type"] });
    }
  }
  if (S4.has(o["event_type"])) {
    if (o["user_id"] === undefined) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'required', message: 'must have property user_id when event_type is ' + o["event_type"] });
    }
    if (o["anonymous_id"] === undefined) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/anonymous_id", rule: 'required', message: 'must have property anonymous_id when event_type is ' + o["event_type"] });
    }
  }

  pass.jsonLength = jsonLength;
  return eventTimeMs;
}
