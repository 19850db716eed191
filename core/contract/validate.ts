/**
 * The validation pipeline every record goes through, on the Lambda and in the producer client:
 * size -> UTF-8 -> JSON -> Unicode (no lone surrogates) -> one name per member -> schema version ->
 * schema rules with normalization -> event-time skew.
 * Pure: no AWS imports, no I/O, never throws.
 *
 * One pass over the parsed event checks the schema and measures the compact JSON the event would have. When
 * the record's text is exactly that long, and its numbers have a single shortest spelling, the text *is*
 * that compact JSON: no white space, no escapes (so no lone surrogate), no member named twice. Its bytes are
 * then forwarded as they are. Otherwise (white space, escapes, a number such as 5400 that 54e2 also spells,
 * or a member named twice) the text is looked at again: a lone surrogate or a repeated name rejects the
 * record, anything else is forwarded re-serialized, on one line. A repeated member takes at least 6
 * characters, so a text less than 6 characters longer than its compact JSON (allowing for shorter number
 * spellings) cannot hold one and is not scanned for it.
 */
import { isUtf8 } from 'node:buffer';
import { newValidationPass, validateEventSchema, type SchemaError } from './generated/event-validator';
import { findDuplicateName, findLoneSurrogate } from './json-text';
import { CONTRACT_VERSION, KNOWN_FIELDS, KNOWN_MINOR, MAX_EVENT_BYTES, SUPPORTED_MAJOR, type BehaviouralEvent } from './generated/event-types';

export type { SchemaError } from './generated/event-validator';

/**
 * Why an event was quarantined. Stable, machine-readable: dashboards, alarms and the quarantine table use them.
 */
export type ReasonCode =
  /** The record is larger than the stage's maximum event size. */
  | 'size_violation'
  /** The bytes are not valid UTF-8. */
  | 'not_utf8'
  /** The text is not JSON (includes empty records). */
  | 'not_json'
  /** A string or member name holds a lone UTF-16 surrogate (a `\ud800` escape without its pair): not storable as UTF-8. */
  | 'invalid_unicode'
  /** An object names the same member twice: which value counts would depend on the parser that reads it. */
  | 'ambiguous_json'
  /** JSON, but not an event of the contract: see the errors for each path and rule. */
  | 'schema_violation'
  /** schema_version names a major version this validator does not support. */
  | 'unsupported_schema_version'
  /** event_time is too far in the future or the past relative to when the event arrived. */
  | 'timestamp_out_of_range'
  /** The validator itself failed on this input: a bug, kept as data rather than a crashed batch. */
  | 'validator_error';

export const REASON_CODES: readonly ReasonCode[] = [
  'size_violation',
  'not_utf8',
  'not_json',
  'invalid_unicode',
  'ambiguous_json',
  'schema_violation',
  'unsupported_schema_version',
  'timestamp_out_of_range',
  'validator_error',
];

export interface ValidationOptions {
  /** Largest accepted record in bytes. @default MAX_EVENT_BYTES of the contract (8192) */
  readonly maxEventBytes?: number;
  /** How far event_time may be ahead of the arrival time (producer clock skew). @default 300 seconds */
  readonly maxFutureSkewMs?: number;
  /** How far event_time may be behind the arrival time (offline buffering, late delivery). @default 7 days */
  readonly maxPastAgeMs?: number;
}

export type Valid = {
  readonly ok: true;
  /** The normalized event: what flows on to the validated stream, the profile and the lake. */
  readonly event: BehaviouralEvent;
  /** event_time as epoch milliseconds. */
  readonly eventTimeMs: number;
  /** True when the event is of a newer minor version and fields this validator does not know were dropped. */
  readonly droppedUnknownFields: boolean;
  /**
   * False when the record's bytes are exactly `JSON.stringify(event)`: they can be forwarded as they are,
   * saving a JSON.stringify per record. True when a value was normalized, a field dropped, or the text is not
   * the event's compact JSON (white space such as a pretty-printed or newline-terminated record, escapes, a
   * number spelled another way): forward `JSON.stringify(event)`, which is always one line.
   */
  readonly normalized: boolean;
};

export type Invalid = {
  readonly ok: false;
  readonly reason: ReasonCode;
  readonly errors: readonly SchemaError[];
};

export type ValidationResult = Valid | Invalid;

export const DEFAULT_MAX_FUTURE_SKEW_MS = 300_000;
export const DEFAULT_MAX_PAST_AGE_MS = 7 * 24 * 3600_000;

/** Validates one record as delivered by Kinesis (raw bytes). `arrivalMs` is the record's arrival time. */
export function validateRecord(bytes: Uint8Array, arrivalMs: number, options: ValidationOptions = {}): ValidationResult {
  try {
    const maxBytes = options.maxEventBytes ?? MAX_EVENT_BYTES;
    if (bytes.byteLength > maxBytes) {
      return invalid('size_violation', '', 'maxBytes', `record is ${bytes.byteLength} bytes, the limit is ${maxBytes}`);
    }
    const text = (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
    // Decoding replaces invalid UTF-8 with U+FFFD. Searching a one-byte (ASCII/Latin-1) string for U+FFFD is
    // O(1) in V8, so the full isUtf8 scan runs only for text that contains non-ASCII characters.
    if (text.indexOf('\uFFFD') !== -1 && !isUtf8(bytes)) return invalid('not_utf8', '', 'encoding', 'record is not valid UTF-8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return invalid('not_json', '', 'json', text.trim() === '' ? 'record is empty' : `not JSON: ${(e as Error).message}`);
    }
    return check(value, text, arrivalMs, options);
  } catch (e) {
    return invalid('validator_error', '', 'internal', String((e as Error)?.message ?? e));
  }
}

/**
 * Validates an already-parsed value (the producer client's local check). Does not mutate its input.
 * The size limit applies to the value's JSON serialization.
 */
export function validateEvent(value: unknown, arrivalMs: number, options: ValidationOptions = {}): ValidationResult {
  try {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      return invalid('not_json', '', 'json', `not serializable as JSON: ${(e as Error).message}`);
    }
    if (text === undefined) return invalid('not_json', '', 'json', 'value has no JSON form');
    return validateRecord(Buffer.from(text, 'utf8'), arrivalMs, options);
  } catch (e) {
    return invalid('validator_error', '', 'internal', String((e as Error)?.message ?? e));
  }
}

