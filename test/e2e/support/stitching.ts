/**
 * Anonymous visitors in a drill's workload: for a seeded share of the users, their first events are sent
 * before they log in (no user_id, an anonymous id, keyed by it) and an identify event links the two, at a
 * seeded place in the stream (before, between or after those events), sometimes sent twice.
 */
import type { BehaviouralEvent } from '@personalization-data-platform/contract';
import type { WorkloadRecord } from '../../../workload/generator';

export interface SentRecord {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly event?: BehaviouralEvent;
  readonly kind: WorkloadRecord['kind'] | 'identify';
}

export function withAnonymousVisitors(batches: readonly (readonly WorkloadRecord[])[], random: () => number, share: number): { batches: SentRecord[][]; owner: (e: BehaviouralEvent) => string; stitched: number } {
  const byUser = new Map<string, WorkloadRecord[]>();
  for (const r of batches.flat()) if (r.event && r.kind === 'valid') byUser.set(r.event.user_id, [...(byUser.get(r.event.user_id) ?? []), r]);
  const anonymous = new Map<string, BehaviouralEvent>();
  const devices = new Map<string, string>();
  for (const [user, records] of byUser) {
    if (records.length < 2 || random() >= share) continue;
    const device = `dev-${user}`;
    devices.set(device, user);
    const before = 1 + Math.floor(random() * (records.length - 1));
    for (const r of records.slice(0, before)) {
      const { user_id: _known, ...rest } = r.event!;
      anonymous.set(r.event!.event_id, { ...rest, schema_version: '1.1', anonymous_id: device });
    }
  }
  const convert = (r: WorkloadRecord): SentRecord => {
    const e = r.event && anonymous.get(r.event.event_id);
    if (!e || (r.kind !== 'valid' && r.kind !== 'duplicate')) return r;
    return { data: Buffer.from(JSON.stringify(e)), partitionKey: e.anonymous_id!, event: e, kind: r.kind };
  };
  const out = batches.map((b) => b.map(convert));
  for (const [device, user] of devices) {
    const first = byUser.get(user)![0]!.event!;
    const identify: BehaviouralEvent = {
      schema_version: '1.1',
      event_id: `identify-${user}`,
      user_id: user,
      anonymous_id: device,
      session_id: first.session_id,
      event_type: 'identify',
      event_time: first.event_time,
    };
    const record: SentRecord = { data: Buffer.from(JSON.stringify(identify)), partitionKey: user, event: identify, kind: 'identify' };
    for (let copy = 0; copy < (random() < 0.3 ? 2 : 1); copy++) {
      const batch = out[Math.floor(random() * out.length)]!;
      batch.splice(Math.floor(random() * (batch.length + 1)), 0, record);
    }
  }
  const owner = (e: BehaviouralEvent) => e.user_id ?? devices.get(e.anonymous_id ?? '') ?? `anon#${e.anonymous_id}`;
  return { batches: out, owner, stitched: devices.size };
}
