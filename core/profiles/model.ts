/**
 * The user profile: what the profile table stores for one user, and the settings that bound it.
 *
 * Every feature is defined in event time (the event's `event_time`, never arrival or processing time) so
 * that the order in which events arrive does not change the result. docs/readers.md, "The profile item",
 * documents each attribute; this file is the source of that table.
 */
import type { EventType } from '@personalization-data-platform/contract';
import { DEFAULT_LEDGER_ITEM_CAPACITY } from './ledger';

export const DAY_MS = 86_400_000;

/** Days of per-day activity kept in a profile (the longest activity feature is 30 days). */
export const ACTIVITY_DAYS = 30;

/** Affinity weight of one event by type: stronger intent weighs more; types without content weigh nothing. */
export const AFFINITY_WEIGHTS: Readonly<Record<EventType, number>> = {
  page_view: 0,
  search: 0,
  content_view: 1,
  click: 1,
  add_to_cart: 3,
  remove_from_cart: 0,
  purchase: 5,
  identify: 0,
};

/** The bounds and decay of a profile; from the stage configuration (`profiles` section). */
export interface ProfileSettings {
  /** Half-life of category affinity, in days. */
  readonly affinityHalfLifeDays: number;
  /** Categories kept in `affinity`. */
  readonly topCategories: number;
  /** Distinct content ids kept in `recent_content`. */
  readonly recentContent: number;
  /** Sessions kept in `recent_sessions` (a session still growing must be among them to be extended). */
  readonly sessionsKept: number;
  /** Profiles expire this many days after `last_seen` (DynamoDB TTL); 0 = never. */
  readonly ttlDays: number;
  /** Currencies kept in `purchase_value_milli`. */
  readonly currencies: number;
  /** How long ledger items are kept after their hour, in hours (ledgerRetentionHours of the stage). */
  readonly ledgerRetentionHours: number;
  /** Most event ids one ledger item holds before it is split. */
  readonly ledgerItemCapacity: number;
}

export const DEFAULT_PROFILE_SETTINGS: ProfileSettings = {
  affinityHalfLifeDays: 14,
  topCategories: 10,
  recentContent: 10,
  sessionsKept: 5,
  ttlDays: 400,
  currencies: 4,
  // The dev stage's: 7 days of past age, two streams of 24 hours, a day of margin.
  ledgerRetentionHours: 240,
  ledgerItemCapacity: DEFAULT_LEDGER_ITEM_CAPACITY,
};

/** The range of each setting (the stage configuration's rules for the same keys are at least as strict). */
const SETTING_RANGES: { readonly [K in keyof ProfileSettings]: { readonly min: number; readonly max: number; readonly integer: boolean } } = {
  affinityHalfLifeDays: { min: 0.01, max: 3650, integer: false },
  topCategories: { min: 1, max: 50, integer: true },
  recentContent: { min: 0, max: 50, integer: true },
  sessionsKept: { min: 1, max: 50, integer: true },
  ttlDays: { min: 0, max: 3650, integer: true },
  currencies: { min: 1, max: 50, integer: true },
  ledgerRetentionHours: { min: 1, max: 100_000, integer: false },
  ledgerItemCapacity: { min: 1, max: 10_000, integer: true },
};

/** What is wrong with (some of) a profile's settings: unknown keys and values out of range, one line each. */
export function profileSettingsProblems(values: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const range = (SETTING_RANGES as Record<string, { min: number; max: number; integer: boolean } | undefined>)[key];
    if (!Object.hasOwn(SETTING_RANGES, key) || range === undefined) {
      problems.push(`${key} is not a profile setting (known: ${Object.keys(SETTING_RANGES).join(', ')})`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max || (range.integer && !Number.isInteger(value))) {
      problems.push(`${key} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`);
    }
  }
  return problems;
}

/** [session id hash (8 characters), first event time (ms), last event time (ms)] */
export type SessionSpan = [id: string, start: number, end: number];

/** [content_id, latest event time (ms)] */
export type RecentContent = [contentId: string, at: number];

