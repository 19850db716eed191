/**
 * A deterministic, in-process model of a Lambda Kinesis event source with tumbling windows, driving the
 * pure aggregation with a fault schedule: handler crashes after their side effects (the result is lost and
 * the invocation retried with the state from before it), lost checkpoints (the same batch delivered again),
 * bisection of failed batches, partial batch failures, failing final invocations, and windows reprocessed
 * from their start after they were written (Lambda's rare "processed more than once, possibly out of order").
 */
import { aggregateInvocation, type InvocationResult } from '../../../lambdas/core/profile/aggregate';
import type { ProfileSettings } from '../../../lambdas/core/profile/model';
import type { WindowStateJson, WindowStateLimits } from '../../../lambdas/core/profile/window-state';
import type { ProfileStorePort } from '../../../lambdas/core/profile/writer';

export interface SimRecord {
  sequenceNumber: string;
  data: string;
  arrivalMs: number;
}

export interface FaultSchedule {
  /** Returns a number in [0, 1): the schedule's source of randomness. */
  random: () => number;
  crashAfter: number;
  redeliver: number;
  /** Probability that a window is processed again from its start after its final invocation succeeded. */
  reprocessWindow: number;
  maxBatch: number;
}

export interface SimulationStats {
  invocations: number;
  crashes: number;
  redeliveries: number;
  bisections: number;
  partialFailures: number;
  finalFailures: number;
  reprocessedWindows: number;
  flushes: number;
  /** Segments that straddled a watermark (the merge's fallback path). */
  anomalies: number;
  /** Profile writes, including the mid-window flushes. */
  writes: number;
}

/** Pads a counter into a Kinesis-like 56-digit sequence number. */
export function sequenceNumber(shard: number, n: number): string {
  return `4959${String(shard).padStart(4, '0')}${String(n).padStart(48, '0')}`;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export async function simulateShard(
  shardId: string,
  records: readonly SimRecord[],
  options: {
    store: ProfileStorePort;
    settings: ProfileSettings;
    windowMs: number;
    limits?: WindowStateLimits;
    faults: FaultSchedule;
    now?: () => number;
  },
): Promise<SimulationStats> {
  const stats: SimulationStats = { invocations: 0, crashes: 0, redeliveries: 0, bisections: 0, partialFailures: 0, finalFailures: 0, reprocessedWindows: 0, flushes: 0, anomalies: 0, writes: 0 };
  const { faults } = options;
  const windowOf = (r: SimRecord) => (options.windowMs > 0 ? Math.floor(r.arrivalMs / options.windowMs) : -1);
  const deps = { store: options.store, settings: options.settings, now: options.now ?? (() => 1_700_000_000_000), ...(options.limits ? { limits: options.limits } : {}) };
  // Faults stop after a while so every schedule terminates; Lambda's retries are bounded too.
  let budget = 200;
  const fault = (p: number) => budget > 0 && faults.random() < p && budget-- > 0;

  const invoke = async (batch: readonly SimRecord[], state: WindowStateJson | undefined, flushAll: boolean): Promise<InvocationResult | 'error'> => {
    stats.invocations++;
    try {
      const result = await aggregateInvocation(
        { shardId, records: batch, state: state ? clone(state) : undefined, flushAll, carriesState: options.windowMs > 0 },
        deps,
      );
      stats.flushes += result.stats.flushes;
      for (const w of result.stats.writes) {
        stats.anomalies += w.anomalies;
        stats.writes += w.written;
      }
      return result;
    } catch {
      return 'error';
    }
  };

  let pos = 0;
  const reprocessed = new Set<number>();
  while (pos < records.length) {
    const windowStart = pos;
    const window = windowOf(records[pos]!);
    let state: WindowStateJson | undefined = options.windowMs > 0 ? {} : undefined;
    let splitLimit = Infinity;
    // Records of this window (per-batch mode: one batch at a time is its own "window").
    while (pos < records.length && windowOf(records[pos]!) === window) {
      const size = Math.max(1, Math.min(splitLimit, 1 + Math.floor(faults.random() * faults.maxBatch)));
      let end = pos;
      while (end < records.length && end - pos < size && windowOf(records[end]!) === window) end++;
      const batch = records.slice(pos, end);
      const result = await invoke(batch, state, options.windowMs <= 0);
      if (result === 'error') {
        // A failed batch is split in two and retried (bisection); a single record is retried as it is.
        stats.bisections += batch.length > 1 ? 1 : 0;
        splitLimit = Math.max(1, Math.ceil(batch.length / 2));
        continue;
      }
      if (fault(faults.crashAfter)) {
        stats.crashes++;
        splitLimit = Math.max(1, Math.ceil(batch.length / 2));
        continue;
      }
      if (fault(faults.redeliver)) {
        stats.redeliveries++;
        continue;
      }
      splitLimit = Infinity;
      if (result.failedSequenceNumber) {
        stats.partialFailures++;
        const failedAt = batch.findIndex((r) => r.sequenceNumber === result.failedSequenceNumber);
        pos += failedAt;
        state = result.state;
        continue;
      }
      pos = end;
      state = result.state;
      if (options.windowMs <= 0) break;
    }
    if (options.windowMs > 0) {
      for (;;) {
        const result = await invoke([], state, true);
        if (result === 'error') {
          stats.finalFailures++;
          continue;
        }
        if (fault(faults.crashAfter)) {
          stats.crashes++;
          continue;
        }
        if (fault(faults.redeliver)) {
          stats.redeliveries++;
          continue;
        }
        break;
      }
    }
    if (!reprocessed.has(windowStart) && fault(faults.reprocessWindow)) {
      reprocessed.add(windowStart);
      stats.reprocessedWindows++;
      pos = windowStart;
    }
  }
  return stats;
}
