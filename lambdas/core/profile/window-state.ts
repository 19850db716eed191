/**
 * The tumbling-window state of one shard: the not-yet-written events of each user, in a compact text form,
 * plus what the exactly-once check needs (the sequence range the state covers and where users were flushed).
 *
 * Lambda hands the state back on every invocation of the window and caps it at 1 MB per shard; a larger
 * state ends the window early. Rather than rely on that, the state flushes itself before it would outgrow
 * its budget: first the users with the largest share (few writes free the most room), and any user whose
 * pending events reach `maxEventsPerUser`. Every flush decision is taken before a record is added and
 * depends only on the records from the start of the window, so a window rebuilt after a failure flushes at
 * the same records and its writes are recognized as already applied.
 */
import { compareSequence } from './model';
import { decodeEvents, encodeEvent, encodedIds, type EncodeContext, type ProfileEvent, type UserCursor } from './profile-event';

/** The JSON form returned to Lambda as `state`. */
export interface WindowStateJson {
  /** Format version. */
  v?: 1;
  /** Base of the relative event times. */
  t0?: number;
  /** Sequence number of the first record processed into this state (inclusive lower bound). */
  s0?: string;
  /** Sequence number of the last record processed into this state (upper bound of every write). */
  last?: string;
  /** Device/locale dictionary. */
  x?: string[];
  /** user id -> '~'-joined encoded events. */
  u?: Record<string, string>;
  /** Sequence number at which users were flushed -> those users (their later events start after it). */
  fl?: Record<string, string[]>;
  /**
   * Sequence number at which every pending user was flushed: any user's later events start after it (it
   * replaces the `fl` entries before it, which is what keeps `fl` from filling the state).
   */
  fa?: string;
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

/** One user's pending events with the sequence range that bounds them in the shard. */
export interface Segment {
  readonly userId: string;
  readonly shardId: string;
  /**
   * Exclusive lower bound of the events (the user was flushed at this record earlier in the window);
   * undefined when the events start at `first`.
   */
  readonly after?: string;
  /** First record of the state (inclusive), used when `after` is undefined. */
  readonly first: string;
  /** Last record processed: every event of this user from the shard up to it is in this segment or applied. */
  readonly to: string;
  readonly events: ProfileEvent[];
  /**
   * Sequence number of each event, when every pending event of the user was added in this invocation (always
   * so in per-batch mode): the merge then filters event by event instead of by range.
   */
  readonly sequenceNumbers?: string[];
}

export type AddOutcome = 'added' | 'duplicate';

const EMPTY_STATE_BYTES = 64;

/**
 * Id hashes of each user's pending text, kept across invocations of one sandbox: Lambda hands the state back
 * as new JSON each time, and re-reading a heavy user's ids from the text on every invocation would dominate.
 * An entry is used only for the very text it was built from (compared in full, which is far cheaper than
 * re-reading it), so a state rolled back after a failed invocation never meets ids it does not have.
 */
const idCache = new Map<string, { text: string; ids: Set<string> }>();
const ID_CACHE_MAX_USERS = 50_000;

export class WindowState {
  private readonly json: Required<Omit<WindowStateJson, 's0' | 'last' | 'fa'>> & Pick<WindowStateJson, 's0' | 'last' | 'fa'>;
  private readonly ctx: EncodeContext;
  private readonly cursors = new Map<string, UserCursor>();
  private readonly ids = new Map<string, Set<string>>();
  /** Sequence numbers of the events of users whose pending events were all added in this invocation. */
  private readonly sequences = new Map<string, string[]>();
  private flushedAfter?: Map<string, string>;

  constructor(
    state: WindowStateJson | undefined,
    private readonly limits: WindowStateLimits = DEFAULT_STATE_LIMITS,
  ) {
    const s = state && state.v === 1 ? state : {};
    this.json = { v: 1, t0: s.t0 ?? 0, s0: s.s0, last: s.last, x: s.x ?? [], u: s.u ?? {}, fl: s.fl ?? {}, b: s.b ?? EMPTY_STATE_BYTES, ...(s.fa ? { fa: s.fa } : {}) };
    this.ctx = { t0: this.json.t0, dict: this.json.x, dictIndex: new Map(this.json.x.map((v, i) => [v, i])) };
  }

