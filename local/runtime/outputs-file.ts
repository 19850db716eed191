/**
 * The local runtime's answer to `cdk deploy --outputs-file`: the names of what it runs, in the same shape, so
 * `npm run verify -- --outputs-file <file>` resolves them the way it resolves a deployed stack's. What the local
 * runtime does not model is listed with why, so a check that needs it reports "not available here" instead of
 * passing or failing on a resource that does not exist.
 */
import { partialOutputsFile } from '../../clients/stage/resolve';
import type { StageValueName } from '../../core/discovery/catalog';
import type { StageResourceNames } from './resources';

const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:000000000000:${resource}`;

const WHY: Partial<Record<StageValueName, string>> = {
  ProducerPolicyArn: 'the local runtime has no IAM',
  ProfileReaderPolicyArn: 'the local runtime has no IAM',
  AthenaResultsBucketName: 'the local runtime has no Athena (DuckDB reads the local lake)',
  AccessLogsBucketName: 'the local runtime writes no server access logs',
  LakeDatabaseName: 'the local runtime has no Glue (DuckDB views stand in for the tables)',
  AthenaWorkGroupName: 'the local runtime has no Athena (DuckDB reads the local lake)',
  ValidationOnFailureQueueUrl: 'the local runtime keeps on-failure records in on-failure.jsonl, not SQS',
  AggregatorOnFailureQueueUrl: 'the local runtime keeps on-failure records in on-failure.jsonl, not SQS',
  AlarmTopicArn: 'the local runtime has no CloudWatch alarms or SNS',
  ProfileExportScheduleName: 'the local runtime has no EventBridge Scheduler',
  ProfileExportScheduleGroupName: 'the local runtime has no EventBridge Scheduler',
  DashboardName: 'the local runtime has no CloudWatch dashboard (its summary prints the figures)',
  FreshnessCanaryFunctionName: 'the local runtime runs the canary code in process, on its own timer, not as a function',
  ErasureQueueUrl: 'the local runtime erases with npm run erase directly, not through a queue',
  ErasureRequesterPolicyArn: 'the local runtime has no IAM',
  ErasureAuditBucketName: 'the local runtime writes its erasure audit log to erasure-audit.jsonl in its data folder',
};

/** The outputs file of the local runtime of `stage`. */
export function localOutputsFile(stage: string, names: StageResourceNames): Record<string, Record<string, string>> {
  return partialOutputsFile(
    stage,
    {
      RawStreamName: names.rawStream,
      RawStreamArn: arn('kinesis', `stream/${names.rawStream}`),
      ValidatedStreamName: names.validatedStream,
      ValidatedStreamArn: arn('kinesis', `stream/${names.validatedStream}`),
      ProfileTableName: names.profileTable,
      ProfileTableArn: arn('dynamodb', `table/${names.profileTable}`),
      ProfileLedgerTableName: names.ledgerTable,
      ValidationFunctionName: names.validationFunction,
      AggregatorFunctionName: names.aggregatorFunction,
      RawBucketName: names.rawBucket,
      CuratedBucketName: names.curatedBucket,
      QuarantineBucketName: names.quarantineBucket,
    },
    WHY,
  );
}
