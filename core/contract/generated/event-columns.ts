// Generated from contract/event.schema.json (sha256 541bd20a3a77e90f6800ecc9e69a53645a40ec6c297aee5f7162c3d36bbc607d) by scripts/generate-contract.ts.
// Do not edit: change the schema and run `npm run generate`. A test fails when this file drifts.

/** A column of the curated events table: the contract's fields with their Hive (Glue/Athena) types. */
export interface EventColumn {
  readonly name: string;
  readonly type: string;
  readonly comment: string;
}

/** The columns of the curated (Parquet) events table, in schema order. Partition columns are defined by the lake. */
export const EVENT_COLUMNS: readonly EventColumn[] = [
  {
    "name": "schema_version",
    "type": "string",
    "comment": "Contract version as MAJOR.MINOR. An unknown major version is quarantined; a newer minor version of the supported major is accepted and its unknown fields are dropped."
  },
  {
    "name": "event_id",
    "type": "string",
    "comment": "Producer-assigned unique id of the event (a UUID or ULID is recommended). Retries of the same event must reuse it: it is the deduplication key together with user_id."
  },
  {
    "name": "user_id",
    "type": "string",
    "comment": "Stable id of the known (logged-in) user. Partition key of both streams and of the profile table when present. An event has a user_id, an anonymous_id or both (since 1.1; before, user_id was required)."
  },
  {
    "name": "anonymous_id",
    "type": "string",
    "comment": "Since 1.1. Id of the device or browser of a visitor who may not be logged in (a first-party cookie or an app install id). An event without user_id builds the anonymous profile of this id; an identify event links it to a user, whose profile then absorbs it"
  },
  {
    "name": "session_id",
    "type": "string",
    "comment": "Id of the visit the event belongs to, as the producer's tracker defines it."
  },
  {
    "name": "event_type",
    "type": "string",
    "comment": "What the user did. 'identify' (since 1.1) is the login moment: it links anonymous_id to user_id and carries both."
  },
  {
    "name": "event_time",
    "type": "timestamp",
    "comment": "When the event happened on the producer's clock, RFC 3339 with a time zone. Normalized to UTC with millisecond precision (further fraction digits are truncated); must fall inside the accepted skew window around its arrival."
  },
  {
    "name": "content_id",
    "type": "string",
    "comment": "Id of the item, article, video or product the event is about."
  },
  {
    "name": "category",
    "type": "string",
    "comment": "Category of the content as a lowercase slug path such as 'shoes' or 'sports>running' (at most four levels). Trimmed and lower-cased before validation."
  },
  {
    "name": "duration_ms",
    "type": "bigint",
    "comment": "How long the user engaged with the content or page, in milliseconds (at most 24 hours)."
  },
  {
    "name": "value",
    "type": "double",
    "comment": "Monetary value of the event (the order total of a purchase) in currency units. Requires currency."
  },
  {
    "name": "currency",
    "type": "string",
    "comment": "ISO 4217 code of value, upper case."
  },
  {
    "name": "device",
    "type": "struct<type:string,os:string,app_version:string>",
    "comment": "The device the event came from."
  },
  {
    "name": "context",
    "type": "struct<locale:string,page_url:string,referrer:string,search_query:string>",
    "comment": "Where the event happened."
  },
  {
    "name": "properties",
    "type": "map<string,string>",
    "comment": "Bounded free-form attributes: at most 16 keys in snake_case, each value a short string, a number within plus or minus 2^53-1, or a boolean. Stored as strings in the lake."
  },
  {
    "name": "consent",
    "type": "struct<personalization:boolean,analytics:boolean>",
    "comment": "Since 1.1. The consent the producer knows for this event. A field that is absent counts as granted (the behaviour of 1.0 events); a producer that does not hold consent must say false. See docs/privacy.md."
  }
];
