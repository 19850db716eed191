/**
 * The event-source runner's rules, without kinesis-local: batching, bisection, record age, tumbling windows,
 * the verdict on a response, and the on-failure record. (runner.test.ts runs them together against a stream.)
 */
import { describe, expect, it } from 'vitest';
import { bisect, consumePlan, expiredAtHead, MAX_PAYLOAD_BYTES, nextBatch, toBuffered } from '../../../local/event-source/batching';
import { FunctionInvoker } from '../../../local/event-source/invoker';
import { onFailureRecord } from '../../../local/event-source/on-failure';
import { commitToWindow, isoSeconds, openWindow, windowDue, windowEvent, windowStartOf } from '../../../local/event-source/tumbling-window';
import type { BufferedRecord } from '../../../local/event-source/types';
import { judge } from '../../../local/event-source/verdict';

const T0 = Date.parse('2026-05-10T07:04:00.000Z');

function buffered(n: number, options: { arrivalMs?: (i: number) => number; readAt?: number; bytes?: number } = {}): BufferedRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const b = toBuffered(
      { SequenceNumber: String(1000 + i), PartitionKey: `user-${i}`, Data: Buffer.from(`{"i":${i}}`), ApproximateArrivalTimestamp: new Date(options.arrivalMs?.(i) ?? T0 + i) },
      { shardId: 'shardId-000000000000', functionName: 'fn', region: 'eu-west-1', streamArn: 'arn:aws:kinesis:eu-west-1:000000000000:stream/s', now: options.readAt ?? T0 },
    );
    return options.bytes ? { ...b, jsonBytes: options.bytes } : b;
  });
}
const seqs = (records: readonly BufferedRecord[]) => records.map((r) => r.sequenceNumber);

describe('batching', () => {
  it('builds the record as the function receives it: base64 data, event id, arrival in seconds', () => {
    const [b] = buffered(1);
    expect(b!.record).toMatchObject({
      kinesis: { partitionKey: 'user-0', sequenceNumber: '1000', data: Buffer.from('{"i":0}').toString('base64'), approximateArrivalTimestamp: T0 / 1000 },
      eventID: 'shardId-000000000000:1000',
      eventSourceARN: 'arn:aws:kinesis:eu-west-1:000000000000:stream/s',
    });
    expect(b!.jsonBytes).toBe(Buffer.byteLength(JSON.stringify(b!.record)) + 1);
  });

  it('takes up to the limit from the head, in order', () => {
    const batch = nextBatch(buffered(10), { limit: 4, maxBatchingWindowMs: 0, urgent: false, now: T0 });
    expect(seqs(batch!.records)).toEqual(['1000', '1001', '1002', '1003']);
    expect(batch!.wait).toBe(0);
    expect(nextBatch([], { limit: 4, maxBatchingWindowMs: 0, urgent: false, now: T0 })).toBeUndefined();
  });

  it('a first delivery waits out the batching window from the oldest record read; a full batch, a retry or a half does not', () => {
    const records = buffered(3, { readAt: T0 });
    expect(nextBatch(records, { limit: 10, maxBatchingWindowMs: 1000, urgent: false, now: T0 + 300 })!.wait).toBe(700);
    expect(nextBatch(records, { limit: 10, maxBatchingWindowMs: 1000, urgent: false, now: T0 + 1500 })!.wait).toBe(0);
    expect(nextBatch(records, { limit: 3, maxBatchingWindowMs: 1000, urgent: false, now: T0 })!.wait).toBe(0);
    expect(nextBatch(records, { limit: 10, maxBatchingWindowMs: 1000, urgent: true, now: T0 })!.wait).toBe(0);
  });

  it('never spans two tumbling windows, and cuts before the 6 MB payload limit (a larger record goes alone)', () => {
    const windowOf = (ms: number) => windowStartOf(ms, 60_000);
    const acrossBoundary = buffered(6, { arrivalMs: (i) => T0 + 59_997 + i });
    const first = nextBatch(acrossBoundary, { limit: 10, maxBatchingWindowMs: 5_000, urgent: false, now: T0, windowOf });
    expect(seqs(first!.records)).toEqual(['1000', '1001', '1002']);
    expect(first!.wait).toBe(0); // cut at the boundary: nothing more can join it
    const big = buffered(3, { bytes: MAX_PAYLOAD_BYTES / 2 + 1 });
    expect(nextBatch(big, { limit: 10, maxBatchingWindowMs: 0, urgent: false, now: T0 })!.records).toHaveLength(1);
    const huge = buffered(2, { bytes: MAX_PAYLOAD_BYTES + 1 });
    expect(nextBatch(huge, { limit: 10, maxBatchingWindowMs: 0, urgent: false, now: T0 })!.records).toHaveLength(1);
  });

  it('bisects a failing batch into halves delivered in order, replacing the half that failed', () => {
    const plan: number[] = [];
    bisect(plan, 7);
    expect(plan).toEqual([4, 3]);
    bisect(plan, 4); // the first half failed too
    expect(plan).toEqual([2, 2, 3]);
    consumePlan(plan, 2);
    expect(plan).toEqual([2, 3]);
    consumePlan(plan, 3); // a whole half and part of the next
    expect(plan).toEqual([2]);
    consumePlan(plan, 5);
    expect(plan).toEqual([]);
  });

  it('expires only the head of the shard that is past the maximum age; -1 keeps everything', () => {
    const records = buffered(4, { arrivalMs: (i) => [T0, T0 + 10, T0 + 5_000, T0 + 20][i]! });
    expect(expiredAtHead(records, T0 + 2_000, 1)).toBe(2);
    expect(expiredAtHead(records, T0 + 2_000, -1)).toBe(0);
    expect(expiredAtHead(records, T0 + 500, 1)).toBe(0);
  });
});

