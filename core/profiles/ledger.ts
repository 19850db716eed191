/**
 * The ledger of applied event ids: what makes a profile's effect exactly-once for any traffic shape.
 *
 * Every event applied to a profile leaves its id hash in the ledger, a table of small items keyed by user and
 * by a slot of the event's own time. A copy of an event, however it came about (a producer's resend, a batch
 * forwarded twice, a retried or redriven window), has the same id and the same event time, so it is looked
 * up in exactly the slot its original went to, however late it arrives and however many other events the
 * user sent in between. Ledger items expire (TTL) only once no copy can be accepted any more: see
 * ledgerRetentionHours.
 *
 * Slots form a tree per user, so that one item never holds more than `itemCapacity` ids whatever the user's
 * rate (DynamoDB bills a write by the size of the item written, a read per 4 KB of it):
 *
 *   level 0: the event-time hour    2026-03-01T14
 *   level 1: the minute             2026-03-01T14:23
 *   level 2: the second             2026-03-01T14:23:05
 *   level 3+: the second plus 1, 2, ... characters of the id hash  2026-03-01T14:23:05#Q, ...#Qb
 *
 * An item that would outgrow its capacity is marked `split` and new ids go one level down. A lookup walks
 * the path of the id from level 0 and checks every item on it until one is missing or not split, so ids
 * written before a split stay found. A light user costs one item per hour of activity; a user sending
 * hundreds of events a second costs an item per second.
 *
 * Pure: the reads and writes are planned here and carried out by the profile store (DynamoDB in AWS).
 */
import { InvariantError } from '../errors';

/** One ledger item as read: the ids it holds and whether later ids of its slot go one level down. */
export interface LedgerItem {
  readonly ids: ReadonlySet<string>;
  readonly split: boolean;
}

/**
 * What is known of one user's ledger: slot -> item, or null when the item was read and does not exist.
 * A slot that is not a key has not been read.
 */
export type LedgerView = Map<string, LedgerItem | null>;

/** One update of one ledger item: ids to add (a set union, so repeating it is harmless), a split mark. */
export interface LedgerWrite {
  readonly slot: string;
  readonly add: readonly string[];
  /** Mark the item split: ids of its slot that do not fit go one level down. */
  readonly split: boolean;
  /** TTL of the item, epoch seconds. */
  readonly expiresAt: number;
}

/** An applied (or to be applied) event as the ledger knows it: its id hash and its event time. */
export interface LedgerEntry {
  /** 8-character id hash (shortHash). */
  readonly id: string;
  /** Event time, epoch ms. */
  readonly t: number;
}

export interface LedgerSettings {
  /** How long after its slot's hour an item is kept (DynamoDB TTL), in hours: see ledgerRetentionHours. */
  readonly retentionHours: number;
  /** Most ids one item holds before it is split. */
  readonly itemCapacity: number;
}

/**
 * Ids per item before it splits: about 3.3 KB at most with an 8-byte hash per id, so a consistent read of an
 * item is one read unit and a write at most 4 write units. Measured on the Zipf workload (bench/profiles),
 * 400 costs fewer write units per event than 100 or 250: fewer items, and fewer of them per merge.
 */
export const DEFAULT_LEDGER_ITEM_CAPACITY = 400;

/** The deepest level: the second plus the whole 8-character hash (one id per slot; never split further). */
export const MAX_LEDGER_LEVEL = 10;

/**
 * How long a ledger item must be kept so that every copy of its events that can still be applied is
 * recognized. A copy is applied only if the validation function accepts it, which it does only up to
 * `maxPastAgeSeconds` after its event time (a redrive replays a record with its original arrival time);
 * the validation function (or a redrive of its on-failure range) forwards a record while the raw stream still
 * retains it; and the aggregator (or a redrive of its range) reads it while the validated stream retains it.
 * One more day covers clock skew and slow TTL deletion (which never deletes early).
 */
export function ledgerRetentionHours(options: { readonly maxPastAgeSeconds: number; readonly rawRetentionHours: number; readonly validatedRetentionHours: number }): number {
  return Math.ceil(options.maxPastAgeSeconds / 3600) + options.rawRetentionHours + options.validatedRetentionHours + 24;
}

const HOUR_MS = 3_600_000;

/** The slot of an event at a level of the tree. */
export function ledgerSlot(t: number, id: string, level: number): string {
  const iso = new Date(Math.floor(t / 1000) * 1000).toISOString();
  if (level === 0) return iso.slice(0, 13);
  if (level === 1) return iso.slice(0, 16);
  if (level === 2) return iso.slice(0, 19);
  return `${iso.slice(0, 19)}#${id.slice(0, Math.min(level, MAX_LEDGER_LEVEL) - 2)}`;
}

/** TTL of every item of the hour of `t`, epoch seconds. */
export function ledgerExpiry(t: number, settings: LedgerSettings): number {
  const hourStart = Math.floor(t / HOUR_MS) * HOUR_MS;
  return Math.floor(hourStart / 1000) + (settings.retentionHours + 1) * 3600;
}

