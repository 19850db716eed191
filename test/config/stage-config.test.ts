import { describe, expect, it } from 'vitest';
import { BUILT_IN_STAGES, MIN_AGGREGATOR_TIMEOUT_SECONDS, StageConfigError, resolveStage, resourceName } from '../../lib/config/stage-config';
import { CLIENT_LIMITS, worstCaseCallMs } from '../../adapters/client-limits';

describe('stage configuration', () => {
  it('resolves the built-in stages', () => {
    expect(resolveStage('dev')).toEqual(BUILT_IN_STAGES.dev);
    expect(resolveStage('prod').removal).toBe('retain');
    expect(resolveStage('prod').streams.capacityMode).toBe('on-demand');
  });

  it('lets a user stage extend a built-in one and override single keys', () => {
    const staging = resolveStage('staging', { staging: { extends: 'prod', streams: { capacityMode: 'provisioned', rawShardCount: 2 } } });
    expect(staging.name).toBe('staging');
    expect(staging.removal).toBe('retain');
    expect(staging.streams).toEqual({ ...BUILT_IN_STAGES.prod!.streams, capacityMode: 'provisioned', rawShardCount: 2 });
    expect(staging.profiles).toEqual(BUILT_IN_STAGES.prod!.profiles);
  });

  it('lets a user stage extend another user stage, and override a built-in stage by name', () => {
    const stages = { base: { extends: 'prod', alarms: { email: 'ops@example.com' } }, eu: { extends: 'base', resourcePrefix: 'pdp-eu' }, dev: { validation: { batchSize: 100 } } };
    expect(resolveStage('eu', stages).alarms.email).toBe('ops@example.com');
    expect(resolveStage('eu', stages).resourcePrefix).toBe('pdp-eu');
    expect(resolveStage('dev', stages).validation.batchSize).toBe(100);
  });

  it('defaults a user stage without extends to dev', () => {
    expect(resolveStage('sandbox', { sandbox: {} }).removal).toBe('destroy');
  });

  it.each([
    [{ s: { streams: { rawShardCount: 0 } } }, /stages\.s\.streams\.rawShardCount must be an integer from 1 to 500, got 0/],
    [{ s: { streams: { rawShardCount: 'two' } } }, /stages\.s\.streams\.rawShardCount must be an integer from 1 to 500, got "two"/],
    [{ s: { streams: { rawShardCnt: 2 } } }, /stages\.s\.streams\.rawShardCnt is not a configuration key \(known: capacityMode, rawShardCount/],
    [{ s: { removal: 'keep' } }, /stages\.s\.removal must be one of 'destroy', 'retain', got "keep"/],
    [{ s: { streams: 3 } }, /stages\.s\.streams must be an object, got 3/],
    [{ s: { alarms: { email: 'not-an-address' } } }, /stages\.s\.alarms\.email must be an e-mail address/],
    [{ s: { alarms: { quarantineRatio: 1.5 } } }, /quarantineRatio must be a number from 0 to 1, got 1.5/],
    [{ s: { lake: { rawInfrequentAccessDays: 60, rawGlacierDays: 45 } } }, /stages\.s\.lake\.rawGlacierDays must be at least 30 days after lake\.rawInfrequentAccessDays \(60\), got 45/],
    [{ s: { lake: { rawInfrequentAccessDays: 60, rawGlacierDays: 89 } } }, /rawGlacierDays must be at least 30 days after lake\.rawInfrequentAccessDays \(60\), got 89/],
    [{ s: { profiles: { timeoutSeconds: 20 } } }, /stages\.s\.profiles\.timeoutSeconds must be an integer from 30 to 900, got 20/],
    [{ s: { extends: 'nope' } }, /unknown stage 'nope'/],
    [{ s: { extends: 's' } }, /extends itself/],
    [{ s: 'prod' }, /stages\.s must be an object, got "prod"/],
  ])('rejects %j with a message naming the key and value', (stages, message) => {
    expect(() => resolveStage('s', stages)).toThrow(StageConfigError);
    expect(() => resolveStage('s', stages)).toThrow(message);
  });

  it('lets no stage time the aggregator out while one DynamoDB call of it may still succeed', () => {
    const worstCallSeconds = worstCaseCallMs(CLIENT_LIMITS.dynamodb) / 1000;
    expect(worstCallSeconds).toBeGreaterThan(20);
    expect(MIN_AGGREGATOR_TIMEOUT_SECONDS).toBeGreaterThan(worstCallSeconds);
    for (const stage of Object.values(BUILT_IN_STAGES)) expect(stage.profiles.timeoutSeconds).toBeGreaterThanOrEqual(MIN_AGGREGATOR_TIMEOUT_SECONDS);
  });

  it('rejects an unknown stage name, listing the defined ones', () => {
    expect(() => resolveStage('qa', { staging: {} })).toThrow(/unknown stage 'qa' \(defined: dev, prod, localstack, staging\)/);
  });

  it('names resources <prefix>-<stage>-<suffix>', () => {
    expect(resourceName(resolveStage('dev'), 'events')).toBe('pdp-dev-events');
  });
});
