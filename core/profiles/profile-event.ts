/**
 * The slice of a validated event that profiles use, how it is read from a stream record, and its compact
 * text form inside the tumbling-window state (which Lambda caps at 1 MB per shard).
 */
import { ANONYMOUS_KEY_PREFIX, EVENT_TYPES, parseRfc3339, type BehaviouralEvent } from '../contract';
import { AFFINITY_WEIGHTS } from './model';

export interface ProfileEvent {
  /** Index of the event type in EVENT_TYPES. */
  type: number;
  /** Event time, epoch ms. */
  t: number;
  /** 48-bit hash of the event id, 8 base64url characters (the duplicate key within one user). */
  id: string;
  /** 48-bit hash of the session id (sessions are only compared within one user). */
  session: string;
  /** Content id of a content view (the only type whose content a profile keeps); of an identify event, the anonymous id it links. */
  content?: string;
  /** Category of an event that weighs on affinity. */
  category?: string;
  /** Value in thousandths of the currency unit (integers add up exactly in any order). */
  valueMilli?: number;
  currency?: string;
  /** 'type' or 'type:os' or 'type:os:app_version', each part percent-escaped. */
  device?: string;
  locale?: string;
}

const TYPE_INDEX = new Map<string, number>(EVENT_TYPES.map((t, i) => [t, i]));
const CONTENT_VIEW = EVENT_TYPES.indexOf('content_view');
const IDENTIFY_TYPE = EVENT_TYPES.indexOf('identify');

/** What readEventInto returns for a valid event whose producer withheld consent to personalization: not an error, skipped. */
export const NO_PERSONALIZATION_CONSENT = 'no_personalization_consent';
const TYPE_WEIGHT = EVENT_TYPES.map((t) => AFFINITY_WEIGHTS[t]);
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_CODES = Array.from(B64, (c) => c.charCodeAt(0));

/** The two 24-bit halves of the last `hash48` call (module scratch: no allocation per hash). */
let hashHi = 0;
let hashLo = 0;

/** cyrb53 (a fast, well-mixed 53-bit string hash), cut to 48 bits: sets hashHi and hashLo. */
function hash48(s: string): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // 24 bits from each half.
  hashHi = (h2 >>> 8) & 0xffffff;
  hashLo = h1 >>> 8;
}

/** The 8 base64url characters of a 48-bit hash given as two 24-bit halves. */
export function hashText(hi: number, lo: number): string {
  return String.fromCharCode(
    B64_CODES[(hi >>> 18) & 63]!, B64_CODES[(hi >>> 12) & 63]!, B64_CODES[(hi >>> 6) & 63]!, B64_CODES[hi & 63]!,
    B64_CODES[(lo >>> 18) & 63]!, B64_CODES[(lo >>> 12) & 63]!, B64_CODES[(lo >>> 6) & 63]!, B64_CODES[lo & 63]!,
  );
}

/** cyrb53 (a fast, well-mixed 53-bit string hash), cut to 48 bits and written as 8 base64url characters. */
export function shortHash(eventId: string): string {
  hash48(eventId);
  return hashText(hashHi, hashLo);
}

/** base64url character code -> 6-bit value, or -1. */
const B64_VALUES = new Int8Array(128).fill(-1);
B64_CODES.forEach((c, i) => (B64_VALUES[c] = i));

/** Value of 4 base64url characters of `s` from `at` (24 bits), or -1 when one is not base64url. */
export function hashHalfAt(s: string, at: number): number {
  let v = 0;
  for (let i = at; i < at + 4; i++) {
    const c = s.charCodeAt(i);
    const d = c < 128 ? B64_VALUES[c]! : -1;
    if (d < 0) return -1;
    v = (v << 6) | d;
  }
  return v;
}

