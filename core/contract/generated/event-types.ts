// Generated from contract/event.schema.json (sha256 541bd20a3a77e90f6800ecc9e69a53645a40ec6c297aee5f7162c3d36bbc607d) by scripts/generate-contract.ts.
// Do not edit: change the schema and run `npm run generate`. A test fails when this file drifts.

/** One behavioural event sent by a producer with Kinesis PutRecord(s), as UTF-8 JSON that is also I-JSON (RFC 7493): each member name at most once per object, no lone UTF-16 surrogates, numbers within what a double holds exactly. The single source of truth for validation, TypeScript types and the lake's columns. */
export interface BehaviouralEvent {
  /** Contract version as MAJOR.MINOR. An unknown major version is quarantined; a newer minor version of the supported major is accepted and its unknown fields are dropped. */
  schema_version: string;
  /** Producer-assigned unique id of the event (a UUID or ULID is recommended). Retries of the same event must reuse it: it is the deduplication key together with user_id. */
  event_id: string;
  /** Stable id of the known (logged-in) user. Partition key of both streams and of the profile table when present. An event has a user_id, an anonymous_id or both (since 1.1; before, user_id was required). */
  user_id?: string;
  /** Since 1.1. Id of the device or browser of a visitor who may not be logged in (a first-party cookie or an app install id). An event without user_id builds the anonymous profile of this id; an identify event links it to a user, whose profile then absorbs it. Partition key of an event that has no user_id. */
  anonymous_id?: string;
  /** Id of the visit the event belongs to, as the producer's tracker defines it. */
  session_id: string;
  /** What the user did. 'identify' (since 1.1) is the login moment: it links anonymous_id to user_id and carries both. */
  event_type: "page_view" | "content_view" | "click" | "search" | "add_to_cart" | "remove_from_cart" | "purchase" | "identify";
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
  /** Since 1.1. The consent the producer knows for this event. A field that is absent counts as granted (the behaviour of 1.0 events); a producer that does not hold consent must say false. See docs/privacy.md. */
  consent?: {
    /** May the event be used to build a profile for personalization. false: it never reaches a profile. */
    personalization?: boolean;
    /** May the event be kept for analytics. false: it never reaches the curated lake (the raw zone keeps it only for its retention). */
    analytics?: boolean;
  };
}

export type EventType = BehaviouralEvent['event_type'];

/** Every event type of the contract, in schema order. */
export const EVENT_TYPES: readonly EventType[] = ["page_view","content_view","click","search","add_to_cart","remove_from_cart","purchase","identify"];

/** The contract version this code was generated from (MAJOR.MINOR). */
export const CONTRACT_VERSION = "1.1";

/** The major version this code accepts; events of any other major are quarantined. */
export const SUPPORTED_MAJOR = 1;

/** The newest minor version this code knows; events of a newer minor are accepted without their unknown fields. */
export const KNOWN_MINOR = 1;

/** Default maximum size of one event in bytes of UTF-8 JSON (a stage can lower or raise it). */
export const MAX_EVENT_BYTES = 8192;

/** The fields the contract knows, per object ('' is the event itself): a newer minor's other fields are dropped. */
export const KNOWN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  "": new Set(["schema_version","event_id","user_id","anonymous_id","session_id","event_type","event_time","content_id","category","duration_ms","value","currency","device","context","properties","consent"]),
  "device": new Set(["type","os","app_version"]),
  "context": new Set(["locale","page_url","referrer","search_query"]),
  "consent": new Set(["personalization","analytics"]),
};

/** First 12 hex digits of the schema's sha256: identifies the validator build in quarantine records. */
export const CONTRACT_HASH = "541bd20a3a77";
