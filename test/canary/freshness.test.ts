/** The freshness canary's pure core: probes, samples (measured and censored), quantiles, verdicts, objectives. */
import { describe, expect, it } from 'vitest';
import { isCanaryUser } from '../../core/canary';
import {
  freshnessProbe,
  freshnessSlo,
  freshnessVerdict,
  lakeSample,
  MAX_PROFILE_DEADLINE_SECONDS,
  probeDeadlines,
  probeLakePrefix,
  probeSlot,
  profileSample,
  quantile,
} from '../../core/canary/freshness';
import { validateRecord } from '@personalization-data-platform/contract';
import { BUILT_IN_STAGES, resolveStage, stageFreshnessSlo, StageConfigError } from '../../lib/config/stage-config';

const T = Date.parse('2026-06-15T12:34:56.789Z');

describe('a freshness probe', () => {
  it('is a valid, marked canary event of its slot, timed when it is put', () => {
    const p = freshnessProbe(Date.parse('2026-06-15T12:34:00Z'), T);
    expect(p.slot).toBe(probeSlot(Date.parse('2026-06-15T12:34:59Z')));
    expect(isCanaryUser(p.userId)).toBe(true);
    expect(p.event.user_id).toBe(p.userId);
    expect(p.event.event_time).toBe('2026-06-15T12:34:56.789Z');
    expect(p.event.properties).toEqual({ canary: true });
    const r = validateRecord(Buffer.from(JSON.stringify(p.event)), T + 1000, { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 86_400_000 });
    expect(r.ok, JSON.stringify(r)).toBe(true);
  });

  it('has one user per slot: a retried run of a minute reuses it, the next minute does not', () => {
    const a = freshnessProbe(Date.parse('2026-06-15T12:34:00Z'), T);
    const retried = freshnessProbe(Date.parse('2026-06-15T12:34:00Z'), T + 20_000);
    const next = freshnessProbe(Date.parse('2026-06-15T12:35:00Z'), T + 60_000);
    expect(retried.userId).toBe(a.userId);
    expect(next.userId).not.toBe(a.userId);
    expect(freshnessProbe(T, T, 5).slot).toBe(Math.floor(T / 5000));
  });

  it('is looked for in the curated partition of its event hour', () => {
    expect(probeLakePrefix(T)).toBe('events/dt=2026-06-15/hour=12/');
  });
});

describe('samples', () => {
  const probe = { eventTimeMs: T };
  it('profile: updated_at minus event time once readable; nothing while waiting; the deadline once past it', () => {
    expect(profileSample(probe, { updated_at: T + 4_500 }, T + 10_000, 360)).toEqual({ seconds: 4.5, missing: false });
    expect(profileSample(probe, undefined, T + 10_000, 360)).toBeUndefined();
    expect(profileSample(probe, {}, T + 359_000, 360)).toBeUndefined();
    expect(profileSample(probe, undefined, T + 360_000, 360)).toEqual({ seconds: 360, missing: true });
  });

  it('are never negative, even with a clock that runs behind (CloudWatch has no percentiles over negative values)', () => {
    expect(profileSample(probe, { updated_at: T - 800 }, T, 360)).toEqual({ seconds: 0, missing: false });
  });

  it('lake: the first object written at or after the put (same second included), never an earlier one', () => {
    const objects = [
      { key: 'a', lastModifiedMs: T - 30_000 },
      { key: 'c', lastModifiedMs: Date.parse('2026-06-15T12:36:10Z') },
      { key: 'b', lastModifiedMs: Date.parse('2026-06-15T12:35:40Z') },
    ];
    expect(lakeSample(probe, objects, T + 200_000, 840)).toEqual({ seconds: (Date.parse('2026-06-15T12:35:40Z') - T) / 1000, missing: false });
    expect(lakeSample(probe, [{ key: 'same-second', lastModifiedMs: Date.parse('2026-06-15T12:34:56Z') }], T + 1, 840)).toEqual({ seconds: 0, missing: false });
    expect(lakeSample(probe, [objects[0]!], T + 100_000, 840)).toBeUndefined();
    expect(lakeSample(probe, [objects[0]!], T + 840_000, 840)).toEqual({ seconds: 840, missing: true });
  });
});

