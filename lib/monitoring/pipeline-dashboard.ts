import { Duration, Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { DefaultDashboardFactory, MonitoringFacade, type CustomMetricGroup } from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import { FRESHNESS_METRICS } from '../../core/canary/freshness';
import { REASON_CODES } from '@personalization-data-platform/contract';
import { METRICS_NAMESPACE } from '../shared/metrics';
import type { FreshnessCanary } from './freshness-canary';

/** The metrics a stream consumer publishes (EMF): `metric(name, options)` with its service dimension. */
interface MetricSource {
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

export interface PipelineDashboardProps {
  /** Name of the dashboard. @default a generated name */
  readonly dashboardName?: string;
  /** Drawn on the quarantine ratio graph: the alarm's threshold. */
  readonly quarantineRatioAlarmThreshold?: number;
  /** Drawn on the delivery freshness graphs: the alarm's threshold. */
  readonly deliveryFreshnessAlarmThreshold?: Duration;
  readonly rawStream: kinesis.IStream;
  readonly validatedStream: kinesis.IStream;
  readonly validation: MetricSource & { readonly function: lambda.IFunction; readonly onFailureQueue: sqs.IQueue; metricQuarantineRatio(period?: Duration): cloudwatch.MathExpression };
  readonly aggregator: MetricSource & { readonly function: lambda.IFunction; readonly onFailureQueue: sqs.IQueue };
  readonly profileTable: dynamodb.ITable;
  readonly ledgerTable: dynamodb.ITable;
  readonly rawDelivery: firehose.CfnDeliveryStream;
  readonly curatedDelivery: firehose.CfnDeliveryStream;
  readonly rawFraming: lambda.IFunction;
  readonly freshnessCanary?: FreshnessCanary;
  readonly profileExport?: lambda.IFunction;
  /** The erasure request path (lib/privacy/erasure-service.ts): its queue, dead-letter queue and function. */
  readonly erasure?: MetricSource & { readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue; readonly function: lambda.IFunction };
  /** Every alarm of the stage, for the alarm status widget. */
  readonly alarms: () => readonly cloudwatch.IAlarm[];
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The stage's one dashboard, `<prefix>-<stage>-pipeline`, laid out as the data flows: freshness SLO, raw
 * stream and validation, validated stream and aggregation, profile table, lake delivery per zone, on-failure
 * queues, scheduled functions, the erasure request path, alarm states. Built with cdk-monitoring-constructs' MonitoringFacade: its per-resource monitorings
 * (Lambda, Kinesis, DynamoDB, Firehose, SQS) give the standard widgets, custom segments carry the platform's
 * own EMF metrics. Its alarm features are not used (the alarms live with their resources and the runbook).
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const factory = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: props.dashboardName ?? Names.uniqueResourceName(this, { maxLength: 200 }),
      createDashboard: true,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
      detailDashboardRange: Duration.hours(3),
    });
    const facade = new MonitoringFacade(this, 'Monitoring', { dashboardFactory: factory, metricFactoryDefaults: { namespace: METRICS_NAMESPACE } });
    const v = props.validation;
    const a = props.aggregator;
    const sum = (source: MetricSource, name: string, label: string, extra: cloudwatch.MetricOptions = {}) => source.metric(name, { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES, label, ...extra });

    // 1. the freshness SLO ------------------------------------------------------------------------------
    const canary = props.freshnessCanary;
    if (canary) {
      const line = (value: number, label: string): cloudwatch.HorizontalAnnotation => ({ value, label, color: '#d62728' });
      const freshness = (metricName: string, slo: number, title: string): CustomMetricGroup => ({
        title,
        metrics: [
          canary.metric(metricName, { statistic: 'p50', period: FIVE_MINUTES, label: 'p50' }),
          canary.metric(metricName, { statistic: 'p95', period: FIVE_MINUTES, label: 'p95' }),
        ],
        horizontalAnnotations: [line(slo, `SLO ${slo} s`)],
        graphWidgetAxis: { min: 0, label: 'seconds', showUnits: false },
      });
      facade.addLargeHeader('Freshness SLO (canary: a probe a minute)');
      facade.monitorCustom({
        alarmFriendlyName: 'Freshness',
        humanReadableName: 'Freshness canary',
        metricGroups: [
          freshness(FRESHNESS_METRICS.profileSeconds, canary.slo.profileSeconds, 'Event time to profile readable (s)'),
          freshness(FRESHNESS_METRICS.lakeSeconds, canary.slo.lakeSeconds, 'Event time to curated object (s)'),
          {
            title: 'Probes missing at their deadline',
            metrics: [
              canary.metric(FRESHNESS_METRICS.profileMissing, { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES, label: 'profile' }),
              canary.metric(FRESHNESS_METRICS.lakeMissing, { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES, label: 'lake' }),
            ],
          },
        ],
      });
    }

    // 2. producers, raw stream, validation ---------------------------------------------------------------
    facade.addLargeHeader('Producers and the raw stream');
    facade.monitorKinesisDataStream({ streamName: props.rawStream.streamName, humanReadableName: 'Raw stream (producer puts, throttles)', alarmFriendlyName: 'RawStream' });
    facade.addLargeHeader('Validation');
    facade.monitorLambdaFunction({ lambdaFunction: v.function, humanReadableName: 'Validation function', alarmFriendlyName: 'Validation', isIterator: true });
    facade.monitorCustom({
      alarmFriendlyName: 'ValidationRecords',
      humanReadableName: 'Validation: records',
      metricGroups: [
        {
          title: 'Records in, valid, quarantined, duplicates',
          metrics: [
            sum(v, 'RecordsIn', 'in'),
            sum(v, 'ValidRecords', 'valid'),
            sum(v, 'ForwardedRecords', 'forwarded'),
            sum(v, 'QuarantinedRecords', 'quarantined'),
            sum(v, 'DuplicateRecords', 'duplicates'),
            sum(v, 'ConflictingDuplicates', 'conflicting duplicates'),
          ],
        },
        {
          title: 'Quarantined by reason',
          metrics: REASON_CODES.map((reason) => sum(v, 'QuarantinedRecords', reason, { dimensionsMap: { service: 'validate', reason } })),
        },
        {
          title: 'Forwarding: retries, throttles, failed records',
          metrics: [sum(v, 'ForwardRetries', 'retries'), sum(v, 'ForwardThrottles', 'throttled'), sum(v, 'FailedRecords', 'failed')],
        },
        {
          title: 'Quarantined share of records',
          metrics: [v.metricQuarantineRatio(FIVE_MINUTES)],
          ...(props.quarantineRatioAlarmThreshold !== undefined ? { horizontalAnnotations: [{ value: props.quarantineRatioAlarmThreshold, label: 'alarm' }] } : {}),
        },
      ],
    });

    // 3. validated stream and aggregation ----------------------------------------------------------------
    facade.addLargeHeader('Validated stream and aggregation');
    facade.monitorKinesisDataStream({ streamName: props.validatedStream.streamName, humanReadableName: 'Validated stream', alarmFriendlyName: 'ValidatedStream' });
    facade.monitorLambdaFunction({ lambdaFunction: a.function, humanReadableName: 'Aggregator function', alarmFriendlyName: 'Aggregator', isIterator: true });
    facade.monitorCustom({
      alarmFriendlyName: 'Aggregation',
      humanReadableName: 'Aggregation: window writes',
      metricGroups: [
        {
          title: 'Window writes and skips',
          metrics: [sum(a, 'EventsIn', 'events in'), sum(a, 'UsersUpdated', 'users updated (writes)'), sum(a, 'ConditionalSkips', 'conditional skips'), sum(a, 'DuplicateEventsSkipped', 'duplicates skipped')],
        },
        {
          title: 'Retries and failed writes',
          metrics: [sum(a, 'ThrottleRetries', 'throttle retries'), sum(a, 'TransientRetries', 'transient retries'), sum(a, 'VersionConflicts', 'version conflicts'), sum(a, 'FailedUserWrites', 'failed user writes')],
        },
        {
          title: 'State and item size (bytes)',
          metrics: [
            a.metric('WindowStateBytes', { statistic: cloudwatch.Stats.MAXIMUM, period: FIVE_MINUTES, label: 'window state, max' }),
            a.metric('ProfileItemBytesMax', { statistic: cloudwatch.Stats.MAXIMUM, period: FIVE_MINUTES, label: 'profile item, max' }),
          ],
        },
      ],
    });

    // 4. the profile table ---------------------------------------------------------------------------------
    facade.addLargeHeader('Profile table and ledger');
    facade.monitorDynamoTable({ table: props.profileTable, humanReadableName: 'Profile table', alarmFriendlyName: 'ProfileTable' });
    facade.monitorDynamoTable({ table: props.ledgerTable, humanReadableName: 'Ledger of applied event ids', alarmFriendlyName: 'LedgerTable' });

    // 5. lake delivery, per zone -------------------------------------------------------------------------
    facade.addLargeHeader('Lake delivery (Firehose)');
    const firehoseMetric = (stream: firehose.CfnDeliveryStream, metricName: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Firehose', metricName, dimensionsMap: { DeliveryStreamName: stream.ref }, statistic, period: FIVE_MINUTES, label });
    for (const [zone, stream] of [['raw', props.rawDelivery], ['curated', props.curatedDelivery]] as const) {
      facade.monitorKinesisFirehose({
        deliveryStreamName: stream.ref,
        humanReadableName: `${zone} zone delivery`,
        alarmFriendlyName: `${zone}Delivery`,
        isDataFormatConversionEnabled: zone === 'curated',
      });
      facade.monitorCustom({
        alarmFriendlyName: `${zone}DeliveryToS3`,
        humanReadableName: `${zone} zone: delivery to S3`,
        metricGroups: [
          {
            title: `${zone}: data freshness (s)`,
            metrics: [firehoseMetric(stream, 'DeliveryToS3.DataFreshness', 'Maximum', 'oldest record not in S3')],
            ...(props.deliveryFreshnessAlarmThreshold ? { horizontalAnnotations: [{ value: props.deliveryFreshnessAlarmThreshold.toSeconds(), label: 'alarm' }] } : {}),
          },
          { title: `${zone}: delivery success`, metrics: [firehoseMetric(stream, 'DeliveryToS3.Success', 'Minimum', 'success (min)')] },
          { title: `${zone}: records and bytes to S3`, metrics: [firehoseMetric(stream, 'DeliveryToS3.Records', 'Sum', 'records'), firehoseMetric(stream, 'DeliveryToS3.Bytes', 'Sum', 'bytes')] },
        ],
      });
    }
    facade.monitorLambdaFunction({ lambdaFunction: props.rawFraming, humanReadableName: 'Raw framing function', alarmFriendlyName: 'RawFraming', isIterator: false });

    // 6. on-failure queues and scheduled functions -------------------------------------------------------
    facade.addLargeHeader('On-failure queues (redrive with npm run redrive)');
    facade.monitorSqsQueue({ queue: v.onFailureQueue, humanReadableName: 'Validation on-failure queue', alarmFriendlyName: 'ValidationOnFailure' });
    facade.monitorSqsQueue({ queue: a.onFailureQueue, humanReadableName: 'Aggregator on-failure queue', alarmFriendlyName: 'AggregatorOnFailure' });
    if (canary || props.profileExport) facade.addLargeHeader('Scheduled functions');
    if (canary) facade.monitorLambdaFunction({ lambdaFunction: canary.function, humanReadableName: 'Freshness canary function', alarmFriendlyName: 'Canary', isIterator: false });
    if (props.profileExport) facade.monitorLambdaFunction({ lambdaFunction: props.profileExport, humanReadableName: 'Profile export function', alarmFriendlyName: 'ProfileExport', isIterator: false });

    // 7. the erasure request path -----------------------------------------------------------------------
    const erasure = props.erasure;
    if (erasure) {
      facade.addLargeHeader('Erasure requests (docs/privacy.md)');
      // Depth and age of the oldest request, in the queue and in its dead-letter queue (where a request that
      // failed every attempt waits: that person is not erased).
      facade.monitorSqsQueueWithDlq({
        queue: erasure.queue,
        deadLetterQueue: erasure.deadLetterQueue,
        humanReadableName: 'Erasure request queue',
        alarmFriendlyName: 'ErasureQueue',
      });
      facade.monitorLambdaFunction({ lambdaFunction: erasure.function, humanReadableName: 'Erase function', alarmFriendlyName: 'Erase', isIterator: false });
      facade.monitorCustom({
        alarmFriendlyName: 'Erasures',
        humanReadableName: 'Erasures',
        metricGroups: [
          { title: 'Erasures done and failed', metrics: [sum(erasure, 'Erasures', 'done'), sum(erasure, 'ErasuresFailed', 'failed')] },
          { title: 'Lake rows removed', metrics: [sum(erasure, 'LakeRowsRemoved', 'rows removed')] },
        ],
      });
    }

    // 8. every alarm's state -------------------------------------------------------------------------------
    facade.addLargeHeader('Alarms (runbook: docs/operations.md)');
    facade.addWidget(new cloudwatch.AlarmStatusWidget({ title: 'Alarm states', alarms: [...props.alarms()], width: 24, height: 8 }));

    const dashboard = factory.dashboard;
    if (!dashboard) throw new Error('the dashboard factory created no dashboard');
    this.dashboard = dashboard;
  }

  /** The dashboard's name. */
  get dashboardName(): string {
    return this.dashboard.dashboardName;
  }
}
