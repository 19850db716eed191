/** Producers of behavioural events for Node services: one-shot (EventProducer) and buffered (BufferedProducer). */
export { EventProducer, type EventProducerOptions, type RawRecord, type SendResult, type SendSummary } from './event-producer';
export { BufferedProducer, type BufferedProducerOptions, type BufferedProducerStats } from './buffered-producer';
export { PRODUCER_RETRY_POLICY, type RetryPolicy } from '@internal/core/retry-policy';
export { PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, MAX_RECORD_BYTES } from '@internal/core/ingest/put-records';
export { buildEvent, type BehaviouralEvent, type BuildEventOptions, type EventInput, type ReasonCode, type SchemaError } from '@personalization-data-platform/contract';
