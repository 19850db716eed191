/**
 * The lake's catalog, defined once for the Glue tables of the deployed stack and for the local DuckDB views
 * that stand in for them: table names, columns (Hive types), partition columns and partition projection.
 */
import { EVENT_COLUMNS, type EventColumn } from '@personalization-data-platform/contract';
import { ZONE_PREFIX } from './layout';

/** Glue table names, as analysts write them in Athena (the workgroup's named queries use the same names). */
export const LAKE_TABLES = {
  curated: 'curated_events',
  raw: 'raw_events',
  quarantine: 'quarantine_events',
  profileExports: 'profile_exports',
} as const;
export type LakeTableName = (typeof LAKE_TABLES)[keyof typeof LAKE_TABLES];

/** Hour partitions shared by the raw, curated and quarantine tables (strings: the values are path segments). */
export const HOUR_PARTITION_COLUMNS: readonly EventColumn[] = [
  { name: 'dt', type: 'string', comment: 'UTC day of the partition, YYYY-MM-DD (event time in curated, arrival time in raw and quarantine).' },
  { name: 'hour', type: 'string', comment: 'UTC hour of the partition, 00-23.' },
];

/** Curated (Parquet) columns: exactly the contract's derived columns. */
export const CURATED_COLUMNS: readonly EventColumn[] = EVENT_COLUMNS;

/**
 * Raw columns: the contract's top-level fields, every one as a string. Raw holds records as received, so
 * a record with a wrongly typed field must still be readable (a typed column would fail the whole query);
 * nested objects read as their JSON text. Lines that are not JSON read as all-null rows, among them the lines
 * of records the raw framing had to encode (core/lake/raw-framing.ts): one row per record either way.
 */
export const RAW_COLUMNS: readonly EventColumn[] = EVENT_COLUMNS.map((c) => ({
  name: c.name,
  type: 'string',
  comment: `As received (JSON text for objects). ${c.comment}`,
}));

/** Quarantine columns: one JSON object per invalid record, as the validation function writes them. */
export const QUARANTINE_COLUMNS: readonly EventColumn[] = [
  { name: 'reason', type: 'string', comment: 'Machine-readable reason code of the rejection.' },
  { name: 'errors', type: 'array<struct<path:string,rule:string,message:string>>', comment: 'Every violation: JSON path, rule (keyword) and message.' },
  { name: 'payload_base64', type: 'string', comment: 'The record as received, base64 (truncated for oversized records).' },
  { name: 'payload_bytes', type: 'bigint', comment: 'Size of the record as received, in bytes.' },
  { name: 'payload_truncated', type: 'boolean', comment: 'Whether payload_base64 holds only the start of the record.' },
  { name: 'shard_id', type: 'string', comment: 'Kinesis shard of the record.' },
  { name: 'sequence_number', type: 'string', comment: 'Kinesis sequence number of the record.' },
  { name: 'arrival_time', type: 'string', comment: 'ISO 8601 UTC time the record reached the stream (use from_iso8601_timestamp).' },
  { name: 'validated_at', type: 'string', comment: 'ISO 8601 UTC time the validator saw the record.' },
  { name: 'validator_version', type: 'string', comment: 'Hash of the contract the validator was built from.' },
  { name: 'contract_version', type: 'string', comment: 'Contract version (MAJOR.MINOR) of the validator.' },
];

/**
 * Profile snapshots: DynamoDB "export to S3" (DYNAMODB_JSON) of the profile table, one export per snapshot
 * day under `profile-exports/snapshot=YYYY-MM-DD/`. Each line is `{"Item": {attribute: {type: value}}}`;
 * only the attributes the reconciliation needs are declared (user_id, first_seen, counts). The manifests
 * DynamoDB writes beside the data (`manifest-summary.json` once the export completed) read as rows without an
 * item; queries tell them apart by Athena's `"$path"` column.
 */
export const PROFILE_EXPORT_COLUMNS: readonly EventColumn[] = [
  {
    name: 'item',
    type: 'struct<user_id:struct<s:string>,first_seen:struct<n:string>,counts:struct<m:map<string,struct<n:string>>>>',
    comment: 'The profile item in DynamoDB JSON: user_id (S), first_seen (N, epoch ms) and counts (M of event_type -> N lifetime count).',
  },
];
export const PROFILE_EXPORT_PARTITION_COLUMNS: readonly EventColumn[] = [
  { name: 'snapshot', type: 'string', comment: 'UTC day the export was taken, YYYY-MM-DD (the S3 prefix given to the export).' },
];
/** Prefix of profile exports inside the curated bucket. */
export const PROFILE_EXPORT_PREFIX = 'profile-exports/';

/** How long profile snapshots are kept (and how far back the profile_exports table looks), in days. */
export const PROFILE_EXPORT_RETENTION_DAYS = 90;

/** `profile-exports/snapshot=YYYY-MM-DD/`: the S3 prefix to give ExportTableToPointInTime. */
export function profileExportPrefix(snapshotDay: string): string {
  return `${PROFILE_EXPORT_PREFIX}snapshot=${snapshotDay}/`;
}

export interface ProjectionOptions {
  /** `s3://bucket/prefix/` of the table (with the trailing slash). */
  readonly location: string;
  /** Oldest day the projection enumerates, as days before now. */
  readonly daysBack: number;
}

/**
 * Partition projection of a `dt=/hour=` table: Athena computes partition locations from these properties,
 * so no crawler, no MSCK REPAIR and no partition metadata. The range reaches one day ahead because curated
 * partitions are by event time and producers' clocks may run ahead of ours.
 */
export function hourPartitionProjection(o: ProjectionOptions): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `NOW-${o.daysBack}DAYS,NOW+1DAYS`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'projection.hour.type': 'integer',
    'projection.hour.range': '0,23',
    'projection.hour.digits': '2',
    'storage.location.template': `${o.location}dt=\${dt}/hour=\${hour}/`,
  };
}

/** Partition projection of the profile-export table, by snapshot day. */
export function snapshotProjection(o: ProjectionOptions): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.snapshot.type': 'date',
    'projection.snapshot.format': 'yyyy-MM-dd',
    'projection.snapshot.range': `NOW-${o.daysBack}DAYS,NOW`,
    'projection.snapshot.interval': '1',
    'projection.snapshot.interval.unit': 'DAYS',
    'storage.location.template': `${o.location}snapshot=\${snapshot}/`,
  };
}

/** Key prefixes of each table inside its bucket. */
export const TABLE_PREFIX: Record<LakeTableName, string> = {
  curated_events: ZONE_PREFIX.curated,
  raw_events: ZONE_PREFIX.raw,
  quarantine_events: ZONE_PREFIX.quarantine,
  profile_exports: PROFILE_EXPORT_PREFIX,
};

/**
 * Upper bound of the curated partitions one Firehose buffer can touch: the validator accepts event times from
 * `maxPastAge` before to `maxFutureSkew` after arrival, so the (dt, hour) partitions of accepted events span
 * that window in hours, plus one for each partial hour at the ends. Firehose allows 500 active partitions.
 */
export function maxActiveCuratedPartitions(maxPastAgeSeconds: number, maxFutureSkewSeconds: number): number {
  return Math.ceil((maxPastAgeSeconds + maxFutureSkewSeconds) / 3600) + 2;
}

/** Firehose's limit of active partitions per delivery stream. */
export const FIREHOSE_ACTIVE_PARTITION_LIMIT = 500;
