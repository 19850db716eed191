/**
 * The slice of a validated event that profiles use, how it is read from a stream record, and its compact
 * text form inside the tumbling-window state (which Lambda caps at 1 MB per shard).
 */
import { EVENT_TYPES, parseRfc3339, type BehaviouralEvent } from '../contract';
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
  /** Content id of a content view (the only type whose content a profile keeps). */
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
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_CODES = Array.from(B64, (c) => c.charCodeAt(0));

/** cyrb53 (a fast, well-mixed 53-bit string hash), cut to 48 bits and written as 8 base64url characters. */
export function shortHash(eventId: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < eventId.length; i++) {
    const c = eventId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // 24 bits from each half.
  const hi = (h2 >>> 8) & 0xffffff;
  const lo = h1 >>> 8;
  // One allocation instead of seven intermediate strings: this runs twice per record.
  return String.fromCharCode(
    B64_CODES[(hi >>> 18) & 63]!, B64_CODES[(hi >>> 12) & 63]!, B64_CODES[(hi >>> 6) & 63]!, B64_CODES[hi & 63]!,
    B64_CODES[(lo >>> 18) & 63]!, B64_CODES[(lo >>> 12) & 63]!, B64_CODES[(lo >>> 6) & 63]!, B64_CODES[lo & 63]!,
  );
}

const SPECIAL = /[%:|~]/;
const escapePart = (s: string) => (SPECIAL.test(s) ? s.replace(/[%:|~]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`) : s);
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

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
/** The contract's user_id pattern: such an id needs no escaping as a JSON key, which the state's size estimate relies on. */
const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/**
 * Reads a normalized event (already validated upstream) into a ProfileEvent. Checks only what the
 * aggregation relies on, so a record that is not a validated event is reported instead of crashing it.
 */
export function readProfileEvent(value: unknown): ReadResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not_an_object' };
  const e = value as Partial<BehaviouralEvent>;
  if (!isStr(e.user_id) || e.user_id.length > 128 || !USER_ID.test(e.user_id)) return { ok: false, reason: 'user_id' };
  if (!isStr(e.event_id)) return { ok: false, reason: 'event_id' };
  if (!isStr(e.session_id)) return { ok: false, reason: 'session_id' };
  const type = TYPE_INDEX.get(e.event_type as string);
  if (type === undefined) return { ok: false, reason: 'event_type' };
  const t = typeof e.event_time === 'string' ? parseRfc3339(e.event_time) : NaN;
  if (!Number.isFinite(t)) return { ok: false, reason: 'event_time' };
  const event: ProfileEvent = { type, t, id: shortHash(e.event_id), session: shortHash(e.session_id) };
  // Only what a feature uses is kept: the window state has 1 MB for every pending event of a shard.
  if (type === CONTENT_VIEW && isStr(e.content_id)) event.content = e.content_id;
  if (isStr(e.category) && AFFINITY_WEIGHTS[e.event_type as keyof typeof AFFINITY_WEIGHTS] > 0) event.category = e.category;
  if (typeof e.value === 'number' && Number.isFinite(e.value) && e.value >= 0 && isStr(e.currency)) {
    event.valueMilli = Math.round(e.value * 1000);
    event.currency = e.currency;
  }
  const device = encodeDevice(e.device);
  if (device) event.device = device;
  if (e.context && isStr(e.context.locale)) event.locale = e.context.locale;
  return { ok: true, userId: e.user_id, event };
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
