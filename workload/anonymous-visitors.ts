/**
 * Anonymous visitors in a workload: most traffic a personalization service sees comes from people who have
 * not logged in. A seeded share of the workload's users arrive as anonymous visitors: their first events carry
 * only an anonymous id (a device id, which is then their partition key). Some of them log in after a few events:
 * an identify event links the anonymous id to the user, and they go on as the user; the others never log in and
 * keep an anonymous profile.
 *
 * It transforms the records of a Workload (workload/generator.ts) as they are drawn, so it works on an endless
 * stream: the same seed and the same records give the same output, however the records are split into calls.
 * A resend of an anonymous event is sent as the same bytes as its first copy. Invalid records pass unchanged.
 *
 * Where the identify event goes:
 * - `at-login` (what a site sends): right before the visitor's first event as the user, with its time and session
 *   (a login mid-visit keeps the session id), on the user's partition key;
 * - `anywhere` (drills): at a seeded place before, among or after the visitor's events (so it reaches the
 *   aggregator before, during or after the anonymous events, from another shard), some sent twice, with the time
 *   of the visitor's first event.
 *
 * Identify events and their second copies are records of kind 'valid' and 'duplicate': they are valid events.
 */
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import { seededRandom } from '../core/seeded-random';
import type { WorkloadRecord } from './generator';

/** A record of the workload with anonymous visitors: its event may name only an anonymous id. */
export interface VisitorRecord {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly event?: BehaviouralEvent;
  readonly kind: WorkloadRecord['kind'];
}

export interface AnonymousVisitorOptions {
  /** Share of the users who arrive as anonymous visitors, decided at a user's first event, 0..1. */
  readonly share: number;
  /** Share of the anonymous visitors who log in after a few events (the others never do). @default 0.7 */
  readonly loginShare?: number;
  /** At most this many events before a visitor logs in (at least one; uniform). @default 4 */
  readonly maxEventsBeforeLogin?: number;
  /** Where identify events go (see the module comment). @default 'at-login' */
  readonly identify?: 'at-login' | 'anywhere';
  /** `anywhere`: an identify event is sent within this many records after the visitor's first event. @default 600 */
  readonly identifySpread?: number;
  /** PRNG seed. @default 42 */
  readonly seed?: number;
}

interface Visitor {
  readonly anonymousId: string;
  /** Events sent anonymously before the login; Infinity for a visitor who never logs in. */
  readonly eventsBeforeLogin: number;
  sent: number;
  identified: boolean;
}

export interface VisitorStats {
  /** Users who arrived as anonymous visitors. */
  readonly visitors: number;
  /** Visitors whose identify event was sent. */
  readonly identified: number;
  /** Anonymous events sent (first copies). */
  readonly anonymousEvents: number;
}

export class AnonymousVisitors {
  private readonly random: () => number;
  private readonly options: Required<AnonymousVisitorOptions>;
  /** Per user id: undefined when the user is known from the start. */
  private readonly visitors = new Map<string, Visitor | undefined>();
  /** The anonymous version of every event sent anonymously, by event id (resends send the same bytes). */
  private readonly converted = new Map<string, VisitorRecord>();
  /** `anywhere`: identify records waiting for their place, by the index of the record they go before. */
  private readonly pending: { at: number; record: VisitorRecord }[] = [];
  private index = 0;
  private anonymousEvents = 0;

  constructor(options: AnonymousVisitorOptions) {
    if (!(options.share >= 0 && options.share <= 1)) throw new RangeError(`share must be from 0 to 1, got ${options.share}`);
    this.options = {
      share: options.share,
      loginShare: options.loginShare ?? 0.7,
      maxEventsBeforeLogin: Math.max(1, options.maxEventsBeforeLogin ?? 4),
      identify: options.identify ?? 'at-login',
      identifySpread: options.identifySpread ?? 600,
      seed: options.seed ?? 42,
    };
    this.random = seededRandom(this.options.seed ^ 0x2545f491);
  }

