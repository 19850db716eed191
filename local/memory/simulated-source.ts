/**
 * A deterministic, in-process model of a Lambda Kinesis event source with tumbling windows, driving the
 * pure aggregation with a fault schedule: handler crashes after their side effects (the result is lost and
 * the invocation retried with the state from before it), lost checkpoints (the same batch delivered again),
 * bisection of failed batches, partial batch failures, failing final invocations, windows reprocessed
 * from their start after they were written (Lambda's rare "processed more than once, possibly out of order"),
 * and windows given up on: one user's writes keep failing until the retries run out, and the window's
 * records go to the on-failure destination, to be redriven later (redriveRanges) as the redrive command does.
 */
import { aggregateInvocation, type InvocationResult } from '../../core/profiles/aggregate';
import { AggregationContext } from '../../core/profiles/aggregation-context';
import type { ProfileSettings } from '../../core/profiles/model';
import type { WindowStateLimits } from '../../core/profiles/flush-policy';
import type { WindowStateJson } from '../../core/profiles/window-state';
import { anonymousKey } from '@personalization-data-platform/contract';
import type { ProfileStorePort } from '../../core/profiles/writer';

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
  /**
   * Probability that a window (a batch in per-batch mode) is given up on: one of its users' profile writes
   * fail on every retry, the others are written, and its records go to the on-failure destination.
   */
  giveUp?: number;
  /** Retries of a failing final invocation before its window is given up on. @default 3 */
  retryAttempts?: number;
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
  /** Windows (or batches) whose records went to the on-failure destination. */
  givenUp: number;
  /** Profile writes, including the mid-window flushes. */
  writes: number;
}

