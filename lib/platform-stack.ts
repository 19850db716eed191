import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from './config/stage-config';
import { AlarmTopic } from './monitoring/alarm-topic';
import { DataLake } from './lake/data-lake';
import { LakeDelivery } from './lake/lake-delivery';
import { ProfileExport } from './lake/profile-export';
import { Ingestion } from './ingestion/ingestion';
import { Profiles } from './profiles';

export interface PlatformStackProps extends StackProps {
  /** The resolved stage configuration. */
  readonly config: StageConfig;
}

/**
 * The whole platform for one stage: ingestion (raw and validated streams, validation), profiles (aggregation
 * and the profile store), the lake (zones, Firehose, Glue, Athena) and their alarms on one topic.
 */
export class PlatformStack extends Stack {
  readonly config: StageConfig;
  readonly alarms: AlarmTopic;
  /** The lake: zone buckets, Glue catalog, Athena workgroup and named queries. */
  readonly lake: DataLake;
  /** Raw and validated event streams, the validation stage and the producers' policy. */
  readonly ingestion: Ingestion;
  /** Firehose delivery of both streams into the lake, with its alarms. */
  readonly lakeDelivery: LakeDelivery;

  /** User profiles: the profile store (table, reader grant) and the aggregator on the validated stream. */
  readonly profiles: Profiles;
  /** The daily export of the profile table into the lake (reconciliation snapshots); absent when `lake.profileExport` is 'off'. */
  readonly profileExport?: ProfileExport;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    Tags.of(this).add('project', 'personalization-data-platform');
    Tags.of(this).add('stage', config.name);

    this.alarms = new AlarmTopic(this, 'Alarms', { email: config.alarms.email || undefined });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'SNS topic every alarm notifies' });

    // --- lake (zones, Firehose, Glue, Athena) ---
    this.lake = new DataLake(this, 'Lake', { config });
    new CfnOutput(this, 'RawBucketName', { value: this.lake.rawBucket.bucketName, description: 'Raw zone: every record as received' });
    new CfnOutput(this, 'CuratedBucketName', { value: this.lake.curatedBucket.bucketName, description: 'Curated zone: validated events as Parquet' });
    new CfnOutput(this, 'QuarantineBucketName', { value: this.lake.quarantineBucket.bucketName, description: 'Quarantine zone: invalid records with their reasons' });
    new CfnOutput(this, 'LakeDatabaseName', { value: this.lake.catalog.databaseName, description: 'Glue database of the lake tables' });

    // --- ingestion (raw and validated streams, validation stage, producer policy) ---
    this.ingestion = new Ingestion(this, 'Ingestion', { config, quarantineBucket: this.lake.quarantineBucket, alarmTopic: this.alarms.topic });

    // --- lake delivery (Firehose from the raw and validated streams into the lake) ---
    this.lakeDelivery = new LakeDelivery(this, 'LakeDelivery', {
      config,
      lake: this.lake,
      rawStream: this.ingestion.rawStream,
      validatedStream: this.ingestion.validatedStream,
      alarmTopic: this.alarms.topic,
    });

    // --- profiles (aggregator, profile store, reader grant) ---
    this.profiles = new Profiles(this, 'Profiles', { config, validatedStream: this.ingestion.validatedStream, alarmTopic: this.alarms.topic });

    // --- profile exports (daily snapshot of the profile table into the curated zone, for reconciliation) ---
    if (config.lake.profileExport === 'daily') {
      this.profileExport = new ProfileExport(this, 'ProfileExport', { config, table: this.profiles.table, curatedBucket: this.lake.curatedBucket, alarmTopic: this.alarms.topic });
    }
  }
}
