import { Stack, Tags, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { StageConfig } from './config/stage-config';
import { StageDiscovery } from './discovery/stage-discovery';
import { AlarmTopic } from './monitoring/alarm-topic';
import { DataLake } from './lake/data-lake';
import { LakeDelivery } from './lake/lake-delivery';
import { ProfileExport } from './lake/profile-export';
import { Ingestion } from './ingestion/ingestion';
import { Profiles } from './profiles';
import { ErasureService } from './privacy/erasure-service';

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
  /** The erasure request path (queue, function, dead-letter queue, audit bucket). */
  readonly erasure: ErasureService;
  /** The stage's names as stack outputs (and exports) and SSM parameters under `/<prefix>/<stage>/`. */
  readonly discovery: StageDiscovery;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    Tags.of(this).add('project', 'personalization-data-platform');
    Tags.of(this).add('stage', config.name);

    this.alarms = new AlarmTopic(this, 'Alarms', { email: config.alarms.email || undefined });

    // --- lake (zones, Firehose, Glue, Athena) ---
    this.lake = new DataLake(this, 'Lake', { config });

    // --- ingestion (raw and validated streams, validation stage, producer policy) ---
    this.ingestion = new Ingestion(this, 'Ingestion', { config, quarantineBucket: this.lake.quarantineBucket, alarmTopic: this.alarms.topic });

    // --- profiles (aggregator, profile store, reader grant) ---
    this.profiles = new Profiles(this, 'Profiles', { config, validatedStream: this.ingestion.validatedStream, alarmTopic: this.alarms.topic });

    // --- lake delivery (Firehose from the raw and validated streams into the lake) ---
    this.lakeDelivery = new LakeDelivery(this, 'LakeDelivery', {
      config,
      lake: this.lake,
      rawStream: this.ingestion.rawStream,
      validatedStream: this.ingestion.validatedStream,
      alarmTopic: this.alarms.topic,
      profileStore: this.profiles.store,
    });

    // --- profile exports (daily snapshot of the profile table into the curated zone, for reconciliation) ---
    if (config.lake.profileExport === 'daily') {
      this.profileExport = new ProfileExport(this, 'ProfileExport', { config, table: this.profiles.table, curatedBucket: this.lake.curatedBucket, alarmTopic: this.alarms.topic });
    }

    // --- erasure (the privacy tooling's request queue, the function that erases a person everywhere, the audit log) ---
    this.erasure = new ErasureService(this, 'Erasure', { config, profileStore: this.profiles.store, lake: this.lake, alarmTopic: this.alarms.topic });

    // --- discovery (outputs, exports and SSM parameters with the documented names) ---
    this.discovery = new StageDiscovery(this, 'Discovery', { resourcePrefix: config.resourcePrefix, stage: config.name });
    this.publishStageValues();
  }

  /** Every value of core/discovery/catalog.ts this stage has. */
  private publishStageValues(): void {
    const publish = this.discovery.publish.bind(this.discovery);
    const { streams } = this.ingestion;
    publish('RawStreamName', streams.rawStream.streamName);
    publish('RawStreamArn', streams.rawStream.streamArn);
    publish('ProducerPolicyArn', streams.producerPolicy.managedPolicyArn);
    publish('ValidatedStreamName', streams.validatedStream.streamName);
    publish('ValidatedStreamArn', streams.validatedStream.streamArn);
    if (streams.encryptionKey) publish('StreamKeyArn', streams.encryptionKey.keyArn);
    publish('ProfileTableName', this.profiles.table.tableName);
    publish('ProfileTableArn', this.profiles.table.tableArn);
    publish('ProfileLedgerTableName', this.profiles.store.ledger.tableName);
    publish('ValidationFunctionName', this.ingestion.validation.function.functionName);
    publish('AggregatorFunctionName', this.profiles.aggregator.function.functionName);
    publish('ProfileReaderPolicyArn', this.profiles.readerPolicy.managedPolicyArn);
    publish('RawBucketName', this.lake.rawBucket.bucketName);
    publish('CuratedBucketName', this.lake.curatedBucket.bucketName);
    publish('QuarantineBucketName', this.lake.quarantineBucket.bucketName);
    publish('AthenaResultsBucketName', this.lake.athenaResultsBucket.bucketName);
    publish('AccessLogsBucketName', this.lake.zones.accessLogsBucket.bucketName);
    publish('LakeDatabaseName', this.lake.catalog.databaseName);
    publish('AthenaWorkGroupName', this.lake.analytics.workGroup.ref);
    publish('ValidationOnFailureQueueUrl', this.ingestion.validation.onFailureQueue.queueUrl);
    publish('AggregatorOnFailureQueueUrl', this.profiles.aggregator.onFailureQueue.queueUrl);
    publish('AlarmTopicArn', this.alarms.topic.topicArn);
    publish('ErasureQueueUrl', this.erasure.queue.queueUrl);
    publish('ErasureRequesterPolicyArn', this.erasure.requesterPolicy.managedPolicyArn);
    publish('ErasureAuditBucketName', this.erasure.auditBucket.bucketName);
    if (this.profileExport) {
      publish('ProfileExportScheduleName', this.profileExport.schedule.scheduleName);
      publish('ProfileExportScheduleGroupName', this.profileExport.scheduleGroup.scheduleGroupName);
    }
  }
}