/** The fewest characters a member named a second time adds to a valid event's text: `,"k":0`. */
const MIN_REPEATED_MEMBER_CHARS = 6;

function check(value: unknown, text: string, arrivalMs: number, options: ValidationOptions): ValidationResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return textProblem(value, text) ?? invalid('schema_violation', '', 'type', `must be object, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
  }
  const o = value as Record<string, unknown>;

  // The version decides which rules apply, so it is read first; its own reason comes after the text's.
  let allowUnknown = false;
  let unsupportedMajor: number | undefined;
  const version = o.schema_version;
  if (typeof version === 'string' && version !== CONTRACT_VERSION) {
    const dot = version.indexOf('.');
    const major = dot > 0 ? Number(version.slice(0, dot)) : NaN;
    const minor = dot > 0 ? Number(version.slice(dot + 1)) : NaN;
    if (Number.isInteger(major) && Number.isInteger(minor) && /^\d+\.\d+$/.test(version)) {
      if (major !== SUPPORTED_MAJOR) unsupportedMajor = major;
      allowUnknown = minor > KNOWN_MINOR;
    }
  }
  if (unsupportedMajor !== undefined) {
    return (
      textProblem(o, text) ??
      invalid('unsupported_schema_version', '/schema_version', 'supportedMajor', `major version ${unsupportedMajor} is not supported (this validator accepts ${SUPPORTED_MAJOR}.x)`)
    );
  }

  // Also normalizes in place (x-normalize in the schema; event_time to canonical UTC).
  const errors: SchemaError[] = [];
  const pass = newValidationPass();
  const eventTimeMs = validateEventSchema(o, errors, allowUnknown, pass);
  if (errors.length > 0) return textProblem(o, text) ?? { ok: false, reason: 'schema_violation', errors };

  // The text is the event's compact JSON exactly when it is as long as that and every number has one
  // shortest spelling; otherwise look again, for what the length cannot rule out.
  const compact = text.length === pass.jsonLength && pass.canonicalNumbers;
  if (!compact) {
    const problem = textProblem(o, text, text.length - pass.jsonLength + pass.shorterNumbers < MIN_REPEATED_MEMBER_CHARS);
    if (problem) return problem;
  }

  const event = o as unknown as BehaviouralEvent;
  const maxFuture = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const maxPast = options.maxPastAgeMs ?? DEFAULT_MAX_PAST_AGE_MS;
  if (eventTimeMs > arrivalMs + maxFuture) {
    return invalid('timestamp_out_of_range', '/event_time', 'maxFutureSkew', `event_time is ${Math.round((eventTimeMs - arrivalMs) / 1000)} s after arrival; at most ${maxFuture / 1000} s is accepted`);
  }
  if (eventTimeMs < arrivalMs - maxPast) {
    return invalid('timestamp_out_of_range', '/event_time', 'maxPastAge', `event_time is ${Math.round((arrivalMs - eventTimeMs) / 1000)} s before arrival; at most ${maxPast / 1000} s is accepted`);
  }

  const dropped = allowUnknown && dropUnknownFields(o);
  return { ok: true, event, eventTimeMs, droppedUnknownFields: dropped, normalized: pass.changed || dropped || !compact };
}

/**
 * A lone surrogate (only possible through an escape, so only looked for when the text has a backslash) or a
 * member named twice (unless the caller proved there is none), or undefined.
 */
function textProblem(value: unknown, text: string, noRepeatedNames = false): Invalid | undefined {
  if (text.indexOf('\\') !== -1) {
    const at = findLoneSurrogate(value);
    if (at !== undefined) {
      return invalid('invalid_unicode', at, 'wellFormed', 'holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which UTF-8 cannot store');
    }
  }
  if (!noRepeatedNames) {
    const repeated = findDuplicateName(text);
    if (repeated) {
      return invalid('ambiguous_json', repeated.path, 'uniqueNames', `member ${JSON.stringify(repeated.name)} appears more than once in the same object; parsers disagree on which value counts`);
    }
  }
  return undefined;
}

function dropUnknownFields(o: Record<string, unknown>): boolean {
  let dropped = false;
  for (const [path, known] of Object.entries(KNOWN_FIELDS)) {
    const target = path === '' ? o : path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
    if (typeof target !== 'object' || target === null) continue;
    for (const key of Object.keys(target)) {
      if (!known.has(key)) {
        delete (target as Record<string, unknown>)[key];
        dropped = true;
      }
    }
  }
  return dropped;
}

function invalid(reason: ReasonCode, path: string, rule: string, message: string): Invalid {
  return { ok: false, reason, errors: [{ path, rule, message }] };
}