  /** The records to send instead of `records` (the next ones of the workload, in order). */
  apply(records: readonly WorkloadRecord[]): VisitorRecord[] {
    const out: VisitorRecord[] = [];
    for (const r of records) {
      this.index++;
      const converted = this.convert(r);
      // Identify events due here go before this record (one placed at a visitor's first event included).
      this.release(out);
      out.push(...converted);
    }
    return out;
  }

  /** `anywhere`: the identify records still waiting for their place (to send at the end of a finite run). */
  flush(): VisitorRecord[] {
    return this.pending.splice(0).map((p) => p.record);
  }

  stats(): VisitorStats {
    const visitors = [...this.visitors.values()].filter((v): v is Visitor => v !== undefined);
    return { visitors: visitors.length, identified: visitors.filter((v) => v.identified).length, anonymousEvents: this.anonymousEvents };
  }

  private release(out: VisitorRecord[]): void {
    for (let i = 0; i < this.pending.length; ) {
      if (this.pending[i]!.at <= this.index) out.push(this.pending.splice(i, 1)[0]!.record);
      else i++;
    }
  }

  private convert(r: WorkloadRecord): VisitorRecord[] {
    if (!r.event || (r.kind !== 'valid' && r.kind !== 'duplicate')) return [r];
    if (r.kind === 'duplicate') return [this.converted.has(r.event.event_id) ? { ...this.converted.get(r.event.event_id)!, kind: 'duplicate' } : r];
    const user = r.event.user_id;
    const visitor = this.visitorOf(user, r.event);
    if (!visitor) return [r];
    if (visitor.sent < visitor.eventsBeforeLogin) {
      visitor.sent++;
      this.anonymousEvents++;
      const { user_id: _known, ...rest } = r.event;
      const event: BehaviouralEvent = { ...rest, schema_version: '1.1', anonymous_id: visitor.anonymousId };
      const record: VisitorRecord = { data: Buffer.from(JSON.stringify(event)), partitionKey: visitor.anonymousId, event, kind: 'valid' };
      this.converted.set(event.event_id, record);
      return [record];
    }
    if (this.options.identify === 'at-login' && !visitor.identified) {
      visitor.identified = true;
      return [this.identifyRecord(user, visitor, r.event), r];
    }
    return [r];
  }

  private visitorOf(user: string, first: BehaviouralEvent): Visitor | undefined {
    if (this.visitors.has(user)) return this.visitors.get(user);
    if (this.random() >= this.options.share) {
      this.visitors.set(user, undefined);
      return undefined;
    }
    const logsIn = this.random() < this.options.loginShare;
    const visitor: Visitor = {
      anonymousId: `anon-${this.hex(16)}`,
      eventsBeforeLogin: logsIn ? 1 + Math.floor(this.random() * this.options.maxEventsBeforeLogin) : Infinity,
      sent: 0,
      identified: false,
    };
    this.visitors.set(user, visitor);
    if (logsIn && this.options.identify === 'anywhere') {
      // Before the first anonymous event (a quarter of them), or anywhere up to identifySpread records later;
      // a third of them twice (a login repeated, or a copy resent).
      visitor.identified = true;
      const record = this.identifyRecord(user, visitor, first);
      const place = () => this.index + (this.random() < 0.25 ? 0 : 1 + Math.floor(this.random() * this.options.identifySpread));
      this.pending.push({ at: place(), record });
      if (this.random() < 0.3) this.pending.push({ at: place(), record: { ...record, kind: 'duplicate' } });
    }
    return visitor;
  }

  private identifyRecord(user: string, visitor: Visitor, at: BehaviouralEvent): VisitorRecord {
    const event: BehaviouralEvent = {
      schema_version: '1.1',
      event_id: `identify-${visitor.anonymousId}`,
      user_id: user,
      anonymous_id: visitor.anonymousId,
      session_id: at.session_id,
      event_type: 'identify',
      event_time: at.event_time,
      ...(at.device ? { device: { ...at.device } } : {}),
    };
    return { data: Buffer.from(JSON.stringify(event)), partitionKey: user, event, kind: 'valid' };
  }

  private hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.random() * 16)];
    return s;
  }
}