function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 || c === 58 || c === 124 || c === 126) return true; // % : | ~
  }
  return false;
}
const escapePart = (s: string) => (needsEscape(s) ? s.replace(/[%:|~]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s);
const unescapePart = (s: string) => (s.includes('%') ? decodeURIComponent(s) : s);

export function encodeDevice(device: BehaviouralEvent['device']): string | undefined {
  if (!device || typeof device.type !== 'string') return undefined;
  let s = escapePart(device.type);
  if (typeof device.os === 'string' || typeof device.app_version === 'string') s += `:${escapePart(device.os ?? '')}`;
  if (typeof device.app_version === 'string') s += `:${escapePart(device.app_version)}`;
  return s;
}

export function decodeDevice(encoded: string): { type: string; os?: string; app_version?: string } {
  const [type, os, app] = encoded.split(':');
  const out: { type: string; os?: string; app_version?: string } = { type: unescapePart(type!) };
  if (os) out.os = unescapePart(os);
  if (app) out.app_version = unescapePart(app);
  return out;
}

export type ReadResult = { ok: true; userId: string; event: ProfileEvent } | { ok: false; reason: string };

/** The contract's user_id pattern, /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/: such an id needs no escaping as a JSON key, which the state's size estimate relies on. */
function isUserId(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 128) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    // . : @ - _ are allowed after the first character.
    if (!alnum && (i === 0 || (c !== 46 && c !== 58 && c !== 64 && c !== 45 && c !== 95))) return false;
  }
  return true;
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * One event read from a record, in a reusable object of fixed shape: the aggregation reads every record into
 * the same instance, so reading allocates nothing that outlives the record, and the ids stay numbers.
 */
export class EventScratch {
  userId = '';
  type = 0;
  t = 0;
  /** 24-bit halves of the event id hash. */
  idHi = 0;
  idLo = 0;
  /** 24-bit halves of the session id hash. */
  sessionHi = 0;
  sessionLo = 0;
  content: string | undefined = undefined;
  category: string | undefined = undefined;
  /** -1 when the event has no value. */
  valueMilli = -1;
  currency: string | undefined = undefined;
  device: string | undefined = undefined;
  locale: string | undefined = undefined;

  /** The ProfileEvent this scratch holds. */
  toEvent(): ProfileEvent {
    const event: ProfileEvent = { type: this.type, t: this.t, id: hashText(this.idHi, this.idLo), session: hashText(this.sessionHi, this.sessionLo) };
    if (this.content !== undefined) event.content = this.content;
    if (this.category !== undefined) event.category = this.category;
    if (this.valueMilli >= 0) {
      event.valueMilli = this.valueMilli;
      event.currency = this.currency;
    }
    if (this.device !== undefined) event.device = this.device;
    if (this.locale !== undefined) event.locale = this.locale;
    return event;
  }

  /** Loads a ProfileEvent (its id and session are 8-character hashes). Returns false when they are not. */
  fromEvent(userId: string, e: ProfileEvent): boolean {
    const idHi = hashHalfAt(e.id, 0);
    const idLo = hashHalfAt(e.id, 4);
    const sessionHi = hashHalfAt(e.session, 0);
    const sessionLo = hashHalfAt(e.session, 4);
    if (e.id.length !== 8 || e.session.length !== 8 || idHi < 0 || idLo < 0 || sessionHi < 0 || sessionLo < 0) return false;
    this.userId = userId;
    this.type = e.type;
    this.t = e.t;
    this.idHi = idHi;
    this.idLo = idLo;
    this.sessionHi = sessionHi;
    this.sessionLo = sessionLo;
    this.content = e.content;
    this.category = e.category;
    this.valueMilli = e.valueMilli ?? -1;
    this.currency = e.currency;
    if (this.valueMilli >= 0 && this.currency === undefined) this.currency = '';
    this.device = e.device;
    this.locale = e.locale;
    return true;
  }
}

/**
 * Reads a normalized event (already validated upstream) into `out`. Checks only what the aggregation relies
 * on, so a record that is not a validated event is reported instead of crashing it. Returns the reason a
 * value is not an event, or undefined when `out` holds it. Every field is read once: parsed events come in
 * many shapes, so each property access is a slow lookup.
 */
