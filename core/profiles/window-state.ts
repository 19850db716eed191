/**
 * The tumbling-window state of one shard: the not-yet-written events of each user, in a compact text form.
 *
 * Lambda hands the state back on every invocation of the window and caps it at 1 MB per shard; a larger
 * state ends the window early. Rather than rely on that, the state flushes itself before it would outgrow
 * its budget: first the users with the largest share (few writes free the most room), and any user whose
 * pending events reach `maxEventsPerUser`. Where a window is cut does not matter for correctness: the merge
 * recognizes every event applied before by its id (see ledger.ts and merge.ts).
 */
import { ByteSink, decodeEvents, encodeEventInto, EventScratch, hashHalfAt, type EncodeContext, type ProfileEvent, type ScratchCursor } from './profile-event';
import { InputError } from '../errors';

/** The JSON form returned to Lambda as `state`. */
export interface WindowStateJson {
  /** Format version. */
  v?: 1;
  /** Base of the relative event times. */
  t0?: number;
  /** Device/locale dictionary. */
  x?: string[];
  /** user id -> '~'-joined encoded events. */
  u?: Record<string, string>;
  /** Estimated JSON size in bytes. */
  b?: number;
}

export interface WindowStateLimits {
  /** Estimated JSON size the state never exceeds after a record is added. */
  readonly budgetBytes: number;
  /** Pending events of one user that trigger a flush of that user. */
  readonly maxEventsPerUser: number;
}

/** Lambda's limit is 1 MB (1,048,576 bytes) for the state; the rest is margin for the response envelope. */
export const DEFAULT_STATE_LIMITS: WindowStateLimits = { budgetBytes: 900_000, maxEventsPerUser: 512 };

/** One user's pending events. */
export interface Segment {
  readonly userId: string;
  readonly events: ProfileEvent[];
}

export type AddOutcome = 'added' | 'duplicate';

const EMPTY_STATE_BYTES = 64;
const NO_USERS: readonly string[] = Object.freeze([]);

/**
 * The id hashes of one user's pending events: an open-addressing set of 48-bit numbers in a typed array,
 * so checking and adding an id allocates nothing.
 */
class IdSet {
  private keys = new Float64Array(16).fill(-1);
  size = 0;

  has(hi: number, lo: number): boolean {
    const keys = this.keys;
    const mask = keys.length - 1;
    const key = hi * 0x1000000 + lo;
    for (let i = (hi ^ lo) & mask; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === key) return true;
      if (k === -1) return false;
    }
  }

  /** Adds an id that is not in the set. */
  add(hi: number, lo: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    this.insert(hi * 0x1000000 + lo, hi ^ lo);
    this.size++;
  }

  private insert(key: number, hash: number): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = hash & mask;
    while (keys[i] !== -1) i = (i + 1) & mask;
    keys[i] = key;
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Float64Array(old.length * 2).fill(-1);
    for (const key of old) {
      if (key === -1) continue;
      const hi = Math.floor(key / 0x1000000);
      this.insert(key, hi ^ (key - hi * 0x1000000));
    }
  }

  /** The ids of a user's encoded events (the third field of each '~'-separated event). */
  static fromText(text: string): IdSet {
    const set = new IdSet();
    if (text === '') return set;
    // About 30 characters an event: size the table once instead of growing it step by step.
    let capacity = 16;
    while (capacity < text.length / 15) capacity *= 2;
    if (capacity > 16) set.keys = new Float64Array(capacity).fill(-1);
    let start = 0;
    for (;;) {
      const a = text.indexOf('|', start);
      const b = text.indexOf('|', a + 1);
      const hi = hashHalfAt(text, b + 1);
      const lo = hashHalfAt(text, b + 5);
      if (hi >= 0 && lo >= 0 && !set.has(hi, lo)) set.add(hi, lo);
      const next = text.indexOf('~', b);
      if (next < 0) return set;
      start = next + 1;
    }
  }
}

/**
 * Id sets of each user's pending text, kept across invocations of one sandbox: Lambda hands the state back
 * as new JSON each time, and re-reading a heavy user's ids from the text on every invocation would dominate.
 * An entry is used only for the very text it was built from (compared in full, which is far cheaper than
 * re-reading it), and a state takes it out of the cache while it may change it, so a state rolled back
 * after a failed invocation never meets ids it does not have.
 */
const idCache = new Map<string, { text: string; ids: IdSet }>();
const ID_CACHE_MAX_USERS = 50_000;

