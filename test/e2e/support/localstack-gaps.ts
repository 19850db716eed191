/**
 * What LocalStack's free edition does not do the way AWS does, read from its own sources and issues, and which
 * end-to-end assertions each gap makes meaningless there. docs/localstack.md shows the same table (a test keeps
 * the two equal: test/localstack/localstack-path.test.ts). Against LocalStack (PDP_E2E_PLATFORM=localstack,
 * set by localstack/run-e2e.sh) an assertion that depends on a gap is skipped, and the reason is printed; against
 * the local runtime and AWS every assertion runs.
 */
export interface LocalStackGap {
  /** skipped: the assertions that depend on it are skipped there; adapted: the localstack stage avoids it. */
  readonly handling: 'skipped' | 'adapted';
  /** What LocalStack does instead of what AWS does. */
  readonly behaviour: string;
  /** What that means for the platform's assertions. */
  readonly consequence: string;
  /** Where LocalStack's sources or issues show it. */
  readonly evidence: readonly string[];
}

export const LOCALSTACK_GAPS = {
  'firehose-s3-format': {
    handling: 'skipped',
    behaviour:
      'Firehose writes one S3 object per batch of records it receives, the records concatenated as they are: CompressionFormat (GZIP) is ignored, no buffering hints apply, and processors other than Lambda (MetadataExtraction, AppendDelimiterToRecord) are skipped with a warning.',
    consequence: 'the raw zone is not gzip JSON lines and the curated zone is not written as configured; their byte-level assertions cannot hold.',
    evidence: [
      'https://github.com/localstack/localstack/blob/main/localstack-core/localstack/services/firehose/provider.py (_put_records_to_s3_bucket, _preprocess_records)',
      'https://github.com/localstack/localstack/issues/13301',
    ],
  },
  'firehose-prefixes': {
    handling: 'skipped',
    behaviour: 'Prefixes are used literally and followed by YYYY/MM/DD/HH/: `!{timestamp:...}` and `!{partitionKeyFromQuery:...}` are not evaluated, dynamic partitioning is not implemented, ErrorOutputPrefix is unused.',
    consequence: 'lake objects are not under the partition keys the Glue tables and the assertions read.',
    evidence: [
      'https://github.com/localstack/localstack/blob/main/localstack-core/localstack/services/firehose/provider.py (_get_s3_object_path)',
      'https://github.com/localstack/localstack/issues/10292',
      'https://github.com/localstack/localstack/issues/8169',
    ],
  },
  'firehose-parquet': {
    handling: 'skipped',
    behaviour: 'DataFormatConversionConfiguration is stored but not applied: no Parquet, no schema from the Glue table.',
    consequence: 'the curated zone holds JSON instead of Parquet.',
    evidence: ['https://github.com/localstack/localstack/blob/main/localstack-core/localstack/services/firehose/provider.py (_put_records_to_s3_bucket)'],
  },
  'glue-athena': {
    handling: 'skipped',
    behaviour: 'Glue and Athena are not in the free edition; CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES=1 makes CloudFormation skip their resources.',
    consequence: 'no catalog, no workgroup, no named queries to run.',
    evidence: ['https://docs.localstack.cloud/references/coverage/ (Glue, Athena: LocalStack Pro)'],
  },
  'esm-tumbling-windows': {
    handling: 'adapted',
    behaviour: 'The Kinesis event-source poller has no tumbling windows (TumblingWindowInSeconds is not passed to the function, no state is carried) and no MaximumBatchingWindowInSeconds.',
    consequence: 'the localstack stage runs the aggregator in per-batch mode (windowSeconds 0), which the platform supports; the windowed write path is not exercised there.',
    evidence: ['https://github.com/localstack/localstack/blob/main/localstack-core/localstack/services/lambda_/event_source_mapping/pollers/stream_poller.py (poll_events_from_shard)'],
  },
  'esm-bisection': {
    handling: 'skipped',
    behaviour: 'BisectBatchOnFunctionError is not implemented: a failed batch is retried whole until the retries or the record age run out, then sent to the on-failure destination. ReportBatchItemFailures, MaximumRecordAgeInSeconds and on-failure destinations are implemented.',
    consequence: 'a poison record cannot be isolated by halving; the fault drill, which checks exactly that, runs against the local runtime only.',
    evidence: [
      'https://github.com/localstack/localstack/blob/main/localstack-core/localstack/services/lambda_/event_source_mapping/pollers/stream_poller.py ("AUTOMATIC_BISECT ... is not yet implemented. Retrying the entire batch.")',
    ],
  },
} as const satisfies Record<string, LocalStackGap>;

export type LocalStackGapId = keyof typeof LOCALSTACK_GAPS;

/** Whether the suite runs against LocalStack (localstack/run-e2e.sh sets this). */
export const ON_LOCALSTACK = process.env.PDP_E2E_TARGET === 'external' && process.env.PDP_E2E_PLATFORM === 'localstack';

/**
 * True (skip) when the suite runs against LocalStack and the assertion depends on one of `gaps`; prints why.
 * Use as `it.skipIf(localstackGap('what the test checks', 'firehose-prefixes'))(...)`.
 */
export function localstackGap(what: string, ...gaps: LocalStackGapId[]): boolean {
  if (!ON_LOCALSTACK) return false;
  for (const id of gaps) console.warn(`[localstack] skipped "${what}": ${id}: ${LOCALSTACK_GAPS[id].behaviour}`);
  return true;
}
