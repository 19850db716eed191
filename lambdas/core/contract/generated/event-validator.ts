// Generated from contract/event.schema.json (sha256 593d8681354045eee8d83f91dca97d71befb4272e07a4bb7a0704dcb3475af8e) by scripts/generate-contract.ts.
// Do not edit: change the schema and run `npm run generate`. A test fails when this file drifts.
/* eslint-disable */
import { isCanonicalUtc, parseRfc3339, toCanonicalUtc } from '../datetime';
import { locale, lowercaseTrim, trim } from '../normalize';

/** One violated rule: where (a JSON Pointer into the event), which schema keyword, and a readable message. */
export interface SchemaError {
  path: string;
  rule: string;
  message: string;
}

/** Validation stops collecting after this many errors so a hostile payload cannot blow up a quarantine line. */
export const MAX_ERRORS = 20;

const P0 = new RegExp("^[0-9]{1,3}\\.[0-9]{1,3}$", 'u');
const P1 = new RegExp("^[A-Za-z0-9][A-Za-z0-9._:-]*$", 'u');
const P2 = new RegExp("^[A-Za-z0-9][A-Za-z0-9._:@-]*$", 'u');
const P3 = new RegExp("^[a-z0-9]+(?:[_-][a-z0-9]+)*(?:>[a-z0-9]+(?:[_-][a-z0-9]+)*){0,3}$", 'u');
const P4 = new RegExp("^[A-Z]{3}$", 'u');
const P5 = new RegExp("^[^\\u0000-\\u001f\\u007f]*$", 'u');
const P6 = new RegExp("^[A-Za-z0-9][A-Za-z0-9.+_-]*$", 'u');
const P7 = new RegExp("^[a-z]{2,3}(?:-[A-Z]{2}|-[0-9]{3})?$", 'u');
const P8 = new RegExp("^[^\\u0000-\\u0020\\u007f]+$", 'u');
const P9 = new RegExp("^[a-z][a-z0-9_]{0,39}$", 'u');
const S0: ReadonlySet<unknown> = new Set(["page_view","content_view","click","search","add_to_cart","remove_from_cart","purchase"]);
const S1: ReadonlySet<unknown> = new Set(["desktop","mobile","tablet","tv","other"]);
const S2: ReadonlySet<unknown> = new Set(["purchase"]);
const S3: ReadonlySet<unknown> = new Set(["content_view","add_to_cart","remove_from_cart"]);

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

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

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Checks a parsed JSON value against the event schema, appending every violation to `errors`, and applies
 * the schema's normalizations (x-normalize, and event_time to canonical UTC) in place.
 * With `allowUnknown` (an event of a newer minor version), properties the schema does not know are tolerated.
 * Returns event_time as epoch milliseconds (NaN when absent or invalid). Never throws.
 */
