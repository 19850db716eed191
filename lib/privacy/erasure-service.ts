import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAKE_TABLES } from '../../core/lake/catalog';
import { ERASE_ENV } from '../../lambdas/erase/config';
import type { DataLake } from '../lake/data-lake';
import type { ProfileStore } from '../profiles/profile-store';
import { PlatformFunction } from '../shared/platform-function';
import { alarmFactory } from '../shared/alarms';
import { METRICS_NAMESPACE } from '../shared/metrics';
import { acknowledgeFunctionRoleFindings } from '../shared/stream-consumer';

export interface ErasureServiceProps {
  /** The profile and ledger tables: tombstones, ledger items and links. */
  readonly profileStore: ProfileStore;
  /** The lake: zone buckets, Athena workgroup, Glue database. */
  readonly lake: DataLake;
  /** Topic the dead-letter alarm notifies. @default an alarm without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * How long tombstones are kept: as long as a copy of an earlier event can still be accepted (the ledger's
   * retention, stageLedgerRetentionHours).
   */
  readonly tombstoneRetention: Duration;
  /** How long erasure audit entries are kept. @default Duration.days(2190), six years */
  readonly auditRetention?: Duration;
  /** Physical name of the request queue. @default a generated name */
  readonly queueName?: string;
  /** Physical name of the erase function. @default a generated name */
  readonly functionName?: string;
  /** Name of the requester managed policy. @default a generated name */
  readonly requesterPolicyName?: string;
  /** What happens to the audit bucket when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The erasure function's timeout: Lambda's longest. Athena queries over a large lake take minutes. */
export const ERASURE_FUNCTION_TIMEOUT = Duration.minutes(15);
/** Delay of each follow-up pass over the lake: SQS's longest delay, the curated delivery's longest buffer. */
export const ERASURE_FOLLOW_UP_SECONDS = 900;
/** The erase function's service name: its logs' `service` and its metrics' `service` dimension. */
export const ERASE_SERVICE = 'erase';
/** Attempts of one request before it goes to the dead-letter queue. */
export const ERASURE_MAX_RECEIVES = 5;

/**
 * The erasure request path: a queue the privacy team's tooling sends requests to (`{"user_id": ...}`, see
 * docs/privacy.md), the function that carries each one out everywhere (lambdas/erase), a dead-letter queue
 * with an alarm, and the audit bucket. Least privilege: requesters may only send to the queue
 * (`grantRequest`, `requesterPolicy`); the function may only do what an erasure does in each store.
 */
export class ErasureService extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: PlatformFunction;
  /** One JSON object per erasure under erasures/<day>/: a hash of the person and counts, nothing else. */
  readonly auditBucket: s3.Bucket;
  /** A managed policy for the privacy team's tooling: sqs:SendMessage on the queue and nothing else. */
  readonly requesterPolicy: iam.ManagedPolicy;
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ErasureServiceProps) {
    super(scope, id);
    const { lake, profileStore } = props;
    const retain = (props.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...(props.queueName ? { queueName: props.queueName } : {}),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // Lambda's guidance for SQS event sources: a visibility timeout of at least six times the function's timeout.
      visibilityTimeout: Duration.minutes(ERASURE_FUNCTION_TIMEOUT.toMinutes() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: ERASURE_MAX_RECEIVES },
    });

    this.auditBucket = new s3.Bucket(this, 'AuditBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: lake.zones.accessLogsBucket,
      serverAccessLogsPrefix: 'erasure-audit/',
      lifecycleRules: [{ id: 'audit-retention', expiration: props.auditRetention ?? Duration.days(2190), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
    });

    const workGroup = lake.analytics.workGroupName;
    this.function = new PlatformFunction(this, 'Function', {
      handlerPath: 'erase/handler.ts',
      serviceName: ERASE_SERVICE,
      ...(props.functionName ? { functionName: props.functionName } : {}),
      description: 'Erases a person everywhere (profiles, ledger, links, every lake zone, exports, query results) and records it in the audit log',
      memorySize: 1024,
      timeout: ERASURE_FUNCTION_TIMEOUT,
      // One erasure at a time: requests are rare, and the lake rewrites of two at once would contend.
      reservedConcurrentExecutions: 1,
      environment: {
        [ERASE_ENV.profileTable]: profileStore.table.tableName,
        [ERASE_ENV.ledgerTable]: profileStore.ledger.tableName,
        [ERASE_ENV.rawBucket]: lake.rawBucket.bucketName,
        [ERASE_ENV.curatedBucket]: lake.curatedBucket.bucketName,
        [ERASE_ENV.quarantineBucket]: lake.quarantineBucket.bucketName,
        [ERASE_ENV.athenaResultsBucket]: lake.athenaResultsBucket.bucketName,
        [ERASE_ENV.workGroup]: workGroup,
        [ERASE_ENV.database]: lake.catalog.databaseName,
        [ERASE_ENV.auditBucket]: this.auditBucket.bucketName,
        [ERASE_ENV.queueUrl]: this.queue.queueUrl,
        [ERASE_ENV.tombstoneHours]: String(props.tombstoneRetention.toHours()),
        [ERASE_ENV.followUpSeconds]: String(ERASURE_FOLLOW_UP_SECONDS),
      },
    });
    acknowledgeFunctionRoleFindings(this.function);
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));
    // The follow-up passes over the lake.
    this.queue.grantSendMessages(this.function);
    profileStore.grantErase(this.function);
    // Entries are written, never read or changed by the function.
    this.function.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteAuditEntries', actions: ['s3:PutObject'], resources: [this.auditBucket.arnForObjects('erasures/*')] }));

    const role = this.function.role!;
    const stack = Stack.of(this);
    // The lake zones: read, rewrite and delete objects, and delete their older versions (S3 API Reference:
    // DeleteObject with a versionId needs s3:DeleteObjectVersion; ListObjectVersions needs s3:ListBucketVersions).
    const zones = [lake.rawBucket, lake.curatedBucket, lake.quarantineBucket, lake.athenaResultsBucket];
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RewriteLakeObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: zones.map((b) => b.arnForObjects('*')),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'ListLakeObjects', actions: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'], resources: zones.map((b) => b.bucketArn) }),
    );
    // Athena in the stage's workgroup (which writes results to the results bucket), over the lake's tables.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueryLake',
        actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'],
        resources: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroup })],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLakeCatalog',
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: lake.catalog.databaseName }),
          ...Object.values(LAKE_TABLES).map((t) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${lake.catalog.databaseName}/${t}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })),
        ],
      }),
    );
    for (const [name, what] of [
      ['Raw', 'raw'],
      ['Curated', 'curated'],
      ['Quarantine', 'quarantine'],
      ['AthenaResults', 'Athena results'],
    ] as const) {
      const bucket = lake.zones.node.findChild(name) as s3.Bucket;
      const logical = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      Validations.of(role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logical}.Arn>/*]`,
        reason: `An erasure rewrites or deletes whichever ${what} objects hold the person: object keys are not known in advance.`,
      });
    }
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.auditBucket.node.defaultChild as s3.CfnBucket)}.Arn>/erasures/*]`,
      reason: 'Audit entries are written under erasures/<day>/<erasure id>.json: the key is made per erasure.',
    });

    this.requesterPolicy = new iam.ManagedPolicy(this, 'RequesterPolicy', {
      ...(props.requesterPolicyName ? { managedPolicyName: props.requesterPolicyName } : {}),
      description: 'Request erasures: sqs:SendMessage on the erasure queue and nothing else',
      statements: [new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] })],
    });

    this.deadLetterAlarm = alarmFactory(this, props.alarmTopic)(
      'DeadLetterAlarm',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
      {
        alarmDescription: `An erasure request failed ${ERASURE_MAX_RECEIVES} times and is in the dead-letter queue: the person is NOT erased. The erase function's log says why; fix it and send the message again (docs/privacy.md).`,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
      },
    );
  }

  /**
   * A metric the erase function publishes itself (EMF, the platform's namespace, its `service` dimension):
   * Erasures, ErasuresFailed, LakeRowsRemoved (lambdas/erase/handler.ts). @default sum over 5 minutes
   */
  metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: ERASE_SERVICE },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Lets a principal (the privacy team's tooling) request erasures: sqs:SendMessage on the queue. */
  grantRequest(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }
}