export function readEventInto(value: unknown, out: EventScratch): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not_an_object';
  const e = value as Partial<BehaviouralEvent>;
  // The subject: the user, else the anonymous visitor (contract 1.1).
  const user = e.user_id;
  const anonymous = e.anonymous_id;
  let userId: string;
  if (user !== undefined) {
    if (typeof user !== 'string' || !isUserId(user)) return 'user_id';
    userId = user;
  } else {
    if (typeof anonymous !== 'string' || !isUserId(anonymous)) return 'anonymous_id';
    userId = ANONYMOUS_KEY_PREFIX + anonymous;
  }
  const eventId = e.event_id;
  if (!isStr(eventId)) return 'event_id';
  const sessionId = e.session_id;
  if (!isStr(sessionId)) return 'session_id';
  const typeName = e.event_type;
  const type = typeof typeName === 'string' ? TYPE_INDEX.get(typeName) : undefined;
  if (type === undefined) return 'event_type';
  const time = e.event_time;
  const t = typeof time === 'string' ? parseRfc3339(time) : NaN;
  if (!Number.isFinite(t)) return 'event_time';
  const consent = e.consent;
  if (consent !== undefined && consent !== null && consent.personalization === false) return NO_PERSONALIZATION_CONSENT;
  if (type === IDENTIFY_TYPE && (user === undefined || typeof anonymous !== 'string' || !isUserId(anonymous))) return 'anonymous_id';
  out.userId = userId;
  out.type = type;
  out.t = t;
  hash48(eventId);
  out.idHi = hashHi;
  out.idLo = hashLo;
  hash48(sessionId);
  out.sessionHi = hashHi;
  out.sessionLo = hashLo;
  // Only what a feature uses is kept: the window state has 1 MB for every pending event of a shard.
  let content: string | undefined;
  if (type === CONTENT_VIEW) {
    const c = e.content_id;
    if (isStr(c)) content = c;
  } else if (type === IDENTIFY_TYPE) {
    content = anonymous as string;
  }
  out.content = content;
  const category = e.category;
  out.category = isStr(category) && TYPE_WEIGHT[type]! > 0 ? category : undefined;
  const v = e.value;
  const currency = e.currency;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && isStr(currency)) {
    out.valueMilli = Math.round(v * 1000);
    out.currency = currency;
  } else {
    out.valueMilli = -1;
    out.currency = undefined;
  }
  const device = e.device;
  out.device = device ? encodeDevice(device) || undefined : undefined;
  const context = e.context;
  const locale = context ? context.locale : undefined;
  out.locale = isStr(locale) ? locale : undefined;
  return undefined;
}

/**
 * Reads a normalized event (already validated upstream) into a ProfileEvent. Checks only what the
 * aggregation relies on, so a record that is not a validated event is reported instead of crashing it.
 */
export function readProfileEvent(value: unknown): ReadResult {
  const scratch = new EventScratch();
  const reason = readEventInto(value, scratch);
  if (reason !== undefined) return { ok: false, reason };
  return { ok: true, userId: scratch.userId, event: scratch.toEvent() };
}

// ------------------------------------------------------------------------------------ compact text form

/**
 * One event as text: fields separated by '|', events of a user separated by '~' (neither can occur in the
 * contract's ids, categories or locales; device parts are percent-escaped). Numbers are base 36; the event
 * time is relative to the state's t0. Session, device and locale are written only when they differ from
 * the user's previous event in the same invocation; categories, devices and locales go through the state's
 * dictionary:
 *
 *   type|t|id|content|category|session|valueMilli|currency|device|locale
 *
 * An empty session/device/locale field means "same as the previous event"; '-' means "none".
 */
export interface EncodeContext {
  t0: number;
  /** Dictionary of device and locale strings (stored in the state). */
  dict: string[];
  dictIndex: Map<string, number>;
}

export interface UserCursor {
  session?: string;
  device?: string;
  locale?: string;
}

function dictRef(ctx: EncodeContext, value: string | undefined): string {
  if (value === undefined) return '-';
  let i = ctx.dictIndex.get(value);
  if (i === undefined) {
    i = ctx.dict.length;
    ctx.dict.push(value);
    ctx.dictIndex.set(value, i);
  }
  return i.toString(36);
}

export function encodeEvent(e: ProfileEvent, ctx: EncodeContext, prev: UserCursor): string {
  const first = prev.session === undefined;
  const content = e.content ?? '';
  const category = e.category === undefined ? '' : dictRef(ctx, e.category);
  const session = e.session === prev.session ? '' : e.session;
  const value = e.valueMilli === undefined ? '' : e.valueMilli.toString(36);
  const currency = e.currency ?? '';
  const device = e.device === prev.device && !first ? '' : dictRef(ctx, e.device);
  const locale = e.locale === prev.locale && !first ? '' : dictRef(ctx, e.locale);
  prev.session = e.session;
  prev.device = e.device;
  prev.locale = e.locale;
  let out = `${e.type.toString(36)}|${(e.t - ctx.t0).toString(36)}|${e.id}`;
  // Trailing empty fields are left out.
  if (locale) return `${out}|${content}|${category}|${session}|${value}|${currency}|${device}|${locale}`;
  if (device) return `${out}|${content}|${category}|${session}|${value}|${currency}|${device}`;
  if (currency) return `${out}|${content}|${category}|${session}|${value}|${currency}`;
  if (value) return `${out}|${content}|${category}|${session}|${value}`;
  if (session) return `${out}|${content}|${category}|${session}`;
  if (category) return `${out}|${content}|${category}`;
  if (content) out += `|${content}`;
  return out;
}

