/**
 * Canary events: events the platform sends itself to prove a deployed stage works end to end (`npm run
 * verify`, and later a scheduled freshness canary). They travel the real path (raw stream, validation,
 * profiles, lake) but belong to reserved users, so nothing a business reads counts them:
 *
 * - every canary user id starts with CANARY_USER_PREFIX, a namespace of the contract's user_id pattern that
 *   real producers must not use (README, "Verifying a deployed stage");
 * - every canary event also carries `properties.canary = true`, so a reader of one event alone sees it too;
 * - the lake's KPI and reconciliation queries exclude the prefix (`NOT starts_with(user_id, 'pdp-canary:')`,
 *   checked against CANARY_USER_PREFIX by a test); the data-freshness query and the quarantine rate keep them,
 *   because they measure the pipeline, which canaries do travel.
 *
 * Pure: no AWS imports.
 */
import { CONTRACT_VERSION, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { InputError } from '../errors';

/** Reserved user-id namespace of canary events. */
export const CANARY_USER_PREFIX = 'pdp-canary:';

/** The property every canary event carries (value true). */
export const CANARY_PROPERTY = 'canary';

/** The SQL predicate, on a user id column, that keeps canaries out of a query (Trino and DuckDB alike). */
export function canaryExclusion(column = 'user_id'): string {
  return `NOT starts_with(${column}, '${CANARY_USER_PREFIX}')`;
}

/** Whether a user id belongs to the canary namespace. */
export function isCanaryUser(userId: string): boolean {
  return userId.startsWith(CANARY_USER_PREFIX);
}

const RUN_ID = /^[A-Za-z0-9]{1,32}$/;

function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) throw new InputError(`canary: a run id is 1-32 letters or digits, got ${JSON.stringify(runId)}`);
}

/** `pdp-canary:<run>:<n>`: the user id of canary user `n` of a run. */
export function canaryUserId(runId: string, n: number): string {
  checkRunId(runId);
  return `${CANARY_USER_PREFIX}${runId}:${n}`;
}

/** A new run id: the time in base 36 and a random part, so runs against one stage never share users. */
export function newCanaryRunId(now = Date.now(), random = Math.random): string {
  return `${now.toString(36)}${Math.floor(random() * 36 ** 4).toString(36).padStart(4, '0')}`;
}

/** What one canary run sends and what each record must become. */
export interface CanaryBatch {
  readonly runId: string;
  /** Valid events: each must reach its user's profile and the curated zone. */
  readonly valid: readonly BehaviouralEvent[];
  /** Records that must be quarantined, with the reason, path and rule the validator must give. */
  readonly invalid: readonly { readonly record: Record<string, unknown>; readonly userId: string; readonly reason: 'schema_violation'; readonly path: string; readonly rule: string }[];
  /** The canary users and the counts their profiles must show per event type. */
  readonly expectedCounts: ReadonlyMap<string, Readonly<Record<string, number>>>;
}

const CANARY_SEQUENCE: readonly Pick<BehaviouralEvent, 'event_type' | 'content_id' | 'category' | 'value' | 'currency'>[] = [
  { event_type: 'page_view' },
  { event_type: 'content_view', content_id: 'canary-item-1', category: 'canary' },
  { event_type: 'add_to_cart', content_id: 'canary-item-1', category: 'canary' },
  { event_type: 'purchase', content_id: 'canary-item-1', category: 'canary', value: 1, currency: 'EUR' },
];

/**
 * The canary records of one run: `users` users with one event of each kind in CANARY_SEQUENCE (a page view, a
 * content view, an add to cart, a purchase), timed just before `now`, and one invalid record (an event type
 * the contract does not know) from another canary user.
 */
export function canaryBatch(runId: string, now: number, users = 2): CanaryBatch {
  checkRunId(runId);
  const valid: BehaviouralEvent[] = [];
  const expectedCounts = new Map<string, Record<string, number>>();
  for (let u = 0; u < users; u++) {
    const userId = canaryUserId(runId, u);
    const counts: Record<string, number> = {};
    CANARY_SEQUENCE.forEach((shape, i) => {
      valid.push({
        schema_version: CONTRACT_VERSION,
        event_id: `${userId}:${i}`,
        user_id: userId,
        session_id: `${CANARY_USER_PREFIX}${runId}`,
        event_time: new Date(now - (CANARY_SEQUENCE.length - i) * 1000).toISOString(),
        device: { type: 'other' },
        properties: { [CANARY_PROPERTY]: true },
        ...shape,
      } as BehaviouralEvent);
      counts[shape.event_type] = (counts[shape.event_type] ?? 0) + 1;
    });
    expectedCounts.set(userId, counts);
  }
  const invalidUser = canaryUserId(runId, users);
  const invalid = [
    {
      record: {
        schema_version: CONTRACT_VERSION,
        event_id: `${invalidUser}:invalid`,
        user_id: invalidUser,
        session_id: `${CANARY_USER_PREFIX}${runId}`,
        event_type: 'canary_invalid_event_type',
        event_time: new Date(now).toISOString(),
        properties: { [CANARY_PROPERTY]: true },
      },
      userId: invalidUser,
      reason: 'schema_violation' as const,
      path: '/event_type',
      rule: 'enum',
    },
  ];
  return { runId, valid, invalid, expectedCounts };
}
