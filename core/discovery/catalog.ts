/**
 * What a deployed stage tells the people and services that use it: one name per value, the same as a stack
 * output (`RawStreamName`, with a stack export `<stack>:RawStreamName`) and as an SSM parameter
 * (`/<prefix>/<stage>/RawStreamName`). Pure data: the CDK stack publishes these, and `clients/stage` resolves
 * them from a `cdk deploy --outputs-file` file, the stack's outputs or SSM. A new value (a new table, say) is
 * one entry here and one `publish` call in the stack.
 */

export interface StageValue {
  /** What the value is for. */
  readonly description: string;
  /** Published only when the stage has the resource (e.g. a daily profile export, a customer managed key). */
  readonly optional?: true;
}

export const STAGE_VALUES = {
  RawStreamName: { description: 'Stream producers write events to (PutRecord/PutRecords)' },
  RawStreamArn: { description: 'ARN of the stream producers write events to' },
  ProducerPolicyArn: { description: "Managed policy to attach to a producer's role: PutRecord/PutRecords on the raw stream only" },
  ValidatedStreamName: { description: 'Stream of validated, normalized events (partition key user_id)' },
  ValidatedStreamArn: { description: 'ARN of the stream of validated events' },
  StreamKeyArn: { description: 'Customer managed KMS key of both streams', optional: true },
  ProfileTableName: { description: 'DynamoDB table of user profiles (partition key user_id)' },
  ProfileTableArn: { description: 'ARN of the profile table' },
  ProfileLedgerTableName: { description: "DynamoDB table of the event ids applied to profiles (the aggregator's exactly-once ledger)" },
  ValidationFunctionName: { description: 'The validation function (what npm run redrive invokes for its on-failure ranges)' },
  AggregatorFunctionName: { description: 'The profile aggregator function (what npm run redrive invokes for its on-failure ranges)' },
  ProfileReaderPolicyArn: { description: "Managed policy to attach to a personalization service's role: read profiles only" },
  RawBucketName: { description: 'Raw zone: every record as received' },
  CuratedBucketName: { description: 'Curated zone: validated events as Parquet, and the profile exports' },
  QuarantineBucketName: { description: 'Quarantine zone: invalid records with their reasons' },
  AthenaResultsBucketName: { description: 'Athena query results of the analytics workgroup' },
  AccessLogsBucketName: { description: 'Server access logs of the lake buckets' },
  LakeDatabaseName: { description: 'Glue database of the lake tables' },
  AthenaWorkGroupName: { description: 'Athena workgroup of the lake, with its named queries' },
  ValidationOnFailureQueueUrl: { description: 'Shard ranges the validation function gave up on (redrive with npm run redrive)' },
  AggregatorOnFailureQueueUrl: { description: 'Shard ranges the profile aggregator gave up on' },
  AlarmTopicArn: { description: 'SNS topic every alarm notifies' },
  DashboardName: { description: 'CloudWatch dashboard of the stage, laid out as the data flows' },
  FreshnessCanaryFunctionName: { description: 'Function that puts a freshness probe every minute and publishes the freshness SLO metrics', optional: true },
  ProfileExportScheduleName: { description: 'EventBridge Scheduler schedule of the daily profile export', optional: true },
  ProfileExportScheduleGroupName: { description: 'Schedule group of the daily profile export', optional: true },
  ErasureQueueUrl: { description: 'Erasure requests ({"user_id": ...}) for the erasure function (npm run erase -- --queue-url)' },
  ErasureRequesterPolicyArn: { description: 'Managed policy to attach to the privacy tooling: sqs:SendMessage on the erasure queue' },
  ErasureAuditBucketName: { description: 'Audit log of erasures: a hash of the person and counts per erasure' },
} as const satisfies Record<string, StageValue>;

export type StageValueName = keyof typeof STAGE_VALUES;
export type StageValues = Partial<Record<StageValueName, string>>;

export const STAGE_VALUE_NAMES = Object.keys(STAGE_VALUES) as StageValueName[];

/** `PersonalizationPlatform-<stage>`: the stack of a stage. */
export function stackNameOf(stage: string): string {
  return `PersonalizationPlatform-${stage}`;
}

/** `/<prefix>/<stage>/`: the SSM path under which a stage publishes its values. */
export function parameterPathOf(resourcePrefix: string, stage: string): string {
  return `/${resourcePrefix}/${stage}/`;
}

/** `<stack>:<name>`: the stack export of a value (other stacks import it with Fn::ImportValue). */
export function exportNameOf(stackName: string, name: StageValueName): string {
  return `${stackName}:${name}`;
}

/** The values a stage must have, whatever its configuration. */
export function requiredValueNames(): StageValueName[] {
  return STAGE_VALUE_NAMES.filter((n) => !(STAGE_VALUES[n] as StageValue).optional);
}
