export { EventProducer, type EventProducerOptions, type RawRecord, type SendResult, type SendSummary } from './event-producer';
export { PRODUCER_RETRY_POLICY, type RetryPolicy } from '@internal/core/retry-policy';
