/**
 * The lake's object layout, shared by everything that writes or reads it: the quarantine writer of the
 * validation function, the Firehose prefixes of the deployed stack, the local Firehose stand-in, the Glue
 * tables' locations and partition projection. One definition, so they cannot disagree.
 *
 * Partitions are Hive-style `dt=YYYY-MM-DD/hour=HH` in UTC:
 *   - raw zone:        by arrival time (what Firehose sees), everything as received
 *   - curated zone:    by the event's own event_time (dynamic partitioning), so a day's query reads that day
 *   - quarantine zone: by arrival time, the time the validator saw the record
 */

/** Key prefixes inside each zone's bucket. */
export const ZONE_PREFIX = {
  raw: 'events/',
  curated: 'events/',
  quarantine: 'quarantine/',
} as const;

/** Where Firehose writes records it could not deliver or convert, per zone (prefix inside the zone's bucket). */
export const ERROR_PREFIX = {
  raw: 'errors/',
  curated: 'errors/',
} as const;

export interface HourPartition {
  /** 'YYYY-MM-DD' */
  readonly dt: string;
  /** 'HH', 00-23 */
  readonly hour: string;
}

/** The UTC day and hour partition of an epoch-millisecond time. */
export function hourPartition(epochMs: number): HourPartition {
  const iso = new Date(epochMs).toISOString();
  return { dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/**
 * The partition of a canonical UTC event_time ('YYYY-MM-DDTHH:mm:ss.sssZ'), by slicing, exactly as the
 * Firehose dynamic-partitioning JQ query does (`.event_time[0:10]`, `.event_time[11:13]`).
 */
export function eventTimePartition(canonicalEventTime: string): HourPartition {
  return { dt: canonicalEventTime.slice(0, 10), hour: canonicalEventTime.slice(11, 13) };
}

/** `dt=YYYY-MM-DD/hour=HH/` */
export function partitionPath(p: HourPartition): string {
  return `dt=${p.dt}/hour=${p.hour}/`;
}

/**
 * Key of the quarantine object written for one batch: deterministic in the shard and the sequence range of
 * the batch's invalid records, so a retried batch overwrites its object instead of adding a second one.
 */
export function quarantineObjectKey(arrivalMs: number, shardId: string, firstSequence: string, lastSequence: string): string {
  return `${ZONE_PREFIX.quarantine}${partitionPath(hourPartition(arrivalMs))}${shardId}-${firstSequence}-${lastSequence}.jsonl`;
}