  get isEmpty(): boolean {
    return this.json.s0 === undefined;
  }

  /** Upper bound of the state's JSON length. */
  get estimatedBytes(): number {
    return this.json.b + this.fixedBytes();
  }

  get userCount(): number {
    return Object.keys(this.json.u).length;
  }

  get lastSequence(): string | undefined {
    return this.json.last;
  }

  toJSON(): WindowStateJson {
    return this.json;
  }

  /** Records that a record was processed (valid, duplicate or malformed): it moves the state's upper bound. */
  advance(sequenceNumber: string): void {
    if (this.json.s0 === undefined) this.json.s0 = sequenceNumber;
    // A shard delivers records in sequence order.
    this.json.last = sequenceNumber;
  }

  /** Whether this user already has an event with this id hash pending in the state. */
  hasPending(userId: string, idHash: string): boolean {
    return this.idSet(userId).has(idHash);
  }

  /**
   * Users to flush before adding `event` for `userId`, or an empty list. Deterministic: depends only on
   * the state's content and the event.
   */
  flushBefore(userId: string, event: ProfileEvent): string[] {
    // Pending ids are unique, so their number is the user's number of pending events.
    if (this.idSet(userId).size >= this.limits.maxEventsPerUser) return [userId];
    const add = this.bytesToAdd(userId, event);
    const fixed = this.fixedBytes();
    if (this.json.b + fixed + add <= this.limits.budgetBytes) return [];
    // Largest pending users first (one write frees the most room, and they would be written again at the
    // window's end anyway), until the state is back to 90% of its budget.
    const target = this.limits.budgetBytes * 0.9 - add - fixed;
    // The flush point itself is recorded in `fl`: its sequence number and brackets.
    let bytes = this.json.b + (this.json.last?.length ?? 56) + 8;
    // Only users holding at least 1/500 of the budget compete first (sorting thousands of one-event users is
    // the slow part); everyone competes when those are not enough.
    const large: [string, string][] = [];
    const all: [string, string][] = [];
    let largeBytes = 0;
    for (const user in this.json.u) {
      const text = this.json.u[user]!;
      all.push([user, text]);
      if (text.length >= this.limits.budgetBytes / 500) {
        large.push([user, text]);
        largeBytes += text.length;
      }
    }
    const users = largeBytes >= bytes - target ? large : all;
    users.sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
    const out: string[] = [];
    for (const [user, text] of users) {
      if (bytes <= target) break;
      out.push(user);
      bytes -= this.userBytes(user, text) - (user.length + 3); // the flush record keeps the id
    }
    // When flushing the largest users cannot make room (the flush records and dictionary have grown), every
    // pending user is flushed: that flush point replaces all the flush records.
    if (bytes > target && users === all) return all.map(([user]) => user);
    if (bytes > target) return Object.keys(this.json.u);
    return out;
  }

  add(userId: string, event: ProfileEvent, sequenceNumber?: string): AddOutcome {
    if (this.json.s0 === undefined) throw new Error('advance() must be called before add()');
    if (this.json.t0 === 0) {
      this.json.t0 = event.t;
      this.ctx.t0 = event.t;
    }
    const ids = this.idSet(userId);
    if (ids.has(event.id)) return 'duplicate';
    const before = this.json.u[userId];
    const dictBefore = this.ctx.dict.length;
    const encoded = encodeEvent(event, this.ctx, this.cursor(userId));
    let added = 0;
    for (let i = dictBefore; i < this.ctx.dict.length; i++) added += JSON.stringify(this.ctx.dict[i]).length + 1;
    if (before === undefined) {
      if (sequenceNumber !== undefined) this.sequences.set(userId, [sequenceNumber]);
      this.json.u[userId] = encoded;
      added += userId.length + 2 + encoded.length + 4;
    } else {
      this.json.u[userId] = `${before}~${encoded}`;
      const seqs = this.sequences.get(userId);
      if (seqs && sequenceNumber !== undefined) seqs.push(sequenceNumber);
      else this.sequences.delete(userId);
      added += encoded.length + 1;
    }
    this.json.b += added;
    ids.add(event.id);
    const cached = idCache.get(userId);
    if (cached && cached.ids === ids) {
      cached.text = this.json.u[userId]!;
    } else {
      if (idCache.size >= ID_CACHE_MAX_USERS) idCache.clear();
      idCache.set(userId, { text: this.json.u[userId]!, ids });
    }
    return 'added';
  }

