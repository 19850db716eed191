/**
 * Erasure of one person everywhere (the right to be forgotten), in an order that keeps every step safe to
 * repeat and never loses another person's data:
 *
 * 1. **Tombstones** replace the profile of the user and of each linked anonymous id. From then on the
 *    aggregation drops their events (a late or redriven copy cannot recreate the profile), the curated
 *    delivery drops them from the lake, and the reader answers "no profile". A tombstone holds the key and
 *    the erasure time only, and expires when no copy of an earlier event can still be accepted.
 * 2. **Ledger items and links** of every key are deleted (the tombstone makes them useless).
 * 3. **The lake**: in each zone, the objects that hold a row of the person are found (DuckDB's filename
 *    locally, Athena's "$path" in AWS) and each is rewritten without those rows, same format, same key: a PUT
 *    replaces an object atomically, so a failure midway leaves every object either as it was (the rerun finds
 *    it again) or rewritten. Older versions of a rewritten object are deleted.
 * 4. **The audit log** records the erasure: a hash of the user id, when, and counts. Nothing else.
 *
 * A rerun of the same request does the same steps and finds nothing left to remove; it is recorded again.
 */
import { randomUUID } from 'node:crypto';
import { subjectHash, subjectIds, subjectKeys, SubjectMatcher, type Subject } from './subject';

/** The tables: profiles, the ledger and its link items (DynamoDB in AWS and locally). */
export interface PersonStorePort {
  /** Anonymous ids linked to a user (its link items). */
  links(userId: string): Promise<string[]>;
  /**
   * Replaces the profile item of `key` with a tombstone (with a version above any an in-flight write can
   * expect, so that write fails its condition). Returns whether a profile (not already a tombstone) was there.
   */
  tombstone(key: string, erasedAtMs: number, expiresAtSeconds: number): Promise<boolean>;
  /** Deletes every ledger item of `key` (its ledger slots and, for a user, its links); returns how many. */
  deleteLedger(key: string): Promise<number>;
}

export type ErasureZone = 'raw' | 'curated' | 'quarantine' | 'profileExports' | 'athenaResults';
export const ERASURE_ZONES: readonly ErasureZone[] = ['raw', 'curated', 'quarantine', 'profileExports', 'athenaResults'];

/** The lake: where the person's rows are, and the rewrite of one object. */
export interface LakeErasurePort {
  /** Zones this lake has (the local runtime has no Athena results bucket). */
  readonly zones: readonly ErasureZone[];
  /** Keys of the objects of a zone that may hold a row of the person (a superset is fine: rewriting checks). */
  find(zone: ErasureZone, matcher: SubjectMatcher): Promise<string[]>;
  /** Rewrites one object without the person's rows (or deletes it when none is left). */
  rewrite(zone: ErasureZone, key: string, matcher: SubjectMatcher): Promise<{ removed: number; deleted: boolean }>;
}

/** One erasure in the audit log: no personal data, a hash and counts. */
export interface AuditEntry {
  readonly erasure_id: string;
  /** subjectHash of the user id, or of the first anonymous id for an anonymous visitor. */
  readonly subject_hash: string;
  readonly requested_at: string;
  readonly completed_at: string;
  /** Who asked (a ticket or system reference given with the request), if anything. */
  readonly reference?: string;
  readonly anonymous_ids: number;
  readonly profiles_erased: number;
  readonly tombstones: number;
  readonly ledger_items_deleted: number;
  /** Per zone: objects rewritten, objects deleted, rows removed. */
  readonly lake: Record<string, { readonly objects_rewritten: number; readonly objects_deleted: number; readonly rows_removed: number }>;
}

export interface AuditPort {
  /** Appends an entry; returns where it went. */
  record(entry: AuditEntry): Promise<string>;
}

export interface ErasureRequest {
  readonly userId?: string;
  /** Anonymous ids to erase besides those linked to the user (an anonymous visitor's own request). */
  readonly anonymousIds?: readonly string[];
  readonly reference?: string;
}