export function validateEventSchema(o: any, errors: SchemaError[], allowUnknown: boolean): number {
  let eventTimeMs = NaN;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    if (errors.length < MAX_ERRORS) errors.push({ path: '', rule: 'type', message: 'must be object, got ' + describe(o) });
    return NaN;
  }
  let v0 = o["schema_version"];
  if (v0 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/schema_version", rule: 'required', message: 'must have property schema_version' });
  } else {
    if (!(typeof v0 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/schema_version", rule: 'type', message: 'must be string, got ' + describe(v0) });
    } else {
      if (!P0.test(v0)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/schema_version", rule: 'pattern', message: 'must match ' + "^[0-9]{1,3}\\.[0-9]{1,3}$" });
      }
    }
  }
  let v1 = o["event_id"];
  if (v1 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'required', message: 'must have property event_id' });
  } else {
    if (!(typeof v1 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'type', message: 'must be string, got ' + describe(v1) });
    } else {
      if (v1.length < 1 || (v1.length < 2 && codePoints(v1) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v1.length > 64 && codePoints(v1) > 64) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'maxLength', message: 'must have at most 64 characters' });
      }
      if (!P1.test(v1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:-]*$" });
      }
    }
  }
  let v2 = o["user_id"];
  if (v2 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'required', message: 'must have property user_id' });
  } else {
    if (!(typeof v2 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'type', message: 'must be string, got ' + describe(v2) });
    } else {
      if (v2.length < 1 || (v2.length < 2 && codePoints(v2) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v2.length > 128 && codePoints(v2) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P2.test(v2)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/user_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:@-]*$" });
      }
    }
  }
  let v3 = o["session_id"];
  if (v3 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'required', message: 'must have property session_id' });
  } else {
    if (!(typeof v3 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'type', message: 'must be string, got ' + describe(v3) });
    } else {
      if (v3.length < 1 || (v3.length < 2 && codePoints(v3) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v3.length > 128 && codePoints(v3) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P1.test(v3)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/session_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:-]*$" });
      }
    }
  }
  let v4 = o["event_type"];
  if (v4 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/event_type", rule: 'required', message: 'must have property event_type' });
  } else {
    if (!(typeof v4 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/event_type", rule: 'type', message: 'must be string, got ' + describe(v4) });
    } else {
      if (!S0.has(v4)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_type", rule: 'enum', message: 'must be one of ' + "page_view, content_view, click, search, add_to_cart, remove_from_cart, purchase" });
      }
    }
  }
  let v5 = o["event_time"];
  if (v5 === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'required', message: 'must have property event_time' });
  } else {
    if (!(typeof v5 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'type', message: 'must be string, got ' + describe(v5) });
    } else {
      if (v5.length > 40 && codePoints(v5) > 40) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'maxLength', message: 'must have at most 40 characters' });
      }
      if (Number.isNaN((eventTimeMs = parseRfc3339(v5)))) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/event_time", rule: 'format', message: 'must be an RFC 3339 date-time with a time zone' });
      }
      if (!Number.isNaN(eventTimeMs) && !isCanonicalUtc(v5)) o["event_time"] = toCanonicalUtc(eventTimeMs);
    }
  }
  let v6 = o["content_id"];
  if (v6 === undefined) {
  } else {
    if (!(typeof v6 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'type', message: 'must be string, got ' + describe(v6) });
    } else {
      if (v6.length < 1 || (v6.length < 2 && codePoints(v6) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v6.length > 128 && codePoints(v6) > 128) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'maxLength', message: 'must have at most 128 characters' });
      }
      if (!P1.test(v6)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/content_id", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9._:-]*$" });
      }
    }
  }
  let v7 = o["category"];
  if (v7 === undefined) {
  } else {
    if (!(typeof v7 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'type', message: 'must be string, got ' + describe(v7) });
    } else {
      {
        const normalized = lowercaseTrim(v7);
        if (normalized !== v7) { v7 = normalized; o["category"] = normalized; }
      }
      if (v7.length < 1 || (v7.length < 2 && codePoints(v7) < 1)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'minLength', message: 'must have at least 1 characters' });
      }
      if (v7.length > 64 && codePoints(v7) > 64) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'maxLength', message: 'must have at most 64 characters' });
      }
      if (!P3.test(v7)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/category", rule: 'pattern', message: 'must match ' + "^[a-z0-9]+(?:[_-][a-z0-9]+)*(?:>[a-z0-9]+(?:[_-][a-z0-9]+)*){0,3}$" });
      }
    }
  }
  let v8 = o["duration_ms"];
  if (v8 === undefined) {
  } else {
    if (!(Number.isInteger(v8))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/duration_ms", rule: 'type', message: 'must be integer, got ' + describe(v8) });
    } else {
      if (!(v8 >= 0)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/duration_ms", rule: 'minimum', message: 'must be >= 0' });
      }
      if (!(v8 <= 86400000)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/duration_ms", rule: 'maximum', message: 'must be <= 86400000' });
      }
    }
  }
  let v9 = o["value"];
  if (v9 === undefined) {
  } else {
    if (!((typeof v9 === 'number'))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'type', message: 'must be number, got ' + describe(v9) });
    } else {
      if (!(v9 >= 0)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'minimum', message: 'must be >= 0' });
      }
      if (!(v9 <= 1000000000)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'maximum', message: 'must be <= 1000000000' });
      }
    }
  }
  let v10 = o["currency"];
  if (v10 === undefined) {
  } else {
    if (!(typeof v10 === 'string')) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'type', message: 'must be string, got ' + describe(v10) });
    } else {
      if (!P4.test(v10)) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'pattern', message: 'must match ' + "^[A-Z]{3}$" });
      }
    }
  }
  let v11 = o["device"];
  if (v11 === undefined) {
  } else {
    if (!((typeof v11 === 'object' && v11 !== null && !Array.isArray(v11)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/device", rule: 'type', message: 'must be object, got ' + describe(v11) });
    } else {
      let v12 = v11["type"];
      if (v12 === undefined) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/device/type", rule: 'required', message: 'must have property type' });
      } else {
        if (!(typeof v12 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device/type", rule: 'type', message: 'must be string, got ' + describe(v12) });
        } else {
          if (!S1.has(v12)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/type", rule: 'enum', message: 'must be one of ' + "desktop, mobile, tablet, tv, other" });
          }
        }
      }
      let v13 = v11["os"];
      if (v13 === undefined) {
      } else {
        if (!(typeof v13 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'type', message: 'must be string, got ' + describe(v13) });
        } else {
          if (v13.length < 1 || (v13.length < 2 && codePoints(v13) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v13.length > 32 && codePoints(v13) > 32) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'maxLength', message: 'must have at most 32 characters' });
          }
          if (!P5.test(v13)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/os", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u001f\\u007f]*$" });
          }
        }
      }
      let v14 = v11["app_version"];
      if (v14 === undefined) {
      } else {
        if (!(typeof v14 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'type', message: 'must be string, got ' + describe(v14) });
        } else {
          if (v14.length < 1 || (v14.length < 2 && codePoints(v14) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v14.length > 32 && codePoints(v14) > 32) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'maxLength', message: 'must have at most 32 characters' });
          }
          if (!P6.test(v14)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/device/app_version", rule: 'pattern', message: 'must match ' + "^[A-Za-z0-9][A-Za-z0-9.+_-]*$" });
          }
        }
      }
      let n16 = 0;
      for (const k15 in v11) {
        n16++;
        if (!allowUnknown && k15 !== "type" && k15 !== "os" && k15 !== "app_version") {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/device" + '/' + escapePointer(k15), rule: 'additionalProperties', message: 'is not a property of the schema' });
        }
      }
    }
  }
  let v17 = o["context"];
  if (v17 === undefined) {
  } else {
    if (!((typeof v17 === 'object' && v17 !== null && !Array.isArray(v17)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/context", rule: 'type', message: 'must be object, got ' + describe(v17) });
    } else {
      let v18 = v17["locale"];
      if (v18 === undefined) {
      } else {
        if (!(typeof v18 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/locale", rule: 'type', message: 'must be string, got ' + describe(v18) });
        } else {
          {
            const normalized = locale(v18);
            if (normalized !== v18) { v18 = normalized; v17["locale"] = normalized; }
          }
          if (!P7.test(v18)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/locale", rule: 'pattern', message: 'must match ' + "^[a-z]{2,3}(?:-[A-Z]{2}|-[0-9]{3})?$" });
          }
        }
      }
      let v19 = v17["page_url"];
      if (v19 === undefined) {
      } else {
        if (!(typeof v19 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'type', message: 'must be string, got ' + describe(v19) });
        } else {
          if (v19.length < 1 || (v19.length < 2 && codePoints(v19) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v19.length > 2048 && codePoints(v19) > 2048) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'maxLength', message: 'must have at most 2048 characters' });
          }
          if (!P8.test(v19)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/page_url", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u0020\\u007f]+$" });
          }
        }
      }
      let v20 = v17["referrer"];
      if (v20 === undefined) {
      } else {
        if (!(typeof v20 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'type', message: 'must be string, got ' + describe(v20) });
        } else {
          if (v20.length < 1 || (v20.length < 2 && codePoints(v20) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v20.length > 2048 && codePoints(v20) > 2048) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'maxLength', message: 'must have at most 2048 characters' });
          }
          if (!P8.test(v20)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/referrer", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u0020\\u007f]+$" });
          }
        }
      }
      let v21 = v17["search_query"];
      if (v21 === undefined) {
      } else {
        if (!(typeof v21 === 'string')) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'type', message: 'must be string, got ' + describe(v21) });
        } else {
          {
            const normalized = trim(v21);
            if (normalized !== v21) { v21 = normalized; v17["search_query"] = normalized; }
          }
          if (v21.length < 1 || (v21.length < 2 && codePoints(v21) < 1)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'minLength', message: 'must have at least 1 characters' });
          }
          if (v21.length > 256 && codePoints(v21) > 256) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'maxLength', message: 'must have at most 256 characters' });
          }
          if (!P5.test(v21)) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/context/search_query", rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u001f\\u007f]*$" });
          }
        }
      }
      let n23 = 0;
      for (const k22 in v17) {
        n23++;
        if (!allowUnknown && k22 !== "locale" && k22 !== "page_url" && k22 !== "referrer" && k22 !== "search_query") {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/context" + '/' + escapePointer(k22), rule: 'additionalProperties', message: 'is not a property of the schema' });
        }
      }
    }
  }
  let v24 = o["properties"];
  if (v24 === undefined) {
  } else {
    if (!((typeof v24 === 'object' && v24 !== null && !Array.isArray(v24)))) {
      if (errors.length < MAX_ERRORS) errors.push({ path: "/properties", rule: 'type', message: 'must be object, got ' + describe(v24) });
    } else {
      let n26 = 0;
      for (const k25 in v24) {
        n26++;
        if (!P9.test(k25)) {
          if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k25), rule: 'propertyNames', message: 'property name must match ' + "^[a-z][a-z0-9_]{0,39}$" });
          continue;
        }
        {
          const a27 = v24[k25];
          if (!(typeof a27 === 'string' || (typeof a27 === 'number') || typeof a27 === 'boolean')) {
            if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k25), rule: 'type', message: 'must be string or number or boolean, got ' + describe(a27) });
          } else {
            if (typeof a27 === 'string') {
              if (a27.length > 256 && codePoints(a27) > 256) {
                if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k25), rule: 'maxLength', message: 'must have at most 256 characters' });
              }
              if (!P5.test(a27)) {
                if (errors.length < MAX_ERRORS) errors.push({ path: "/properties" + '/' + escapePointer(k25), rule: 'pattern', message: 'must match ' + "^[^\\u0000-\\u001f\\u007f]*$" });
              }
            }
          }
        }
      }
      if (n26 > 16) {
        if (errors.length < MAX_ERRORS) errors.push({ path: "/properties", rule: 'maxProperties', message: 'must have at most 16 properties' });
      }
    }
  }
  let n29 = 0;
  for (const k28 in o) {
    n29++;
    if (!allowUnknown && k28 !== "schema_version" && k28 !== "event_id" && k28 !== "user_id" && k28 !== "session_id" && k28 !== "event_type" && k28 !== "event_time" && k28 !== "content_id" && k28 !== "category" && k28 !== "duration_ms" && k28 !== "value" && k28 !== "currency" && k28 !== "device" && k28 !== "context" && k28 !== "properties") {
      if (errors.length < MAX_ERRORS) errors.push({ path: '' + '/' + escapePointer(k28), rule: 'additionalProperties', message: 'is not a property of the schema' });
    }
  }
  if (o["value"] !== undefined && o["currency"] === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/currency", rule: 'dependentRequired', message: 'must have property currency when value is present' });
  }
  if (o["currency"] !== undefined && o["value"] === undefined) {
    if (errors.length < MAX_ERRORS) errors.push({ path: "/value", rule: 'dependentRequired', message: 'must have property value when currency is present' });
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

  return eventTimeMs;
}
