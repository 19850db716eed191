/**
 * Everything the profile aggregation keeps between records and between invocations: caches and scratch
 * buffers. The core has no module-level state; a handler creates one context per shard it serves and hands
 * it to each invocation, so two shards never share a cache or a buffer, and what a context holds is visible
 * in one place. A context serves one invocation at a time.
 */
import { DayKeyCache } from './day-keys';
import { IdCache } from './id-cache';
import { ScratchBuffer } from './scratch-buffer';

export class AggregationContext {
  /** Id sets of pending users, reused while the state's text is unchanged (see id-cache.ts). */
  readonly idCache = new IdCache();
  /** Where a user's new events are joined into one string (see event-arena.ts). */
  readonly joinBuffer = new ScratchBuffer(1 << 16);
  /** Where each base64 payload is decoded (a Buffer per record is most of the cost of decoding it). */
  readonly payloadBuffer = new ScratchBuffer(64 * 1024);
  /** 'YYYYMMDD' keys of the days events fall on (a batch covers few days). */
  readonly dayKeys = new DayKeyCache();
}

/**
 * The contexts of the shards one handler serves (the local runtime runs every shard's invocations of one
 * handler at once; in AWS a sandbox may serve several shards one after the other).
 */
export class ShardContexts {
  private readonly contexts = new Map<string, AggregationContext>();
  private readonly busy = new Set<AggregationContext>();

  constructor(private readonly maxShards = 64) {}

  /**
   * Runs one invocation of `shardId` with that shard's context. Should an invocation of the same shard still
   * be running (a timed-out one the local runtime lets settle while the batch is retried), this one gets a
   * fresh context of its own: the caches only save work, they are never needed for a correct result.
   */
  async run<T>(shardId: string, invocation: (context: AggregationContext) => Promise<T>): Promise<T> {
    let context = this.contexts.get(shardId);
    if (context === undefined) {
      // Shards that ended (after resharding) are forgotten, oldest first; each holds at most its caches.
      if (this.contexts.size >= this.maxShards) this.contexts.delete(this.contexts.keys().next().value!);
      context = new AggregationContext();
      this.contexts.set(shardId, context);
    }
    if (this.busy.has(context)) return invocation(new AggregationContext());
    this.busy.add(context);
    try {
      return await invocation(context);
    } finally {
      this.busy.delete(context);
    }
  }
}
