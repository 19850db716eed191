import { describe, expect, it } from 'vitest';
import {
  compareSequenceNumbers,
  parseOnFailureRecord,
  planShardReads,
  rangeCompleteness,
  retentionStatus,
  streamNameFromArn,
  type RedriveRange,
} from '../../core/ingest/redrive';

const STREAM_ARN = 'arn:aws:kinesis:eu-west-1:123456789012:stream/pdp-prod-events';

/** An on-failure record as Lambda sends it for a Kinesis event source (documented shape). */
function onFailure(overrides: Record<string, unknown> = {}, info: Record<string, unknown> = {}) {
  return JSON.stringify({
    requestContext: {
      requestId: 'c9b8fa9f-5a7f-4a0f-8b1e-0e1d7a2f1d3a',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:pdp-prod-validate',
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: '2026-01-05T08:10:00.000Z',
    KinesisBatchInfo: {
      shardId: 'shardId-000000000001',
      startSequenceNumber: '49545115243490985018280067714973144582180062593244200961',
      endSequenceNumber: '49545115243490985018280067714973144582180062593244200999',
      approximateArrivalOfFirstRecord: '2026-01-05T08:00:00.000Z',
      approximateArrivalOfLastRecord: '2026-01-05T08:00:01.000Z',
      batchSize: 3,
      streamArn: STREAM_ARN,
      ...info,
    },
    ...overrides,
  });
}

const range = (shardId: string, start: string, end: string, batchSize = 1): RedriveRange => ({
  streamArn: STREAM_ARN,
  streamName: 'pdp-prod-events',
  shardId,
  startSequenceNumber: start,
  endSequenceNumber: end,
  batchSize,
  condition: 'RetryAttemptsExhausted',
  approximateArrivalOfFirstRecordMs: 0,
  approximateArrivalOfLastRecordMs: 0,
  functionArn: 'f',
});

describe('parseOnFailureRecord', () => {
  it('reads the shard range, count, condition and function of an on-failure record', () => {
    const parsed = parseOnFailureRecord(onFailure());
    expect(parsed).toEqual({
      ok: true,
      range: {
        streamArn: STREAM_ARN,
        streamName: 'pdp-prod-events',
        shardId: 'shardId-000000000001',
        startSequenceNumber: '49545115243490985018280067714973144582180062593244200961',
        endSequenceNumber: '49545115243490985018280067714973144582180062593244200999',
        batchSize: 3,
        condition: 'RetryAttemptsExhausted',
        approximateArrivalOfFirstRecordMs: Date.parse('2026-01-05T08:00:00.000Z'),
        approximateArrivalOfLastRecordMs: Date.parse('2026-01-05T08:00:01.000Z'),
        functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:pdp-prod-validate',
      },
    });
  });

  it('accepts a record discarded by age, which has no response context', () => {
    const parsed = parseOnFailureRecord(onFailure({ responseContext: undefined, requestContext: { condition: 'RecordAgeExceeded', approximateInvokeCount: 0 } }));
    expect(parsed.ok && parsed.range.condition).toBe('RecordAgeExceeded');
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an SQS record of another source', JSON.stringify({ DDBStreamBatchInfo: {} }), /no KinesisBatchInfo/],
    ['missing fields', onFailure({}, { shardId: undefined, endSequenceNumber: '' }), /lacks shardId, endSequenceNumber/],
    ['a foreign ARN', onFailure({}, { streamArn: 'arn:aws:sqs:eu-west-1:123456789012:q' }), /not a Kinesis stream ARN/],
    ['a reversed range', onFailure({}, { startSequenceNumber: '20', endSequenceNumber: '3' }), /after endSequenceNumber/],
    ['a non-numeric sequence', onFailure({}, { startSequenceNumber: '1e5' }), /decimal digits/],
    ['a zero batch size', onFailure({}, { batchSize: 0 }), /batchSize/],
  ])('rejects %s with a reason', (_name, body, message) => {
    const parsed = parseOnFailureRecord(body);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(message);
  });
});

describe('sequence numbers and streams', () => {
  it('compares sequence numbers as big decimals, not as floats or strings', () => {
    expect(compareSequenceNumbers('9', '10')).toBe(-1);
    expect(compareSequenceNumbers('49545115243490985018280067714973144582180062593244200962', '49545115243490985018280067714973144582180062593244200961')).toBe(1);
    expect(compareSequenceNumbers('123', '123')).toBe(0);
  });

  it('takes the stream name from an ARN of any partition', () => {
    expect(streamNameFromArn('arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b-c_d')).toBe('a.b-c_d');
    expect(streamNameFromArn('arn:aws:kinesis:us-east-1:123456789012:stream/')).toBeUndefined();
  });
});

describe('planShardReads', () => {
  it('reads overlapping ranges of a shard once and keeps other shards apart', () => {
    const reads = planShardReads([
      range('shardId-1', '300', '400'),
      range('shardId-1', '100', '200'),
      range('shardId-1', '150', '250'),
      range('shardId-2', '100', '200'),
    ]);
    expect(reads.map((r) => [r.shardId, r.startSequenceNumber, r.endSequenceNumber, r.covers])).toEqual([
      ['shardId-1', '100', '250', [1, 2]],
      ['shardId-1', '300', '400', [0]],
      ['shardId-2', '100', '200', [3]],
    ]);
  });

  it('reads a range delivered twice (a duplicate message) once', () => {
    const reads = planShardReads([range('s', '10', '20'), range('s', '10', '20')]);
    expect(reads).toHaveLength(1);
    expect(reads[0]!.covers).toEqual([0, 1]);
  });
});

describe('rangeCompleteness and retentionStatus', () => {
  it('is complete only when every record of the range was read back', () => {
    const r = range('s', '10', '30', 3);
    expect(rangeCompleteness(r, ['10', '20', '30', '31'])).toEqual({ found: 3, complete: true });
    expect(rangeCompleteness(r, ['20', '30'])).toEqual({ found: 2, complete: false });
  });

  it('tells retained, at-risk and expired ranges apart by the first record and the retention', () => {
    const r = { ...range('s', '1', '2'), approximateArrivalOfFirstRecordMs: 0 };
    const hour = 3600_000;
    expect(retentionStatus(r, 20 * hour, 24)).toBe('retained');
    expect(retentionStatus(r, 24 * hour - 60_000, 24)).toBe('at-risk');
    expect(retentionStatus(r, 24 * hour, 24)).toBe('expired');
  });
});
