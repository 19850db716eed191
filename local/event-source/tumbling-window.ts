/**
 * Tumbling windows (pure): boundaries are multiples of the window length since the epoch, applied to each
 * record's arrival time; the event a windowed function receives; when an open window is due for its final
 * invocation; and the window's bookkeeping as batches are committed into it.
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import type { BufferedRecord, OpenWindow, TumblingWindowEvent } from './types';

/**
 * Start of the window `arrivalMs` falls in. Arrival times within a shard only move forward; a skewed one
 * stays in the window already open (`openStartMs`).
 */
export function windowStartOf(arrivalMs: number, windowMs: number, openStartMs?: number): number {
  const start = Math.floor(arrivalMs / windowMs) * windowMs;
  return openStartMs === undefined ? start : Math.max(start, openStartMs);
}

/** Lambda writes window bounds without milliseconds ("2020-12-09T07:04:00Z"). */
export function isoSeconds(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** A window opened at `startMs`, with an empty state. */
export function openWindow(startMs: number, windowMs: number): OpenWindow {
  return { startMs, endMs: startMs + windowMs, stateJson: '{}', finalAttempts: 0, aggregatedRecords: 0 };
}

/** The event of an invocation in window `w`: its records, bounds, a fresh copy of its state. */
export function windowEvent(w: OpenWindow, records: KinesisStreamRecord[], flags: { final: boolean; early: boolean }, source: { shardId: string; streamArn: string }): TumblingWindowEvent {
  return {
    Records: records,
    window: { start: isoSeconds(w.startMs), end: isoSeconds(w.endMs) },
    state: JSON.parse(w.stateJson) as Record<string, unknown>,
    shardId: source.shardId,
    eventSourceARN: source.streamArn,
    isFinalInvokeForWindow: flags.final,
    isWindowTerminatedEarly: flags.early,
  };
}

/** What a shard knows when it decides whether its open window is over. */
export interface WindowFacts {
  readonly windowMs: number;
  /** Arrival time of the next buffered record, if any. */
  readonly headArrivalMs?: number;
  /** The shard ended (closed after a reshard). */
  readonly shardEnded: boolean;
  /** Start of the latest poll that found the shard read to its tip. */
  readonly caughtUpPollStartedAt: number;
  /** How long after the window's end a caught-up poll must start before the window closes. */
  readonly graceMs: number;
  /** drain({ flushWindows }): close once a poll started after this finds the tip. */
  readonly flushSince?: number;
}

/**
 * Whether window `w` must get its final invocation now, and why: 'early' (its state outgrew the limit),
 * 'end' (a record of a later window was read, the shard ended, or it was read to its tip after the window's
 * end plus the grace), or false.
 */
export function windowDue(w: OpenWindow, facts: WindowFacts): 'end' | 'early' | false {
  if (w.closing) return w.closing;
  if (facts.headArrivalMs !== undefined && windowStartOf(facts.headArrivalMs, facts.windowMs, w.startMs) === w.startMs) return false;
  const ended =
    facts.headArrivalMs !== undefined || // the next record belongs to a later window
    facts.shardEnded ||
    facts.caughtUpPollStartedAt >= w.endMs + facts.graceMs ||
    (facts.flushSince !== undefined && facts.caughtUpPollStartedAt >= facts.flushSince);
  return ended ? 'end' : false;
}

/** Records `records` (done with) in window `w`, with the state the function returned for them. */
export function commitToWindow(w: OpenWindow, records: readonly BufferedRecord[], stateJson: string | undefined): void {
  if (stateJson !== undefined) w.stateJson = stateJson;
  const first = records[0]!;
  const last = records[records.length - 1]!;
  w.firstSequenceNumber ??= first.sequenceNumber;
  w.firstArrivalMs ??= first.arrivalMs;
  w.lastSequenceNumber = last.sequenceNumber;
  w.lastArrivalMs = last.arrivalMs;
  w.aggregatedRecords += records.length;
}
