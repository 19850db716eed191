/**
 * The published monthly cost of AWS's Clickstream Analytics on AWS solution, for a buyer comparing like with
 * like: its implementation guide's cost page (https://docs.aws.amazon.com/solutions/latest/clickstream-analytics-on-aws/cost,
 * figures as in the guide's source, docs/en/plan-deployment/cost.md of awslabs/clickstream-analytics-on-aws),
 * us-east-1 on-demand prices, 1 KB requests, per module; a deployment sums the modules it enables.
 *
 * What it covers differs from this platform: its ingestion module is an HTTP endpoint (ALB + ECS on EC2) in
 * front of the sink, and its processing module is batch (EMR Serverless, hourly to daily) into Redshift
 * Serverless, with QuickSight dashboards. It keeps no per-user profile for real-time reads.
 */
export interface ClickstreamRow {
  readonly module: string;
  readonly option: string;
  readonly monthly: number;
}

/** Requests per second the guide publishes figures for. */
export const CLICKSTREAM_RATES = [10, 100, 1000] as const;

const TABLE: Record<(typeof CLICKSTREAM_RATES)[number], readonly ClickstreamRow[]> = {
  10: [
    { module: 'ingestion (ALB $7, EC2 $122, S3 $3)', option: 'Kinesis on demand', monthly: 168 },
    { module: 'ingestion (ALB $7, EC2 $122, S3 $3)', option: 'Kinesis provisioned, 2 shards', monthly: 154 },
    { module: 'ingestion (ALB $7, EC2 $122, S3 $3)', option: 'MSK (m5.large × 2)', monthly: 549 },
    { module: 'ingestion (ALB $7, EC2 $122, S3 $3)', option: 'direct to S3', monthly: 132 },
    { module: 'processing and modeling (EMR Serverless, Redshift Serverless)', option: 'hourly', monthly: 96 },
    { module: 'processing and modeling (EMR Serverless, Redshift Serverless)', option: 'daily', monthly: 12.6 },
  ],
  100: [
    { module: 'ingestion (ALB $43, EC2 $122, S3 $3)', option: 'Kinesis on demand', monthly: 254 },
    { module: 'ingestion (ALB $43, EC2 $122, S3 $3)', option: 'Kinesis provisioned, 2 shards', monthly: 194 },
    { module: 'ingestion (ALB $43, EC2 $122, S3 $3)', option: 'MSK (m5.large × 2)', monthly: 585 },
    { module: 'ingestion (ALB $43, EC2 $122, S3 $3)', option: 'direct to S3', monthly: 168 },
    { module: 'processing and modeling (EMR Serverless, Redshift Serverless)', option: 'hourly', monthly: 142 },
    { module: 'processing and modeling (EMR Serverless, Redshift Serverless)', option: 'daily', monthly: 56.1 },
  ],
  1000: [
    { module: 'ingestion (ALB $396, EC2 $122, S3 $14)', option: 'Kinesis on demand', monthly: 1108 },
    { module: 'ingestion (ALB $396, EC2 $122, S3 $14)', option: 'Kinesis provisioned, 10 shards', monthly: 678 },
    { module: 'ingestion (ALB $396, EC2 $122, S3 $14)', option: 'MSK (m5.large × 2)', monthly: 1062 },
    { module: 'ingestion (ALB $396, EC2 $122, S3 $14)', option: 'direct to S3', monthly: 532 },
    { module: 'processing and modeling (EMR Serverless, Redshift Serverless)', option: 'hourly', monthly: 1014 },
    { module: 'processing and modeling (EMR Serverless, Redshift Serverless)', option: 'daily', monthly: 736 },
  ],
};

/** Modules whose cost does not depend on the rate. */
export const CLICKSTREAM_FIXED: readonly ClickstreamRow[] = [
  { module: 'reporting (QuickSight, 2 authors, 10 readers)', option: 'any rate', monthly: 66.8 },
  { module: 'logs and monitoring', option: 'any rate', monthly: 14 },
];

/** The guide's rows at a rate it publishes, or undefined (with the rates it has). */
export function clickstreamCostAt(requestsPerSecond: number): readonly ClickstreamRow[] | undefined {
  const rate = CLICKSTREAM_RATES.find((r) => r === requestsPerSecond);
  return rate === undefined ? undefined : [...TABLE[rate], ...CLICKSTREAM_FIXED];
}

/** The guide's cheapest streaming setup at a rate: Kinesis provisioned ingestion, daily processing, reporting, logs. */
export function clickstreamCheapestStreaming(requestsPerSecond: number): number | undefined {
  const rows = clickstreamCostAt(requestsPerSecond);
  if (!rows) return undefined;
  const pick = (option: RegExp) => rows.find((r) => option.test(r.option))!.monthly;
  return pick(/provisioned/) + pick(/^daily$/) + CLICKSTREAM_FIXED.reduce((s, r) => s + r.monthly, 0);
}
