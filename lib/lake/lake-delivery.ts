import { ArnFormat, Aws, Duration, Names, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
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
import { ACTIVE_PARTITION_BUDGET } from '../config/stage-config';
import { alarmFactory } from '../shared/alarms';
import { atLeastOnce } from '../shared/kinesis-consumer';
import { PlatformFunction } from '../shared/platform-function';
import { acknowledgeFunctionRoleFindings, FIREHOSE_STREAM_READ_ACTIONS, grantStreamRead } from '../shared/stream-consumer';
import type { DataLake } from './data-lake';
import type { ProfileStore } from '../profiles/profile-store';
import { CURATE_ENV } from '../../lambdas/curate/config';
import { FRAME_RAW_ENV } from '../../lambdas/frame-raw/config';

export interface LakeDeliveryProps {
  /** The lake to deliver into (zones and the curated table's schema). */
  readonly lake: DataLake;
  /** Every record as producers sent it: delivered to the raw zone. */
  readonly rawStream: kinesis.IStream;
  /** Normalized valid events: delivered to the curated zone as Parquet. */
  readonly validatedStream: kinesis.IStream;
  /** Topic every alarm notifies. @default alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /** Name of the raw zone's delivery stream (and of its log group). @default a name derived from the construct path */
  readonly rawDeliveryStreamName?: string;
  /** Name of the curated zone's delivery stream (and of its log group). @default a name derived from the construct path */
  readonly curatedDeliveryStreamName?: string;
  /** Physical name of the raw framing function. @default a generated name */
  readonly rawFramingFunctionName?: string;
  /** How long Firehose buffers before it writes an object (60 s to 900 s): longer means fewer, bigger files. @default Duration.seconds(60) */
  readonly bufferingInterval?: Duration;
  /** How much Firehose buffers before it writes an object (64 MiB to 128 MiB with Parquet conversion). @default Size.mebibytes(64) */
  readonly bufferingSize?: Size;
  /** Age of the oldest record not yet in S3 at which delivery counts as stale. @default Duration.minutes(15) */
  readonly deliveryFreshnessAlarmThreshold?: Duration;
  /**
   * How far event time may trail and lead arrival (the validation's maximum past age and future skew): they
   * bound the hour partitions the curated stream keeps active, which must stay within ACTIVE_PARTITION_BUDGET.
   * @default { maxPastAge: Duration.days(7), maxFutureSkew: Duration.minutes(5) }
   */
  readonly acceptedEventTimes?: { readonly maxPastAge: Duration; readonly maxFutureSkew: Duration };
  /** What happens to the delivery log groups when the stack is deleted. @default RemovalPolicy.DESTROY */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The profile store, whose ledger table holds the tombstones the lake's gates read (docs/privacy.md): the
   * raw framing function drops records of erased subjects, the curated gate also events without analytics
   * consent. @default no gates: every record is kept raw, every validated event curated
   */
  readonly profileStore?: ProfileStore;
  /** Physical name of the curated lake's gate function. @default a generated name */
  readonly curationFunctionName?: string;
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
 * holds, framed by a transformation function, by arrival hour) and the validated stream to the curated zone
 * (dynamic partitioning by event hour, record format conversion to Parquet with the curated Glue table's
 * schema). Each delivery stream has its own role limited to its source stream, its zone's prefixes, its log
 * stream and (curated) the table it reads; errors land under the zone's `errors/` prefix; delivery
 * freshness and delivery errors are alarmed.
 */
export class LakeDelivery extends Construct {
  readonly rawDelivery: firehose.CfnDeliveryStream;
  /** The raw stream's transformation: one line per record in the raw zone, whatever the record holds. */
  readonly rawFraming: PlatformFunction;
  readonly curatedDelivery: firehose.CfnDeliveryStream;
  /** The curated stream's transformation: the lake's gate for analytics consent and erased subjects (lambdas/curate). */
  readonly curation?: PlatformFunction;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: LakeDeliveryProps) {
    super(scope, id);
    checkPartitionBudget(props.acceptedEventTimes ?? { maxPastAge: Duration.days(7), maxFutureSkew: Duration.minutes(5) });
    const buffering = {
      intervalInSeconds: (props.bufferingInterval ?? Duration.seconds(60)).toSeconds(),
      sizeInMBs: (props.bufferingSize ?? Size.mebibytes(64)).toMebibytes(),
    };
    const removal = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const name = (given: string | undefined, suffix: string) => given ?? `${Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })}-${suffix}`;
    const rawName = name(props.rawDeliveryStreamName, 'raw');
    this.rawFraming = this.createRawFraming(props, rawName);
    this.rawDelivery = this.createRawDelivery(props, rawName, buffering, removal);
    const curatedName = name(props.curatedDeliveryStreamName, 'curated');
    if (props.profileStore) this.curation = this.createCuration(props, props.profileStore, curatedName);
    this.curatedDelivery = this.createCuratedDelivery(props, curatedName, buffering, removal);
    for (const s of [this.rawDelivery, this.curatedDelivery]) {
      Validations.of(s).acknowledge({
        id: 'AwsSolutions::AwsSolutions-KDF1',
        reason: 'Kinesis-sourced delivery streams cannot use Firehose server-side encryption; the source streams are encrypted and the zone buckets encrypt every object (SSE-S3).',
      });
    }
    this.alarms = this.createAlarms(props);
  }

  /** A Firehose metric of a delivery stream. @default over 5 minutes */
  metric(deliveryStream: firehose.CfnDeliveryStream, metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: 'AWS/Firehose', metricName, dimensionsMap: { DeliveryStreamName: deliveryStream.ref }, period: Duration.minutes(5), ...props });
  }

  /** Age of the oldest record of `deliveryStream` not yet in S3, in seconds. @default maximum over 5 minutes */
  metricDataFreshness(deliveryStream: firehose.CfnDeliveryStream, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(deliveryStream, 'DeliveryToS3.DataFreshness', { statistic: 'Maximum', ...props });
  }

  /** Share of successful S3 puts of `deliveryStream` (1 when all succeed). @default minimum over 5 minutes */
  metricDeliverySuccess(deliveryStream: firehose.CfnDeliveryStream, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric(deliveryStream, 'DeliveryToS3.Success', { statistic: 'Minimum', ...props });
  }

  /**
   * The framing function: Firehose's own processors cannot write a record that holds newlines, is not text, or
   * is empty. With a profile store it is also the raw zone's gate: it reads the tombstones (Query on the
   * ledger table, nothing else) and drops records of erased subjects.
   */
  private createRawFraming(props: LakeDeliveryProps, rawName: string): PlatformFunction {
    const store = props.profileStore;
    const fn = new PlatformFunction(this, 'RawFraming', {
      handlerPath: 'frame-raw/handler.ts',
      serviceName: 'frame-raw',
      ...(props.rawFramingFunctionName ? { functionName: props.rawFramingFunctionName } : {}),
      description: `Transformation of Firehose ${rawName}: each raw record on one line of the raw zone (as sent, or 0x1E and base64)${store ? '; drops records of erased people' : ''}`,
      memorySize: 256,
      // Firehose waits up to 5 minutes for a transformation; a 1 MB batch frames in milliseconds.
      timeout: Duration.seconds(60),
      ...(store ? { environment: { [FRAME_RAW_ENV.ledgerTableName]: store.ledger.tableName } } : {}),
    });
    acknowledgeFunctionRoleFindings(fn);
    store?.grantReadTombstones(fn);
    return fn;
  }

  /** The raw stream to the raw zone: gzip, one line per record (core/lake/raw-framing.ts), by arrival hour. */
  private createRawDelivery(props: LakeDeliveryProps, rawName: string, buffering: { intervalInSeconds: number; sizeInMBs: number }, removal: RemovalPolicy): firehose.CfnDeliveryStream {
    const { lake } = props;
    const raw = this.deliveryRole('Raw', rawName, props.rawStream, lake.rawBucket, 'raw', removal);
    // What Firehose documents its role needs to run a transformation: invoke it and read its configuration.
    raw.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'FrameRawRecords',
        actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'],
        resources: [this.rawFraming.functionArn],
      }),
    );
    const delivery = new firehose.CfnDeliveryStream(this, 'RawDelivery', {
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
    delivery.node.addDependency(raw.role, this.rawFraming);
    return delivery;
  }

  /** The validated stream to the curated zone: dynamic partitioning by event hour, Parquet with the curated table's schema. */
  /**
   * The gate of the curated zone: events without analytics consent, and events of erased people, are dropped
   * before partitioning (Firehose runs a Lambda transformation before inline parsing when both are set:
   * "Understand partitioning keys" and "Apply dynamic partitioning to aggregated data" in its guide).
   */
  private createCuration(props: LakeDeliveryProps, store: ProfileStore, curatedName: string): PlatformFunction {
    const fn = new PlatformFunction(this, 'Curation', {
      handlerPath: 'curate/handler.ts',
      serviceName: 'curate',
      ...(props.curationFunctionName ? { functionName: props.curationFunctionName } : {}),
      description: `Transformation of Firehose ${curatedName}: drops events without analytics consent and events of erased people`,
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: { [CURATE_ENV.ledgerTableName]: store.ledger.tableName },
    });
    acknowledgeFunctionRoleFindings(fn);
    store.grantReadTombstones(fn);
    return fn;
  }

  private createCuratedDelivery(props: LakeDeliveryProps, curatedName: string, buffering: { intervalInSeconds: number; sizeInMBs: number }, removal: RemovalPolicy): firehose.CfnDeliveryStream {
    const { lake } = props;
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
    const curation = this.curation;
    if (curation) {
      curated.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'CurateRecords', actions: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], resources: [curation.functionArn] }),
      );
    }
    const delivery = new firehose.CfnDeliveryStream(this, 'CuratedDelivery', {
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
            ...(curation
              ? [
                  {
                    type: 'Lambda',
                    parameters: [
                      { parameterName: 'LambdaArn', parameterValue: curation.functionArn },
                      { parameterName: 'BufferSizeInMBs', parameterValue: String(RAW_FRAMING_BUFFER_MB) },
                      { parameterName: 'BufferIntervalInSeconds', parameterValue: String(RAW_FRAMING_BUFFER_SECONDS) },
                      { parameterName: 'NumberOfRetries', parameterValue: '3' },
                    ],
                  },
                ]
              : []),
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
    delivery.node.addDependency(curated.role, table, ...(curation ? [curation] : []));
    return delivery;
  }

  /** Delivery freshness and errors of both streams, framing errors, conversion errors, the partition limit. */
  private createAlarms(props: LakeDeliveryProps): cloudwatch.Alarm[] {
    const alarm = alarmFactory(this, props.alarmTopic);
    const freshness = props.deliveryFreshnessAlarmThreshold ?? Duration.minutes(15);
    const alarms: cloudwatch.Alarm[] = [];
    for (const [label, stream] of [['Raw', this.rawDelivery], ['Curated', this.curatedDelivery]] as const) {
      // No data means no records to deliver: quiet, not stale (an idle raw stream is the ingestion alarms' concern).
      alarms.push(
        alarm(`${label}DeliveryFreshness`, this.metricDataFreshness(stream), {
          alarmDescription: `${label} zone delivery is behind: the oldest record not yet in S3 is older than ${freshness.toSeconds()} s.`,
          threshold: freshness.toSeconds(),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
        }),
        alarm(`${label}DeliveryErrors`, this.metricDeliverySuccess(stream), {
          alarmDescription: `${label} zone delivery to S3 is failing (DeliveryToS3.Success below 1): records are retried, then written under ${ERROR_PREFIX.raw}.`,
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 2,
          datapointsToAlarm: 1,
        }),
      );
    }
    const anyIn = { threshold: 0, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluationPeriods: 1 };
    alarms.push(
      alarm('RawFramingErrors', this.rawFraming.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }), {
        alarmDescription: `The raw stream's framing function failed: after Firehose's retries those records are under ${ERROR_PREFIX.raw}processing-failed/ of the raw bucket instead of events/ (the function's log says why).`,
        ...atLeastOnce,
      }),
      alarm('CuratedConversionErrors', this.metric(this.curatedDelivery, 'FailedConversion.Records', { statistic: 'Sum' }), {
        alarmDescription: 'Curated records failed Parquet conversion (schema mismatch with the Glue table); they are under errors/format-conversion-failed/.',
        ...anyIn,
      }),
      alarm('CuratedPartitionLimit', this.metric(this.curatedDelivery, 'PartitionCountExceeded', { statistic: 'Maximum' }), {
        alarmDescription: `Curated delivery exceeded Firehose's ${FIREHOSE_ACTIVE_PARTITION_LIMIT} active partitions; records beyond it go to the error prefix.`,
        ...anyIn,
      }),
    );
    return alarms;
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

/** Throws a ConfigError when accepted event times would keep more curated hour partitions active than the budget. */
function checkPartitionBudget(times: { readonly maxPastAge: Duration; readonly maxFutureSkew: Duration }): void {
  const partitions = maxActiveCuratedPartitions(times.maxPastAge.toSeconds(), times.maxFutureSkew.toSeconds());
  if (partitions > ACTIVE_PARTITION_BUDGET) {
    throw new ConfigError(
      `lake delivery: events up to ${times.maxPastAge.toSeconds()} s old and ${times.maxFutureSkew.toSeconds()} s ahead are accepted, ` +
        `so the curated stream could keep ${partitions} hour partitions active; keep it within ${ACTIVE_PARTITION_BUDGET} (Firehose's limit is ${FIREHOSE_ACTIVE_PARTITION_LIMIT}).`,
    );
  }
}
