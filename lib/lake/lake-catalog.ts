import { Aws, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  PROFILE_EXPORT_RETENTION_DAYS,
  CURATED_COLUMNS,
  HOUR_PARTITION_COLUMNS,
  LAKE_TABLES,
  PROFILE_EXPORT_COLUMNS,
  PROFILE_EXPORT_PARTITION_COLUMNS,
  QUARANTINE_COLUMNS,
  RAW_COLUMNS,
  TABLE_PREFIX,
  hourPartitionProjection,
  snapshotProjection,
  type LakeTableName,
} from '../../core/lake/catalog';
import type { EventColumn } from '@personalization-data-platform/contract';

export interface LakeCatalogProps {
  /** Glue database name (lowercase letters, digits and underscores so Athena needs no quoting). */
  readonly databaseName: string;
  readonly rawBucket: s3.IBucket;
  readonly curatedBucket: s3.IBucket;
  readonly quarantineBucket: s3.IBucket;
  /** Days of raw data kept (the raw projection's range). */
  readonly rawDays: number;
  /** Days of curated data kept; 0 = forever. */
  readonly curatedDays: number;
  /** Days of quarantine data kept. */
  readonly quarantineDays: number;
  /** How far event time may trail arrival, in days: curated partitions are that much older than their objects. */
  readonly eventLagDays: number;
}

/** Range of the curated projection when curated data is kept forever: ten years of days. */
const FOREVER_DAYS = 3653;

const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', parameters: { 'serialization.format': '1' } },
};
const JSON_LINES = {
  inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  serdeInfo: {
    serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
    // A malformed line reads as nulls instead of failing the query: raw keeps whatever producers sent.
    parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
  },
};

/**
 * The Glue Data Catalog of the lake: one database and a table per zone (curated Parquet, raw and quarantine
 * JSON lines) plus the profile-export snapshots used for reconciliation. Every table uses partition
 * projection: no crawler runs, no partition is ever registered, and a new hour is queryable the moment
 * Firehose writes it.
 */
export class LakeCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly curatedTable: glue.CfnTable;
  readonly rawTable: glue.CfnTable;
  readonly quarantineTable: glue.CfnTable;
  readonly profileExportsTable: glue.CfnTable;

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: props.databaseName,
        description: 'Personalization data lake: curated events (Parquet), raw events and quarantine (JSON lines), profile snapshots.',
      },
    });
    const location = (bucket: s3.IBucket, table: LakeTableName) => `s3://${bucket.bucketName}/${TABLE_PREFIX[table]}`;
    const curatedDays = props.curatedDays === 0 ? FOREVER_DAYS : props.curatedDays + props.eventLagDays;

    this.curatedTable = this.table('CuratedEvents', LAKE_TABLES.curated, 'Validated events, Parquet, partitioned by event time.', {
      columns: CURATED_COLUMNS,
      partitionKeys: HOUR_PARTITION_COLUMNS,
      format: PARQUET,
      classification: 'parquet',
      location: location(props.curatedBucket, LAKE_TABLES.curated),
      projection: hourPartitionProjection({ location: location(props.curatedBucket, LAKE_TABLES.curated), daysBack: curatedDays }),
    });
    this.rawTable = this.table('RawEvents', LAKE_TABLES.raw, 'Every record as received, one gzip line each (a line starting with 0x1E holds a record that could not sit on a line, in base64, and reads as NULLs), partitioned by arrival time.', {
      columns: RAW_COLUMNS,
      partitionKeys: HOUR_PARTITION_COLUMNS,
      format: JSON_LINES,
      classification: 'json',
      location: location(props.rawBucket, LAKE_TABLES.raw),
      projection: hourPartitionProjection({ location: location(props.rawBucket, LAKE_TABLES.raw), daysBack: props.rawDays }),
    });
    this.quarantineTable = this.table('QuarantineEvents', LAKE_TABLES.quarantine, 'Invalid records with reason codes, JSON lines, partitioned by arrival time.', {
      columns: QUARANTINE_COLUMNS,
      partitionKeys: HOUR_PARTITION_COLUMNS,
      format: JSON_LINES,
      classification: 'json',
      location: location(props.quarantineBucket, LAKE_TABLES.quarantine),
      projection: hourPartitionProjection({ location: location(props.quarantineBucket, LAKE_TABLES.quarantine), daysBack: props.quarantineDays }),
    });
    this.profileExportsTable = this.table('ProfileExports', LAKE_TABLES.profileExports, 'DynamoDB exports of the profile table (DYNAMODB_JSON), one per snapshot day.', {
      columns: PROFILE_EXPORT_COLUMNS,
      partitionKeys: PROFILE_EXPORT_PARTITION_COLUMNS,
      format: JSON_LINES,
      classification: 'json',
      location: location(props.curatedBucket, LAKE_TABLES.profileExports),
      projection: snapshotProjection({ location: location(props.curatedBucket, LAKE_TABLES.profileExports), daysBack: PROFILE_EXPORT_RETENTION_DAYS }),
    });
  }

  /** ARNs of the database and tables, for IAM policies (Firehose reads the curated table's schema). */
  tableArn(table: glue.CfnTable): string {
    const stack = Stack.of(this);
    return stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${(table.tableInput as glue.CfnTable.TableInputProperty).name}` });
  }

  private table(
    id: string,
    name: LakeTableName,
    description: string,
    o: {
      columns: readonly EventColumn[];
      partitionKeys: readonly EventColumn[];
      format: typeof PARQUET | typeof JSON_LINES;
      classification: string;
      location: string;
      projection: Record<string, string>;
    },
  ): glue.CfnTable {
    const column = (c: EventColumn): glue.CfnTable.ColumnProperty => ({ name: c.name, type: c.type, comment: c.comment.slice(0, 255) });
    const table = new glue.CfnTable(this, id, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', classification: o.classification, has_encrypted_data: 'false', ...o.projection },
        partitionKeys: o.partitionKeys.map(column),
        storageDescriptor: {
          columns: o.columns.map(column),
          location: o.location,
          compressed: o.classification === 'parquet',
          storedAsSubDirectories: false,
          ...o.format,
        },
      },
    });
    table.node.addDependency(this.database);
    return table;
  }
}
