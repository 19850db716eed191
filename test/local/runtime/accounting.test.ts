/** The books of a local run: every sent record accounted for, including the ones the gates drop after an erasure. */
import { describe, expect, it } from 'vitest';
import { account, recordId, type LakeContents } from '../../../local/runtime/accounting';
import type { SentRecord } from '../../../local/runtime/synthetic-producer';

let seq = 0;
const sent = (kind: SentRecord['kind'], eventId?: string): SentRecord => ({ kind, resent: false, ...(eventId ? { eventId } : {}), shardId: 'shardId-0', sequenceNumber: String(seq++), sentAtMs: 0 });

const records = [sent('valid', 'e-1'), sent('valid', 'e-2'), sent('duplicate', 'e-1'), sent('not_json'), sent('valid', 'e-3'), sent('not_json')];
const lake = (over: Partial<LakeContents> = {}): LakeContents => ({
  rawLines: records.length,
  curatedRows: 3,
  curatedEventIds: new Set(['e-1', 'e-2', 'e-3']),
  quarantinedRecords: new Set([recordId('shardId-0', records[3]!.sequenceNumber), recordId('shardId-0', records[5]!.sequenceNumber)]),
  ...over,
});

describe('the accounting of a local run', () => {
  it('balances when every record is where it belongs', () => {
    const books = account(records, lake());
    expect(books.checks.map((c) => [c.label, c.ok])).toEqual([
      ['raw zone keeps every record as received (6 lines for 6 sent)', true],
      ['every valid event is in the curated zone (3 of 3 event ids)', true],
      ['every invalid record is quarantined (2 of 2)', true],
      ['sent 6 = curated events 3 + quarantined 2 + resends 1', true],
    ]);
    expect(books.ok).toBe(true);
  });

  it('counts records of erased people that the gates dropped, and stays exact', () => {
    // One valid event and one rejected record of an erased person: out of the raw zone, neither curated nor quarantined.
    const gated = lake({ rawLines: 4, curatedRows: 2, curatedEventIds: new Set(['e-1', 'e-2']), quarantinedRecords: new Set([recordId('shardId-0', records[3]!.sequenceNumber)]) });
    const books = account(records, gated, { raw: 2, validation: 2 });
    expect(books.checks.every((c) => c.ok)).toBe(true);
    expect(books.checks[0]!.label).toBe('raw zone keeps every record as received (4 lines for 6 sent, 2 of erased people dropped)');
    expect(books.checks[3]!.label).toBe('sent 6 = curated events 2 + quarantined 1 + resends 1 + erased 2');
    // Without the drop counts the same lake does not balance; with a wrong count neither.
    expect(account(records, gated).ok).toBe(false);
    expect(account(records, gated, { raw: 2, validation: 1 }).ok).toBe(false);
    expect(account(records, gated, { raw: 1, validation: 2 }).ok).toBe(false);
    // The books know how many the gates dropped, not which: a record lost beyond that count is still found.
    const lost = account(records, lake({ curatedEventIds: new Set(['e-1']), curatedRows: 1, rawLines: 5 }), { raw: 1, validation: 1 });
    expect(lost.checks.map((c) => c.ok)).toEqual([true, false, false, false]);
  });
});