/** Pads a counter into a Kinesis-like 56-digit sequence number. */
export function sequenceNumber(shard: number, n: number): string {
  return `4959${String(shard).padStart(4, '0')}${String(n).padStart(48, '0')}`;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** A store whose profile writes fail for the given users (a poison user: its writes keep failing). */
function failingFor(store: ProfileStorePort, users: ReadonlySet<string>): ProfileStorePort {
  return {
    read: (u, k) => store.read(u, k),
    writeLedger: (u, w) => store.writeLedger(u, w),
    writeLink: (u, a, e) => store.writeLink(u, a, e),
    deleteLink: (u, a) => store.deleteLink(u, a),
    putIfVersion: (profile, expected) =>
      users.has(profile.user_id) ? Promise.reject(Object.assign(new Error('injected: writes of this user keep failing'), { name: 'InternalServerError' })) : store.putIfVersion(profile, expected),
  };
}

function userOf(record: SimRecord): string | undefined {
  try {
    const e = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8')) as { user_id?: string; anonymous_id?: string };
    return e.user_id ?? (e.anonymous_id !== undefined ? anonymousKey(e.anonymous_id) : undefined);
  } catch {
    return undefined;
  }
}

export interface ShardSimulation {
  stats: SimulationStats;
  /** Record ranges given up on (on-failure destination), in the order they were given up. */
  onFailure: SimRecord[][];
}

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
): Promise<ShardSimulation> {
  const stats: SimulationStats = { invocations: 0, crashes: 0, redeliveries: 0, bisections: 0, partialFailures: 0, finalFailures: 0, reprocessedWindows: 0, flushes: 0, givenUp: 0, writes: 0 };
  const onFailure: SimRecord[][] = [];
  const { faults } = options;
  const retryAttempts = faults.retryAttempts ?? 3;
  const windowOf = (r: SimRecord) => (options.windowMs > 0 ? Math.floor(r.arrivalMs / options.windowMs) : -1);
  // The shard's caches and buffers, as the handler keeps them for a shard across its invocations.
  const context = new AggregationContext();
  const baseDeps = { settings: options.settings, now: options.now ?? (() => 1_700_000_000_000), context, ...(options.limits ? { limits: options.limits } : {}) };
  // Faults stop after a while so every schedule terminates; Lambda's retries are bounded too.
  let budget = 200;
  const fault = (p: number) => budget > 0 && faults.random() < p && budget-- > 0;

  let guard = 0;
  const invoke = async (batch: readonly SimRecord[], state: WindowStateJson | undefined, flushAll: boolean, store: ProfileStorePort): Promise<InvocationResult | 'error'> => {
    stats.invocations++;
    if (++guard > 20_000 + records.length * 20) throw new Error(`the simulation did not terminate (${JSON.stringify(stats)})`);
    try {
      const result = await aggregateInvocation(
        { shardId, records: batch, state: state ? clone(state) : undefined, flushAll, carriesState: options.windowMs > 0 },
        { ...baseDeps, store },
      );
      stats.flushes += result.stats.flushes;
      for (const w of result.stats.writes) stats.writes += w.written;
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
    // A window given up on: its first user's writes fail (mid-window flushes included) until it is dropped.
    let poison: Set<string> = new Set();
    if (faults.giveUp && fault(faults.giveUp)) {
      const user = userOf(records[pos]!);
      if (user) poison = new Set([user]);
    }
    const store = poison.size > 0 ? failingFor(options.store, poison) : options.store;
    let failures = 0;
    let gaveUp = false;
    // Records of this window (per-batch mode: one batch at a time is its own "window").
    while (pos < records.length && windowOf(records[pos]!) === window) {
      const size = Math.max(1, Math.min(splitLimit, 1 + Math.floor(faults.random() * faults.maxBatch)));
      let end = pos;
      while (end < records.length && end - pos < size && windowOf(records[end]!) === window) end++;
      const batch = records.slice(pos, end);
      const result = await invoke(batch, state, options.windowMs <= 0, store);
      if (result === 'error') {
        // A failed batch is split in two and retried (bisection); a single record is retried as it is.
        stats.bisections += batch.length > 1 ? 1 : 0;
        splitLimit = Math.max(1, Math.ceil(batch.length / 2));
        if (batch.length === 1 && ++failures > retryAttempts) {
          // Retries exhausted: the record goes to the on-failure destination, the shard moves on.
          onFailure.push(batch);
          stats.givenUp++;
          pos = end;
          failures = 0;
          if (options.windowMs <= 0) break;
        }
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
        state = result.state;
        if (failedAt === 0 && poison.size > 0 && ++failures > retryAttempts) {
          // A mid-window flush keeps failing: the window is given up on from here.
          gaveUp = true;
          break;
        }
        pos += failedAt;
        continue;
      }
      failures = 0;
      pos = end;
      state = result.state;
      if (options.windowMs <= 0) break;
    }
    if (options.windowMs > 0) {
      if (gaveUp) {
        // Everything of the window from its start goes to the on-failure destination (one invocation record
        // describes the window's records), and the shard moves on to the next window.
        let end = pos;
        while (end < records.length && windowOf(records[end]!) === window) end++;
        onFailure.push(records.slice(windowStart, end));
        stats.givenUp++;
        pos = end;
      } else {
        for (let attempt = 0; ; attempt++) {
          const result = await invoke([], state, true, store);
          if (result === 'error') {
            stats.finalFailures++;
            if (attempt >= retryAttempts) {
              onFailure.push(records.slice(windowStart, pos));
              stats.givenUp++;
              break;
            }
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
    }
    if (!reprocessed.has(windowStart) && fault(faults.reprocessWindow)) {
      reprocessed.add(windowStart);
      stats.reprocessedWindows++;
      pos = windowStart;
    }
  }
  return { stats, onFailure };
}

/**
 * Replays on-failure ranges as the redrive command does: the original records (same sequence numbers and
 * payloads) through the aggregation without a window, a batch at a time, each batch retried until it
 * succeeds (the redrive's own retries; the cause is fixed by then).
 */
export async function redriveRanges(
  shardId: string,
  ranges: readonly SimRecord[][],
  options: { store: ProfileStorePort; settings: ProfileSettings; batchSize: number; now?: () => number },
): Promise<number> {
  let invocations = 0;
  for (const range of ranges) {
    for (let i = 0; i < range.length; i += options.batchSize) {
      const batch = range.slice(i, i + options.batchSize);
      for (let attempt = 0; ; attempt++) {
        invocations++;
        try {
          await aggregateInvocation(
            { shardId, records: batch, flushAll: true, carriesState: false },
            { store: options.store, settings: options.settings, now: options.now ?? (() => 1_700_000_000_000) },
          );
          break;
        } catch (err) {
          if (attempt > 20) throw err;
        }
      }
    }
  }
  return invocations;
}
