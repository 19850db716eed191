import { Aspects, Duration, RemovalPolicy, Size, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import { resourceName, stageFreshnessSlo, stageLedgerRetentionHours, type StageConfig } from './config/stage-config';
import { StageDiscovery } from './discovery/stage-discovery';
import { AlarmTopic } from './monitoring/alarm-topic';
import { FreshnessCanary, type FreshnessCanaryProps } from './monitoring/freshness-canary';
import { PipelineDashboard, type PipelineDashboardProps } from './monitoring/pipeline-dashboard';
import { RunbookPointers } from './monitoring/runbook';
import { StageSchedules, type StageSchedulesProps } from './shared/stage-schedules';
import { DataLake, type DataLakeProps } from './lake/data-lake';
import { LakeDelivery, type LakeDeliveryProps } from './lake/lake-delivery';
import { ProfileExport, type ProfileExportProps } from './lake/profile-export';
import { Ingestion, type IngestionProps } from './ingestion/ingestion';
import { Profiles, type ProfilesProps } from './profiles';
import { ErasureService, type ErasureServiceProps } from './privacy/erasure-service';

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
  /** The stage's EventBridge Scheduler group and the scheduler's alarms. */
  readonly schedules: StageSchedules;
  /** The freshness canary and its SLO alarms; absent when `alarms.freshnessCanary` is 'off'. */
  readonly freshnessCanary?: FreshnessCanary;
  /** The stage's dashboard, laid out as the data flows. */
  readonly dashboard: PipelineDashboard;
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
    const alarmTopic = this.alarms.topic;
    const stage = stageProps(config);

    // --- lake (zones, Firehose, Glue, Athena) ---
    this.lake = new DataLake(this, 'Lake', stage.lake);

    // --- ingestion (raw and validated streams, validation stage, producer policy) ---
    this.ingestion = new Ingestion(this, 'Ingestion', { ...stage.ingestion, quarantineBucket: this.lake.quarantineBucket, alarmTopic });

    // --- profiles (aggregator, profile store, reader grant) ---
    this.profiles = new Profiles(this, 'Profiles', { ...stage.profiles, validatedStream: this.ingestion.validatedStream, alarmTopic });
    // After an erasure, records of the person are neither quarantined nor forwarded (the tombstones in the ledger).
    this.ingestion.validation.dropErasedSubjects(this.profiles.store);

    // --- lake delivery (Firehose from the raw and validated streams into the lake; the curated gate reads tombstones) ---
    this.lakeDelivery = new LakeDelivery(this, 'LakeDelivery', {
      ...stage.lakeDelivery,
      lake: this.lake,
      rawStream: this.ingestion.rawStream,
      validatedStream: this.ingestion.validatedStream,
      alarmTopic,
      profileStore: this.profiles.store,
    });

    // --- schedules (the stage's EventBridge Scheduler group, shared by the export and the canary) ---
    this.schedules = new StageSchedules(this, 'Schedules', { ...stage.schedules, alarmTopic });

    // --- profile exports (daily snapshot of the profile table into the curated zone, for reconciliation) ---
    if (config.lake.profileExport === 'daily') {
      this.profileExport = new ProfileExport(this, 'ProfileExport', {
        ...stage.profileExport,
        scheduleGroup: this.schedules.group,
        table: this.profiles.table,
        curatedBucket: this.lake.curatedBucket,
        alarmTopic,
      });
    }

    // --- erasure (the privacy tooling's request queue, the function that erases a person everywhere, the audit log) ---
    this.erasure = new ErasureService(this, 'Erasure', { ...stage.erasure, profileStore: this.profiles.store, lake: this.lake, alarmTopic });

    // --- freshness canary (a probe a minute, the freshness SLO and its alarms) ---
    if (config.alarms.freshnessCanary === 'on') {
      this.freshnessCanary = new FreshnessCanary(this, 'FreshnessCanary', {
        ...stage.freshnessCanary,
        rawStream: this.ingestion.rawStream,
        profileTable: this.profiles.table,
        curatedBucket: this.lake.curatedBucket,
        schedules: this.schedules,
        alarmTopic,
      });
    }

    // --- the dashboard (last: it shows every alarm's state) ---
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      ...stage.dashboard,
      rawStream: this.ingestion.rawStream,
      validatedStream: this.ingestion.validatedStream,
      validation: this.ingestion.validation,
      aggregator: this.profiles.aggregator,
      profileTable: this.profiles.table,
      ledgerTable: this.profiles.store.ledger,
      rawDelivery: this.lakeDelivery.rawDelivery,
      curatedDelivery: this.lakeDelivery.curatedDelivery,
      rawFraming: this.lakeDelivery.rawFraming,
      ...(this.freshnessCanary ? { freshnessCanary: this.freshnessCanary } : {}),
      ...(this.profileExport ? { profileExport: this.profileExport.function } : {}),
      erasure: this.erasure,
      alarms: () => this.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm),
    });

    // --- discovery (outputs, exports and SSM parameters with the documented names) ---
    this.discovery = new StageDiscovery(this, 'Discovery', { resourcePrefix: config.resourcePrefix, stage: config.name });
    this.publishStageValues();

    // Every alarm's description ends with its runbook section (docs/operations.md).
    Aspects.of(this).add(new RunbookPointers());
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
    publish('DashboardName', this.dashboard.dashboardName);
    publish('ErasureQueueUrl', this.erasure.queue.queueUrl);
    publish('ErasureRequesterPolicyArn', this.erasure.requesterPolicy.managedPolicyArn);
    publish('ErasureAuditBucketName', this.erasure.auditBucket.bucketName);
    if (this.profileExport) {
      publish('ProfileExportScheduleName', this.profileExport.schedule.scheduleName);
      publish('ProfileExportScheduleGroupName', this.schedules.group.scheduleGroupName);
    }
    if (this.freshnessCanary) publish('FreshnessCanaryFunctionName', this.freshnessCanary.function.functionName);
  }
}