describe('tumbling windows', () => {
  it('aligns windows to multiples of their length since the epoch, as in the Lambda guide (07:04-07:06 for 120 s)', () => {
    const start = windowStartOf(Date.parse('2026-05-10T07:05:59.999Z'), 120_000);
    expect(isoSeconds(start)).toBe('2026-05-10T07:04:00Z');
    expect(isoSeconds(start + 120_000)).toBe('2026-05-10T07:06:00Z');
    expect(isoSeconds(start + 1)).toBe('2026-05-10T07:04:00.001Z');
    // A record whose arrival went back in time stays in the window already open.
    expect(windowStartOf(T0 - 130_000, 120_000, T0)).toBe(T0);
  });

  it('gives the function its bounds, a copy of the state, and the final and early flags', () => {
    const w = openWindow(T0, 120_000);
    w.stateJson = '{"n":1}';
    const event = windowEvent(w, [], { final: true, early: false }, { shardId: 's', streamArn: 'arn' });
    expect(event).toEqual({ Records: [], window: { start: '2026-05-10T07:04:00Z', end: '2026-05-10T07:06:00Z' }, state: { n: 1 }, shardId: 's', eventSourceARN: 'arn', isFinalInvokeForWindow: true, isWindowTerminatedEarly: false });
    (event.state as { n: number }).n = 2;
    expect(w.stateJson).toBe('{"n":1}');
  });

  it('closes a window on a record of a later window, at the shard end, or once read to the tip after its end plus the grace', () => {
    const w = openWindow(T0, 60_000);
    const facts = { windowMs: 60_000, shardEnded: false, caughtUpPollStartedAt: -Infinity, graceMs: 250 };
    expect(windowDue(w, facts)).toBe(false);
    expect(windowDue(w, { ...facts, headArrivalMs: T0 + 59_999 })).toBe(false);
    expect(windowDue(w, { ...facts, headArrivalMs: T0 + 60_000 })).toBe('end');
    expect(windowDue(w, { ...facts, shardEnded: true })).toBe('end');
    expect(windowDue(w, { ...facts, caughtUpPollStartedAt: T0 + 60_100 })).toBe(false);
    expect(windowDue(w, { ...facts, caughtUpPollStartedAt: T0 + 60_250 })).toBe('end');
    expect(windowDue(w, { ...facts, caughtUpPollStartedAt: T0 + 1_000, flushSince: T0 + 500 })).toBe('end');
    w.closing = 'early';
    expect(windowDue(w, { ...facts, headArrivalMs: T0 + 1 })).toBe('early');
  });

  it('keeps the range and count of the records committed into it, and the state returned for them', () => {
    const w = openWindow(T0, 60_000);
    const records = buffered(5);
    commitToWindow(w, records.slice(0, 2), '{"a":1}');
    commitToWindow(w, records.slice(2), undefined);
    expect(w).toMatchObject({ firstSequenceNumber: '1000', lastSequenceNumber: '1004', firstArrivalMs: T0, lastArrivalMs: T0 + 4, aggregatedRecords: 5, stateJson: '{"a":1}' });
  });
});

