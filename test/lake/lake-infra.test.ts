/** CDK assertions on the lake of the real PlatformStack (dev and prod stages). */
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_COLUMNS } from '@personalization-data-platform/contract';
import { QUARANTINE_COLUMNS, RAW_COLUMNS } from '../../core/lake/catalog';
import { createPlatformApp } from '../../lib/app';
import { BUILT_IN_STAGES } from '../../lib/config/stage-config';
import { ACTIVE_PARTITION_BUDGET, CURATED_PARTITION_QUERY, RAW_FRAMING_BUFFER_MB } from '../../lib/lake/lake-delivery';
import { loadNamedQueries } from '../../lib/lake/named-queries';
import type { PlatformStack } from '../../lib/platform-stack';

interface Synth { stack: PlatformStack; template: Template; id: (c: { node: { defaultChild?: unknown } } | CfnElement) => string }

function synth(stage: string, stages?: unknown): Synth {
  const { stack } = createPlatformApp({ context: { stage, ...(stages ? { stages } : {}) }, builtinCloudFormationValidation: false } as never);
  const template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } } | CfnElement) =>
    stack.getLogicalId(('logicalId' in c ? c : (c as { node: { defaultChild: unknown } }).node.defaultChild) as CfnElement);
  return { stack, template, id };
}

type Resource = { Properties: Record<string, any>; DeletionPolicy?: string };
const resource = (s: Synth, logicalId: string): Resource => s.template.toJSON().Resources[logicalId];
const rulesOf = (s: Synth, bucket: object) => resource(s, s.id(bucket as never)).Properties.LifecycleConfiguration.Rules;

let dev: Synth;
let prod: Synth;
beforeAll(() => {
  dev = synth('dev');
  prod = synth('prod');
});

describe('zone buckets', () => {
  const zones = (s: Synth) => {
    const z = s.stack.lake.zones;
    return { raw: z.rawBucket, curated: z.curatedBucket, quarantine: z.quarantineBucket, athenaResults: z.athenaResultsBucket, accessLogs: z.accessLogsBucket };
  };

  it('are five: raw, curated, quarantine, Athena results and access logs (the sixth bucket of the stack is the erasure audit log)', () => {
    dev.template.resourceCountIs('AWS::S3::Bucket', 6);
  });

  it('are all SSE-S3 encrypted, private, without ACLs', () => {
    for (const b of Object.values(zones(dev))) {
      const p = resource(dev, dev.id(b)).Properties;
      expect(p.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
      expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(p.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  it('deny every request without TLS 1.2', () => {
    for (const b of Object.values(zones(dev))) {
      dev.template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: dev.id(b) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          ]),
        },
      });
    }
  });

  it('version the three data zones only', () => {
    const z = zones(dev);
    for (const b of [z.raw, z.curated, z.quarantine]) expect(resource(dev, dev.id(b)).Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    for (const b of [z.athenaResults, z.accessLogs]) expect(resource(dev, dev.id(b)).Properties.VersioningConfiguration).toBeUndefined();
  });

  it('log server access to the log bucket, one prefix per zone', () => {
    const z = zones(dev);
    const prefixes = { raw: 'raw/', curated: 'curated/', quarantine: 'quarantine/', athenaResults: 'athenaresults/' } as const;
    for (const [zone, prefix] of Object.entries(prefixes)) {
      expect(resource(dev, dev.id(z[zone as keyof typeof prefixes])).Properties.LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: dev.id(z.accessLogs) },
        LogFilePrefix: prefix,
      });
    }
  });

  it('are deleted with their objects in dev and retained in prod', () => {
    for (const b of Object.values(zones(dev))) expect(resource(dev, dev.id(b)).DeletionPolicy).toBe('Delete');
    for (const b of Object.values(zones(prod))) expect(resource(prod, prod.id(b)).DeletionPolicy).toBe('Retain');
    // The five zones and the erasure audit bucket.
    expect(Object.keys(dev.template.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(6);
    expect(Object.keys(prod.template.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(0);
  });
});

describe('lifecycle rules', () => {
  const abort = { AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } };
  const markers = { Id: 'expired-delete-markers', ExpiredObjectDeleteMarker: true, Status: 'Enabled' };

  it('prod raw: IA at 30, Glacier IR at 90, expiry at 365, old versions after 30 days', () => {
    expect(rulesOf(prod, prod.stack.lake.rawBucket)).toEqual([
      {
        Id: 'current-objects', Status: 'Enabled', ...abort, ExpirationInDays: 365, NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 30 }, { StorageClass: 'GLACIER_IR', TransitionInDays: 90 }],
      },
      markers,
    ]);
  });

  it('prod curated: IA at 90, never expires; profile snapshots expire after 90 days', () => {
    expect(rulesOf(prod, prod.stack.lake.curatedBucket)).toEqual([
      { Id: 'current-objects', Status: 'Enabled', ...abort, NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }] },
      markers,
      { Id: 'profile-exports', Status: 'Enabled', Prefix: 'profile-exports/', ...abort, ExpirationInDays: 90 },
    ]);
  });

  it('prod quarantine expires at 90 days, Athena results at 7, access logs at 365', () => {
    expect(rulesOf(prod, prod.stack.lake.quarantineBucket)).toEqual([
      { Id: 'current-objects', Status: 'Enabled', ...abort, ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
      markers,
    ]);
    expect(rulesOf(prod, prod.stack.lake.athenaResultsBucket)).toEqual([{ Id: 'current-objects', Status: 'Enabled', ...abort, ExpirationInDays: 7 }]);
    expect(rulesOf(prod, prod.stack.lake.zones.accessLogsBucket)).toEqual([{ Id: 'current-objects', Status: 'Enabled', ...abort, ExpirationInDays: 365 }]);
  });

  it('dev expires raw and curated at 30 days without the transitions S3 would reject', () => {
    expect(rulesOf(dev, dev.stack.lake.rawBucket)).toEqual([
      { Id: 'current-objects', Status: 'Enabled', ...abort, ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 7 } },
      markers,
    ]);
    expect(rulesOf(dev, dev.stack.lake.curatedBucket)[0]).toEqual({ Id: 'current-objects', Status: 'Enabled', ...abort, ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 7 } });
    expect(rulesOf(dev, dev.stack.lake.quarantineBucket)[0].ExpirationInDays).toBe(14);
  });

  it('never emit a transition on or after the expiration day, whatever the stage', () => {
    for (const s of [dev, prod]) {
      for (const rule of Object.values(s.template.findResources('AWS::S3::Bucket')).flatMap((b: any) => b.Properties.LifecycleConfiguration?.Rules ?? [])) {
        for (const t of rule.Transitions ?? []) if (rule.ExpirationInDays) expect(t.TransitionInDays).toBeLessThan(rule.ExpirationInDays);
      }
    }
  });
});