/** A growable latin-1 byte buffer that events are encoded into (off the JavaScript heap: nothing to collect). */
export class ByteSink {
  bytes = new Uint8Array(1 << 16);
  length = 0;
  /** The text of the last event `encodeEventInto` could not write as latin-1 bytes. */
  wide = '';

  ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }
}

/** The previous event of a user in this invocation, as `encodeEventInto` compares with it. */
export interface ScratchCursor {
  started: boolean;
  sessionHi: number;
  sessionLo: number;
  device: string | undefined;
  locale: string | undefined;
}

/** A dictionary field: an index, '-' (none) or left empty (same as the previous event). */
const DICT_NONE = -1;
const OMIT = -2;

function dictIndexOf(ctx: EncodeContext, value: string | undefined): number {
  if (value === undefined) return DICT_NONE;
  let i = ctx.dictIndex.get(value);
  if (i === undefined) {
    i = ctx.dict.length;
    ctx.dict.push(value);
    ctx.dictIndex.set(value, i);
  }
  return i;
}

const BASE36 = Array.from('0123456789abcdefghijklmnopqrstuvwxyz', (c) => c.charCodeAt(0));

/** Writes `n` in base 36, as Number#toString(36) does. */
function writeNumber(sink: ByteSink, n: number): void {
  if (!Number.isSafeInteger(n)) {
    const s = n.toString(36);
    sink.ensure(s.length + 128);
    writeText(sink, s); // digits, '-', '.', letters: always latin-1
    return;
  }
  const b = sink.bytes;
  let at = sink.length;
  let v = n;
  if (v < 0) {
    b[at++] = 45; // '-'
    v = -v;
  }
  let digits = 1;
  for (let x = v; x >= 36; x = Math.floor(x / 36)) digits++;
  for (let i = at + digits - 1; i >= at; i--) {
    b[i] = BASE36[v % 36]!;
    v = Math.floor(v / 36);
  }
  sink.length = at + digits;
}

/** Writes `s` as latin-1 bytes; false (and nothing written) when it holds a character above U+00FF. */
function writeText(sink: ByteSink, s: string): boolean {
  const b = sink.bytes;
  const at = sink.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return false;
    b[at + i] = c;
  }
  sink.length = at + s.length;
  return true;
}

function writeHash(sink: ByteSink, hi: number, lo: number): void {
  const b = sink.bytes;
  const at = sink.length;
  b[at] = B64_CODES[(hi >>> 18) & 63]!;
  b[at + 1] = B64_CODES[(hi >>> 12) & 63]!;
  b[at + 2] = B64_CODES[(hi >>> 6) & 63]!;
  b[at + 3] = B64_CODES[hi & 63]!;
  b[at + 4] = B64_CODES[(lo >>> 18) & 63]!;
  b[at + 5] = B64_CODES[(lo >>> 12) & 63]!;
  b[at + 6] = B64_CODES[(lo >>> 6) & 63]!;
  b[at + 7] = B64_CODES[lo & 63]!;
  sink.length = at + 8;
}

function writeDict(sink: ByteSink, ref: number): void {
  if (ref === DICT_NONE) sink.bytes[sink.length++] = 45; // '-'
  else if (ref !== OMIT) writeNumber(sink, ref);
}

const dictText = (ref: number) => (ref === OMIT ? '' : ref === DICT_NONE ? '-' : ref.toString(36));

/**
 * Appends the text form of `e` (exactly what `encodeEvent` writes for the same event and cursor) to `sink`
 * as latin-1 bytes, and returns its length. When a field holds a character above U+00FF it writes nothing,
 * puts the text in `sink.wide` and returns -1.
 */
