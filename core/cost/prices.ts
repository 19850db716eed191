/**
 * The unit prices of every service the platform uses: us-east-1, on-demand list prices in USD, the one place
 * `npm run cost` and the cost page's table take them from. Change them here (another Region, a new price
 * list) and `npm run cost` and the test that recomputes docs/cost.md follow.
 *
 * Units: per GB means per GiB (2^30 bytes), as AWS bills data volumes.
 */
export const PRICES = {
  region: 'us-east-1',
  kinesis: {
    /** Provisioned mode: per shard-hour. */
    shardHour: 0.015,
    /** Provisioned mode: per million PUT payload units (25 KB each, every record at least one). */
    putPayloadUnitsPerMillion: 0.014,
    /** Provisioned mode: extended retention (beyond 24 h, up to 7 days), per shard-hour. */
    extendedRetentionShardHour: 0.02,
    /** On-demand mode: per stream-hour. */
    onDemandStreamHour: 0.04,
    /** On-demand mode: per GB written, each record rounded up to the next KB. */
    onDemandIngestGb: 0.08,
    /** On-demand mode: per GB read by each consumer. */
    onDemandRetrievalGb: 0.04,
    /** On-demand mode: extended retention, per GB-month stored beyond 24 h. */
    onDemandExtendedRetentionGbMonth: 0.1,
  },
  lambda: {
    /** arm64, per GB-second. */
    armGbSecond: 0.0000133334,
    /** Per million requests. */
    requestsPerMillion: 0.2,
  },
  dynamodb: {
    /** On-demand: per million write request units (one per KB of the item written). */
    writeRequestUnitsPerMillion: 0.625,
    /** On-demand: per million read request units (a strongly consistent read of up to 4 KB is one). */
    readRequestUnitsPerMillion: 0.125,
    /** Provisioned: per WCU-hour and RCU-hour. */
    wcuHour: 0.00065,
    rcuHour: 0.00013,
    /** Standard table class, per GB-month. */
    storageGbMonth: 0.25,
    /** Point-in-time recovery (continuous backups), per GB-month. */
    pitrGbMonth: 0.2,
    /** Export to S3 (the daily profile snapshot), per GB of table. */
    exportGb: 0.1,
  },
  firehose: {
    /** Ingestion from a Kinesis data stream, per GB, each record rounded up to the next 5 KB. */
    ingestGb: 0.029,
    /** The record rounding of ingestion, in bytes. */
    ingestRecordRoundingBytes: 5 * 1024,
    /** Format conversion (JSON to Parquet), per GB ingested. */
    formatConversionGb: 0.018,
    /** Dynamic partitioning, per GB processed. */
    dynamicPartitioningGb: 0.02,
    /** Dynamic partitioning, per 1,000 objects delivered. */
    dynamicPartitioningObjectsPerThousand: 0.005,
  },
  s3: {
    /** S3 Standard, per GB-month (first 50 TB). */
    standardGbMonth: 0.023,
    /** PUT, COPY, POST, LIST requests, per 1,000. */
    putPerThousand: 0.005,
  },
  cloudwatch: {
    /** Per dashboard-month (beyond the 3 free ones). */
    dashboardMonth: 3,
    /** Standard-resolution alarm, per alarm-month. */
    alarmMonth: 0.1,
    /** Custom metric (each metric name and dimension set an EMF line creates), per month (first 10,000). */
    metricMonth: 0.3,
    /** Logs ingested, per GB. */
    logsIngestGb: 0.5,
  },
  kms: {
    /** Customer managed key, per month. */
    keyMonth: 1,
  },
  athena: {
    /** Per TB scanned (not in the monthly total: it depends on the queries run). */
    scannedTb: 5,
  },
} as const;

/** The shape of PRICES, with any numbers (another Region, a new price list). */
export type Prices = { readonly [S in keyof typeof PRICES]: (typeof PRICES)[S] extends string ? string : { readonly [K in keyof (typeof PRICES)[S]]: number } };
