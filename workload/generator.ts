/**
 * A seeded, realistic synthetic workload: Zipf-distributed users (a few heavy users, a long tail), sessions
 * with a typical event-type mix (browse -> view -> cart -> purchase), categories with per-user taste, and an
 * optional share of invalid and duplicate events. The same seed always gives the same events, so tests,
 * benchmarks, the load generator and `npm start` can reconcile their results against what was sent.
 */
import type { BehaviouralEvent, EventType } from '@personalization-data-platform/contract';

/** An event of a known user: every event this workload generates names its user. */
export type UserEvent = BehaviouralEvent & { user_id: string };
import { seededRandom } from '../core/seeded-random';

/** Samples ranks 0..n-1 with probability proportional to 1/(rank+1)^s, by inverse CDF over a precomputed table. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += 1 / Math.pow(i + 1, s);
    cdf[i] = sum;
  }
  return () => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export const CATEGORIES = [
  'shoes', 'shoes>running', 'shoes>trail', 'apparel', 'apparel>jackets', 'apparel>shirts', 'electronics',
  'electronics>audio', 'electronics>phones', 'home', 'home>kitchen', 'home>garden', 'books', 'books>fiction',
  'books>cooking', 'toys', 'beauty', 'sports', 'sports>cycling', 'outdoor>camping',
] as const;

const MIX: readonly [EventType, number][] = [
  ['page_view', 0.38],
  ['content_view', 0.3],
  ['click', 0.14],
  ['search', 0.07],
  ['add_to_cart', 0.07],
  ['remove_from_cart', 0.015],
  ['purchase', 0.025],
];

const DEVICES = [
  { type: 'mobile', os: 'iOS', app_version: '5.12.0' },
  { type: 'mobile', os: 'Android', app_version: '5.11.3' },
  { type: 'desktop', os: 'Windows' },
  { type: 'desktop', os: 'macOS' },
  { type: 'tablet', os: 'iPadOS', app_version: '5.12.0' },
] as const;

const LOCALES = ['en-US', 'en-GB', 'de-DE', 'fr-FR', 'es-ES', 'ja-JP'];

export interface WorkloadOptions {
  /** Number of distinct users. @default 1000 */
  readonly users?: number;
  /** Zipf exponent of user activity. @default 1.1 */
  readonly zipfExponent?: number;
  /** PRNG seed. @default 42 */
  readonly seed?: number;
  /** Event time of the first event (epoch ms). @default Date.now() */
  readonly startMs?: number;
  /** Mean event-time gap between consecutive events of the workload, in ms. @default 10 */
  readonly meanGapMs?: number;
  /** Share of events made invalid on purpose, each with a known defect. @default 0 */
  readonly invalidRatio?: number;
  /** Share of events that are resent (same event_id and payload), as a retrying producer does. @default 0 */
  readonly duplicateRatio?: number;
}

/** One generated record: what was sent, and what the generator knows about it. */
export interface WorkloadRecord {
  /** The bytes to send (UTF-8 JSON). */
  readonly data: Buffer;
  /** Kinesis partition key (the user id, or a placeholder for broken events). */
  readonly partitionKey: string;
  /** The event as generated (absent for records that are not JSON objects). */
  readonly event?: UserEvent;
  /** 'valid', 'duplicate' (a resend of an earlier valid event) or the defect injected. */
  readonly kind: 'valid' | 'duplicate' | InjectedDefect;
}

export type InjectedDefect = 'not_json' | 'missing_user_id' | 'bad_event_type' | 'future_timestamp' | 'oversized' | 'unsupported_version';

const DEFECTS: readonly InjectedDefect[] = ['not_json', 'missing_user_id', 'bad_event_type', 'future_timestamp', 'oversized', 'unsupported_version'];

interface UserState {
  sessionId: string;
  sessionEvents: number;
  taste: number;
}

/** An endless, deterministic stream of workload records. */
export class Workload {
  readonly options: Required<WorkloadOptions>;
  private readonly random: () => number;
  private readonly pickUser: () => number;
  private readonly users = new Map<number, UserState>();
  private readonly recent: WorkloadRecord[] = [];
  private clockMs: number;

  constructor(options: WorkloadOptions = {}) {
    this.options = {
      users: options.users ?? 1000,
      zipfExponent: options.zipfExponent ?? 1.1,
      seed: options.seed ?? 42,
      startMs: options.startMs ?? Date.now(),
      meanGapMs: options.meanGapMs ?? 10,
      invalidRatio: options.invalidRatio ?? 0,
      duplicateRatio: options.duplicateRatio ?? 0,
    };
    this.random = seededRandom(this.options.seed);
    this.pickUser = zipfSampler(this.options.users, this.options.zipfExponent, this.random);
    this.clockMs = this.options.startMs;
  }