/** The message body of an erasure request on the erasure queue. */
export function erasureRequestBody(request: ErasureRequest): string {
  return JSON.stringify({ user_id: request.userId, anonymous_ids: request.anonymousIds, reference: request.reference });
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** Reads an erasure request from a queue message; throws saying what is wrong. */
export function parseErasureRequest(body: string): ErasureRequest {
  let value: { user_id?: unknown; anonymous_ids?: unknown; reference?: unknown };
  try {
    value = JSON.parse(body) as typeof value;
  } catch {
    throw new Error('an erasure request is JSON: {"user_id": "...", "anonymous_ids": ["..."], "reference": "..."}');
  }
  const userId = value.user_id;
  const anonymousIds = value.anonymous_ids ?? [];
  if (userId !== undefined && (typeof userId !== 'string' || !ID.test(userId))) throw new Error('user_id is not an id of the contract');
  if (!Array.isArray(anonymousIds) || anonymousIds.some((a) => typeof a !== 'string' || !ID.test(a))) throw new Error('anonymous_ids must be a list of ids of the contract');
  if (userId === undefined && anonymousIds.length === 0) throw new Error('an erasure request names user_id or anonymous_ids');
  if (value.reference !== undefined && (typeof value.reference !== 'string' || value.reference.length > 256)) throw new Error('reference is a string of at most 256 characters');
  return {
    ...(userId !== undefined ? { userId: userId as string } : {}),
    ...(anonymousIds.length ? { anonymousIds: anonymousIds as string[] } : {}),
    ...(value.reference !== undefined ? { reference: value.reference as string } : {}),
  };
}

export interface ErasureOptions {
  readonly store: PersonStorePort;
  readonly lake: LakeErasurePort;
  readonly audit: AuditPort;
  /** How long tombstones are kept, in hours: the ledger's retention (no copy of an earlier event is accepted after it). */
  readonly tombstoneHours: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

export interface ErasureReport extends AuditEntry {
  /** Where the audit entry went. */
  readonly auditLocation: string;
}

export async function erasePerson(request: ErasureRequest, options: ErasureOptions): Promise<ErasureReport> {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  if (request.userId === undefined && (request.anonymousIds ?? []).length === 0) throw new Error('an erasure names a user id or an anonymous id');
  const requestedAt = now();
  const linked = request.userId !== undefined ? await options.store.links(request.userId) : [];
  const subject: Subject = { ...(request.userId !== undefined ? { userId: request.userId } : {}), anonymousIds: [...new Set([...linked, ...(request.anonymousIds ?? [])])].sort() };
  const keys = subjectKeys(subject);
  log(`erasing ${keys.length} profile key(s): the user and ${subject.anonymousIds.length} anonymous id(s)`);

  const expiresAt = Math.floor(requestedAt / 1000) + options.tombstoneHours * 3600;
  let profiles = 0;
  for (const key of keys) if (await options.store.tombstone(key, requestedAt, expiresAt)) profiles++;
  let ledgerItems = 0;
  for (const key of keys) ledgerItems += await options.store.deleteLedger(key);
  log(`profiles: ${profiles} erased, ${keys.length} tombstone(s); ledger: ${ledgerItems} item(s) deleted`);

  const matcher = new SubjectMatcher(subject);
  const lake: Record<string, { objects_rewritten: number; objects_deleted: number; rows_removed: number }> = {};
  for (const zone of options.lake.zones) {
    const counts = { objects_rewritten: 0, objects_deleted: 0, rows_removed: 0 };
    for (const key of await options.lake.find(zone, matcher)) {
      const out = await options.lake.rewrite(zone, key, matcher);
      if (out.removed === 0 && !out.deleted) continue;
      counts.rows_removed += out.removed;
      if (out.deleted) counts.objects_deleted++;
      else counts.objects_rewritten++;
    }
    lake[zone] = counts;
    log(`${zone}: ${counts.rows_removed} row(s) removed, ${counts.objects_rewritten} object(s) rewritten, ${counts.objects_deleted} deleted`);
  }

  const entry: AuditEntry = {
    erasure_id: randomUUID(),
    subject_hash: subjectHash(subjectIds(subject)[0]!),
    requested_at: new Date(requestedAt).toISOString(),
    completed_at: new Date(now()).toISOString(),
    ...(request.reference !== undefined ? { reference: request.reference } : {}),
    anonymous_ids: subject.anonymousIds.length,
    profiles_erased: profiles,
    tombstones: keys.length,
    ledger_items_deleted: ledgerItems,
    lake,
  };
  const auditLocation = await options.audit.record(entry);
  log(`audit: ${auditLocation}`);
  return { ...entry, auditLocation };
}
