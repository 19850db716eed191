/**
 * The one error classifier and the one retry helper every adapter uses: which failures are worth another
 * attempt, and how attempts are paced and bounded.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { ProvisionedThroughputExceededException as KinesisThrottled, ResourceNotFoundException } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { classifyError, classifyErrorCode, withRetry } from '../../adapters/retry';
import { QuarantineWriteError } from '../../adapters/s3/quarantine-sink';
import { UnprocessedKeysError } from '../../adapters/dynamodb/batch-get';
import { ConfigError, DependencyError, PlatformError } from '../../core/errors';

const meta = { $metadata: { httpStatusCode: 400 } };
const networkError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

describe('classifyError', () => {
  it('retries throttling, as the SDK exceptions and S3 say it', () => {
    expect(classifyError(new ProvisionedThroughputExceededException({ message: 'slow down', ...meta }))).toBe('throttling');
    expect(classifyError(new KinesisThrottled({ message: 'slow down', ...meta }))).toBe('throttling');
    expect(classifyErrorCode('SlowDown', 503)).toBe('throttling');
    expect(classifyErrorCode('Anything', 429)).toBe('throttling');
    expect(classifyError(new UnprocessedKeysError({ t: { Keys: [{ user_id: 'u' }] } }))).toBe('throttling');
  });

  it('retries what the network or the service failed on transiently', () => {
    expect(classifyError(Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }))).toBe('transient');
    expect(classifyError(Object.assign(new Error('late'), { name: 'TimeoutError' }))).toBe('transient');
    expect(classifyError(networkError('ECONNREFUSED'))).toBe('transient');
    expect(classifyError(networkError('ECONNRESET'))).toBe('transient');
    expect(classifyError(new Error('socket hang up'))).toBe('transient');
    expect(classifyErrorCode('InternalFailure')).toBe('transient');
    expect(classifyErrorCode('HTTP502', 502)).toBe('transient');
  });

  it('never retries what another attempt cannot fix, nor a bug', () => {
    expect(classifyError(new ResourceNotFoundException({ message: 'no stream', ...meta }))).toBe('permanent');
    expect(classifyError(new ConditionalCheckFailedException({ message: 'version moved', ...meta }))).toBe('permanent');
    expect(classifyError(Object.assign(new Error('denied'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }))).toBe('permanent');
    expect(classifyErrorCode('NoSuchBucket', 404)).toBe('permanent');
    expect(classifyError(new TypeError("Cannot read properties of undefined (reading 'user_id')"))).toBe('permanent');
    expect(classifyError('a string')).toBe('permanent');
  });

  it("takes the platform's own errors at their word", () => {
    expect(classifyError(new QuarantineWriteError('PUT failed', 'HTTP503', 'transient'))).toBe('transient');
    expect(classifyError(new DependencyError('gone', 'NoSuchBucket', 'permanent'))).toBe('permanent');
    const err = new QuarantineWriteError('PUT failed', 'SlowDown', 'throttling');
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toBeInstanceOf(PlatformError);
    expect([err.name, err.retryable]).toEqual(['QuarantineWriteError', true]);
    expect(new ConfigError('x').name).toBe('ConfigError');
  });
});

describe('withRetry', () => {
  const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 };

  it('retries until the call succeeds, waiting the full-jitter delays of the policy', async () => {
    const waits: number[] = [];
    const kinds: string[] = [];
    let calls = 0;
    const out = await withRetry(
      async (attempt) => {
        calls++;
        if (attempt === 1) throw networkError('ECONNRESET');
        if (attempt < 4) throw new ProvisionedThroughputExceededException({ message: 'slow down', ...meta });
        return 'done';
      },
      { policy, random: () => 0.5, sleep: async (ms) => void waits.push(ms), onRetry: (kind) => kinds.push(kind) },
    );
    expect(out).toBe('done');
    expect(calls).toBe(4);
    // min(250, 100 * 2^(n-1)) * 0.5
    expect(waits).toEqual([50, 100, 125]);
    expect(kinds).toEqual(['transient', 'throttling', 'throttling']);
  });

  it('throws the last error once the attempts are spent', async () => {
    let calls = 0;
    const call = withRetry(
      async () => {
        calls++;
        throw Object.assign(new Error(`outage ${calls}`), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
      },
      { policy, sleep: async () => {} },
    );
    await expect(call).rejects.toThrow('outage 4');
    expect(calls).toBe(4);
  });

  it('does not retry a permanent failure', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new ResourceNotFoundException({ message: 'no stream', ...meta });
        },
        { policy, sleep: async () => {} },
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(calls).toBe(1);
  });

  it('starts no retry whose delay would pass the deadline', async () => {
    let calls = 0;
    let clock = 1_000;
    const call = withRetry(
      async () => {
        calls++;
        throw networkError('ETIMEDOUT');
      },
      { policy: { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 100 }, random: () => 0.99, now: () => clock, deadlineMs: 1_250, sleep: async (ms) => void (clock += ms) },
    );
    await expect(call).rejects.toThrow('ETIMEDOUT');
    // 1,000 + 99 + 99 = 1,198; another 99 ms would end at 1,297, past the deadline.
    expect(calls).toBe(3);
  });
});
