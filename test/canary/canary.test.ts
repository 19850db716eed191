/** The canary convention: reserved users, marked events, valid and invalid as the contract says. */
import { describe, expect, it } from 'vitest';
import { CANARY_USER_PREFIX, canaryBatch, canaryExclusion, canaryUserId, isCanaryUser, newCanaryRunId } from '../../core/canary';
import { validateRecord } from '@personalization-data-platform/contract';
import { loadNamedQueries } from '../../lib/lake/named-queries';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const validate = (record: unknown) => validateRecord(Buffer.from(JSON.stringify(record)), NOW, { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 7 * 86_400_000 });

describe('canary users and events', () => {
  it('live in the reserved user-id namespace, one user per run and number', () => {
    expect(canaryUserId('abc123', 0)).toBe(`${CANARY_USER_PREFIX}abc123:0`);
    expect(isCanaryUser(canaryUserId('abc123', 7))).toBe(true);
    expect(isCanaryUser('user-000042')).toBe(false);
    expect(() => canaryUserId('a b', 0)).toThrow(/run id/);
    expect(newCanaryRunId(NOW, () => 0.5)).toMatch(/^[a-z0-9]+$/);
    expect(newCanaryRunId(NOW, () => 0.1)).not.toBe(newCanaryRunId(NOW, () => 0.2));
  });

  it('are valid events of the contract, marked canary, and the invalid one fails exactly as expected', () => {
    const batch = canaryBatch(newCanaryRunId(NOW), NOW, 3);
    expect(batch.valid).toHaveLength(12);
    for (const e of batch.valid) {
      const r = validate(e);
      expect(r.ok, JSON.stringify(r)).toBe(true);
      expect(isCanaryUser(e.user_id!)).toBe(true);
      expect(e.properties).toEqual({ canary: true });
    }
    expect([...batch.expectedCounts.values()][0]).toEqual({ page_view: 1, content_view: 1, add_to_cart: 1, purchase: 1 });
    const [bad] = batch.invalid;
    const r = validate(bad!.record);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(bad!.reason);
      expect(r.errors).toContainEqual(expect.objectContaining({ path: bad!.path, rule: bad!.rule }));
    }
  });
});

describe('the lake queries and canaries', () => {
  // KPI and reconciliation queries must never count canaries; freshness and the quarantine rate measure the
  // pipeline itself, which canaries travel.
  const PIPELINE_QUERIES = new Set(['data-freshness-per-partition', 'quarantine-rate-by-reason']);

  it('every KPI and reconciliation query excludes the canary namespace with the shared predicate', () => {
    for (const q of loadNamedQueries()) {
      if (PIPELINE_QUERIES.has(q.id)) expect(q.sql, q.id).not.toContain(CANARY_USER_PREFIX);
      else expect([canaryExclusion(), canaryExclusion('e.user_id!'), canaryExclusion('e.item.user_id.s')].some((p) => q.sql.includes(p)), q.id).toBe(true);
    }
  });
});
