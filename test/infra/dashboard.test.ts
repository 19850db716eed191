/**
 * The stage's dashboard shows only metrics that exist. Every metric of every widget (plain metrics, the
 * metrics behind math expressions, and SEARCH expressions) is either
 *
 * - one the platform's own code publishes through Powertools EMF: namespace PersonalizationPlatform, the
 *   `service` dimension of a function, a metric name that function's handler emits (the handlers' metric
 *   tables), and `reason` (one of the contract's reason codes) only on the validator's QuarantinedRecords; or
 * - an AWS metric of a resource in the template: every dimension that names a resource (FunctionName,
 *   StreamName, TableName, DeliveryStreamName, QueueName) is a reference to a resource of that type in this
 *   stack, and the metric name is one the service documents for that namespace (CloudWatch metric lists of
 *   the Lambda, Kinesis Data Streams, DynamoDB, Firehose and SQS developer guides).
 *
 * It also checks the dashboard is laid out as the data flows (freshness first, alarms last).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FRESHNESS_METRICS } from '../../core/canary/freshness';
import { REASON_CODES } from '@personalization-data-platform/contract';
import { AGGREGATOR_METRICS } from '../../lambdas/aggregate/handler';
import { ERASE_METRICS } from '../../lambdas/erase/handler';
import { VALIDATION_METRICS } from '../../lambdas/validate/handler';
import { synthesizeStage, type SynthesizedStage } from './support';

/** What each function emits, by its `service` dimension. */
const EMITTED: Record<string, ReadonlySet<string>> = {
  validate: new Set(Object.values(VALIDATION_METRICS)),
  aggregate: new Set(Object.values(AGGREGATOR_METRICS)),
  'freshness-canary': new Set(Object.values(FRESHNESS_METRICS)),
  erase: new Set(Object.values(ERASE_METRICS)),
};