export interface DeviceInfo {
  type: string;
  os?: string;
  app_version?: string;
}

/**
 * A profile item as stored in the table (attribute names are the item's attribute names).
 * Times are epoch milliseconds in event time unless said otherwise.
 */
export interface Profile {
  /** Partition key. */
  user_id: string;
  /** Incremented by every write; the optimistic-concurrency check of the conditional update. */
  version: number;
  /** When the profile was last written (processing time, ms). */
  updated_at: number;
  /** DynamoDB TTL attribute (epoch seconds): last_seen + ttlDays. Absent when expiry is off. */
  expires_at?: number;
  /** Earliest event time seen. */
  first_seen: number;
  /** Latest event time seen. */
  last_seen: number;
  /** Lifetime count of unique events applied. */
  events: number;
  /** Lifetime count of unique events by event type (reconciled against the lake). */
  counts: Record<string, number>;
  /** Events per UTC day ('YYYYMMDD'), for the 30 days ending on the day of last_seen. */
  days: Record<string, number>;
  /** Distinct sessions seen. */
  session_count: number;
  /** Sum over sessions of (last event time - first event time). */
  session_ms: number;
  /** The most recent sessions by last event time, newest first: a session that continues is extended here. */
  recent_sessions: SessionSpan[];
  /** Category -> exponentially decayed engagement score, expressed at time affinity_at. */
  affinity: Record<string, number>;
  /** Reference time of the affinity scores (the latest event time that carried a category). */
  affinity_at: number;
  /** The last distinct content ids viewed (content_view), newest first. */
  recent_content: RecentContent[];
  /** Lifetime number of purchase events. */
  purchase_count: number;
  /** Lifetime purchase value per currency in thousandths of the unit (integers: exact in any order). */
  purchase_value_milli: Record<string, number>;
  /** Device of the latest event that named one, and its event time. */
  device?: DeviceInfo;
  device_at?: number;
  /** Locale of the latest event that named one, and its event time. */
  locale?: string;
  locale_at?: number;
  /**
   * The ids applied by the latest write (event-time hour -> per id its 8-character hash and the second of the
   * hour in 2 characters), until they are certainly in the ledger: the write that applies events comes first, their ledger write
   * after it, and the next merge re-adds any that did not make it (see ledger.ts).
   */
  last_ids: Record<string, string>;
  /**
   * On an anonymous visitor's profile (key `anon#<anonymous id>`): the user it was merged into. Nothing is
   * applied to it any more; its events go to that user, and a reader asking for the anonymous id is given the
   * user's profile (see stitch.ts).
   */
  merged_into?: string;
  /** On a user's profile: hashes of the anonymous ids whose profiles it absorbed (each exactly once). */
  anon_links?: string[];
  /**
   * A tombstone: the person was erased at this time (epoch ms). The item holds nothing else of them; events of
   * the key are dropped until it expires (DynamoDB TTL, after the longest time a copy can still arrive).
   */
  erased_at?: number;
}

export function emptyProfile(userId: string): Profile {
  return {
    user_id: userId,
    version: 0,
    updated_at: 0,
    first_seen: Number.POSITIVE_INFINITY,
    last_seen: Number.NEGATIVE_INFINITY,
    events: 0,
    counts: {},
    days: {},
    session_count: 0,
    session_ms: 0,
    recent_sessions: [],
    affinity: {},
    affinity_at: 0,
    recent_content: [],
    purchase_count: 0,
    purchase_value_milli: {},
    last_ids: {},
  };
}

/** 'YYYYMMDD' of the UTC day containing `ms`. */
export function dayKey(ms: number): string {
  const d = new Date(Math.floor(ms / DAY_MS) * DAY_MS);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Days since the epoch of a 'YYYYMMDD' key. */
export function dayNumber(key: string): number {
  return Math.floor(Date.UTC(Number(key.slice(0, 4)), Number(key.slice(4, 6)) - 1, Number(key.slice(6, 8))) / DAY_MS);
}
