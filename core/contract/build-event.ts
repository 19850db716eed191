/**
 * Building an event: the fields a producer would otherwise fill by hand on every event (a fresh event_id,
 * the contract's schema_version, event_time from the producer's clock). A retry must send the same event,
 * id included: build once, then send the built event as many times as needed.
 */
import { randomUUID } from 'node:crypto';
import { CONTRACT_VERSION, type BehaviouralEvent } from './generated/event-types';

/** The fields of an event the builder fills when they are not given. */
export type FilledFields = 'event_id' | 'schema_version' | 'event_time';

/** An event without the fields the builder fills (any of them may still be given, and is then kept). */
export type EventInput = Omit<BehaviouralEvent, FilledFields> & Partial<Pick<BehaviouralEvent, FilledFields>>;

export interface BuildEventOptions {
  /** The producer's clock. @default Date.now */
  readonly now?: () => number;
  /** New event ids. @default crypto.randomUUID */
  readonly newId?: () => string;
}

/**
 * The event with event_id (a random UUID), schema_version (this package's contract version) and event_time
 * (now, RFC 3339 in UTC with milliseconds) filled when missing. It does not validate: the producer does.
 */
export function buildEvent(input: EventInput, options: BuildEventOptions = {}): BehaviouralEvent {
  return {
    ...input,
    schema_version: input.schema_version ?? CONTRACT_VERSION,
    event_id: input.event_id ?? (options.newId ?? randomUUID)(),
    event_time: input.event_time ?? new Date((options.now ?? Date.now)()).toISOString(),
  } as BehaviouralEvent;
}
