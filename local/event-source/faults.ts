/** Deterministic fault injection for drills: the same seed makes the same decisions for the same batches. */
import { seededRandom } from '../../core/seeded-random';
import type { FaultInjector, InvocationInfo } from './types';

export interface SeededFaultOptions {
  seed: number;
  /** Probability that a successful invocation is treated as failed after its side effects. */
  crashAfterSideEffects?: number;
  /** Probability that a successful invocation's checkpoint is lost. */
  redeliver?: number;
  /** Probability that an invocation is throttled before reaching the function. */
  throttle?: number;
  /** Probability that an invocation is delayed by a duration drawn from delayMs (default 1 when delayMs is given). */
  delay?: number;
  delayMs?: [number, number];
  /** Leave final window invocations alone (default false: they fail like any other). */
  spareFinalInvokes?: boolean;
  /**
   * Give every fault kind with a non-zero probability to the first invocation eligible for it, then draw as
   * usual, so a drill is never vacuous because a short run happened to draw no fault of some kind.
   * @default false
   */
  ensureEach?: boolean;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Faults drawn from a seeded generator keyed by the batch (shard, sequence range, how often that batch was
 * seen), so a given seed makes the same decisions for the same batches however the shards interleave.
 */
export function seededFaults(options: SeededFaultOptions): FaultInjector {
  const seen = new Map<string, number>();
  const owed = new Set(['throttle', 'delay', 'crash', 'redeliver']);
  const keyOf = (i: InvocationInfo) =>
    `${options.seed}|${i.shardId}|${i.firstSequenceNumber ?? ''}|${i.lastSequenceNumber ?? ''}|${i.isFinalInvokeForWindow}`;
  const random = (i: InvocationInfo, phase: string) => seededRandom(fnv1a(`${keyOf(i)}|${seen.get(keyOf(i)) ?? 0}|${phase}`));
  return {
    beforeInvoke(invocation) {
      const key = keyOf(invocation);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (options.spareFinalInvokes && invocation.isFinalInvokeForWindow) return 'none';
      if (options.ensureEach && (options.throttle ?? 0) > 0 && owed.delete('throttle')) return 'throttle';
      if (options.ensureEach && (options.delay ?? 0) > 0 && owed.delete('delay')) {
        const [min, max] = options.delayMs ?? [10, 100];
        return { delayMs: Math.round((min + max) / 2) };
      }
      const next = random(invocation, 'before');
      if (next() < (options.throttle ?? 0)) return 'throttle';
      if (next() < (options.delay ?? (options.delayMs ? 1 : 0))) {
        const [min, max] = options.delayMs ?? [10, 100];
        return { delayMs: Math.round(min + next() * (max - min)) };
      }
      return 'none';
    },
    afterInvoke(invocation) {
      if (options.spareFinalInvokes && invocation.isFinalInvokeForWindow) return 'none';
      if (options.ensureEach && (options.crashAfterSideEffects ?? 0) > 0 && owed.delete('crash')) return 'crash-after-side-effects';
      if (options.ensureEach && (options.redeliver ?? 0) > 0 && owed.delete('redeliver')) return 'redeliver';
      const next = random(invocation, 'after');
      if (next() < (options.crashAfterSideEffects ?? 0)) return 'crash-after-side-effects';
      if (next() < (options.redeliver ?? 0)) return 'redeliver';
      return 'none';
    },
  };
}