  /** Segments of the given users (default: every user with pending events). */
  segments(shardId: string, userIds?: readonly string[]): Segment[] {
    const first = this.json.s0;
    const to = this.json.last;
    if (first === undefined || to === undefined) return [];
    const users = userIds ?? Object.keys(this.json.u);
    const out: Segment[] = [];
    for (const userId of users) {
      const text = this.json.u[userId];
      if (text === undefined) continue;
      const after = this.flushIndex().get(userId) ?? this.json.fa;
      const sequenceNumbers = this.sequences.get(userId);
      out.push({
        userId,
        shardId,
        first,
        to,
        ...(after !== undefined ? { after } : {}),
        events: decodeEvents(text, this.json.t0, this.json.x),
        ...(sequenceNumbers ? { sequenceNumbers } : {}),
      });
    }
    return out;
  }

  /** Drops users whose segments were written; their later events in this window start after `last`. */
  markFlushed(userIds: readonly string[]): void {
    const at = this.json.last;
    if (at === undefined || userIds.length === 0) return;
    const list = (this.json.fl[at] ??= []);
    if (list.length === 0) this.json.b += JSON.stringify(at).length + 4;
    for (const userId of userIds) {
      const text = this.json.u[userId];
      if (text === undefined) continue;
      this.json.b -= this.userBytes(userId, text);
      delete this.json.u[userId];
      this.ids.delete(userId);
      idCache.delete(userId);
      this.cursors.delete(userId);
      this.sequences.delete(userId);
      list.push(userId);
      this.json.b += userId.length + 3;
      this.flushIndex().set(userId, at);
    }
    if (Object.keys(this.json.u).length === 0) {
      // Everyone pending was flushed at `at`: one marker replaces the flush records, and the dictionary
      // (referenced only by pending events) starts over.
      this.json.fa = at;
      this.json.fl = {};
      this.json.x = [];
      this.ctx.dict = this.json.x;
      this.ctx.dictIndex.clear();
      this.cursors.clear();
      this.flushedAfter = new Map();
      this.json.b = 0;
      this.json.b = JSON.stringify(this.json).length;
    }
  }

  /** The members besides users, dictionary and flush points: version, times, bounds and the estimate itself. */
  private fixedBytes(): number {
    // The next record can lengthen `last` (and set `s0`) by up to its own sequence number's length.
    return 120 + 2 * Math.max(this.json.s0?.length ?? 0, this.json.last?.length ?? 0, 56) + 20;
  }

  private userBytes(userId: string, text: string): number {
    // User ids follow the contract's pattern (checked when read): no JSON escaping.
    return userId.length + 2 + text.length + 4;
  }

  private bytesToAdd(userId: string, event: ProfileEvent): number {
    // An upper bound without encoding: fields at their longest plus separators.
    const base = 10 + 10 + 9 + (event.content?.length ?? 0) + 4 + event.session.length + 12 + (event.currency ? 3 : 0);
    const dict = (event.device?.length ?? 0) + (event.locale?.length ?? 0) + (event.category?.length ?? 0) + 12;
    return base + dict + (this.json.u[userId] === undefined ? userId.length + 6 : 0);
  }

  private idSet(userId: string): Set<string> {
    let set = this.ids.get(userId);
    if (set) return set;
    const text = this.json.u[userId] ?? '';
    const cached = idCache.get(userId);
    if (cached && text !== '' && cached.text === text) {
      set = cached.ids;
    } else {
      set = new Set(encodedIds(text));
    }
    this.ids.set(userId, set);
    return set;
  }

  private cursor(userId: string): UserCursor {
    let c = this.cursors.get(userId);
    if (!c) {
      // A user's text from an earlier invocation: its last event's session/device/locale are not decoded
      // here, so the next event states them again.
      c = {};
      this.cursors.set(userId, c);
    }
    return c;
  }

  private flushIndex(): Map<string, string> {
    if (!this.flushedAfter) {
      this.flushedAfter = new Map();
      const points = Object.keys(this.json.fl).sort(compareSequence);
      for (const at of points) for (const userId of this.json.fl[at]!) this.flushedAfter.set(userId, at);
    }
    return this.flushedAfter;
  }
}
