/** The event contract: types, validation, normalization and identity, all derived from contract/event.schema.json. */
export * from './generated/event-types';
export { EVENT_COLUMNS, type EventColumn } from './generated/event-columns';
export * from './validate';
export * from './fingerprint';
export * from './identity';
export { parseRfc3339, toCanonicalUtc } from './datetime';
