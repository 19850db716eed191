import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { resourceName, type StageConfig } from '../config/stage-config';
import { AnalyticsWorkgroup } from './analytics-workgroup';
import { LakeCatalog } from './lake-catalog';
import { LakeZones } from './lake-zones';

export interface DataLakeProps {
  /** The resolved stage configuration. */
  readonly config: StageConfig;
}

/**
 * The data lake of one stage: zone buckets with lifecycle rules, the Glue catalog over them, and the Athena
 * workgroup with the named queries analysts use. Firehose delivery into it is `LakeDelivery`.
 */
export class DataLake extends Construct {
  readonly zones: LakeZones;
  readonly catalog: LakeCatalog;
  readonly analytics: AnalyticsWorkgroup;
  readonly rawBucket: s3.IBucket;
  readonly curatedBucket: s3.IBucket;
  readonly quarantineBucket: s3.IBucket;
  readonly athenaResultsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    const { config } = props;
    this.zones = new LakeZones(this, 'Zones', { lake: config.lake, removal: config.removal });
    this.rawBucket = this.zones.rawBucket;
    this.curatedBucket = this.zones.curatedBucket;
    this.quarantineBucket = this.zones.quarantineBucket;
    this.athenaResultsBucket = this.zones.athenaResultsBucket;

    this.catalog = new LakeCatalog(this, 'Catalog', {
      databaseName: resourceName(config, 'lake').replace(/-/g, '_'),
      rawBucket: this.rawBucket,
      curatedBucket: this.curatedBucket,
      quarantineBucket: this.quarantineBucket,
      rawDays: config.lake.rawExpirationDays,
      curatedDays: config.lake.curatedExpirationDays,
      quarantineDays: config.lake.quarantineExpirationDays,
      eventLagDays: Math.ceil(config.validation.maxPastAgeSeconds / 86_400),
    });
    this.analytics = new AnalyticsWorkgroup(this, 'Analytics', {
      workGroupName: resourceName(config, 'analytics'),
      databaseName: this.catalog.databaseName,
      resultsBucket: this.athenaResultsBucket,
      scanLimitGb: config.lake.athenaScanLimitGb,
      recursiveDelete: config.removal === 'destroy',
    });
    this.analytics.node.addDependency(this.catalog.database);
  }
}
