/**
 * The slice of a validated event that profiles use, and how it is read from a stream record. Its hashes
 * are in event-hash.ts, its device key in device-key.ts, its text form in the window state in
 * window-codec.ts.
 */
import { ANONYMOUS_KEY_PREFIX, EVENT_TYPES, parseRfc3339, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { encodeDevice } from './device-key';
import { hash48, hashHalfAt, hashHi, hashLo, hashText } from './event-hash';
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
  const id = hash48(eventId);
  out.idHi = hashHi(id);
  out.idLo = hashLo(id);
  const session = hash48(sessionId);
  out.sessionHi = hashHi(session);
  out.sessionLo = hashLo(session);
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
