/**
 * One invocation of the aggregator, free of Lambda and AWS types: fold a batch of stream records into the
 * window state (flushing users when the state would outgrow its budget) and, on the window's final
 * invocation (or after every batch in per-batch mode), merge every pending user into the profile store.
 */
import { AggregationContext } from './aggregation-context';
import { DEFAULT_STATE_LIMITS, type WindowStateLimits } from './flush-policy';
import type { ProfileSettings } from './model';
import { EventScratch, NO_PERSONALIZATION_CONSENT, readEventInto } from './profile-event';
import type { ScratchBuffer } from './scratch-buffer';
import { WindowState, type WindowStateJson } from './window-state';
import { writeSegments, type ProfileStorePort, type WriteReport } from './writer';
import { describeError, PlatformError } from '../errors';

export interface StreamRecordInput {
  readonly sequenceNumber: string;
  /** base64 payload, as Lambda delivers it. */
  readonly data: string;
}

export interface InvocationInput {
  readonly shardId: string;
  readonly records: readonly StreamRecordInput[];
  /** The window state Lambda passed in (undefined in per-batch mode or for a new window). */
  readonly state?: WindowStateJson;
  /** Write every pending user after the records: the final invocation of a window, or per-batch mode. */
  readonly flushAll: boolean;
  /** Whether Lambda keeps the returned state (tumbling windows); without it a partial failure cannot be reported. */
  readonly carriesState: boolean;
}

export interface AggregateDeps {
  readonly store: ProfileStorePort;
  readonly settings: ProfileSettings;
  readonly now: () => number;
  readonly limits?: WindowStateLimits;
  readonly concurrency?: number;
  /** Told about each record that cannot be an event (it is skipped: retrying cannot help). */
  readonly onMalformed?: (sequenceNumber: string, reason: string) => void;
  /**
   * The caches and buffers of the shard this invocation belongs to (one invocation at a time).
   * @default a fresh context: nothing reused from earlier invocations
   */
  readonly context?: AggregationContext;
}

export interface InvocationStats {
  records: number;
  eventsIn: number;
  malformed: number;
  /** Valid events whose consent excludes personalization: skipped. */
  consentWithheld: number;
  /** Events whose id was already pending for the user in this window (a producer duplicate). */
  windowDuplicates: number;
  /** Mid-window flushes (state budget or a user's pending-event limit). */
  flushes: number;
  writes: WriteReport[];
}

export interface InvocationResult {
  /** The state to return to Lambda (empty after a successful final flush). */
  readonly state: WindowStateJson;
  /** An upper bound of the state's JSON length, known without serializing it. */
  readonly stateBytes: number;
  /** First record that must be delivered again (a partial batch failure), if any. */
  readonly failedSequenceNumber?: string;
  readonly stats: InvocationStats;
}

/** Raised when users could not be written on a final flush: the invocation fails and is retried. */
export class ProfileWriteError extends PlatformError {
  override name = 'ProfileWriteError';

  constructor(
    readonly failedUsers: readonly string[],
    override readonly cause: unknown,
  ) {
    super(`could not write the profiles of ${failedUsers.length} user(s), e.g. ${failedUsers.slice(0, 3).join(', ')}: ${describeError(cause)}`);
  }
}

/** The UTF-8 text of a base64 payload, decoded as Buffer.from(data, 'base64') decodes it, through one reused buffer. */
function decodePayload(data: string, scratch: ScratchBuffer): string {
  const buffer = scratch.get(Math.ceil(data.length / 4) * 3);
  const n = buffer.write(data, 'base64');
  return buffer.toString('utf8', 0, n);
}

export async function aggregateInvocation(input: InvocationInput, deps: AggregateDeps): Promise<InvocationResult> {
  const context = deps.context ?? new AggregationContext();
  const state = new WindowState(input.state, deps.limits ?? DEFAULT_STATE_LIMITS, context);
  const stats: InvocationStats = { records: input.records.length, eventsIn: 0, malformed: 0, consentWithheld: 0, windowDuplicates: 0, flushes: 0, writes: [] };
  const write = (userIds?: readonly string[]) =>
    writeSegments(deps.store, state.segments(userIds), { settings: deps.settings, now: deps.now, concurrency: deps.concurrency, dayKeys: context.dayKeys });

  // One scratch event for every record, and one lookup of the user's pending state per record.
  const e = new EventScratch();
  const records = input.records;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    let parsed: unknown;
    try {
      parsed = JSON.parse(decodePayload(record.data, context.payloadBuffer));
    } catch {
      parsed = undefined;
    }
    const reason = readEventInto(parsed, e);
    if (reason === NO_PERSONALIZATION_CONSENT) {
      // A valid event the producer may not use for personalization: it never reaches a profile.
      stats.consentWithheld++;
      continue;
    }
    if (reason !== undefined) {
      stats.malformed++;
      deps.onMalformed?.(record.sequenceNumber, parsed === undefined ? 'not_json' : reason);
      continue;
    }
    stats.eventsIn++;
    let user = state.user(e.userId);
    if (state.hasPendingEvent(user, e)) {
      stats.windowDuplicates++;
      continue;
    }
    const flush = state.flushBeforeEvent(user, e);
    if (flush.length > 0) {
      const report = await write(flush);
      stats.writes.push(report);
      stats.flushes++;
      if (report.failed.length > 0) {
        // Without a carried state the events pending before this record would be lost: fail the batch.
        if (!input.carriesState) throw new ProfileWriteError(report.failed.map((f) => f.userId), report.failed[0]!.error);
        // Keep what was written out of the state; deliver this record again with the state as it is.
        state.markFlushed(report.users.filter((u) => u.outcome !== 'failed').map((u) => u.userId));
        return { state: state.toJSON(), stateBytes: state.estimatedBytes, failedSequenceNumber: record.sequenceNumber, stats };
      }
      state.markFlushed(flush);
      // Flushed users' pending records are gone: look the user up again.
      user = state.user(e.userId);
    }
    state.addEvent(user, e);
  }

  if (!input.flushAll) return { state: state.toJSON(), stateBytes: state.estimatedBytes, stats };
  const report = await write();
  stats.writes.push(report);
  if (report.failed.length > 0) {
    throw new ProfileWriteError(
      report.failed.map((f) => f.userId),
      report.failed[0]!.error,
    );
  }
  return { state: {}, stateBytes: 2, stats };
}