/**
 * One user's pending events in this invocation: the text from earlier invocations (or from the last time
 * this state wrote its text out) plus the events encoded since, held as bytes in the state's buffer until
 * the text is needed.
 */
class PendingUser implements ScratchCursor {
  /** Whether the user has pending events (a key in the state's `u`). */
  exists: boolean;
  /** The user's text as of the last write-out ('' when none). */
  text: string;
  /** First and last event encoded since (indexes into the state's event list), -1 when none. */
  head = -1;
  tail = -1;
  /** Characters of the events encoded since, with their separators. */
  added = 0;
  ids: IdSet | undefined = undefined;
  started = false;
  sessionHi = 0;
  sessionLo = 0;
  device: string | undefined = undefined;
  locale: string | undefined = undefined;

  constructor(
    readonly userId: string,
    text: string | undefined,
  ) {
    this.exists = text !== undefined;
    this.text = text ?? '';
  }

  /** Length of the user's whole text. */
  get textLength(): number {
    if (this.head < 0) return this.text.length;
    return this.text === '' ? this.added : this.text.length + 1 + this.added;
  }
}

export class WindowState {
  private readonly json: Required<WindowStateJson>;
  private readonly ctx: EncodeContext;
  private readonly users = new Map<string, PendingUser>();
  private userTotal?: number;
  /** Events encoded in this invocation: bytes, and per event its range and the next event of its user. */
  private readonly sink = new ByteSink();
  private sinkView?: Buffer;
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private nexts = new Int32Array(1024);
  private events = 0;
  /** Text of the events that are not latin-1 (rare), by event index. */
  private wide?: Map<number, string>;
  private readonly scratch = new EventScratch();

  constructor(
    state: WindowStateJson | undefined,
    private readonly limits: WindowStateLimits = DEFAULT_STATE_LIMITS,
  ) {
    const s = state && state.v === 1 ? state : {};
    this.json = { v: 1, t0: s.t0 ?? 0, x: s.x ?? [], u: s.u ?? {}, b: s.b ?? EMPTY_STATE_BYTES };
    this.ctx = { t0: this.json.t0, dict: this.json.x, dictIndex: new Map(this.json.x.map((v, i) => [v, i])) };
  }

  /** Upper bound of the state's JSON length. */
  get estimatedBytes(): number {
    return this.json.b + this.fixedBytes();
  }

  get userCount(): number {
    return Object.keys(this.json.u).length;
  }

  toJSON(): WindowStateJson {
    this.writeOut();
    return this.json;
  }

  /** Whether this user already has an event with this id hash pending in the state. */
  hasPending(userId: string, idHash: string): boolean {
    const hi = hashHalfAt(idHash, 0);
    const lo = hashHalfAt(idHash, 4);
    if (idHash.length !== 8 || hi < 0 || lo < 0) return false;
    return this.idSet(this.user(userId)).has(hi, lo);
  }

  /**
   * Users to flush before adding `event` for `userId`, or an empty list. Deterministic: depends only on
   * the state's content and the event.
   */
  flushBefore(userId: string, event: ProfileEvent): string[] {
    const users = this.flushBeforeEvent(this.user(userId), this.load(userId, event));
    return users === NO_USERS ? [] : (users as string[]);
  }

  add(userId: string, event: ProfileEvent): AddOutcome {
    return this.addEvent(this.user(userId), this.load(userId, event));
  }

  // ------------------------------------------------------------------ the per-record path of the aggregation

  /** The pending user record of `userId` (created empty): look it up once per record. */
  user(userId: string): PendingUser {
    let user = this.users.get(userId);
    if (user === undefined) {
      user = new PendingUser(userId, this.textOf(userId));
      this.users.set(userId, user);
    }
    return user;
  }

  /** Whether the event in `e` is already pending for `user`. */
  hasPendingEvent(user: PendingUser, e: EventScratch): boolean {
    return this.idSet(user).has(e.idHi, e.idLo);
  }

