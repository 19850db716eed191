export { EventProducer, type EventProducerOptions, type RawRecord, type SendResult, type SendSummary } from './event-producer';
export { isRetryableCallError, kinesisPutRecordsCall } from '../../adapters/kinesis/put-records';
export { PRODUCER_RETRY_POLICY, type RetryPolicy } from '../../core/ingest/retry-policy';
