import { describe, expect, it } from 'vitest';
import { BUILT_IN_STAGES } from '../../lib/config/stage-config';
import { planLakeLifecycles, planZoneLifecycle } from '../../lib/lake/lifecycle';
import { hiveToDuckDbType } from '../../local/lake/duckdb-types';
import { TRANSLATION_RULES, translateTrinoToDuckDb } from '../../local/lake/query-runner';
import { maxActiveCuratedPartitions } from '../../core/lake/catalog';

describe('planZoneLifecycle', () => {
  it('keeps transitions that happen before expiry, in day order', () => {
    const plan = planZoneLifecycle([{ storageClass: 'GLACIER_IR', afterDays: 90 }, { storageClass: 'STANDARD_IA', afterDays: 30 }], 365);
    expect(plan.transitions).toEqual([{ storageClass: 'STANDARD_IA', afterDays: 30 }, { storageClass: 'GLACIER_IR', afterDays: 90 }]);
    expect(plan.expirationDays).toBe(365);
    expect(plan.omitted).toEqual([]);
  });

  it('drops a transition on the expiration day (S3 rejects it)', () => {
    const plan = planZoneLifecycle([{ storageClass: 'STANDARD_IA', afterDays: 30 }], 30);
    expect(plan.transitions).toEqual([]);
    expect(plan.omitted).toEqual(['STANDARD_IA after 30 days: objects expire after 30 days']);
  });

  it('drops a transition after the expiration day', () => {
    expect(planZoneLifecycle([{ storageClass: 'GLACIER_IR', afterDays: 90 }], 60).transitions).toEqual([]);
  });

  it('keeps every transition when objects never expire', () => {
    const plan = planZoneLifecycle([{ storageClass: 'STANDARD_IA', afterDays: 90 }], undefined);
    expect(plan.transitions).toHaveLength(1);
    expect(plan.expirationDays).toBeUndefined();
  });

  it('drops Standard-IA before day 30 and a move out of it within 30 days', () => {
    expect(planZoneLifecycle([{ storageClass: 'STANDARD_IA', afterDays: 10 }], 365).transitions).toEqual([]);
    const plan = planZoneLifecycle([{ storageClass: 'STANDARD_IA', afterDays: 30 }, { storageClass: 'GLACIER_IR', afterDays: 45 }], 365);
    expect(plan.transitions).toEqual([{ storageClass: 'STANDARD_IA', afterDays: 30 }]);
    expect(plan.omitted[0]).toContain('less than 30 days after STANDARD_IA');
  });
});

describe('planLakeLifecycles for the built-in stages', () => {
  it('dev expires raw at 30 days, before any transition', () => {
    const dev = planLakeLifecycles(BUILT_IN_STAGES.dev!.lake);
    expect(dev.raw).toMatchObject({ transitions: [], expirationDays: 30 });
    expect(dev.raw.omitted).toHaveLength(2);
    expect(dev.curated).toMatchObject({ transitions: [], expirationDays: 30 });
  });

  it('prod tiers raw to IA at 30 and Glacier IR at 90, expiring at 365; curated to IA at 90, kept', () => {
    const prod = planLakeLifecycles(BUILT_IN_STAGES.prod!.lake);
    expect(prod.raw.transitions).toEqual([{ storageClass: 'STANDARD_IA', afterDays: 30 }, { storageClass: 'GLACIER_IR', afterDays: 90 }]);
    expect(prod.raw.expirationDays).toBe(365);
    expect(prod.curated).toMatchObject({ transitions: [{ storageClass: 'STANDARD_IA', afterDays: 90 }], omitted: [] });
    expect(prod.curated.expirationDays).toBeUndefined();
    expect(prod.quarantine.expirationDays).toBe(90);
    expect(prod.athenaResults.expirationDays).toBe(7);
  });
});

describe('active curated partitions', () => {
  it('the default validation window keeps the curated stream far under 500 partitions', () => {
    for (const stage of Object.values(BUILT_IN_STAGES)) {
      const v = stage.validation;
      // 7 days back + 5 minutes ahead = 169 hours (rounded up), + 2 partial hours.
      expect(maxActiveCuratedPartitions(v.maxPastAgeSeconds, v.maxFutureSkewSeconds)).toBe(171);
    }
  });
});

describe('hiveToDuckDbType', () => {
  it('maps scalars, structs, maps and arrays', () => {
    expect(hiveToDuckDbType('bigint')).toBe('BIGINT');
    expect(hiveToDuckDbType('struct<type:string,os:string>')).toBe('STRUCT("type" VARCHAR, "os" VARCHAR)');
    expect(hiveToDuckDbType('map<string,struct<n:string>>')).toBe('MAP(VARCHAR, STRUCT("n" VARCHAR))');
    expect(hiveToDuckDbType('array<struct<path:string,rule:string>>')).toBe('STRUCT("path" VARCHAR, "rule" VARCHAR)[]');
  });

  it('refuses a type it does not know', () => {
    expect(() => hiveToDuckDbType('decimal(10,2)')).toThrow(/unsupported/);
  });
});

describe('Trino -> DuckDB translation', () => {
  const now = new Date('2025-03-10T12:34:56.789Z');

  it('has exactly the documented rules, in order', () => {
    expect(TRANSLATION_RULES.map((r) => r.name)).toEqual(['fixed clock: current_timestamp', 'fixed clock: current_date', 'map lookup: element_at']);
  });

  it('pins current_timestamp and current_date to the query clock', () => {
    expect(translateTrinoToDuckDb('SELECT current_timestamp, CURRENT_DATE', { now })).toBe(
      "SELECT TIMESTAMPTZ '2025-03-10T12:34:56.789Z', DATE '2025-03-10'",
    );
  });

  it('leaves the clock alone without a now', () => {
    expect(translateTrinoToDuckDb('SELECT current_date')).toBe('SELECT current_date');
  });

  it('does not touch identifiers that merely contain a clock word', () => {
    expect(translateTrinoToDuckDb('SELECT my_current_date_col', { now })).toBe('SELECT my_current_date_col');
  });

  it('turns element_at on a map into map_extract_value', () => {
    expect(translateTrinoToDuckDb("element_at(counts, 'click').n + ELEMENT_AT (m, k)")).toBe("map_extract_value(counts, 'click').n + map_extract_value(m, k)");
  });

  it('is deterministic and idempotent on its output', () => {
    const sql = "SELECT element_at(m, 'a'), current_date FROM t";
    const once = translateTrinoToDuckDb(sql, { now });
    expect(translateTrinoToDuckDb(sql, { now })).toBe(once);
    expect(translateTrinoToDuckDb(once, { now })).toBe(once);
  });
});
