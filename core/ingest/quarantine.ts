/**
 * The quarantine zone's record: a self-describing "bad row" (after Snowplow's), one JSON line per rejected
 * record, that says why it was rejected, by which validator build, and carries the original bytes so the
 * record can be inspected, fixed and replayed. Objects are JSON lines, one per batch and shard that had
 * invalid records, under the key quarantineObjectKey() gives (deterministic, so a retry overwrites). The
 * quarantine table's columns (QUARANTINE_COLUMNS in core/lake/catalog.ts) read these fields; the lines also
 * carry the format, the partition key and the rejecting component, which the JSON SerDe ignores until the
 * table declares them.
 */
import { CONTRACT_HASH, CONTRACT_VERSION, type ReasonCode, type SchemaError } from '@personalization-data-platform/contract';
import { quarantineObjectKey } from '../lake/layout';

/** Identifies the format of a quarantine line, so readers can evolve with it. */
export const QUARANTINE_SCHEMA = 'pdp/quarantine/bad_row/1-0';

/** The component that rejects records in this pipeline. */
export const VALIDATOR_COMPONENT = 'validate';

/** Default largest original payload kept in a quarantine line, in bytes (before base64). */
export const DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES = 8192;

export interface QuarantineLine {
  readonly schema: typeof QUARANTINE_SCHEMA;
  readonly reason: ReasonCode;
  /** Every error found, each with its JSON Pointer path and the rule it broke. */
  readonly errors: readonly SchemaError[];
  /** The original record bytes, base64, cut to payload_max_bytes when larger. */
  readonly payload_base64: string;
  /** Size of the original record in bytes. */
  readonly payload_bytes: number;
  /** True when payload_base64 holds only the first part of the record. */
  readonly payload_truncated: boolean;
  readonly partition_key: string;
  readonly shard_id: string;
  readonly sequence_number: string;
  /** When the record reached the stream (ISO 8601 UTC): the partition time of the object. */
  readonly arrival_time: string;
  /** When the validator rejected it (ISO 8601 UTC). */
  readonly validated_at: string;
  readonly validator: typeof VALIDATOR_COMPONENT;
  /** The contract version the validator was built from. */
  readonly contract_version: string;
  /** Hash of the contract the validator was generated from: the validator's version. */
  readonly validator_version: string;
}

/** Where a rejected record came from. */
export interface RejectedRecord {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly arrivalMs: number;
}

export function buildQuarantineLine(
  record: RejectedRecord,
  rejection: { readonly reason: ReasonCode; readonly errors: readonly SchemaError[] },
  options: { readonly processedAtMs: number; readonly payloadMaxBytes?: number },
): QuarantineLine {
  const max = options.payloadMaxBytes ?? DEFAULT_QUARANTINE_PAYLOAD_MAX_BYTES;
  const bytes = record.data;
  const truncated = bytes.byteLength > max;
  const kept = truncated ? bytes.subarray(0, max) : bytes;
  return {
    schema: QUARANTINE_SCHEMA,
    reason: rejection.reason,
    errors: rejection.errors.map((e) => ({ path: e.path, rule: e.rule, message: e.message })),
    payload_base64: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString('base64'),
    payload_bytes: bytes.byteLength,
    payload_truncated: truncated,
    partition_key: record.partitionKey,
    shard_id: record.shardId,
    sequence_number: record.sequenceNumber,
    arrival_time: new Date(record.arrivalMs).toISOString(),
    validated_at: new Date(options.processedAtMs).toISOString(),
    validator: VALIDATOR_COMPONENT,
    contract_version: CONTRACT_VERSION,
    validator_version: CONTRACT_HASH,
  };
}

/** One quarantine object: the lines of one shard's invalid records of one batch. */
export interface QuarantineObject {
  readonly key: string;
  /** JSON lines, newline-terminated. */
  readonly body: string;
  readonly shardId: string;
  /** Sequence numbers of the records in the object, in order: reported as failures if the write fails. */
  readonly sequenceNumbers: readonly string[];
}

/**
 * Groups lines by shard (a Lambda batch holds one shard, the local runtime may mix them) into objects keyed
 * by the shard, the first and last sequence number and the first record's arrival hour. Lines keep the
 * order they are given in (shard order).
 */
export function buildQuarantineObjects(lines: readonly QuarantineLine[]): QuarantineObject[] {
  const byShard = new Map<string, QuarantineLine[]>();
  for (const line of lines) {
    let group = byShard.get(line.shard_id);
    if (!group) byShard.set(line.shard_id, (group = []));
    group.push(line);
  }
  return [...byShard.entries()].map(([shardId, group]) => {
    const first = group[0]!;
    const last = group[group.length - 1]!;
    return {
      key: quarantineObjectKey(Date.parse(first.arrival_time), shardId, first.sequence_number, last.sequence_number),
      body: group.map((l) => JSON.stringify(l)).join('\n') + '\n',
      shardId,
      sequenceNumbers: group.map((l) => l.sequence_number),
    };
  });
}
