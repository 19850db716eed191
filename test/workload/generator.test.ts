import { describe, expect, it } from 'vitest';
import { validateRecord } from '@personalization-data-platform/contract';
import { Workload } from '../../workload/generator';

describe('the synthetic workload', () => {
  it('is deterministic for a seed', () => {
    const a = new Workload({ seed: 3, startMs: 0 }).take(200).map((r) => r.data.toString());
    const b = new Workload({ seed: 3, startMs: 0 }).take(200).map((r) => r.data.toString());
    expect(a).toEqual(b);
  });

  it('produces only valid events when no invalid ratio is asked for, even with duplicates and nothing to resend yet', () => {
    const startMs = Date.now();
    const records = new Workload({ seed: 9, startMs, duplicateRatio: 0.5 }).take(2000);
    for (const r of records) {
      expect(r.kind === 'valid' || r.kind === 'duplicate').toBe(true);
      expect(validateRecord(r.data, startMs + 60_000).ok).toBe(true);
    }
    expect(records[0]!.kind).toBe('valid');
  });

  it('injects each requested defect with the reason the validator gives it', () => {
    const startMs = Date.now();
    const expected: Record<string, string> = {
      not_json: 'not_json', missing_user_id: 'schema_violation', bad_event_type: 'schema_violation',
      future_timestamp: 'timestamp_out_of_range', oversized: 'size_violation', unsupported_version: 'unsupported_schema_version',
    };
    const records = new Workload({ seed: 5, startMs, invalidRatio: 0.3 }).take(3000);
    const invalid = records.filter((r) => r.kind !== 'valid' && r.kind !== 'duplicate');
    expect(invalid.length).toBeGreaterThan(700);
    for (const r of invalid) {
      const result = validateRecord(r.data, startMs + 10_000);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toBe(expected[r.kind]);
    }
  });

  it('resends earlier valid events byte for byte as duplicates', () => {
    const records = new Workload({ seed: 11, duplicateRatio: 0.1 }).take(2000);
    const sent = new Set(records.filter((r) => r.kind === 'valid').map((r) => r.data.toString()));
    const dups = records.filter((r) => r.kind === 'duplicate');
    expect(dups.length).toBeGreaterThan(100);
    for (const d of dups) expect(sent.has(d.data.toString())).toBe(true);
  });
});
