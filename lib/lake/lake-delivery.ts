import { ArnFormat, Aws, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FIREHOSE_ACTIVE_PARTITION_LIMIT, maxActiveCuratedPartitions } from '../../core/lake/catalog';
import { ERROR_PREFIX, ZONE_PREFIX } from '../../core/lake/layout';
import { ConfigError } from '../../core/errors';
import { ACTIVE_PARTITION_BUDGET, resourceName, type StageConfig } from '../config/stage-config';
import { PlatformFunction } from '../shared/platform-function';
import { acknowledgeFunctionRoleFindings, FIREHOSE_STREAM_READ_ACTIONS, grantStreamRead } from '../shared/stream-consumer';
import type { DataLake } from './data-lake';
import type { ProfileStore } from '../profiles/profile-store';
import { CURATE_ENV } from '../../lambdas/curate/config';

export interface LakeDeliveryProps {
  readonly config: StageConfig;
  /** The lake to deliver into (zones and the curated table's schema). */
  readonly lake: DataLake;
  /** Every record as producers sent it: delivered to the raw zone. */
  readonly rawStream: kinesis.IStream;
  /** Normalized valid events: delivered to the curated zone as Parquet. */
  readonly validatedStream: kinesis.IStream;
  /** Topic every alarm notifies. */
  readonly alarmTopic: sns.ITopic;
  /** The profile store, whose ledger table holds the tombstones the curated lake's gate reads. */
  readonly profileStore: ProfileStore;
}

export { ACTIVE_PARTITION_BUDGET };

/** Raw prefix: arrival date and hour (Firehose's own timestamp namespace, UTC). */
export const RAW_PREFIX = `${ZONE_PREFIX.raw}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`;
/** Curated prefix: the event's own date and hour, extracted by the JQ query below (dynamic partitioning). */
export const CURATED_PREFIX = `${ZONE_PREFIX.curated}dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/`;
/** The JQ query of dynamic partitioning: slices the canonical UTC event_time exactly as eventTimePartition() does. */
export const CURATED_PARTITION_QUERY = '{dt: .event_time[0:10], hour: .event_time[11:13]}';
/** Error prefixes: failure type (processing-failed, format-conversion-failed, ...) then arrival hour. */
export const errorPrefix = (zone: keyof typeof ERROR_PREFIX) => `${ERROR_PREFIX[zone]}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`;
/** How the curated stream parses event_time: always canonical UTC with milliseconds. */
export const EVENT_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

/**
 * Batch size Firehose hands the raw framing function. Firehose invokes a transformation synchronously, and a
 * synchronous Lambda request or response holds at most 6 MB. A record that needs encoding grows by about 16/9
 * in the response (base64 in the line, base64 again in the response): 1 MB of input stays under 2 MB either
 * way, where 3 MB, the largest hint Firehose allows, could pass 6 MB.
 */
export const RAW_FRAMING_BUFFER_MB = 1;
/** How long Firehose buffers for the framing function at most (its documented default). */
export const RAW_FRAMING_BUFFER_SECONDS = 60;

/**
 * Firehose delivery into the lake: the raw stream to the raw zone (gzip, one line per record whatever it
 * holds, framed by a transformation function, by arrival hour) and the validated stream to the curated zone (dynamic partitioning by event hour, record
 * format conversion to Parquet with the curated Glue table's schema). Each delivery stream has its own role
 * limited to its source stream, its zone's prefixes, its log stream and (curated) the table it reads; errors
 * land under the zone's `errors/` prefix; delivery freshness and delivery errors are alarmed.
 */