export function encodeEventInto(sink: ByteSink, e: EventScratch, ctx: EncodeContext, cur: ScratchCursor): number {
  const first = !cur.started;
  const category = e.category === undefined ? OMIT : dictIndexOf(ctx, e.category);
  const sessionChanged = first || e.sessionHi !== cur.sessionHi || e.sessionLo !== cur.sessionLo;
  const device = e.device === cur.device && !first ? OMIT : dictIndexOf(ctx, e.device);
  const locale = e.locale === cur.locale && !first ? OMIT : dictIndexOf(ctx, e.locale);
  cur.started = true;
  cur.sessionHi = e.sessionHi;
  cur.sessionLo = e.sessionLo;
  cur.device = e.device;
  cur.locale = e.locale;
  const content = e.content ?? '';
  const currency = e.currency ?? '';
  const value = e.valueMilli;
  // Trailing empty fields are left out: `last` is the last field written after the id (0: none).
  let last = 0;
  if (content !== '') last = 1;
  if (category !== OMIT) last = 2;
  if (sessionChanged) last = 3;
  if (value >= 0) last = 4;
  if (currency !== '') last = 5;
  if (device !== OMIT) last = 6;
  if (locale !== OMIT) last = 7;

  // Safe integers take at most 12 characters; anything longer makes room for itself.
  sink.ensure(128 + content.length + currency.length);
  const start = sink.length;
  writeNumber(sink, e.type);
  sink.bytes[sink.length++] = 124; // '|'
  writeNumber(sink, e.t - ctx.t0);
  sink.bytes[sink.length++] = 124;
  writeHash(sink, e.idHi, e.idLo);
  let ok = true;
  if (last >= 1) {
    sink.bytes[sink.length++] = 124;
    ok = writeText(sink, content);
  }
  if (ok && last >= 2) {
    sink.bytes[sink.length++] = 124;
    if (category !== OMIT) writeNumber(sink, category);
  }
  if (ok && last >= 3) {
    sink.bytes[sink.length++] = 124;
    if (sessionChanged) writeHash(sink, e.sessionHi, e.sessionLo);
  }
  if (ok && last >= 4) {
    sink.bytes[sink.length++] = 124;
    if (value >= 0) writeNumber(sink, value);
  }
  if (ok && last >= 5) {
    sink.bytes[sink.length++] = 124;
    ok = writeText(sink, currency);
  }
  if (ok && last >= 6) {
    sink.bytes[sink.length++] = 124;
    writeDict(sink, device);
  }
  if (ok && last >= 7) {
    sink.bytes[sink.length++] = 124;
    writeDict(sink, locale);
  }
  if (ok) return sink.length - start;
  sink.length = start;
  const fields = [
    e.type.toString(36),
    (e.t - ctx.t0).toString(36),
    hashText(e.idHi, e.idLo),
    content,
    category === OMIT ? '' : category.toString(36),
    sessionChanged ? hashText(e.sessionHi, e.sessionLo) : '',
    value >= 0 ? value.toString(36) : '',
    currency,
    dictText(device),
    dictText(locale),
  ];
  sink.wide = fields.slice(0, 3 + last).join('|');
  return -1;
}

/** Decodes the '~'-joined events of one user. */
export function decodeEvents(text: string, t0: number, dict: readonly string[]): ProfileEvent[] {
  if (text === '') return [];
  const out: ProfileEvent[] = [];
  let session = '';
  let device: string | undefined;
  let locale: string | undefined;
  for (const line of text.split('~')) {
    const f = line.split('|');
    if (f[5]) session = f[5];
    if (f[8]) device = f[8] === '-' ? undefined : dict[parseInt(f[8], 36)];
    if (f[9]) locale = f[9] === '-' ? undefined : dict[parseInt(f[9], 36)];
    const e: ProfileEvent = { type: parseInt(f[0]!, 36), t: t0 + parseInt(f[1]!, 36), id: f[2]!, session };
    if (f[3]) e.content = f[3];
    if (f[4]) e.category = dict[parseInt(f[4], 36)];
    if (f[6]) e.valueMilli = parseInt(f[6], 36);
    if (f[7]) e.currency = f[7];
    if (device !== undefined) e.device = device;
    if (locale !== undefined) e.locale = locale;
    out.push(e);
  }
  return out;
}

/** The id hashes of a user's encoded events, without decoding the rest. */
export function encodedIds(text: string): string[] {
  if (text === '') return [];
  const ids: string[] = [];
  let start = 0;
  for (;;) {
    const a = text.indexOf('|', start);
    const b = text.indexOf('|', a + 1);
    ids.push(text.slice(b + 1, b + 9));
    const next = text.indexOf('~', b);
    if (next < 0) return ids;
    start = next + 1;
  }
}
