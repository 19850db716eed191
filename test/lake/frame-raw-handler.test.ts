/** The raw Firehose's transformation function, as Firehose calls it. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readRawRecords } from '../../core/lake/raw-framing';
import { frameRawBatch, handler } from '../../lambdas/frame-raw/handler';

const records = [
  Buffer.from('{"event_id":"e-1"}'),
  Buffer.from('{\n  "event_id": "e-2"\n}\n'),
  Buffer.alloc(0),
  gzipSync(Buffer.from('{"event_id":"e-3"}')),
  Buffer.from('a\r\nb'),
];
const event = {
  invocationId: 'i-1',
  deliveryStreamArn: 'arn:aws:firehose:eu-west-1:111122223333:deliverystream/pdp-dev-raw-to-lake',
  region: 'eu-west-1',
  records: records.map((r, i) => ({ recordId: `r-${i}`, approximateArrivalTimestamp: 1_781_524_770_000, data: r.toString('base64') })),
};

describe('the raw framing function', () => {
  it('returns every record Ok under its own id, each as exactly one line', () => {
    const { result, encoded } = frameRawBatch(event);
    expect(result.records.map((r) => [r.recordId, r.result])).toEqual(records.map((_, i) => [`r-${i}`, 'Ok']));
    expect(encoded).toBe(4);
    const objectBody = Buffer.concat(result.records.map((r) => Buffer.from(r.data!, 'base64')));
    expect(objectBody.filter((b) => b === 0x0a).length).toBe(records.length);
    // What lands in the raw zone reads back as exactly what producers sent.
    expect(readRawRecords(objectBody)).toEqual(records);
  });

  it('answers Firehose with the transformation result', async () => {
    const result = await handler(event);
    expect(result.records).toHaveLength(records.length);
    expect(Buffer.from(result.records[0]!.data!, 'base64').toString('utf8')).toBe('{"event_id":"e-1"}\n');
  });
});