describe('Glue catalog', () => {
  const table = (s: Synth, t: object) => resource(s, s.id(t as never)).Properties;

  it('has one database named after the stage', () => {
    dev.template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'pdp_dev_lake' } });
  });

  it('curated table has exactly the contract columns, in order, plus dt/hour partitions (drift check)', () => {
    const t = table(dev, dev.stack.lake.catalog.curatedTable).TableInput;
    expect(t.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(EVENT_COLUMNS.map((c) => [c.name, c.type]));
    expect(t.PartitionKeys.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual([['dt', 'string'], ['hour', 'string']]);
    expect(t.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(t.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
  });

  it('curated table projects dt/hour partitions at the curated events/ prefix, no crawler', () => {
    const t = table(prod, prod.stack.lake.catalog.curatedTable).TableInput;
    const bucket = { Ref: prod.id(prod.stack.lake.curatedBucket) };
    expect(t.StorageDescriptor.Location).toEqual({ 'Fn::Join': ['', ['s3://', bucket, '/events/']] });
    expect(t.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': 'NOW-3653DAYS,NOW+1DAYS',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
      'storage.location.template': { 'Fn::Join': ['', ['s3://', bucket, '/events/dt=${dt}/hour=${hour}/']] },
    });
    prod.template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  it('dev curated projection covers retention plus the accepted event lag', () => {
    expect(table(dev, dev.stack.lake.catalog.curatedTable).TableInput.Parameters['projection.dt.range']).toBe('NOW-37DAYS,NOW+1DAYS');
  });

  it('raw and quarantine tables read JSON lines, tolerating malformed lines, at their zone prefixes', () => {
    const raw = table(dev, dev.stack.lake.catalog.rawTable).TableInput;
    expect(raw.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(RAW_COLUMNS.map((c) => [c.name, 'string']));
    expect(raw.StorageDescriptor.SerdeInfo).toEqual({ SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', Parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' } });
    expect(raw.Parameters['projection.dt.range']).toBe('NOW-30DAYS,NOW+1DAYS');
    expect(raw.Parameters['storage.location.template']).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: dev.id(dev.stack.lake.rawBucket) }, '/events/dt=${dt}/hour=${hour}/']] });
    const q = table(dev, dev.stack.lake.catalog.quarantineTable).TableInput;
    expect(q.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(QUARANTINE_COLUMNS.map((c) => [c.name, c.type]));
    expect(q.Parameters['storage.location.template']).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: dev.id(dev.stack.lake.quarantineBucket) }, '/quarantine/dt=${dt}/hour=${hour}/']] });
  });

  it('profile exports table reads DynamoDB JSON by snapshot day', () => {
    const t = table(dev, dev.stack.lake.catalog.profileExportsTable).TableInput;
    expect(t.StorageDescriptor.Columns[0]).toMatchObject({ Name: 'item', Type: 'struct<user_id:struct<s:string>,first_seen:struct<n:string>,counts:struct<m:map<string,struct<n:string>>>>' });
    expect(t.Parameters['storage.location.template']).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: dev.id(dev.stack.lake.curatedBucket) }, '/profile-exports/snapshot=${snapshot}/']] });
  });
});

