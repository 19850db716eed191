/**
 * The SDK clients against a dependency that hangs: an endpoint that accepts connections and never answers
 * (what a paused emulator or a black-holed route looks like). Every call must fail as a timeout within the
 * client's limits (adapters/client-limits.ts), never wait for the function's deadline.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbClient, kinesisClient, resetClients, s3Client, sqsClient } from '../../adapters/aws-clients';
import { CLIENT_LIMITS, worstCaseCallMs } from '../../adapters/client-limits';
import { s3QuarantineSink } from '../../adapters/s3/quarantine-sink';

/** A TCP server that takes every connection and every byte and never says anything. */
async function blackHole(): Promise<{ url: string; server: Server; connections: () => number }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = server.close.bind(server);
  server.close = (cb) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  };
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server, connections: () => connections };
}

describe.concurrent('the shared SDK clients against an endpoint that never answers', () => {
  const savedEnv = { ...process.env };
  let hole: Awaited<ReturnType<typeof blackHole>>;

  beforeAll(async () => {
    hole = await blackHole();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: hole.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    for (const k of ['AWS_ENDPOINT_URL_KINESIS', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'AWS_PROFILE']) delete process.env[k];
    resetClients();
  });

  afterAll(async () => {
    resetClients();
    process.env = savedEnv;
    await new Promise((r) => hole?.server.close(r));
  });

  it('refuse an AWS_MAX_ATTEMPTS that is not a number of attempts instead of ignoring it', () => {
    for (const bad of ['NaN', '0', '2.5', 'three']) {
      resetClients();
      process.env.AWS_MAX_ATTEMPTS = bad;
      expect(() => kinesisClient(), bad).toThrow(`AWS_MAX_ATTEMPTS must be an integer of at least 1, got ${JSON.stringify(bad)}`);
    }
    delete process.env.AWS_MAX_ATTEMPTS;
    resetClients();
  });

  it('fail every call with a timeout after their attempts, each within its request timeout', async () => {
    // Attempts come from AWS_MAX_ATTEMPTS when the client is built: one for the clients with the longest
    // request timeout, two for the others (the retry happens and stays bounded), so the test takes ~10 s.
    process.env.AWS_MAX_ATTEMPTS = '1';
    const kinesis = kinesisClient();
    const s3 = s3Client();
    process.env.AWS_MAX_ATTEMPTS = '2';
    const dynamodb = dynamoDbClient();
    const sqs = sqsClient();
    delete process.env.AWS_MAX_ATTEMPTS;
    const calls = [
      { attempts: 1, limits: CLIENT_LIMITS.kinesis, call: () => kinesis.send(new ListStreamsCommand({})) },
      { attempts: 1, limits: CLIENT_LIMITS.s3, call: () => s3.send(new ListBucketsCommand({})) },
      { attempts: 2, limits: CLIENT_LIMITS.dynamodb, call: () => dynamodb.send(new DescribeTableCommand({ TableName: 't' })) },
      { attempts: 2, limits: CLIENT_LIMITS.sqs, call: () => sqs.send(new ListQueuesCommand({})) },
    ];
    const before = hole.connections();
    const outcomes = await Promise.all(
      calls.map(async ({ attempts, limits, call }) => {
        const started = Date.now();
        const error = await call().then(
          () => undefined,
          (err: unknown) => err as Error & { $metadata?: { attempts?: number } },
        );
        return { attempts, limits, error, ms: Date.now() - started };
      }),
    );
    for (const { attempts, limits, error, ms } of outcomes) {
      expect(error?.name).toBe('TimeoutError');
      expect(error?.$metadata?.attempts).toBe(attempts);
      // Each attempt waits one request timeout, then a short backoff; never the function's deadline.
      expect(ms).toBeGreaterThanOrEqual(attempts * limits.requestTimeoutMs - 100);
      expect(ms).toBeLessThan(worstCaseCallMs({ ...limits, maxAttempts: attempts }) + 2_000);
    }
    // Each attempt really went out (and was abandoned), on a fresh connection after the timeout.
    expect(hole.connections() - before).toBeGreaterThanOrEqual(6);
  }, 30_000);

  it("fail the validation function's quarantine PUT with a timeout, retried by its policy", async () => {
    let retries = 0;
    const sink = s3QuarantineSink({
      bucket: 'quarantine',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'test', secretAccessKey: 'test' }),
      endpoint: hole.url,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      sleep: async () => {
        retries++;
      },
    });
    const started = Date.now();
    const error = await sink.put('quarantine/k.jsonl', '{}\n').then(
      () => undefined,
      (err: unknown) => err as Error & { retryable?: boolean },
    );
    const ms = Date.now() - started;
    expect(error?.name).toBe('QuarantineWriteError');
    expect(error?.message).toMatch(/requestTimeout|timed out/);
    expect(error?.retryable).toBe(true);
    expect(retries).toBe(1);
    expect(ms).toBeGreaterThanOrEqual(2 * CLIENT_LIMITS.quarantine.requestTimeoutMs - 100);
    expect(ms).toBeLessThan(2 * (CLIENT_LIMITS.quarantine.requestTimeoutMs + CLIENT_LIMITS.quarantine.connectionTimeoutMs) + 1_000);
  }, 30_000);
});
