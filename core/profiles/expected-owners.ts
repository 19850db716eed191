/**
 * Which profile each event must end in, computed from the events alone: the reference the exactly-once
 * guarantee is checked against (the tests' oracle, the local runtime's summary, the soak).
 *
 * An event with a user id belongs to that user. An event with only an anonymous id belongs to the user an
 * identify event among the events links that id to (stitching merges the anonymous profile into the user's,
 * whenever the identify arrives), else to the anonymous profile `anon#<id>`. An anonymous id claimed by two
 * users belongs to the first that claims it in processing order, which a set of events cannot tell: such ids
 * are returned as `contested`, linked here to the first claim in the order given.
 */
import { anonymousKey, dedupKey, subjectKey, type BehaviouralEvent } from '@personalization-data-platform/contract';

export interface ExpectedOwners {
  /** The profile key an event must be counted in. */
  readonly owner: (event: BehaviouralEvent) => string;
  /** Anonymous id -> the user whose profile absorbs it. */
  readonly links: ReadonlyMap<string, string>;
  /** Anonymous ids that identify events link to more than one user. */
  readonly contested: readonly string[];
}

export function expectedOwners(events: Iterable<BehaviouralEvent>): ExpectedOwners {
  const links = new Map<string, string>();
  const contested = new Set<string>();
  for (const e of events) {
    if (e.event_type !== 'identify' || e.user_id === undefined || e.anonymous_id === undefined) continue;
    const claimed = links.get(e.anonymous_id);
    if (claimed === undefined) links.set(e.anonymous_id, e.user_id);
    else if (claimed !== e.user_id) contested.add(e.anonymous_id);
  }
  const owner = (e: BehaviouralEvent) => e.user_id ?? links.get(e.anonymous_id ?? '') ?? anonymousKey(e.anonymous_id ?? '');
  return { owner, links, contested: [...contested].sort() };
}

/**
 * Unique events per profile: the first occurrence of each (subject, event_id), grouped by `owner` (by default
 * the event's subject: its user, else its anonymous visitor).
 */
export function uniqueByUser(events: readonly BehaviouralEvent[], owner: (e: BehaviouralEvent) => string = subjectKey): Map<string, BehaviouralEvent[]> {
  const seen = new Set<string>();
  const out = new Map<string, BehaviouralEvent[]>();
  for (const e of events) {
    const key = dedupKey(e);
    if (seen.has(key)) continue;
    seen.add(key);
    const to = owner(e);
    const list = out.get(to);
    if (list) list.push(e);
    else out.set(to, [e]);
  }
  return out;
}