describe('Athena', () => {
  it('workgroup: engine v3, enforced, SSE-S3 results in the results bucket, scan limit from config', () => {
    dev.template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'pdp-dev-analytics',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: BUILT_IN_STAGES.dev!.lake.athenaScanLimitGb * 1024 ** 3,
        PublishCloudWatchMetricsEnabled: true,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: dev.id(dev.stack.lake.athenaResultsBucket) }, '/results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('deploys every query file verbatim as a named query in the lake database and workgroup', () => {
    const files = loadNamedQueries();
    expect(files.length).toBeGreaterThanOrEqual(8);
    const deployed = Object.values(dev.template.findResources('AWS::Athena::NamedQuery')).map((r: any) => r.Properties);
    expect(deployed).toHaveLength(files.length);
    for (const f of files) {
      expect(deployed).toContainEqual({ Name: f.name, Description: f.description, Database: 'pdp_dev_lake', QueryString: f.sql, WorkGroup: { Ref: dev.id(dev.stack.lake.analytics.workGroup) } });
    }
  });
});

describe('Firehose delivery', () => {
  const stream = (s: Synth, which: 'rawDelivery' | 'curatedDelivery') => resource(s, s.id(s.stack.lakeDelivery[which])).Properties;

  it('raw: from the raw stream, gzip lines by arrival hour, errors under errors/', () => {
    const p = stream(prod, 'rawDelivery');
    expect(p.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(p.KinesisStreamSourceConfiguration.KinesisStreamARN).toEqual(prod.stack.resolve(prod.stack.ingestion.rawStream.streamArn));
    const d = p.ExtendedS3DestinationConfiguration;
    expect(d.BucketARN).toEqual({ 'Fn::GetAtt': [prod.id(prod.stack.lake.rawBucket), 'Arn'] });
    expect(d.Prefix).toBe('events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/');
    expect(d.ErrorOutputPrefix).toBe('errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/');
    expect(d.CompressionFormat).toBe('GZIP');
    expect(d.BufferingHints).toEqual({ IntervalInSeconds: 300, SizeInMBs: 128 });
    expect(d.CloudWatchLoggingOptions).toEqual({
      Enabled: true,
      LogGroupName: { Ref: prod.id(prod.stack.lakeDelivery.node.findChild('RawLogs') as never) },
      LogStreamName: { Ref: prod.id(prod.stack.lakeDelivery.node.findChild('RawLogStream') as never) },
    });
    prod.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/kinesisfirehose/pdp-prod-raw-to-lake', RetentionInDays: 30 });
    expect(d.DynamicPartitioningConfiguration).toBeUndefined();
  });

  it('raw: one line per record, framed by a Lambda transformation within the limits AWS documents', () => {
    // Firehose's processor types are RecordDeAggregation, Decompression, CloudWatchLogProcessing, Lambda,
    // MetadataExtraction and AppendDelimiterToRecord (Firehose API reference, "Processor"): none escapes or encodes a
    // record, and AppendDelimiterToRecord would leave a record's own newlines in place. So a Lambda frames them.
    // Firehose invokes a transformation synchronously, and "the Lambda synchronous invocation mode has a payload size
    // limit of 6 MB for both the request and the response" (Firehose developer guide, "Transform source data"): a
    // 1 MB batch (the documented default; the range is 0.2-3 MB) keeps an all-encoded response (~16/9 of it) under 6 MB.
    for (const s of [dev, prod]) {
      const fn = s.stack.lakeDelivery.rawFraming;
      const d = stream(s, 'rawDelivery').ExtendedS3DestinationConfiguration;
      expect(d.ProcessingConfiguration).toEqual({
        Enabled: true,
        Processors: [
          {
            Type: 'Lambda',
            Parameters: [
              { ParameterName: 'LambdaArn', ParameterValue: { 'Fn::GetAtt': [s.id(fn), 'Arn'] } },
              { ParameterName: 'BufferSizeInMBs', ParameterValue: '1' },
              { ParameterName: 'BufferIntervalInSeconds', ParameterValue: '60' },
              { ParameterName: 'NumberOfRetries', ParameterValue: '3' },
            ],
          },
        ],
      });
      expect(RAW_FRAMING_BUFFER_MB * (16 / 9) * 1.05).toBeLessThan(6);
      const f = resource(s, s.id(fn)).Properties;
      expect(f).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs24.x', Architectures: ['arm64'], FunctionName: `pdp-${s === dev ? 'dev' : 'prod'}-frame-raw` });
      // Firehose waits at most 5 minutes for a transformation (same page, "Lambda invocation duration").
      expect(f.Timeout).toBeLessThanOrEqual(300);
    }
  });

  it('raw: the framing function is the raw zone\'s gate after an erasure: it reads the tombstones in the ledger table (Query only)', () => {
    // A record the transformation returns Dropped is delivered nowhere: "Dropped (the record was dropped
    // intentionally by your processing logic) ... If a record has a status of Ok or Dropped, Amazon Data Firehose
    // considers it successfully processed" (Firehose developer guide, "Required parameters for data transformation").
    // So late records of an erased person never reach the raw zone, nor its processing-failed/ prefix.
    for (const s of [dev, prod]) {
      const fn = s.stack.lakeDelivery.rawFraming;
      const ledger = s.id(s.stack.profiles.store.ledger as never);
      expect(resource(s, s.id(fn)).Properties.Environment.Variables).toMatchObject({ LEDGER_TABLE_NAME: { Ref: ledger } });
      const role = s.id(fn.role!.node.defaultChild as never);
      const statements = Object.values(s.template.findResources('AWS::IAM::Policy'))
        .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement as any[]);
      const onTables = statements.filter((st) => [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
      expect(onTables).toEqual([{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::GetAtt': [ledger, 'Arn'] } }]);
    }
  });

  it('raw: the delivery role may invoke the framing function and read its configuration, nothing more of Lambda', () => {
    // The permissions Firehose documents for a transformation: lambda:InvokeFunction and
    // lambda:GetFunctionConfiguration on the function (Firehose developer guide, "Manage IAM roles through the console").
    const fn = prod.stack.lakeDelivery.rawFraming;
    const role = prod.stack.lakeDelivery.node.findChild('RawRole');
    const statements = Object.values(prod.template.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === prod.id(role as never)))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement as any[]);
    expect(statements).toContainEqual({
      Sid: 'FrameRawRecords', Effect: 'Allow', Action: ['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration'], Resource: { 'Fn::GetAtt': [prod.id(fn), 'Arn'] },
    });
    expect(statements.flatMap((st) => [st.Action].flat()).filter((a: string) => a.startsWith('lambda:'))).toEqual(['lambda:InvokeFunction', 'lambda:GetFunctionConfiguration']);
  });

  it('raw: an error of the framing function notifies the alarm topic', () => {
    prod.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: prod.id(prod.stack.lakeDelivery.rawFraming) } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [prod.stack.resolve(prod.stack.alarms.topic.topicArn)],
    });
  });

  it('curated: from the validated stream, partitioned by event date and hour, Parquet via the curated Glue table', () => {
    const p = stream(prod, 'curatedDelivery');
    expect(p.KinesisStreamSourceConfiguration.KinesisStreamARN).toEqual(prod.stack.resolve(prod.stack.ingestion.validatedStream.streamArn));
    const d = p.ExtendedS3DestinationConfiguration;
    expect(d.BucketARN).toEqual({ 'Fn::GetAtt': [prod.id(prod.stack.lake.curatedBucket), 'Arn'] });
    expect(d.Prefix).toBe('events/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/');
    expect(d.ErrorOutputPrefix).toBe('errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/');
    expect(d.DynamicPartitioningConfiguration).toEqual({ Enabled: true, RetryOptions: { DurationInSeconds: 300 } });
    // The gate (analytics consent, erased people) runs first: Firehose applies a Lambda transformation before
    // inline parsing when both are configured (Firehose Developer Guide, "Understand partitioning keys": "You can
    // configure either of these methods ... or both of them at the same time"; "Apply dynamic partitioning to
    // aggregated data": "deaggregation -> data transformation through Lambda -> partitioning keys").
    expect(d.ProcessingConfiguration.Processors).toEqual([
      {
        Type: 'Lambda',
        Parameters: [
          { ParameterName: 'LambdaArn', ParameterValue: { 'Fn::GetAtt': [prod.id(prod.stack.lakeDelivery.curation!), 'Arn'] } },
          { ParameterName: 'BufferSizeInMBs', ParameterValue: '1' },
          { ParameterName: 'BufferIntervalInSeconds', ParameterValue: '60' },
          { ParameterName: 'NumberOfRetries', ParameterValue: '3' },
        ],
      },
      {
        Type: 'MetadataExtraction',
        Parameters: [
          { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{dt: .event_time[0:10], hour: .event_time[11:13]}' },
          { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
        ],
      },
    ]);
    expect(CURATED_PARTITION_QUERY).toBe('{dt: .event_time[0:10], hour: .event_time[11:13]}');
    expect(d.CompressionFormat).toBe('UNCOMPRESSED');
    expect(d.BufferingHints.SizeInMBs).toBeGreaterThanOrEqual(64);
    const conversion = d.DataFormatConversionConfiguration;
    expect(conversion.Enabled).toBe(true);
    expect(conversion.InputFormatConfiguration).toEqual({ Deserializer: { HiveJsonSerDe: { TimestampFormats: ["yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"] } } });
    expect(conversion.OutputFormatConfiguration).toEqual({ Serializer: { ParquetSerDe: { Compression: 'SNAPPY', WriterVersion: 'V1' } } });
    expect(conversion.SchemaConfiguration).toMatchObject({ DatabaseName: 'pdp_prod_lake', TableName: 'curated_events', VersionId: 'LATEST' });
  });

  it('the curated stream keeps at most 171 hour partitions active, within the budget', () => {
    expect(ACTIVE_PARTITION_BUDGET).toBe(250);
    expect(() => synth('wide', { wide: { extends: 'dev', validation: { maxPastAgeSeconds: 30 * 86_400 } } })).toThrow(/stages.wide.validation.maxPastAgeSeconds must be small enough .* could keep 723 hour partitions active/);
  });

  it('each role reads only its stream and writes only its zone prefixes; curated reads only its table', () => {
    const policy = (role: object) => {
      const policies = Object.values(prod.template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === prod.id(role as never)));
      expect(policies).toHaveLength(1);
      return (policies[0] as any).Properties.PolicyDocument.Statement as any[];
    };
    const curatedRole = prod.stack.lakeDelivery.node.findChild('CuratedRole');
    const statements = policy(curatedRole);
    const bucket = prod.id(prod.stack.lake.curatedBucket);
    expect(statements).toContainEqual({
      Sid: 'WriteZonePrefixes', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
      Resource: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/events/*']] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/errors/*']] }],
    });
    expect(statements.find((s) => s.Sid === 'ReadCuratedTableSchema').Action).toEqual(['glue:GetTable', 'glue:GetTableVersion', 'glue:GetTableVersions']);
    expect(JSON.stringify(statements.find((s) => s.Sid === 'ReadCuratedTableSchema').Resource)).toContain('pdp_prod_lake/curated_events');
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('s3:DeleteObject');
    const kinesis = statements.find((s) => [s.Action].flat().includes('kinesis:GetRecords'));
    expect(kinesis.Resource).toEqual(prod.stack.resolve(prod.stack.ingestion.validatedStream.streamArn));
    prod.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'firehose.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } })] },
    });
  });

  it('alarms on freshness, delivery errors, conversion errors and the partition limit, with the stream dimension', () => {
    const rawName = { Ref: prod.id(prod.stack.lakeDelivery.rawDelivery) };
    const curatedName = { Ref: prod.id(prod.stack.lakeDelivery.curatedDelivery) };
    const topic = prod.stack.resolve(prod.stack.alarms.topic.topicArn);
    const expectAlarm = (metric: string, name: object, threshold: number, comparison: string, statistic: string) =>
      prod.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Firehose',
        MetricName: metric,
        Dimensions: [{ Name: 'DeliveryStreamName', Value: name }],
        Threshold: threshold,
        ComparisonOperator: comparison,
        Statistic: statistic,
        Period: 300,
        AlarmActions: [topic],
      });
    for (const name of [rawName, curatedName]) {
      expectAlarm('DeliveryToS3.DataFreshness', name, BUILT_IN_STAGES.prod!.alarms.deliveryFreshnessSeconds, 'GreaterThanThreshold', 'Maximum');
      expectAlarm('DeliveryToS3.Success', name, 1, 'LessThanThreshold', 'Minimum');
    }
    expectAlarm('FailedConversion.Records', curatedName, 0, 'GreaterThanThreshold', 'Sum');
    expectAlarm('PartitionCountExceeded', curatedName, 0, 'GreaterThanThreshold', 'Maximum');
    expect(prod.stack.lakeDelivery.alarms).toHaveLength(7);
  });
});