  /** flushBefore for the event in `e`. */
  flushBeforeEvent(user: PendingUser, e: EventScratch): readonly string[] {
    // Pending ids are unique, so their number is the user's number of pending events.
    if (this.idSet(user).size >= this.limits.maxEventsPerUser) return [user.userId];
    const add = this.bytesToAdd(user, e);
    const fixed = this.fixedBytes();
    if (this.json.b + fixed + add <= this.limits.budgetBytes) return NO_USERS;
    this.writeOut();
    // Largest pending users first (one write frees the most room, and they would be written again at the
    // window's end anyway), until the state is back to 90% of its budget.
    const target = this.limits.budgetBytes * 0.9 - add - fixed;
    let bytes = this.json.b;
    // Only users holding at least 1/500 of the budget compete first (sorting thousands of one-event users is
    // the slow part); everyone competes when those are not enough.
    const large: [string, string][] = [];
    const all: [string, string][] = [];
    let largeBytes = 0;
    for (const userId in this.json.u) {
      const text = this.json.u[userId]!;
      all.push([userId, text]);
      if (text.length >= this.limits.budgetBytes / 500) {
        large.push([userId, text]);
        largeBytes += text.length;
      }
    }
    const users = largeBytes >= bytes - target ? large : all;
    users.sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const out: string[] = [];
    for (const [userId, text] of users) {
      if (bytes <= target) break;
      out.push(userId);
      bytes -= this.userBytes(userId, text.length);
    }
    // When flushing the largest users cannot make room (the dictionary has grown), every pending user is
    // flushed, which also empties the dictionary.
    if (bytes > target && users === all) return all.map(([userId]) => userId);
    if (bytes > target) return Object.keys(this.json.u);
    return out;
  }

  /** add for the event in `e`. `user` must be the current record of its user (markFlushed drops records). */
  addEvent(user: PendingUser, e: EventScratch): AddOutcome {
    if (this.json.t0 === 0) {
      this.json.t0 = e.t;
      this.ctx.t0 = e.t;
    }
    const ids = this.idSet(user);
    if (ids.has(e.idHi, e.idLo)) return 'duplicate';
    const dictBefore = this.ctx.dict.length;
    const index = this.events;
    if (index === this.starts.length) this.growEvents();
    const start = this.sink.length;
    let length = encodeEventInto(this.sink, e, this.ctx, user);
    if (length < 0) {
      length = this.sink.wide.length;
      (this.wide ??= new Map()).set(index, this.sink.wide);
    }
    this.starts[index] = start;
    this.ends[index] = this.sink.length;
    this.nexts[index] = -1;
    this.events++;
    let added = 0;
    for (let i = dictBefore; i < this.ctx.dict.length; i++) added += JSON.stringify(this.ctx.dict[i]).length + 1;
    if (!user.exists) {
      user.exists = true;
      this.json.u[user.userId] = '';
      if (this.userTotal !== undefined) this.userTotal++;
      added += user.userId.length + 2 + length + 4;
    } else {
      added += length + 1;
    }
    if (user.head < 0) {
      user.head = index;
      user.added = length;
    } else {
      this.nexts[user.tail] = index;
      user.added += length + 1;
    }
    user.tail = index;
    this.json.b += added;
    ids.add(e.idHi, e.idLo);
    return 'added';
  }

  // ------------------------------------------------------------------------------------------------------

  /** Segments of the given users (default: every user with pending events). */
  segments(userIds?: readonly string[]): Segment[] {
    const users = userIds ?? Object.keys(this.json.u);
    const out: Segment[] = [];
    for (const userId of users) {
      const user = this.users.get(userId);
      if (user) this.writeOutUser(user);
      const text = this.textOf(userId);
      if (text === undefined) continue;
      out.push({ userId, events: decodeEvents(text, this.json.t0, this.json.x) });
    }
    return out;
  }

  /** Drops users whose segments were written; their later events of this window are pending anew. */
  markFlushed(userIds: readonly string[]): void {
    if (userIds.length === 0) return;
    for (const userId of userIds) {
      const text = this.textOf(userId);
      if (text === undefined) continue;
      const user = this.users.get(userId);
      this.json.b -= this.userBytes(userId, user ? user.textLength : text.length);
      delete this.json.u[userId];
      if (this.userTotal !== undefined) this.userTotal--;
      this.users.delete(userId);
      idCache.delete(userId);
    }
    if (this.pendingUserCount() === 0) {
      // Everyone pending was flushed: the dictionary (referenced only by pending events) starts over.
      this.json.x = [];
      this.ctx.dict = this.json.x;
      this.ctx.dictIndex.clear();
      this.users.clear();
      this.json.b = 0;
      this.json.b = JSON.stringify(this.json).length;
    }
  }

  /** A user's text; `u` is a plain object, so names such as 'constructor' must not reach its prototype. */
  private textOf(userId: string): string | undefined {
    const text: unknown = this.json.u[userId];
    return typeof text === 'string' ? text : undefined;
  }

