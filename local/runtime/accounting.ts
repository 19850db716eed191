/**
 * Where every sent record ended up, and whether the books balance: each record the producer got an
 * acknowledgement for must be in the raw zone, and also either in the curated zone (valid events, by
 * event id), in the quarantine zone (invalid records, by shard and sequence number) or be a resend of an
 * event that is in the curated zone. The books are kept in identities (event ids, stream positions), not
 * rows: the pipeline delivers at least once, so a retried or redriven batch adds copies of rows that the
 * queries (which count distinct event ids) and the profiles (their ledger) recognize. Pure: the inputs are
 * read from the lake by the caller.
 *
 * After an erasure, records of the erased people are dropped by the lake's gates (docs/privacy.md): the raw
 * delivery's transformation keeps them out of the raw zone, the validation function out of the quarantine
 * zone and the validated stream. The caller passes those counts (from the functions' metrics) and the books
 * count them as such, so they stay exact; a run without erasures drops nothing.
 */
import type { SentRecord } from './synthetic-producer';

export interface LakeContents {
  /** Lines in the raw zone. */
  rawLines: number;
  /** Rows in the curated zone. */
  curatedRows: number;
  /** Distinct event ids in the curated zone. */
  curatedEventIds: ReadonlySet<string>;
  /** `<shard>/<sequence>` of every quarantined record (distinct). */
  quarantinedRecords: ReadonlySet<string>;
}

/** Records the lake's gates dropped as an erased subject's (RecordsDropped, reason=erased_subject). */
export interface ErasedDrops {
  /** By the raw delivery's transformation: not in the raw zone. */
  raw: number;
  /** By the validation function: neither quarantined nor forwarded (so not curated). */
  validation: number;
}

export interface Check {
  label: string;
  ok: boolean;
  detail?: string;
}

export interface Accounting {
  sent: number;
  sentValid: number;
  sentDuplicates: number;
  sentInvalid: number;
  curatedRows: number;
  quarantined: number;
  /** Sends of an event id already sent (producer duplicates, resent batches). */
  resends: number;
  /** Rows of the curated zone beyond one per event id: resends and the pipeline's own copies (retries, redrives). */
  duplicateRowsInCurated: number;
  rawLines: number;
  /** Records of erased subjects the gates dropped. */
  droppedErased: ErasedDrops;
  missingValid: string[];
  missingInvalid: string[];
  unexpectedCurated: string[];
  checks: Check[];
  ok: boolean;
}

export const recordId = (shardId: string, sequenceNumber: string) => `${shardId}/${sequenceNumber}`;

export function account(sent: readonly SentRecord[], lake: LakeContents, droppedErased: ErasedDrops = { raw: 0, validation: 0 }): Accounting {
  const validIds = new Set<string>();
  let sentDuplicates = 0;
  const invalid: SentRecord[] = [];
  for (const r of sent) {
    if (r.kind === 'valid' || r.kind === 'duplicate') {
      if (r.eventId && validIds.has(r.eventId)) sentDuplicates++;
      else if (r.eventId) validIds.add(r.eventId);
    } else {
      invalid.push(r);
    }
  }
  const missingValid = [...validIds].filter((id) => !lake.curatedEventIds.has(id));
  const unexpectedCurated = [...lake.curatedEventIds].filter((id) => !validIds.has(id));
  const missingInvalid = invalid.map((r) => recordId(r.shardId, r.sequenceNumber)).filter((id) => !lake.quarantinedRecords.has(id));
  const duplicateRowsInCurated = lake.curatedRows - lake.curatedEventIds.size;
  const quarantined = lake.quarantinedRecords.size;
  const curatedEvents = lake.curatedEventIds.size;
  const erasedAtValidation = droppedErased.validation;
  const balance = curatedEvents + quarantined + sentDuplicates + erasedAtValidation;
  const erasedNote = (n: number) => (n > 0 ? `, ${n} of erased people dropped` : '');
  // The gates drop records of erased people by subject: the books know how many, not which.
  const missingBeyondErased = missingValid.length + missingInvalid.length - erasedAtValidation;

  const checks: Check[] = [
    {
      label: `raw zone keeps every record as received (${lake.rawLines} lines for ${sent.length} sent${erasedNote(droppedErased.raw)})`,
      ok: lake.rawLines + droppedErased.raw === sent.length,
    },
    {
      label: `every valid event is in the curated zone (${validIds.size - missingValid.length} of ${validIds.size} event ids${erasedNote(erasedAtValidation)})`,
      ok: (erasedAtValidation === 0 ? missingValid.length === 0 : missingBeyondErased === 0) && unexpectedCurated.length === 0,
      ...(missingValid.length || unexpectedCurated.length
        ? { detail: `missing ${missingValid.slice(0, 3).join(', ')}${unexpectedCurated.length ? `; never sent: ${unexpectedCurated.slice(0, 3).join(', ')}` : ''}` }
        : {}),
    },
    {
      label: `every invalid record is quarantined (${invalid.length - missingInvalid.length} of ${invalid.length})`,
      ok: erasedAtValidation === 0 ? missingInvalid.length === 0 && quarantined === invalid.length : missingBeyondErased === 0 && quarantined + missingInvalid.length === invalid.length,
      ...(missingInvalid.length ? { detail: `missing ${missingInvalid.slice(0, 3).join(', ')}` } : {}),
    },
    {
      label: `sent ${sent.length} = curated events ${curatedEvents} + quarantined ${quarantined} + resends ${sentDuplicates}${erasedAtValidation > 0 ? ` + erased ${erasedAtValidation}` : ''}`,
      ok: balance === sent.length,
    },
  ];
  return {
    sent: sent.length,
    sentValid: validIds.size,
    sentDuplicates,
    sentInvalid: invalid.length,
    curatedRows: lake.curatedRows,
    quarantined,
    resends: sentDuplicates,
    duplicateRowsInCurated,
    rawLines: lake.rawLines,
    droppedErased,
    missingValid,
    missingInvalid,
    unexpectedCurated,
    checks,
    ok: checks.every((c) => c.ok),
  };
}
