import { Duration, RemovalPolicy, type Size } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AnalyticsWorkgroup } from './analytics-workgroup';
import { LakeCatalog } from './lake-catalog';
import { LakeZones, type LakeZonesProps } from './lake-zones';

export interface DataLakeProps {
  /** Glue database of the lake's tables (lowercase letters, digits and underscores). @default 'personalization_lake' */
  readonly databaseName?: string;
  /** Name of the analysts' Athena workgroup. @default 'personalization-analytics' */
  readonly workGroupName?: string;
  /** Lifecycle and removal of the zone buckets. @default LakeZones' defaults */
  readonly zones?: LakeZonesProps;
  /** Largest amount of data one Athena query may scan. @default Size.gibibytes(10) */
  readonly athenaScanLimit?: Size;
  /**
   * How far event time may trail arrival time (the validation's maximum past age): curated partitions are
   * that much older than their objects, so the curated table's projection reaches that much further back.
   * @default Duration.days(7)
   */
  readonly maxEventLag?: Duration;
}

/**
 * The data lake: zone buckets with lifecycle rules, the Glue catalog over them, and the Athena workgroup with
 * the named queries analysts use. Firehose delivery into it is `LakeDelivery`.
 */
export class DataLake extends Construct {
  readonly zones: LakeZones;
  readonly catalog: LakeCatalog;
  readonly analytics: AnalyticsWorkgroup;
  readonly rawBucket: s3.IBucket;
  readonly curatedBucket: s3.IBucket;
  readonly quarantineBucket: s3.IBucket;
  readonly athenaResultsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: DataLakeProps = {}) {
    super(scope, id);
    this.zones = new LakeZones(this, 'Zones', props.zones);
    this.rawBucket = this.zones.rawBucket;
    this.curatedBucket = this.zones.curatedBucket;
    this.quarantineBucket = this.zones.quarantineBucket;
    this.athenaResultsBucket = this.zones.athenaResultsBucket;

    const { lifecycles } = this.zones;
    this.catalog = new LakeCatalog(this, 'Catalog', {
      databaseName: props.databaseName ?? 'personalization_lake',
      rawBucket: this.rawBucket,
      curatedBucket: this.curatedBucket,
      quarantineBucket: this.quarantineBucket,
      // Every partition projection covers what its zone keeps.
      rawDays: lifecycles.raw.expirationDays ?? 0,
      curatedDays: lifecycles.curated.expirationDays ?? 0,
      quarantineDays: lifecycles.quarantine.expirationDays ?? 0,
      eventLagDays: Math.ceil((props.maxEventLag ?? Duration.days(7)).toSeconds() / 86_400),
    });
    this.analytics = new AnalyticsWorkgroup(this, 'Analytics', {
      workGroupName: props.workGroupName ?? 'personalization-analytics',
      databaseName: this.catalog.databaseName,
      resultsBucket: this.athenaResultsBucket,
      ...(props.athenaScanLimit ? { scanLimit: props.athenaScanLimit } : {}),
      removalPolicy: props.zones?.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.analytics.node.addDependency(this.catalog.database);
  }
}