describe('verdict on a response', () => {
  const batch = ['1', '2', '3'];
  const report = { windowed: false, reportBatchItemFailures: true };

  it('a throw or a timeout fails the batch as a function error', () => {
    expect(judge({ kind: 'error', error: new Error('Task timed out') }, batch, report)).toEqual({ kind: 'failure', functionError: true, reason: 'Error: Task timed out' });
  });

  it('nothing, null, an empty or absent list is a success; failures report from the lowest named record', () => {
    for (const response of [null, {}, { batchItemFailures: [] }, { batchItemFailures: null }]) expect(judge({ kind: 'ok', response }, batch, report)).toEqual({ kind: 'success' });
    expect(judge({ kind: 'ok', response: { batchItemFailures: [{ itemIdentifier: '3' }, { itemIdentifier: '2' }] } }, batch, report)).toEqual({ kind: 'partial', failedIndex: 1 });
  });

  it('a list naming no record of the batch, or that is not a list, fails the whole batch (not as a function error)', () => {
    for (const failures of [[{ itemIdentifier: '9' }], [{ itemIdentifier: '' }], [{}], ['2'], 'x']) {
      expect(judge({ kind: 'ok', response: { batchItemFailures: failures } }, batch, report)).toMatchObject({ kind: 'failure', functionError: false });
    }
  });

  it('without ReportBatchItemFailures the list is ignored', () => {
    expect(judge({ kind: 'ok', response: { batchItemFailures: [{ itemIdentifier: '9' }] } }, batch, { windowed: false, reportBatchItemFailures: false })).toEqual({ kind: 'success' });
  });

  it('in a tumbling window the response must carry a state object, which the verdict keeps as JSON', () => {
    const windowed = { windowed: true, reportBatchItemFailures: true };
    expect(judge({ kind: 'ok', response: { state: { n: 2 }, batchItemFailures: [] } }, batch, windowed)).toEqual({ kind: 'success', state: '{"n":2}' });
    expect(judge({ kind: 'ok', response: { state: { n: 2 }, batchItemFailures: [{ itemIdentifier: '2' }] } }, batch, windowed)).toEqual({ kind: 'partial', failedIndex: 1, state: '{"n":2}' });
    for (const response of [null, {}, { state: [] }, { state: 'x' }]) expect(judge({ kind: 'ok', response }, batch, windowed)).toMatchObject({ kind: 'failure', functionError: false });
  });
});

describe('on-failure record', () => {
  const range = { first: '1000', last: '1004', firstArrivalMs: T0, lastArrivalMs: T0 + 4, count: 5 };
  const source = { functionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:fn', shardId: 's', streamArn: 'arn:s', now: T0 + 10 };

  it('has the documented shape: request and response context, version, timestamp, the batch info, no payload', () => {
    const record = onFailureRecord(range, { condition: 'RetryAttemptsExhausted', invokeCount: 4, functionError: true }, source);
    expect(record).toEqual({
      requestContext: { requestId: expect.any(String), functionArn: source.functionArn, condition: 'RetryAttemptsExhausted', approximateInvokeCount: 4 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date(T0 + 10).toISOString(),
      KinesisBatchInfo: {
        shardId: 's',
        startSequenceNumber: '1000',
        endSequenceNumber: '1004',
        approximateArrivalOfFirstRecord: new Date(T0).toISOString(),
        approximateArrivalOfLastRecord: new Date(T0 + 4).toISOString(),
        batchSize: 5,
        streamArn: 'arn:s',
      },
    });
  });

  it('has no response context for records that never reached the function (expired before any invocation)', () => {
    const record = onFailureRecord(range, { condition: 'RecordAgeExceeded', invokeCount: 0, functionError: false }, source);
    expect(record.responseContext).toBeUndefined();
    expect(record.requestContext.approximateInvokeCount).toBe(0);
  });
});

describe('invoker', () => {
  const event = { Records: [] };

  it('hands the function a context with a deadline and returns its response as it crosses the wire (JSON)', async () => {
    let remaining = 0;
    const invoker = new FunctionInvoker(
      async (_e, context) => {
        remaining = context.getRemainingTimeInMillis();
        return { at: new Date(T0), skip: undefined, batchItemFailures: [] } as never;
      },
      'fn',
      () => 'arn:aws:lambda:eu-west-1:000000000000:function:fn',
      5_000,
    );
    expect(await invoker.invoke(event)).toEqual({ kind: 'ok', response: { at: new Date(T0).toISOString(), batchItemFailures: [] } });
    expect(remaining).toBeGreaterThan(4_000);
    expect(remaining).toBeLessThanOrEqual(5_000);
  });

  it('a throw is an error outcome; so is a response the runtime cannot serialize (not a silent success)', async () => {
    const thrower = new FunctionInvoker(async () => {
      throw new TypeError('boom');
    }, 'fn', () => 'arn', 5_000);
    const outcome = await thrower.invoke(event);
    expect(outcome.kind).toBe('error');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const unserializable = new FunctionInvoker(async () => cyclic as never, 'fn', () => 'arn', 5_000);
    expect(await unserializable.invoke(event)).toMatchObject({ kind: 'error', error: { message: 'Unable to stringify response body as json' } });
    const nothing = new FunctionInvoker(async () => undefined, 'fn', () => 'arn', 5_000);
    expect(await nothing.invoke(event)).toEqual({ kind: 'ok', response: null });
  });

  it('an invocation past its timeout fails as timed out, and stop can wait for it to settle', async () => {
    let finished = false;
    const slow = new FunctionInvoker(
      () =>
        new Promise((resolve) =>
          setTimeout(() => {
            finished = true;
            resolve(undefined);
          }, 150),
        ),
      'fn',
      () => 'arn',
      50,
    );
    const outcome = await slow.invoke(event);
    expect(outcome).toMatchObject({ kind: 'error' });
    expect(String((outcome as { error: Error }).error.message)).toBe('Task timed out after 0.05 seconds');
    expect(finished).toBe(false);
    await slow.settleAbandoned(); // waits at most one more timeout
    await new Promise((r) => setTimeout(r, 150));
    expect(finished).toBe(true);
  });
});
