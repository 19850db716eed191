/**
 * An in-memory profile store with the conditional-update semantics of the DynamoDB table (the write applies
 * only when the stored version is the expected one), and seeded faults: throttled writes that are not
 * applied, and writes that are applied but whose acknowledgement is lost (a timeout after the write).
 */
import type { Profile } from '../../../lambdas/core/profile/model';
import type { ProfileStorePort } from '../../../lambdas/core/profile/writer';

export interface MemoryStoreFaults {
  /** Probability that a write is rejected as throttled (not applied). */
  throttle?: number;
  /** Probability that a write is applied but reported as failed. */
  lostAck?: number;
  random?: () => number;
}

export class MemoryProfileStore implements ProfileStorePort {
  readonly items = new Map<string, Profile>();
  writes = 0;
  reads = 0;
  conflicts = 0;
  faults: MemoryStoreFaults = {};

  async getMany(userIds: readonly string[]): Promise<Map<string, Profile>> {
    this.reads += userIds.length;
    const out = new Map<string, Profile>();
    for (const id of userIds) {
      const item = this.items.get(id);
      if (item) out.set(id, structuredClone(item));
    }
    return out;
  }

  async putIfVersion(profile: Profile, expectedVersion: number): Promise<'ok' | 'conflict'> {
    const random = this.faults.random ?? Math.random;
    if (random() < (this.faults.throttle ?? 0)) throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ThrottlingException' });
    const current = this.items.get(profile.user_id);
    if ((current?.version ?? 0) !== expectedVersion) {
      this.conflicts++;
      return 'conflict';
    }
    this.writes++;
    // What DynamoDB stores is what JSON can carry: no undefined attributes.
    this.items.set(profile.user_id, JSON.parse(JSON.stringify(profile)) as Profile);
    if (random() < (this.faults.lostAck ?? 0)) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    return 'ok';
  }
}