  /** The next `n` records. */
  take(n: number): WorkloadRecord[] {
    const out: WorkloadRecord[] = [];
    for (let i = 0; i < n; i++) out.push(this.next());
    return out;
  }

  next(): WorkloadRecord {
    const r = this.random();
    const { duplicateRatio, invalidRatio } = this.options;
    if (r < duplicateRatio) {
      // Nothing to resend yet: send a fresh valid event instead (never an invalid one by accident).
      if (this.recent.length > 0) {
        const original = this.recent[Math.floor(this.random() * this.recent.length)]!;
        return { ...original, kind: 'duplicate' };
      }
    }
    const event = this.nextEvent();
    if (r >= duplicateRatio && r < duplicateRatio + invalidRatio) {
      return this.corrupt(event, DEFECTS[Math.floor(this.random() * DEFECTS.length)]!);
    }
    const record: WorkloadRecord = { data: Buffer.from(JSON.stringify(event)), partitionKey: event.user_id, event, kind: 'valid' };
    this.recent.push(record);
    if (this.recent.length > 256) this.recent.shift();
    return record;
  }

  /** A valid event of the workload (advances the workload's event clock). */
  nextEvent(): UserEvent {
    const rank = this.pickUser();
    const userId = `user-${String(rank).padStart(6, '0')}`;
    let state = this.users.get(rank);
    if (state === undefined || state.sessionEvents > 5 + Math.floor(this.random() * 30)) {
      state = { sessionId: `s-${this.hex(12)}`, sessionEvents: 0, taste: state?.taste ?? Math.floor(this.random() * CATEGORIES.length) };
      this.users.set(rank, state);
    }
    state.sessionEvents++;
    this.clockMs += Math.round(-Math.log(1 - this.random()) * this.options.meanGapMs);
    const type = this.eventType();
    // 70% of a user's views fall in their favourite category's neighbourhood: affinity has signal to find.
    const categoryIndex = this.random() < 0.7 ? (state.taste + Math.floor(this.random() * 3)) % CATEGORIES.length : Math.floor(this.random() * CATEGORIES.length);
    const category = CATEGORIES[categoryIndex]!;
    const contentId = `sku-${categoryIndex}-${Math.floor(Math.pow(this.random(), 2) * 500)}`;
    const device = DEVICES[rank % DEVICES.length]!;
    const event: UserEvent = {
      schema_version: '1.0',
      event_id: `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-a${this.hex(3)}-${this.hex(12)}`,
      user_id: userId,
      session_id: state.sessionId,
      event_type: type,
      event_time: new Date(this.clockMs).toISOString(),
      device: { ...device },
      context: {
        locale: LOCALES[rank % LOCALES.length]!,
        page_url: `https://shop.example.com/${category.replace('>', '/')}/${contentId}`,
        referrer: 'https://www.example.org/search?q=running+shoes',
      },
    };
    if (type !== 'page_view' && type !== 'search') {
      event.content_id = contentId;
      event.category = category;
    }
    if (type === 'content_view' || type === 'page_view') event.duration_ms = Math.floor(this.random() * 120_000);
    if (type === 'search') event.context!.search_query = `${category.split('>').pop()} deals`;
    if (type === 'purchase') {
      event.value = Math.round(this.random() * 20_000) / 100;
      event.currency = 'EUR';
      event.properties = { payment: 'card', items: 1 + Math.floor(this.random() * 3), promo: this.random() < 0.2 };
    }
    return event;
  }

  private corrupt(event: UserEvent, defect: InjectedDefect): WorkloadRecord {
    switch (defect) {
      case 'not_json':
        return { data: Buffer.from(JSON.stringify(event).slice(0, 40)), partitionKey: event.user_id, kind: defect };
      case 'missing_user_id': {
        const { user_id: _dropped, ...rest } = event;
        return { data: Buffer.from(JSON.stringify(rest)), partitionKey: event.user_id, kind: defect };
      }
      case 'bad_event_type':
        return { data: Buffer.from(JSON.stringify({ ...event, event_type: 'hover' })), partitionKey: event.user_id, kind: defect };
      case 'future_timestamp':
        return { data: Buffer.from(JSON.stringify({ ...event, event_time: new Date(this.clockMs + 86_400_000).toISOString() })), partitionKey: event.user_id, kind: defect };
      case 'oversized':
        return { data: Buffer.from(JSON.stringify({ ...event, properties: { blob: 'x'.repeat(9000) } })), partitionKey: event.user_id, kind: defect };
      case 'unsupported_version':
        return { data: Buffer.from(JSON.stringify({ ...event, schema_version: '2.0' })), partitionKey: event.user_id, kind: defect };
    }
  }

  private eventType(): EventType {
    let x = this.random();
    for (const [type, p] of MIX) {
      if (x < p) return type;
      x -= p;
    }
    return 'page_view';
  }

  private hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(this.random() * 16)];
    return s;
  }
}
