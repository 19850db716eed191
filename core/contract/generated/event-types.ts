// Generated from contract/event.schema.json (sha256 9e30975249e79048246c671a57649877e890419f5d4e57d8a68d0dbd1ac66186) by scripts/generate-contract.ts.
// Do not edit: change the schema and run `npm run generate`. A test fails when this file drifts.

/** One behavioural event sent by a producer with Kinesis PutRecord(s), as UTF-8 JSON that is also I-JSON (RFC 7493): each member name at most once per object, no lone UTF-16 surrogates, numbers within what a double holds exactly. The single source of truth for validation, TypeScript types and the lake's columns. */
export interface BehaviouralEvent {
  /** Contract version as MAJOR.MINOR. An unknown major version is quarantined; a newer minor version of the supported major is accepted and its unknown fields are dropped. */
  schema_version: string;
  /** Producer-assigned unique id of the event (a UUID or ULID is recommended). Retries of the same event must reuse it: it is the deduplication key together with user_id. */
  event_id: string;
  /** Stable id of the user or anonymous visitor. Partition key of both streams and of the profile table. */
  user_id: string;
  /** Id of the visit the event belongs to, as the producer's tracker defines it. */
  session_id: string;
  /** What the user did. */
  event_type: "page_view" | "content_view" | "click" | "search" | "add_to_cart" | "remove_from_cart" | "purchase";
  /** When the event happened on the producer's clock, RFC 3339 with a time zone. Normalized to UTC with millisecond precision (further fraction digits are truncated); must fall inside the accepted skew window around its arrival. */
  event_time: string;
  /** Id of the item, article, video or product the event is about. */
  content_id?: string;
  /** Category of the content as a lowercase slug path such as 'shoes' or 'sports>running' (at most four levels). Trimmed and lower-cased before validation. */
  category?: string;
  /** How long the user engaged with the content or page, in milliseconds (at most 24 hours). */
  duration_ms?: number;
  /** Monetary value of the event (the order total of a purchase) in currency units. Requires currency. */
  value?: number;
  /** ISO 4217 code of value, upper case. */
  currency?: string;
  /** The device the event came from. */
  device?: {
    /** Device class. */
    type: "desktop" | "mobile" | "tablet" | "tv" | "other";
    /** Operating system name. */
    os?: string;
    /** Version of the producing app or site release. */
    app_version?: string;
  };
  /** Where the event happened. */
  context?: {
    /** BCP 47 language tag such as 'en-US'. Normalized to canonical case ('en_us' becomes 'en-US'). */
    locale?: string;
    /** URL of the page or deep link of the screen. */
    page_url?: string;
    /** URL of the referring page. */
    referrer?: string;
    /** What the user searched for (search events). Trimmed. */
    search_query?: string;
  };
  /** Bounded free-form attributes: at most 16 keys in snake_case, each value a short string, a number within plus or minus 2^53-1, or a boolean. Stored as strings in the lake. */
  properties?: Record<string, string | number | boolean>;
}

export type EventType = BehaviouralEvent['event_type'];

/** Every event type of the contract, in schema order. */
export const EVENT_TYPES: readonly EventType[] = ["page_view","content_view","click","search","add_to_cart","remove_from_cart","purchase"];

/** The contract version this code was generated from (MAJOR.MINOR). */
export const CONTRACT_VERSION = "1.0";

/** The major version this code accepts; events of any other major are quarantined. */
export const SUPPORTED_MAJOR = 1;

/** The newest minor version this code knows; events of a newer minor are accepted without their unknown fields. */
export const KNOWN_MINOR = 0;

/** Default maximum size of one event in bytes of UTF-8 JSON (a stage can lower or raise it). */
export const MAX_EVENT_BYTES = 8192;

/** The fields the contract knows, per object ('' is the event itself): a newer minor's other fields are dropped. */
export const KNOWN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  "": new Set(["schema_version","event_id","user_id","session_id","event_type","event_time","content_id","category","duration_ms","value","currency","device","context","properties"]),
  "device": new Set(["type","os","app_version"]),
  "context": new Set(["locale","page_url","referrer","search_query"]),
};

/** First 12 hex digits of the schema's sha256: identifies the validator build in quarantine records. */
export const CONTRACT_HASH = "9e30975249e7";
