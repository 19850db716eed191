/** The functions' environment readers: every missing or bad value is reported by name, none falls back silently. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors';
import { AGGREGATOR_ENV, aggregatorConfigFromEnv } from '../../lambdas/aggregate/config';
import { EXPORT_PROFILES_ENV, exportProfilesConfigFromEnv } from '../../lambdas/export-profiles/config';

const AGGREGATOR = {
  [AGGREGATOR_ENV.tableName]: 'pdp-dev-profiles',
  [AGGREGATOR_ENV.ledgerTableName]: 'pdp-dev-ledger',
  [AGGREGATOR_ENV.windowSeconds]: '120',
  [AGGREGATOR_ENV.settings]: JSON.stringify({ affinityHalfLifeDays: 14, topCategories: 10, recentContent: 10, sessionsKept: 5, ttlDays: 400, ledgerRetentionHours: 240 }),
  [AGGREGATOR_ENV.writeConcurrency]: '16',
};

describe('aggregator configuration', () => {
  it('reads what the construct writes', () => {
    expect(aggregatorConfigFromEnv(AGGREGATOR)).toEqual({
      tableName: 'pdp-dev-profiles',
      ledgerTableName: 'pdp-dev-ledger',
      windowSeconds: 120,
      profiles: { affinityHalfLifeDays: 14, topCategories: 10, recentContent: 10, sessionsKept: 5, ttlDays: 400, ledgerRetentionHours: 240, writeConcurrency: 16 },
    });
  });

  it('uses the defaults only for variables that are not set', () => {
    const config = aggregatorConfigFromEnv({ [AGGREGATOR_ENV.tableName]: 't', [AGGREGATOR_ENV.ledgerTableName]: 'l' });
    expect(config).toEqual({ tableName: 't', ledgerTableName: 'l', windowSeconds: 0, profiles: {} });
  });

  it('reports a bad number instead of falling back to a default', () => {
    for (const [name, value, message] of [
      [AGGREGATOR_ENV.windowSeconds, 'NaN', /WINDOW_SECONDS must be an integer from 0 to 900, got "NaN"/],
      [AGGREGATOR_ENV.windowSeconds, '1e9', /WINDOW_SECONDS must be an integer from 0 to 900/],
      [AGGREGATOR_ENV.writeConcurrency, '0', /WRITE_CONCURRENCY must be an integer from 1 to 128, got "0"/],
      [AGGREGATOR_ENV.writeConcurrency, 'sixteen', /WRITE_CONCURRENCY must be an integer/],
      [AGGREGATOR_ENV.settings, '{"topCategories":"10"}', /PROFILE_SETTINGS: topCategories must be an integer from 1 to 50, got "10"/],
      [AGGREGATOR_ENV.settings, '{"affinityHalfLifeDays":-1}', /affinityHalfLifeDays must be a number from 0.01/],
      [AGGREGATOR_ENV.settings, '{"topCategory":10}', /topCategory is not a profile setting/],
      [AGGREGATOR_ENV.settings, '[1,2]', /PROFILE_SETTINGS must be a JSON object/],
      [AGGREGATOR_ENV.settings, '{oops', /PROFILE_SETTINGS is not JSON/],
    ] as const) {
      expect(() => aggregatorConfigFromEnv({ ...AGGREGATOR, [name]: value }), `${name}=${value}`).toThrow(message);
    }
  });

  it('names every problem at once, as a ConfigError', () => {
    let error: unknown;
    try {
      aggregatorConfigFromEnv({ [AGGREGATOR_ENV.windowSeconds]: 'x', [AGGREGATOR_ENV.settings]: '{"ttlDays":-5}' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'aggregator configuration: PROFILE_TABLE_NAME is not set; LEDGER_TABLE_NAME is not set; WINDOW_SECONDS must be an integer from 0 to 900, got "x"; ' +
        'PROFILE_SETTINGS: ttlDays must be an integer from 0 to 3650, got -5',
    );
  });
});

describe('export-profiles configuration', () => {
  const ENV = { [EXPORT_PROFILES_ENV.tableArn]: 'arn:aws:dynamodb:eu-west-1:123456789012:table/pdp-prod-profiles', [EXPORT_PROFILES_ENV.bucket]: 'curated', [EXPORT_PROFILES_ENV.bucketOwner]: '123456789012' };

  it('reads what the construct writes', () => {
    expect(exportProfilesConfigFromEnv(ENV)).toEqual({ tableArn: ENV.PROFILE_TABLE_ARN, bucket: 'curated', bucketOwner: '123456789012' });
  });

  it('reports a table that is not an ARN and an owner that is not an account id', () => {
    expect(() => exportProfilesConfigFromEnv({ ...ENV, [EXPORT_PROFILES_ENV.tableArn]: 'pdp-prod-profiles', [EXPORT_PROFILES_ENV.bucketOwner]: 'me' })).toThrow(
      /PROFILE_TABLE_ARN must be a DynamoDB table ARN, got "pdp-prod-profiles"; EXPORT_BUCKET_OWNER must be a 12-digit account id, got "me"/,
    );
    expect(() => exportProfilesConfigFromEnv({})).toThrow(/PROFILE_TABLE_ARN is not set; EXPORT_BUCKET is not set/);
  });
});