  /** Number of users in `u`, counted once and then kept (scanning a large `u` on every flush is slow). */
  private pendingUserCount(): number {
    this.userTotal ??= Object.keys(this.json.u).length;
    return this.userTotal;
  }

  /** Puts every user's text in the JSON form, and their id sets back in the cache. */
  private writeOut(): void {
    for (const user of this.users.values()) {
      this.writeOutUser(user);
      if (user.ids !== undefined && user.exists) {
        if (idCache.size >= ID_CACHE_MAX_USERS) idCache.clear();
        idCache.set(user.userId, { text: user.text, ids: user.ids });
        // Taken again (if the text still matches) when this state goes on.
        user.ids = undefined;
      }
    }
  }

  /** Joins the user's text with the events encoded since (one string per user, not one per event). */
  private writeOutUser(user: PendingUser): void {
    if (user.head < 0) return;
    let added: string;
    if (this.wide === undefined && user.head === user.tail) {
      added = this.sinkText(this.starts[user.head]!, this.ends[user.head]!);
    } else if (this.wide === undefined) {
      const scratch = joinBuffer(user.added);
      let at = 0;
      const bytes = this.sink.bytes;
      for (let i = user.head; i >= 0; i = this.nexts[i]!) {
        if (at > 0) scratch[at++] = 126; // '~'
        for (let k = this.starts[i]!, end = this.ends[i]!; k < end; k++) scratch[at++] = bytes[k]!;
      }
      added = scratch.toString('latin1', 0, at);
    } else {
      const parts: string[] = [];
      for (let i = user.head; i >= 0; i = this.nexts[i]!) {
        parts.push(this.wide.get(i) ?? Buffer.from(this.sink.bytes.buffer, this.sink.bytes.byteOffset + this.starts[i]!, this.ends[i]! - this.starts[i]!).toString('latin1'));
      }
      added = parts.join('~');
    }
    user.text = user.text === '' ? added : `${user.text}~${added}`;
    user.head = -1;
    user.tail = -1;
    user.added = 0;
    this.json.u[user.userId] = user.text;
  }

  /** Latin-1 text of a range of the event buffer. */
  private sinkText(start: number, end: number): string {
    const bytes = this.sink.bytes;
    if (this.sinkView === undefined || this.sinkView.buffer !== bytes.buffer) this.sinkView = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return this.sinkView.toString('latin1', start, end);
  }

  private growEvents(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.starts = grow(this.starts);
    this.ends = grow(this.ends);
    this.nexts = grow(this.nexts);
  }

  /** Loads a ProfileEvent of the public API into the scratch the per-record path works on. */
  private load(userId: string, event: ProfileEvent): EventScratch {
    if (!this.scratch.fromEvent(userId, event)) throw new InputError('an event id and session must be 8-character hashes (shortHash)');
    return this.scratch;
  }

  /** The members besides users and dictionary: version, base time and the estimate itself. */
  private fixedBytes(): number {
    return 60;
  }

  private userBytes(userId: string, textLength: number): number {
    // User ids follow the contract's pattern (checked when read): no JSON escaping.
    return userId.length + 2 + textLength + 4;
  }

  private bytesToAdd(user: PendingUser, e: EventScratch): number {
    // An upper bound without encoding: fields at their longest plus separators.
    const base = 10 + 10 + 9 + (e.content?.length ?? 0) + 4 + 8 + 12 + (e.currency ? 3 : 0);
    const dict = (e.device?.length ?? 0) + (e.locale?.length ?? 0) + (e.category?.length ?? 0) + 12;
    return base + dict + (user.exists ? 0 : user.userId.length + 6);
  }

  private idSet(user: PendingUser): IdSet {
    let set = user.ids;
    if (set !== undefined) return set;
    const text = user.text;
    const cached = text === '' ? undefined : idCache.get(user.userId);
    if (cached !== undefined && cached.text === text) {
      set = cached.ids;
      // Taken out while this state may add to it; writeOut() puts it back with the text it then matches.
      idCache.delete(user.userId);
    } else {
      set = IdSet.fromText(text);
    }
    user.ids = set;
    return set;
  }
}

/** A reusable buffer to join a user's new events in (one at a time). */
let joinScratch = Buffer.allocUnsafeSlow(1 << 16);
function joinBuffer(length: number): Buffer {
  if (joinScratch.length < length) joinScratch = Buffer.allocUnsafeSlow(Math.max(length, joinScratch.length * 2));
  return joinScratch;
}

export type { PendingUser };
