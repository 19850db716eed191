/**
 * The window codec: the compact text form of a user's pending events inside the tumbling-window state
 * (which Lambda caps at 1 MB per shard), written either as a string (`encodeEvent`) or as latin-1 bytes
 * into a `ByteSink` without allocating (`encodeEventInto`, the per-record path), and read back by
 * `decodeEvents`.
 */
import { B64_CODES, hashText } from './event-hash';
import type { EventScratch, ProfileEvent } from './profile-event';

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