describe('verdicts', () => {
  it('nearest-rank quantiles, as CloudWatch reports percentiles of few samples', () => {
    const v = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(quantile(v, 0.95)).toBe(19);
    expect(quantile(v, 0.5)).toBe(10);
    expect(quantile([7], 0.95)).toBe(7);
    expect(quantile([], 0.95)).toBeUndefined();
  });

  it('a stalled pipeline breaches the SLO through its censored samples, and no sample proves nothing', () => {
    const fresh = Array.from({ length: 19 }, () => ({ seconds: 130, missing: false as const }));
    expect(freshnessVerdict(fresh, 180)).toMatchObject({ met: true, p95: 130, missing: 0 });
    const stalled = [...fresh.slice(0, 17), { seconds: 360, missing: true as const }, { seconds: 360, missing: true as const }];
    expect(freshnessVerdict(stalled, 180)).toMatchObject({ met: false, p95: 360, missing: 2 });
    expect(freshnessVerdict([], 180).met).toBe(false);
  });
});

describe('objectives', () => {
  it('default to window + 60 s and Firehose buffer + 120 s; a configured value wins', () => {
    expect(stageFreshnessSlo(BUILT_IN_STAGES.dev!)).toEqual({ profileSeconds: 180, lakeSeconds: 180 });
    expect(stageFreshnessSlo(BUILT_IN_STAGES.prod!)).toEqual({ profileSeconds: 180, lakeSeconds: 420 });
    expect(freshnessSlo({ windowSeconds: 30, firehoseBufferSeconds: 60, profileSloSeconds: 45 })).toEqual({ profileSeconds: 45, lakeSeconds: 180 });
    const custom = resolveStage('fast', { fast: { extends: 'dev', profiles: { windowSeconds: 0 }, alarms: { lakeFreshnessSloSeconds: 600 } } });
    expect(stageFreshnessSlo(custom)).toEqual({ profileSeconds: 60, lakeSeconds: 600 });
  });

  it('wait twice the objective, the profile wait within one Lambda invocation', () => {
    expect(probeDeadlines({ profileSeconds: 180, lakeSeconds: 420 })).toEqual({ profileSeconds: 360, lakeSeconds: 840 });
    expect(probeDeadlines({ profileSeconds: 700, lakeSeconds: 60 }).profileSeconds).toBe(MAX_PROFILE_DEADLINE_SECONDS);
  });

  it('refuses a profile objective the canary cannot measure, unless the canary is off', () => {
    expect(() => resolveStage('slow', { slow: { extends: 'dev', profiles: { windowSeconds: 900, maxRecordAgeSeconds: 3600 } } })).toThrow(StageConfigError);
    expect(() => resolveStage('slow', { slow: { extends: 'dev', profiles: { windowSeconds: 900, maxRecordAgeSeconds: 3600 } } })).toThrow(/alarms.profileFreshnessSloSeconds/);
    expect(resolveStage('slow', { slow: { extends: 'dev', profiles: { windowSeconds: 900, maxRecordAgeSeconds: 3600 }, alarms: { freshnessCanary: 'off' } } }).alarms.freshnessCanary).toBe('off');
    expect(() => resolveStage('bad', { bad: { extends: 'dev', alarms: { freshnessCanary: 'maybe' } } })).toThrow(StageConfigError);
  });
});

describe("the canary function's configuration", () => {
  it('reads what the construct writes, and names every missing or bad value at once', async () => {
    const { freshnessCanaryConfigFromEnv, FRESHNESS_CANARY_ENV: E } = await import('../../lambdas/freshness-canary/config');
    const env = { [E.rawStream]: 's', [E.profileTable]: 't', [E.curatedBucket]: 'b', [E.intervalSeconds]: '60', [E.profileSloSeconds]: '180', [E.lakeSloSeconds]: '420' };
    expect(freshnessCanaryConfigFromEnv(env)).toEqual({ rawStream: 's', profileTable: 't', curatedBucket: 'b', intervalSeconds: 60, profileSloSeconds: 180, lakeSloSeconds: 420 });
    const bad = () => freshnessCanaryConfigFromEnv({ ...env, [E.rawStream]: '', [E.profileSloSeconds]: '1e3', [E.intervalSeconds]: '0' });
    expect(bad).toThrow(new RegExp(`${E.rawStream} is not set`));
    expect(bad).toThrow(new RegExp(E.profileSloSeconds));
    expect(bad).toThrow(new RegExp(E.intervalSeconds));
  });
});