/**
 * Slots that must still be read before `entries` can be looked up: for each entry, the first slot of its path
 * that was not read, unless the walk already ended (the id was found, or an item is missing or not split).
 */
export function ledgerReadsNeeded(view: LedgerView, entries: Iterable<LedgerEntry>): string[] {
  const out = new Set<string>();
  for (const e of entries) {
    for (let level = 0; level <= MAX_LEDGER_LEVEL; level++) {
      const slot = ledgerSlot(e.t, e.id, level);
      if (!view.has(slot)) {
        out.add(slot);
        break;
      }
      const item = view.get(slot);
      if (!item || item.ids.has(e.id) || !item.split) break;
    }
  }
  return [...out];
}

/** Whether the ledger holds `entry`. The view must cover its path (ledgerReadsNeeded returned nothing). */
export function ledgerHas(view: LedgerView, entry: LedgerEntry): boolean {
  for (let level = 0; level <= MAX_LEDGER_LEVEL; level++) {
    const item = view.get(ledgerSlot(entry.t, entry.id, level));
    if (item === undefined) throw new InvariantError(`the ledger view does not cover ${ledgerSlot(entry.t, entry.id, level)}`);
    if (item === null) return false;
    if (item.ids.has(entry.id)) return true;
    if (!item.split) return false;
  }
  return false;
}

/**
 * The item updates that add `entries` (not yet in the ledger) to it: each id goes to the first item of its
 * path that is missing or not split; an item that cannot take all the ids aimed at it is marked split, and
 * those ids go one level down (recursively). Deterministic.
 */
export function planLedgerWrites(view: LedgerView, entries: readonly LedgerEntry[], settings: LedgerSettings): LedgerWrite[] {
  const writes: LedgerWrite[] = [];
  // Group by target slot; levels are handled in order, so a split pushes ids to a level not yet handled.
  let pending = new Map<string, { level: number; entries: LedgerEntry[]; size: number; split: boolean }>();
  for (const e of entries) {
    let level = 0;
    for (; level < MAX_LEDGER_LEVEL; level++) {
      const item = view.get(ledgerSlot(e.t, e.id, level));
      if (!item || !item.split) break;
    }
    const slot = ledgerSlot(e.t, e.id, level);
    const item = view.get(slot);
    const group = pending.get(slot) ?? { level, entries: [], size: item ? item.ids.size : 0, split: false };
    group.entries.push(e);
    pending.set(slot, group);
  }
  while (pending.size > 0) {
    const next = new Map<string, { level: number; entries: LedgerEntry[]; size: number; split: boolean }>();
    for (const [slot, group] of pending) {
      const expiresAt = ledgerExpiry(group.entries[0]!.t, settings);
      const ids = [...new Set(group.entries.map((e) => e.id))];
      if (group.size + ids.length <= settings.itemCapacity || group.level >= MAX_LEDGER_LEVEL) {
        writes.push({ slot, add: ids, split: false, expiresAt });
        continue;
      }
      writes.push({ slot, add: [], split: true, expiresAt });
      for (const e of group.entries) {
        const child = ledgerSlot(e.t, e.id, group.level + 1);
        const g = next.get(child) ?? { level: group.level + 1, entries: [], size: 0, split: false };
        g.entries.push(e);
        next.set(child, g);
      }
    }
    pending = next;
  }
  return writes;
}

/** The view after `writes` (what a read would return once they are made). */
export function applyLedgerWrites(view: LedgerView, writes: readonly LedgerWrite[]): void {
  for (const w of writes) {
    const item = view.get(w.slot);
    const ids = new Set(item ? item.ids : []);
    for (const id of w.add) ids.add(id);
    view.set(w.slot, { ids, split: w.split || Boolean(item?.split) });
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The entries of a profile's `last_ids`: event-time hour slot -> 10 characters per id, the 8-character hash
 * and the second of the hour in two base64url characters.
 */
export function lastIdEntries(lastIds: Readonly<Record<string, string>> | undefined): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  if (!lastIds) return out;
  for (const [hour, text] of Object.entries(lastIds)) {
    const base = Date.parse(`${hour}:00:00.000Z`);
    if (!Number.isFinite(base)) continue;
    for (let i = 0; i + 10 <= text.length; i += 10) {
      const second = B64.indexOf(text[i + 8]!) * 64 + B64.indexOf(text[i + 9]!);
      if (second < 0) continue;
      out.push({ id: text.slice(i, i + 8), t: base + second * 1000 });
    }
  }
  return out;
}

/** `last_ids` of a write that applied `events` (see lastIdEntries). */
export function lastIdsOf(events: readonly LedgerEntry[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    const hour = ledgerSlot(e.t, e.id, 0);
    const second = Math.floor((e.t - Math.floor(e.t / HOUR_MS) * HOUR_MS) / 1000);
    out[hour] = (out[hour] ?? '') + e.id + B64[second >> 6]! + B64[second & 63]!;
  }
  return out;
}
