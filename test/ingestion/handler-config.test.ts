import { describe, expect, it } from 'vitest';
import { FORWARD_RETRY_POLICY } from '../../core/retry-policy';
import { VALIDATION_ENV, validationConfigFromEnv } from '../../lambdas/validate/config';
import { defaultProvider } from '../../adapters/lambda-credentials';

const ENV = {
  VALIDATED_STREAM_NAME: 'pdp-dev-validated',
  QUARANTINE_BUCKET: 'lake-quarantine',
  MAX_EVENT_BYTES: '8192',
  MAX_FUTURE_SKEW_SECONDS: '300',
  MAX_PAST_AGE_SECONDS: '604800',
};

describe('validation function configuration', () => {
  it('reads the variables the construct sets, in milliseconds where the core wants them', () => {
    expect(validationConfigFromEnv({ ...ENV, QUARANTINE_PAYLOAD_MAX_BYTES: '4096' })).toEqual({
      validatedStreamName: 'pdp-dev-validated',
      quarantineBucket: 'lake-quarantine',
      validation: { maxEventBytes: 8192, maxFutureSkewMs: 300_000, maxPastAgeMs: 604_800_000 },
      quarantinePayloadMaxBytes: 4096,
      forwardRetry: FORWARD_RETRY_POLICY,
    });
  });

  it('names every missing or malformed variable at once', () => {
    expect(() => validationConfigFromEnv({ ...ENV, QUARANTINE_BUCKET: undefined, MAX_EVENT_BYTES: '8k' })).toThrow(
      /QUARANTINE_BUCKET is not set; MAX_EVENT_BYTES must be an integer from 1 to \d+, got "8k"/,
    );
  });

  it('refuses a forwarding policy without a single attempt', () => {
    expect(() => validationConfigFromEnv({ ...ENV, [VALIDATION_ENV.forwardMaxAttempts]: '0' })).toThrow(/FORWARD_MAX_ATTEMPTS must be an integer from 1 to/);
  });
});

describe('credentials of the deployed bundle', () => {
  it('come from the environment Lambda sets, session token included', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' });
    try {
      expect(await defaultProvider()()).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
    } finally {
      process.env = saved;
    }
  });
});
