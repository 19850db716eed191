/**
 * The ledger table's attribute names, in a module without the SDK: the validation function reads the
 * tombstones' partition through a signed request (signed-tombstone-query.ts) and must not bundle lib-dynamodb.
 */
export const LEDGER_ATTRIBUTES = { partitionKey: 'user_id', sortKey: 'slot', ids: 'ids', split: 'split', ttl: 'expires_at' } as const;
