/** The event contract: types, validation, normalization and identity, all derived from contract/event.schema.json. */
export * from './generated/event-types';
export { EVENT_COLUMNS, type EventColumn } from './generated/event-columns';
export * from './validate';
export * from './fingerprint';
export * from './identity';
export { buildEvent, type BuildEventOptions, type EventInput, type FilledFields } from './build-event';
export { parseRfc3339, toCanonicalUtc } from './datetime';
/** I-JSON (RFC 7493) checks of raw JSON text and values, the ones validateRecord applies before the schema. */
export { findDuplicateName, findLoneSurrogate } from './json-text';