/** Metric names AWS documents per namespace (the subset a dashboard of this stack may use). */
const AWS_METRICS: Record<string, ReadonlySet<string>> = {
  'AWS/Lambda': new Set(['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions', 'IteratorAge', 'ProvisionedConcurrencySpilloverInvocations', 'DeadLetterErrors', 'DestinationDeliveryFailures', 'AsyncEventAge', 'AsyncEventsReceived', 'AsyncEventsDropped']),
  'AWS/Kinesis': new Set([
    'IncomingRecords', 'IncomingBytes', 'GetRecords.Bytes', 'GetRecords.IteratorAgeMilliseconds', 'GetRecords.Latency', 'GetRecords.Records', 'GetRecords.Success',
    'PutRecord.Bytes', 'PutRecord.Latency', 'PutRecord.Success', 'PutRecords.Bytes', 'PutRecords.Latency', 'PutRecords.Success', 'PutRecords.TotalRecords',
    'PutRecords.SuccessfulRecords', 'PutRecords.FailedRecords', 'PutRecords.ThrottledRecords', 'ReadProvisionedThroughputExceeded', 'WriteProvisionedThroughputExceeded',
  ]),
  'AWS/DynamoDB': new Set(['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ProvisionedReadCapacityUnits', 'ProvisionedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents', 'ThrottledRequests', 'SuccessfulRequestLatency', 'SystemErrors', 'UserErrors', 'ConditionalCheckFailedRequests']),
  'AWS/Firehose': new Set([
    'DeliveryToS3.DataFreshness', 'DeliveryToS3.Success', 'DeliveryToS3.Records', 'DeliveryToS3.Bytes', 'IncomingRecords', 'IncomingBytes', 'IncomingPutRequests', 'ThrottledRecords',
    'SucceedConversion.Records', 'FailedConversion.Records', 'PutRecord.Latency', 'PutRecordBatch.Latency', 'BytesPerSecondLimit', 'RecordsPerSecondLimit', 'PutRequestsPerSecondLimit',
    'PartitionCount', 'PartitionCountExceeded', 'DataReadFromKinesisStream.Records', 'DataReadFromKinesisStream.Bytes', 'KinesisMillisBehindLatest',
  ]),
  'AWS/SQS': new Set(['ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'NumberOfMessagesDeleted', 'NumberOfMessagesSent', 'NumberOfMessagesReceived', 'SentMessageSize']),
};

/** Dimensions that name a resource, and the resource type (and attribute) they must reference. */
const RESOURCE_DIMENSIONS: Record<string, { type: string; via: string }> = {
  FunctionName: { type: 'AWS::Lambda::Function', via: 'Ref' },
  StreamName: { type: 'AWS::Kinesis::Stream', via: 'Ref' },
  TableName: { type: 'AWS::DynamoDB::Table', via: 'Ref' },
  DeliveryStreamName: { type: 'AWS::KinesisFirehose::DeliveryStream', via: 'Ref' },
  QueueName: { type: 'AWS::SQS::Queue', via: 'GetAtt:QueueName' },
};
// The Operation values DynamoDB documents for its per-operation metrics; GetRecords is DynamoDB Streams' (the
// library's errors widget sums it, and it stays empty for tables without a stream).
const DYNAMODB_OPERATIONS = new Set(['GetRecords', 'GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'Query', 'Scan', 'TransactWriteItems', 'TransactGetItems']);

interface Widget { type: string; properties: { title?: string; markdown?: string; metrics?: unknown[][]; alarms?: string[] } }
interface Resources { [id: string]: { Type: string; Properties: Record<string, unknown> } }

/** The dashboard body with CloudFormation references written as `@@Ref:<id>@@` and `@@GetAtt:<id>.<attr>@@`. */
function dashboardOf(s: SynthesizedStage): { name: string; widgets: Widget[] } {
  const resources = s.template.toJSON().Resources as Resources;
  const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((p) => {
      if (typeof p === 'string') return p;
      const o = p as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (o.Ref) return `@@Ref:${o.Ref}@@`;
      if (o['Fn::GetAtt']) return `@@GetAtt:${o['Fn::GetAtt'][0]}.${o['Fn::GetAtt'][1]}@@`;
      throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(p)}`);
    })
    .join('');
  return { name: String(dashboards[0]!.Properties.DashboardName), widgets: (JSON.parse(text) as { widgets: Widget[] }).widgets };
}

/** Problems with one metric (namespace, name, dimensions as name → value), or none. */
function checkMetric(resources: Resources, namespace: string, metricName: string, dims: Record<string, string>): string[] {
  const at = `${namespace} ${metricName} ${JSON.stringify(dims)}`;
  if (namespace === 'PersonalizationPlatform') {
    const emitted = EMITTED[dims.service ?? ''];
    const problems: string[] = [];
    if (!emitted) problems.push(`${at}: no function publishes service=${dims.service}`);
    else if (!emitted.has(metricName)) problems.push(`${at}: ${dims.service} emits no ${metricName}`);
    for (const key of Object.keys(dims)) {
      if (key === 'service') continue;
      if (key === 'reason' && dims.service === 'validate' && metricName === VALIDATION_METRICS.quarantined && (REASON_CODES as readonly string[]).includes(dims.reason!)) continue;
      problems.push(`${at}: dimension ${key} is not emitted with this metric`);
    }
    return problems;
  }
  const known = AWS_METRICS[namespace];
  if (!known) return [`${at}: namespace not in the documented list`];
  const problems = known.has(metricName) ? [] : [`${at}: not a documented ${namespace} metric`];
  for (const [key, value] of Object.entries(dims)) {
    if (key === 'Operation' && namespace === 'AWS/DynamoDB') {
      if (!DYNAMODB_OPERATIONS.has(value)) problems.push(`${at}: unknown operation`);
      continue;
    }
    const rule = RESOURCE_DIMENSIONS[key];
    if (!rule) {
      problems.push(`${at}: dimension ${key} names nothing this test knows`);
      continue;
    }
    const m = /^@@(Ref|GetAtt):([A-Za-z0-9]+)(?:\.([A-Za-z]+))?@@$/.exec(value);
    const via = m ? (m[1] === 'Ref' ? 'Ref' : `GetAtt:${m[3]}`) : undefined;
    if (!m || via !== rule.via) problems.push(`${at}: ${key} is not a ${rule.via} of a resource of this stack`);
    else if (resources[m[2]!]?.Type !== rule.type) problems.push(`${at}: ${key} references ${m[2]}, a ${resources[m[2]!]?.Type ?? 'missing resource'}, not a ${rule.type}`);
  }
  return problems;
}

/** Every metric of a widget's `metrics` array, checked; SEARCH expressions by their namespace, filters and metric name. */
function checkWidget(resources: Resources, widget: Widget): { problems: string[]; metrics: number } {
  const problems: string[] = [];
  let metrics = 0;
  for (const row of widget.properties.metrics ?? []) {
    const options = row.find((x) => typeof x === 'object' && x !== null) as { expression?: string } | undefined;
    const plain = row.filter((x) => typeof x === 'string') as string[];
    if (plain.length >= 2) {
      const dims: Record<string, string> = {};
      for (let i = 2; i + 1 < plain.length; i += 2) dims[plain[i]!] = plain[i + 1]!;
      problems.push(...checkMetric(resources, plain[0]!, plain[1]!, dims));
      metrics++;
      continue;
    }
    const search = options?.expression ? /SEARCH\('\{"([^"]+)"(?:,"[^"]+")*\}((?: "[^"]+"="[^"]*")*) MetricName="([^"]+)"'/.exec(options.expression) : null;
    if (search) {
      const dims = Object.fromEntries([...search[2]!.matchAll(/"([^"]+)"="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      problems.push(...checkMetric(resources, search[1]!, search[3]!, dims));
      metrics++;
    } else if (options?.expression?.includes('SEARCH')) {
      problems.push(`a SEARCH expression this test cannot read: ${options.expression}`);
    }
    // Other math expressions compute from the metrics listed (hidden) beside them, which are checked above.
  }
  return { problems, metrics };
}

describe('the pipeline dashboard', () => {
  let prod: SynthesizedStage;
  let quiet: SynthesizedStage;
  beforeAll(() => {
    prod = synthesizeStage('prod');
    quiet = synthesizeStage('quiet', { quiet: { extends: 'dev', alarms: { freshnessCanary: 'off' } } });
  });

  it.each(['prod', 'quiet'])('%s: every metric of every widget exists', (stage) => {
    const s = stage === 'prod' ? prod : quiet;
    const resources = s.template.toJSON().Resources as Resources;
    const { widgets } = dashboardOf(s);
    let total = 0;
    const problems: string[] = [];
    for (const w of widgets.filter((x) => x.type === 'metric')) {
      const checked = checkWidget(resources, w);
      total += checked.metrics;
      problems.push(...checked.problems.map((p) => `${w.properties.title ?? '(untitled)'}: ${p}`));
    }
    expect(problems).toEqual([]);
    expect(total).toBeGreaterThan(60);
  });

  it('catches a metric that does not exist (the check can fail)', () => {
    const resources = prod.template.toJSON().Resources as Resources;
    expect(checkMetric(resources, 'PersonalizationPlatform', 'RecordsIn', { service: 'aggregate' })).toHaveLength(1);
    expect(checkMetric(resources, 'PersonalizationPlatform', 'QuarantinedRecords', { service: 'validate', reason: 'not_a_reason' })).toHaveLength(1);
    expect(checkMetric(resources, 'AWS/Lambda', 'Errors', { FunctionName: 'some-other-function' })).toHaveLength(1);
    const table = Object.entries(resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')![0];
    expect(checkMetric(resources, 'AWS/Lambda', 'Errors', { FunctionName: `@@Ref:${table}@@` })).toHaveLength(1);
    expect(checkMetric(resources, 'AWS/DynamoDB', 'ThrottledRequests', { TableName: `@@Ref:${table}@@`, Operation: 'GetItem' })).toEqual([]);
  });

  it('is named per stage and laid out as the data flows, freshness first and every alarm last', () => {
    const { name, widgets } = dashboardOf(prod);
    expect(name).toBe('pdp-prod-pipeline');
    const headers = widgets.filter((w) => w.type === 'text' && w.properties.markdown?.startsWith('# ')).map((w) => w.properties.markdown!.slice(2));
    expect(headers).toEqual([
      'Freshness SLO (canary: a probe a minute)',
      'Producers and the raw stream',
      'Validation',
      'Validated stream and aggregation',
      'Profile table and ledger',
      'Lake delivery (Firehose)',
      'On-failure queues (redrive with npm run redrive)',
      'Scheduled functions',
      'Erasure requests (docs/privacy.md)',
      'Alarms (runbook: docs/operations.md)',
    ]);
    const alarmWidget = widgets.find((w) => w.type === 'alarm')!;
    const alarmCount = Object.values(prod.template.toJSON().Resources as Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
    expect(alarmWidget.properties.alarms).toHaveLength(alarmCount);
    const titles = widgets.map((w) => w.properties.title ?? '').join('\n');
    for (const zone of ['raw', 'curated']) expect(titles).toContain(`${zone}: data freshness (s)`);
    expect(titles).toContain('Quarantined by reason');
  });

  it.each(['prod', 'quiet'])('%s: shows the erasure queue and its dead-letter queue (depth, oldest message) and the erase function (errors, duration)', (stage) => {
    const s = stage === 'prod' ? prod : quiet;
    const resources = s.template.toJSON().Resources as Resources;
    const idOf = (type: string, prefix: string) => {
      const ids = Object.keys(resources).filter((id) => resources[id]!.Type === type && id.startsWith(prefix));
      expect(ids, `${type} ${prefix}*`).toHaveLength(1);
      return ids[0]!;
    };
    const queue = `@@GetAtt:${idOf('AWS::SQS::Queue', 'ErasureQueue')}.QueueName@@`;
    const deadLetters = `@@GetAtt:${idOf('AWS::SQS::Queue', 'ErasureDeadLetterQueue')}.QueueName@@`;
    const fn = `@@Ref:${idOf('AWS::Lambda::Function', 'ErasureFunction')}@@`;
    /** Every plain metric of the dashboard as `namespace metric dimension=value`. */
    const shown = new Set(
      dashboardOf(s)
        .widgets.flatMap((w) => w.properties.metrics ?? [])
        .map((row) => row.filter((x) => typeof x === 'string') as string[])
        .filter((plain) => plain.length >= 4)
        .map((plain) => `${plain[0]} ${plain[1]} ${plain.slice(2).join('=')}`),
    );
    for (const q of [queue, deadLetters]) {
      expect(shown).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName=${q}`);
      expect(shown).toContain(`AWS/SQS ApproximateAgeOfOldestMessage QueueName=${q}`);
    }
    expect(shown).toContain(`AWS/Lambda Errors FunctionName=${fn}`);
    expect(shown).toContain(`AWS/Lambda Duration FunctionName=${fn}`);
    for (const name of Object.values(ERASE_METRICS)) expect(shown).toContain(`PersonalizationPlatform ${name} service=erase`);
  });
});
