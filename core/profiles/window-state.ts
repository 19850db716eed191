/**
 * The tumbling-window state of one shard: the not-yet-written events of each user, in a compact text form
 * (window-codec.ts). Lambda hands the state back on every invocation of the window and caps it at 1 MB per
 * shard; flush-policy.ts decides when users are written before the window ends.
 *
 * Its parts: the JSON form returned to Lambda (`u`: user -> text), the users touched in this invocation
 * (`PendingUser`), their id sets (id-set.ts, reused across invocations through the context's id cache,
 * id-cache.ts) and the events encoded in this invocation (event-arena.ts). A state is used by one
 * invocation; everything it keeps longer lives in the AggregationContext it is given.
 */
import { AggregationContext } from './aggregation-context';
import { EventArena } from './event-arena';
import { hashHalfAt } from './event-hash';
import { DEFAULT_STATE_LIMITS, EMPTY_STATE_BYTES, eventBytesBound, FIXED_STATE_BYTES, userBytes, usersToFlush, type WindowStateLimits } from './flush-policy';
import { IdSet } from './id-set';
import { EventScratch, type ProfileEvent } from './profile-event';
import { decodeEvents, type EncodeContext, type ScratchCursor } from './window-codec';
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

/** One user's pending events. */
export interface Segment {
  readonly userId: string;
  readonly events: ProfileEvent[];
}

export type AddOutcome = 'added' | 'duplicate';

const NO_USERS: readonly string[] = Object.freeze([]);

/**
 * One user's pending events in this invocation: the text from earlier invocations (or from the last time
 * this state wrote its text out) plus the events encoded since, held in the state's arena until the text
 * is needed.
 */
class PendingUser implements ScratchCursor {
  /** Whether the user has pending events (a key in the state's `u`). */
  exists: boolean;
  /** The user's text as of the last write-out ('' when none). */
  text: string;
  /** First and last event encoded since (indexes into the state's arena), -1 when none. */
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
  private readonly arena: EventArena;
  private readonly scratch = new EventScratch();

  /**
   * @param context the caches this state may reuse and refill: the shard's context in a handler; a fresh
   *   one (nothing reused) by default.
   */
  constructor(
    state: WindowStateJson | undefined,
    private readonly limits: WindowStateLimits = DEFAULT_STATE_LIMITS,
    private readonly context: AggregationContext = new AggregationContext(),
  ) {
    const s = state && state.v === 1 ? state : {};
    this.json = { v: 1, t0: s.t0 ?? 0, x: s.x ?? [], u: s.u ?? {}, b: s.b ?? EMPTY_STATE_BYTES };
    this.ctx = { t0: this.json.t0, dict: this.json.x, dictIndex: new Map(this.json.x.map((v, i) => [v, i])) };
    this.arena = new EventArena(context.joinBuffer);
  }

  /** Upper bound of the state's JSON length. */
  get estimatedBytes(): number {
    return this.json.b + FIXED_STATE_BYTES;
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
    const add = eventBytesBound(e, user.exists ? undefined : user.userId);
    if (this.json.b + FIXED_STATE_BYTES + add <= this.limits.budgetBytes) return NO_USERS;
    this.writeOut();
    return usersToFlush(this.json.u, this.json.b, add, this.limits);
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
    const length = this.arena.append(e, this.ctx, user, user.tail);
    const index = this.arena.last;
    let added = 0;
    for (let i = dictBefore; i < this.ctx.dict.length; i++) added += JSON.stringify(this.ctx.dict[i]).length + 1;
    if (!user.exists) {
      user.exists = true;
      this.json.u[user.userId] = '';
      if (this.userTotal !== undefined) this.userTotal++;
      added += userBytes(user.userId, length);
    } else {
      added += length + 1;
    }
    if (user.head < 0) {
      user.head = index;
      user.added = length;
    } else {
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
      this.json.b -= userBytes(userId, user ? user.textLength : text.length);
      delete this.json.u[userId];
      if (this.userTotal !== undefined) this.userTotal--;
      this.users.delete(userId);
      this.context.idCache.delete(userId);
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

  /** Puts every user's text in the JSON form, and their id sets back in the context's cache. */
  private writeOut(): void {
    for (const user of this.users.values()) {
      this.writeOutUser(user);
      if (user.ids !== undefined && user.exists) {
        this.context.idCache.put(user.userId, user.text, user.ids);
        // Taken again (if the text still matches) when this state goes on.
        user.ids = undefined;
      }
    }
  }

  /** Joins the user's text with the events encoded since (one string per user, not one per event). */
  private writeOutUser(user: PendingUser): void {
    if (user.head < 0) return;
    const added = this.arena.text(user.head, user.tail, user.added);
    user.text = user.text === '' ? added : `${user.text}~${added}`;
    user.head = -1;
    user.tail = -1;
    user.added = 0;
    this.json.u[user.userId] = user.text;
  }

  /** Loads a ProfileEvent of the public API into the scratch the per-record path works on. */
  private load(userId: string, event: ProfileEvent): EventScratch {
    if (!this.scratch.fromEvent(userId, event)) throw new InputError('an event id and session must be 8-character hashes (shortHash)');
    return this.scratch;
  }

  private idSet(user: PendingUser): IdSet {
    let set = user.ids;
    if (set !== undefined) return set;
    const text = user.text;
    // Taken out of the cache while this state may add to it; writeOut() puts it back with the text it then matches.
    set = (text === '' ? undefined : this.context.idCache.take(user.userId, text)) ?? IdSet.fromText(text);
    user.ids = set;
    return set;
  }
}

export type { PendingUser };