/**
 * The stage configuration as the constructs' props: the one place where stage keys (plain numbers, 'retain',
 * resource-name prefixes) become construct options (Duration, Size, RemovalPolicy, physical names). What
 * each construct is given beyond its options (streams, buckets, the alarm topic) is wired above.
 */
export function stageProps(config: StageConfig): {
  lake: DataLakeProps;
  ingestion: Omit<IngestionProps, 'quarantineBucket' | 'alarmTopic'>;
  lakeDelivery: Omit<LakeDeliveryProps, 'lake' | 'rawStream' | 'validatedStream' | 'alarmTopic' | 'profileStore'>;
  erasure: Omit<ErasureServiceProps, 'profileStore' | 'lake' | 'alarmTopic'>;
  profiles: Omit<ProfilesProps, 'validatedStream' | 'alarmTopic'>;
  profileExport: Omit<ProfileExportProps, 'table' | 'curatedBucket' | 'alarmTopic' | 'scheduleGroup'>;
  schedules: Omit<StageSchedulesProps, 'alarmTopic'>;
  freshnessCanary: Omit<FreshnessCanaryProps, 'rawStream' | 'profileTable' | 'curatedBucket' | 'schedules' | 'alarmTopic'>;
  dashboard: Pick<PipelineDashboardProps, 'dashboardName' | 'quarantineRatioAlarmThreshold' | 'deliveryFreshnessAlarmThreshold'>;
} {
  const { streams, validation, profiles, lake, alarms } = config;
  const removalPolicy = config.removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  const name = (suffix: string) => resourceName(config, suffix);
  const maxPastAge = Duration.seconds(validation.maxPastAgeSeconds);
  const maxFutureSkew = Duration.seconds(validation.maxFutureSkewSeconds);
  const freshness = stageFreshnessSlo(config);
  return {
    lake: {
      databaseName: name('lake').replace(/-/g, '_'),
      workGroupName: name('analytics'),
      zones: {
        rawInfrequentAccessAfter: Duration.days(lake.rawInfrequentAccessDays),
        rawGlacierAfter: Duration.days(lake.rawGlacierDays),
        rawExpiration: Duration.days(lake.rawExpirationDays),
        curatedInfrequentAccessAfter: Duration.days(lake.curatedInfrequentAccessDays),
        curatedExpiration: Duration.days(lake.curatedExpirationDays),
        quarantineExpiration: Duration.days(lake.quarantineExpirationDays),
        athenaResultsExpiration: Duration.days(lake.athenaResultsExpirationDays),
        accessLogsExpiration: Duration.days(lake.accessLogsExpirationDays),
        noncurrentVersionExpiration: Duration.days(lake.noncurrentVersionExpirationDays),
        removalPolicy,
      },
      athenaScanLimit: Size.gibibytes(lake.athenaScanLimitGb),
      maxEventLag: maxPastAge,
    },
    ingestion: {
      streams: {
        rawStreamName: name('events'),
        validatedStreamName: name('validated'),
        producerPolicyName: name('producer'),
        streamMode: streams.capacityMode === 'on-demand' ? kinesis.StreamMode.ON_DEMAND : kinesis.StreamMode.PROVISIONED,
        rawShardCount: streams.rawShardCount,
        validatedShardCount: streams.validatedShardCount,
        retentionPeriod: Duration.hours(streams.retentionHours),
        encryption: streams.encryption === 'customer' ? kinesis.StreamEncryption.KMS : kinesis.StreamEncryption.MANAGED,
        removalPolicy,
      },
      validation: {
        functionName: name('validate'),
        maxEventBytes: validation.maxEventBytes,
        maxFutureSkew,
        maxPastAge,
        quarantinePayloadMaxBytes: validation.quarantinePayloadMaxBytes,
        memorySize: validation.memoryMb,
        batchSize: validation.batchSize,
        maxBatchingWindow: Duration.seconds(validation.maxBatchingWindowSeconds),
        retryAttempts: validation.retryAttempts,
        maxRecordAge: Duration.seconds(validation.maxRecordAgeSeconds),
        parallelizationFactor: validation.parallelizationFactor,
        iteratorAgeAlarmThreshold: Duration.seconds(alarms.iteratorAgeSeconds),
        quarantineRatioAlarmThreshold: alarms.quarantineRatio,
      },
    },
    lakeDelivery: {
      rawDeliveryStreamName: name('raw-to-lake'),
      curatedDeliveryStreamName: name('curated-to-lake'),
      rawFramingFunctionName: name('frame-raw'),
      curationFunctionName: name('curate'),
      bufferingInterval: Duration.seconds(lake.firehoseBufferSeconds),
      bufferingSize: Size.mebibytes(lake.firehoseBufferMb),
      deliveryFreshnessAlarmThreshold: Duration.seconds(alarms.deliveryFreshnessSeconds),
      acceptedEventTimes: { maxPastAge, maxFutureSkew },
      removalPolicy,
    },
    profiles: {
      store: {
        tableName: name('profiles'),
        ledgerTableName: name('profile-ledger'),
        billingMode: profiles.billingMode === 'on-demand' ? dynamodb.BillingMode.PAY_PER_REQUEST : dynamodb.BillingMode.PROVISIONED,
        readCapacity: profiles.readCapacityUnits,
        writeCapacity: profiles.writeCapacityUnits,
        timeToLive: profiles.ttlDays > 0,
        removalPolicy,
      },
      aggregator: {
        functionName: name('aggregate'),
        window: Duration.seconds(profiles.windowSeconds),
        batchSize: profiles.batchSize,
        maxBatchingWindow: Duration.seconds(profiles.maxBatchingWindowSeconds),
        retryAttempts: profiles.retryAttempts,
        maxRecordAge: Duration.seconds(profiles.maxRecordAgeSeconds),
        affinityHalfLifeDays: profiles.affinityHalfLifeDays,
        topCategories: profiles.topCategories,
        recentContent: profiles.recentContent,
        sessionsKept: profiles.sessionsKept,
        timeToLive: Duration.days(profiles.ttlDays),
        ledgerRetention: Duration.hours(stageLedgerRetentionHours(config)),
        writeConcurrency: profiles.writeConcurrency,
        memorySize: profiles.memoryMb,
        timeout: Duration.seconds(profiles.timeoutSeconds),
        iteratorAgeAlarmThreshold: Duration.seconds(alarms.iteratorAgeSeconds),
      },
      readerPolicyName: name('profile-reader'),
    },
    profileExport: {
      name: name('export-profiles'),
      exportHourUtc: lake.profileExportHourUtc,
    },
    schedules: { scheduleGroupName: name('schedules') },
    freshnessCanary: {
      name: name('freshness-canary'),
      profileObjective: Duration.seconds(freshness.profileSeconds),
      lakeObjective: Duration.seconds(freshness.lakeSeconds),
    },
    dashboard: {
      dashboardName: name('pipeline'),
      quarantineRatioAlarmThreshold: alarms.quarantineRatio,
      deliveryFreshnessAlarmThreshold: Duration.seconds(alarms.deliveryFreshnessSeconds),
    },
    erasure: {
      queueName: name('erasure-requests'),
      functionName: name('erase'),
      requesterPolicyName: name('erasure-requester'),
      // Tombstones outlive every copy of an earlier event that could still be accepted: the ledger's retention.
      tombstoneRetention: Duration.hours(stageLedgerRetentionHours(config)),
      removalPolicy,
    },
  };
}