export class LakeDelivery extends Construct {
  readonly rawDelivery: firehose.CfnDeliveryStream;
  /** The raw stream's transformation: one line per record in the raw zone, whatever the record holds. */
  readonly rawFraming: PlatformFunction;
  readonly curatedDelivery: firehose.CfnDeliveryStream;
  /** The curated stream's transformation: the lake's gate for analytics consent and erased subjects (lambdas/curate). */
  readonly curation: PlatformFunction;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: LakeDeliveryProps) {
    super(scope, id);
    const { config, lake } = props;
    const partitions = maxActiveCuratedPartitions(config.validation.maxPastAgeSeconds, config.validation.maxFutureSkewSeconds);
    if (partitions > ACTIVE_PARTITION_BUDGET) {
      throw new ConfigError(
        `lake delivery: validation accepts events up to ${config.validation.maxPastAgeSeconds} s old and ${config.validation.maxFutureSkewSeconds} s ahead, ` +
          `so the curated stream could keep ${partitions} hour partitions active; keep it within ${ACTIVE_PARTITION_BUDGET} (Firehose's limit is ${FIREHOSE_ACTIVE_PARTITION_LIMIT}).`,
      );
    }
    const buffering = { intervalInSeconds: config.lake.firehoseBufferSeconds, sizeInMBs: config.lake.firehoseBufferMb };
    const removal = config.removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // raw -----------------------------------------------------------------------------------------------
    const rawName = resourceName(config, 'raw-to-lake');
    const raw = this.deliveryRole('Raw', rawName, props.rawStream, lake.rawBucket, 'raw', removal);
    // Firehose's own processors cannot encode a record that holds newlines, or is not text, or is empty:
    // a Lambda transformation frames every record as one line (core/lake/raw-framing.ts).
    this.rawFraming = new PlatformFunction(this, 'RawFraming', {
      handlerPath: 'frame-raw/handler.ts',
      serviceName: 'frame-raw',
      functionName: resourceName(config, 'frame-raw'),
      description: `Transformation of Firehose ${rawName}: each raw record on one line of the raw zone (as sent, or 0x1E and base64)`,
      memorySize: 256,
      // Firehose waits up to 5 minutes for a transformation; a 1 MB batch frames in milliseconds.
      timeout: Duration.seconds(60),
    });
    acknowledgeFunctionRoleFindings(this.rawFraming);
    // What Firehose documents its role needs to run a transformation: invoke it and read its configuration.
    raw.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FrameRawRecords',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [this.rawFraming.functionArn],
      }),
    );
    this.rawDelivery = new firehose.CfnDeliveryStream(this, 'RawDelivery', {
      deliveryStreamName: rawName,
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: props.rawStream.streamArn, roleArn: raw.role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: lake.rawBucket.bucketArn,
        roleArn: raw.role.roleArn,
        prefix: RAW_PREFIX,
        errorOutputPrefix: errorPrefix('raw'),
        compressionFormat: 'GZIP',
        bufferingHints: buffering,
        cloudWatchLoggingOptions: { enabled: true, logGroupName: raw.logGroup.logGroupName, logStreamName: raw.logStream.logStreamName },
        // Kinesis records carry no separator, and some hold newlines of their own: the framing function ends
        // each record's one line itself (AppendDelimiterToRecord would split those records into several).
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'Lambda',
              parameters: [
                { parameterName: 'LambdaArn', parameterValue: this.rawFraming.functionArn },
                { parameterName: 'BufferSizeInMBs', parameterValue: String(RAW_FRAMING_BUFFER_MB) },
                { parameterName: 'BufferIntervalInSeconds', parameterValue: String(RAW_FRAMING_BUFFER_SECONDS) },
                { parameterName: 'NumberOfRetries', parameterValue: '3' },
              ],
            },
          ],
        },
        s3BackupMode: 'Disabled',
      },
    });
    this.rawDelivery.node.addDependency(raw.role, this.rawFraming);

    // curated -------------------------------------------------------------------------------------------
    const curatedName = resourceName(config, 'curated-to-lake');
    const curated = this.deliveryRole('Curated', curatedName, props.validatedStream, lake.curatedBucket, 'curated', removal);
    const table = lake.catalog.curatedTable;
    const tableName = (table.tableInput as { name: string }).name;
    curated.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCuratedTableSchema',
        actions: ['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions'],
        resources: [
          Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' }),
          Stack.of(this).formatArn({ service: 'glue', resource: 'database', resourceName: lake.catalog.databaseName }),
          Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.catalog.databaseName}/${tableName}` }),
        ],
      }),
    );
    // The gate of the curated zone: events without analytics consent, and events of erased people, are dropped
    // before partitioning (Firehose runs a Lambda transformation before inline parsing when both are set:
    // "Understand partitioning keys" and "Apply dynamic partitioning to aggregated data" in its guide).
    this.curation = new PlatformFunction(this, 'Curation', {
      handlerPath: 'curate/handler.ts',
      serviceName: 'curate',
      functionName: resourceName(config, 'curate'),
      description: `Transformation of Firehose ${curatedName}: drops events without analytics consent and events of erased people`,
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: { [CURATE_ENV.ledgerTableName]: props.profileStore.ledger.tableName },
    });
    acknowledgeFunctionRoleFindings(this.curation);
    props.profileStore.grantReadTombstones(this.curation);
    curated.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CurateRecords',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [this.curation.functionArn],
      }),
    );
    this.curatedDelivery = new firehose.CfnDeliveryStream(this, 'CuratedDelivery', {
      deliveryStreamName: curatedName,
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: props.validatedStream.streamArn, roleArn: curated.role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: lake.curatedBucket.bucketArn,
        roleArn: curated.role.roleArn,
        prefix: CURATED_PREFIX,
        errorOutputPrefix: errorPrefix('curated'),
        // Parquet compresses its pages itself (Snappy below); whole-file compression must be off with conversion.
        compressionFormat: 'UNCOMPRESSED',
        bufferingHints: buffering,
        cloudWatchLoggingOptions: { enabled: true, logGroupName: curated.logGroup.logGroupName, logStreamName: curated.logStream.logStreamName },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'Lambda',
              parameters: [
                { parameterName: 'LambdaArn', parameterValue: this.curation.functionArn },
                { parameterName: 'BufferSizeInMBs', parameterValue: String(RAW_FRAMING_BUFFER_MB) },
                { parameterName: 'BufferIntervalInSeconds', parameterValue: String(RAW_FRAMING_BUFFER_SECONDS) },
                { parameterName: 'NumberOfRetries', parameterValue: '3' },
              ],
            },
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: CURATED_PARTITION_QUERY },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
        dataFormatConversionConfiguration: {
          enabled: true,
          inputFormatConfiguration: { deserializer: { hiveJsonSerDe: { timestampFormats: [EVENT_TIME_FORMAT] } } },
          outputFormatConfiguration: { serializer: { parquetSerDe: { compression: 'SNAPPY', writerVersion: 'V1' } } },
          schemaConfiguration: {
            catalogId: Aws.ACCOUNT_ID,
            databaseName: lake.catalog.databaseName,
            tableName,
            region: Aws.REGION,
            roleArn: curated.role.roleArn,
            versionId: 'LATEST',
          },
        },
        s3BackupMode: 'Disabled',
      },
    });
    this.curatedDelivery.node.addDependency(curated.role, table, this.curation);

    for (const s of [this.rawDelivery, this.curatedDelivery]) {
      Validations.of(s).acknowledge({
        id: 'AwsSolutions::AwsSolutions-KDF1',
        reason: 'Kinesis-sourced delivery streams cannot use Firehose server-side encryption; the source streams are encrypted and the zone buckets encrypt every object (SSE-S3).',
      });
    }

    // alarms --------------------------------------------------------------------------------------------
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (id: string, a: cloudwatch.AlarmProps) => {
      const created = new cloudwatch.Alarm(this, id, a);
      created.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      alarms.push(created);
    };
    const metric = (stream: firehose.CfnDeliveryStream, metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName,
        dimensionsMap: { DeliveryStreamName: stream.ref },
        statistic,
        period: Duration.minutes(5),
      });
    for (const [label, stream] of [['Raw', this.rawDelivery], ['Curated', this.curatedDelivery]] as const) {
      alarm(`${label}DeliveryFreshness`, {
        alarmDescription: `${label} zone delivery is behind: the oldest record not yet in S3 is older than ${config.alarms.deliveryFreshnessSeconds} s.`,
        metric: metric(stream, 'DeliveryToS3.DataFreshness', 'Maximum'),
        threshold: config.alarms.deliveryFreshnessSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        // No data means no records to deliver: quiet, not stale (an idle raw stream is the ingestion alarms' concern).
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm(`${label}DeliveryErrors`, {
        alarmDescription: `${label} zone delivery to S3 is failing (DeliveryToS3.Success below 1): records are retried, then written under ${ERROR_PREFIX.raw}.`,
        metric: metric(stream, 'DeliveryToS3.Success', 'Minimum'),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    alarm('RawFramingErrors', {
      alarmDescription: `The raw stream's framing function failed: after Firehose's retries those records are under ${ERROR_PREFIX.raw}processing-failed/ of the raw bucket instead of events/ (the function's log says why).`,
      metric: this.rawFraming.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('CuratedConversionErrors', {
      alarmDescription: 'Curated records failed Parquet conversion (schema mismatch with the Glue table); they are under errors/format-conversion-failed/.',
      metric: metric(this.curatedDelivery, 'FailedConversion.Records', 'Sum'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm('CuratedPartitionLimit', {
      alarmDescription: `Curated delivery exceeded Firehose's ${FIREHOSE_ACTIVE_PARTITION_LIMIT} active partitions; records beyond it go to the error prefix.`,
      metric: metric(this.curatedDelivery, 'PartitionCountExceeded', 'Maximum'),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarms = alarms;
  }

  /** A role only Firehose (of this account) can assume, reading one stream and writing one zone's prefixes. */
  private deliveryRole(id: string, streamName: string, source: kinesis.IStream, bucket: s3.IBucket, zone: 'raw' | 'curated', removal: RemovalPolicy) {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: `/aws/kinesisfirehose/${streamName}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: removal,
    });
    const logStream = new logs.LogStream(this, `${id}LogStream`, { logGroup, logStreamName: 'DestinationDelivery', removalPolicy: removal });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } } }),
      description: `Firehose ${streamName}: read its stream, write the ${zone} zone`,
    });
    grantStreamRead(source, role, FIREHOSE_STREAM_READ_ACTIONS);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListZoneBucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteZonePrefixes',
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${ZONE_PREFIX[zone]}*`), bucket.arnForObjects(`${ERROR_PREFIX[zone]}*`)],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteDeliveryLogs',
        actions: ['logs:PutLogEvents'],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const resolved = Stack.of(this).resolve(bucket.bucketArn) as { 'Fn::GetAtt'?: [string, string] } | string;
    const arnToken = typeof resolved === 'object' && resolved['Fn::GetAtt'] ? `<${resolved['Fn::GetAtt'][0]}.Arn>` : String(resolved);
    for (const prefix of [ZONE_PREFIX[zone], ERROR_PREFIX[zone]]) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arnToken}/${prefix}*]`,
        reason: `Firehose names its objects itself (time and a random id) under the ${zone} zone's ${prefix} prefix, so the object ARN ends in the prefix wildcard.`,
      });
    }
    return { role, logGroup, logStream };
  }
}
