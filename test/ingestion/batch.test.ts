import { describe, expect, it } from 'vitest';
import { CONTRACT_HASH, CONTRACT_VERSION, type BehaviouralEvent } from '@personalization-data-platform/contract';
import { planBatch, type RawRecord } from '../../core/ingest/batch';
import { buildQuarantineLine, buildQuarantineObjects, QUARANTINE_SCHEMA } from '../../core/ingest/quarantine';
import { QUARANTINE_COLUMNS } from '../../core/lake/catalog';
import { quarantineObjectKey } from '../../core/lake/layout';

const ARRIVAL = Date.parse('2026-01-05T08:30:00.000Z');
const OPTIONS = { validation: { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000 }, processedAtMs: ARRIVAL + 500 };

function event(overrides: Partial<BehaviouralEvent> = {}): BehaviouralEvent {
  return {
    schema_version: '1.0',
    event_id: 'e-1',
    user_id: 'user-1',
    session_id: 's-1',
    event_type: 'content_view',
    event_time: '2026-01-05T08:29:59.000Z',
    content_id: 'sku-1',
    category: 'shoes',
    ...overrides,
  };
}

let seq = 100;
function record(data: unknown, partitionKey = 'user-1', shardId = 'shardId-000000000000'): RawRecord {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.isBuffer(data) ? data : Buffer.from(JSON.stringify(data));
  return { data: bytes, partitionKey, shardId, sequenceNumber: String(seq++), arrivalMs: ARRIVAL };
}

describe('planBatch', () => {
  it('forwards valid events normalized, keyed by user id, in shard order', () => {
    const r1 = record(event({ event_id: 'a', category: '  Shoes>Running ', event_time: '2026-01-05T09:29:59+01:00' }), 'producer-key');
    const r2 = record(event({ event_id: 'b', user_id: 'user-2' }));
    const plan = planBatch([r1, r2], OPTIONS);
    expect(plan.forward.map((f) => [f.partitionKey, f.sequenceNumber])).toEqual([
      ['user-1', r1.sequenceNumber],
      ['user-2', r2.sequenceNumber],
    ]);
    const first = JSON.parse(Buffer.from(plan.forward[0]!.data).toString('utf8'));
    expect(first.category).toBe('shoes>running');
    expect(first.event_time).toBe('2026-01-05T08:29:59.000Z');
    expect(plan.quarantineLines).toEqual([]);
  });

  it('quarantines each invalid record with its reason, and accounts for every record exactly once', () => {
    const records = [
      record(event({ event_id: 'ok' })),
      record('{"schema_version": "1.0", "event_id'),
      record(Buffer.from([0xff, 0xfe, 0x00])),
      record(event({ event_id: 'x', event_type: 'hover' as BehaviouralEvent['event_type'] })),
      record(event({ event_id: 'y', schema_version: '2.0' })),
      record(event({ event_id: 'z', event_time: '2026-01-06T08:30:00.000Z' })),
      record(JSON.stringify(event({ event_id: 'big', properties: { blob: 'x'.repeat(9000) } }))),
    ];
    const plan = planBatch(records, OPTIONS);
    expect(plan.forward).toHaveLength(1);
    expect(plan.quarantineLines.map((l) => [l.sequence_number, l.reason])).toEqual([
      [records[1]!.sequenceNumber, 'not_json'],
      [records[2]!.sequenceNumber, 'not_utf8'],
      [records[3]!.sequenceNumber, 'schema_violation'],
      [records[4]!.sequenceNumber, 'unsupported_schema_version'],
      [records[5]!.sequenceNumber, 'timestamp_out_of_range'],
      [records[6]!.sequenceNumber, 'size_violation'],
    ]);
    expect(plan.quarantinedByReason).toEqual({ not_json: 1, not_utf8: 1, schema_violation: 1, unsupported_schema_version: 1, timestamp_out_of_range: 1, size_violation: 1 });
    expect(plan.forward.length + plan.quarantineLines.length + plan.duplicates).toBe(plan.recordsIn);
  });

  it('records every schema error with its path and rule', () => {
    const plan = planBatch([record({ ...event(), event_type: 'hover', user_id: undefined, duration_ms: -1 })], OPTIONS);
    const errors = plan.quarantineLines[0]!.errors;
    expect(errors.length).toBeGreaterThanOrEqual(3);
    for (const e of errors) expect(e).toEqual({ path: expect.any(String), rule: expect.any(String), message: expect.any(String) });
    expect(errors.map((e) => e.path)).toEqual(expect.arrayContaining(['/event_type', '/duration_ms']));
  });

  it('forwards a duplicate event id of the same user once, and counts the duplicates', () => {
    const plan = planBatch([record(event({ event_id: 'a' })), record(event({ event_id: 'a' })), record(event({ event_id: 'a' }))], OPTIONS);
    expect(plan.forward).toHaveLength(1);
    expect(plan.duplicates).toBe(2);
    expect(plan.conflictingDuplicates).toBe(0);
    expect(plan.valid).toBe(3);
  });

  it('treats the same event id of two users as two events', () => {
    const plan = planBatch([record(event({ event_id: 'a', user_id: 'u1' })), record(event({ event_id: 'a', user_id: 'u2' }))], OPTIONS);
    expect(plan.forward).toHaveLength(2);
    expect(plan.duplicates).toBe(0);
  });

  it('dedups per user even when users share event ids, whatever the order', () => {
    const a1 = record(event({ event_id: 'x', user_id: 'user-a' }));
    const b1 = record(event({ event_id: 'x', user_id: 'user-b' }));
    const b2 = record(event({ event_id: 'x', user_id: 'user-b' }));
    const a2 = record(event({ event_id: 'x', user_id: 'user-a' }));
    const plan = planBatch([a1, b1, b2, a2], OPTIONS);
    expect(plan.forward.map((f) => f.sequenceNumber)).toEqual([a1.sequenceNumber, b1.sequenceNumber]);
    expect(plan.duplicates).toBe(2);
    expect(plan.conflictingDuplicates).toBe(0);
  });

  it('counts a reused event id with different content as a conflicting duplicate, keeping the first', () => {
    const first = record(event({ event_id: 'a', content_id: 'sku-1' }));
    const plan = planBatch([first, record(event({ event_id: 'a', content_id: 'sku-2' }))], OPTIONS);
    expect(plan.forward.map((f) => f.sequenceNumber)).toEqual([first.sequenceNumber]);
    expect(plan).toMatchObject({ duplicates: 1, conflictingDuplicates: 1 });
  });

  it('recognizes duplicates after normalization (the same event sent with different formatting)', () => {
    const a = record(event({ event_id: 'a', category: 'Shoes' }));
    const b = record(event({ event_id: 'a', category: 'shoes ' }));
    expect(planBatch([a, b], OPTIONS)).toMatchObject({ duplicates: 1, conflictingDuplicates: 0 });
  });

  it('counts events of a newer minor version whose unknown fields were dropped', () => {
    const plan = planBatch([record({ ...event(), schema_version: '1.7', future_field: 1 })], OPTIONS);
    expect(plan.droppedUnknownFields).toBe(1);
    expect(JSON.parse(Buffer.from(plan.forward[0]!.data).toString('utf8'))).not.toHaveProperty('future_field');
  });
});

