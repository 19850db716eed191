/** The ingestion core: batch validation and dedup, quarantine lines, PutRecords grouping and retry, redrive plans. */
export * from './batch';
export * from './kinesis-event';
export * from './put-records';
export * from './quarantine';
export * from './redrive';