describe('quarantine lines', () => {
  it('are self-describing: reason, errors, original payload, source position, arrival, validator version', () => {
    const r = record('not json at all', 'pk-7');
    const line = buildQuarantineLine(r, { reason: 'not_json', errors: [{ path: '', rule: 'json', message: 'nope' }] }, { processedAtMs: ARRIVAL + 1 });
    expect(line).toEqual({
      schema: QUARANTINE_SCHEMA,
      reason: 'not_json',
      errors: [{ path: '', rule: 'json', message: 'nope' }],
      payload_base64: Buffer.from('not json at all').toString('base64'),
      payload_bytes: 15,
      payload_truncated: false,
      partition_key: 'pk-7',
      shard_id: 'shardId-000000000000',
      sequence_number: r.sequenceNumber,
      arrival_time: '2026-01-05T08:30:00.000Z',
      validated_at: '2026-01-05T08:30:00.001Z',
      validator: 'validate',
      contract_version: CONTRACT_VERSION,
      validator_version: CONTRACT_HASH,
    });
  });

  it('keep only the start of a payload over the limit, and its full size', () => {
    const r = record(Buffer.alloc(20_000, 0x41));
    const line = buildQuarantineLine(r, { reason: 'size_violation', errors: [] }, { processedAtMs: ARRIVAL, payloadMaxBytes: 1024 });
    expect(line.payload_truncated).toBe(true);
    expect(line.payload_bytes).toBe(20_000);
    expect(Buffer.from(line.payload_base64, 'base64')).toEqual(Buffer.alloc(1024, 0x41));
  });

  it('carry every column of the quarantine table, with values of the column type', () => {
    const line = buildQuarantineLine(record('x'), { reason: 'not_json', errors: [{ path: '', rule: 'json', message: 'm' }] }, { processedAtMs: ARRIVAL }) as unknown as Record<string, unknown>;
    const jsonType: Record<string, string> = { string: 'string', bigint: 'number', boolean: 'boolean' };
    for (const column of QUARANTINE_COLUMNS) {
      expect(line, column.name).toHaveProperty(column.name);
      const value = line[column.name];
      if (column.type.startsWith('array<')) expect(Array.isArray(value), column.name).toBe(true);
      else expect(typeof value, column.name).toBe(jsonType[column.type]);
    }
  });

  it('group into one object per shard, keyed by the shard, the sequence range and the arrival hour', () => {
    const lines = [record('a', 'k', 'shardId-1'), record('b', 'k', 'shardId-2'), record('c', 'k', 'shardId-1')].map((r) =>
      buildQuarantineLine(r, { reason: 'not_json', errors: [] }, { processedAtMs: ARRIVAL }),
    );
    const objects = buildQuarantineObjects(lines);
    expect(objects.map((o) => [o.shardId, o.key, o.sequenceNumbers])).toEqual([
      ['shardId-1', quarantineObjectKey(ARRIVAL, 'shardId-1', lines[0]!.sequence_number, lines[2]!.sequence_number), [lines[0]!.sequence_number, lines[2]!.sequence_number]],
      ['shardId-2', quarantineObjectKey(ARRIVAL, 'shardId-2', lines[1]!.sequence_number, lines[1]!.sequence_number), [lines[1]!.sequence_number]],
    ]);
    expect(objects[0]!.key).toMatch(/^quarantine\/dt=2026-01-05\/hour=08\/shardId-1-\d+-\d+\.jsonl$/);
    expect(objects[0]!.body.split('\n')).toHaveLength(3);
    expect(objects[0]!.body.endsWith('\n')).toBe(true);
    expect(JSON.parse(objects[0]!.body.split('\n')[1]!)).toEqual(lines[2]);
  });

  it('give a retried batch the same object key', () => {
    const r = [record('a'), record('b')];
    const plan1 = planBatch(r, OPTIONS);
    const plan2 = planBatch(r, { ...OPTIONS, processedAtMs: OPTIONS.processedAtMs + 60_000 });
    expect(plan2.quarantineObjects.map((o) => o.key)).toEqual(plan1.quarantineObjects.map((o) => o.key));
  });
});
