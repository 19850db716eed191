/**
 * The redrive command's queue path, end to end: `scripts/redrive.ts` runs as a child process, as
 * `npm run redrive` does, with the real SDK v3 clients reaching kinesis-local, the local Lambda Invoke
 * endpoint (serving a recording function under the name the on-failure records give) and a small
 * SQS-compatible server through the standard AWS_ENDPOINT_URL_* variables. The on-failure messages are the ones the
 * event-source runner sends to its SQS destination when a function keeps failing, as Lambda does.
 *
 * The server speaks the JSON protocol the installed @aws-sdk/client-sqs uses (POST /, `X-Amz-Target:
 * AmazonSQS.<Operation>`, application/x-amz-json-1.0) for the operations the runner and the command call,
 * with SQS semantics where they matter here: a received message is invisible for its visibility timeout,
 * every receive issues a new receipt handle and only the latest one deletes, long polls wait for a message.
 */
import { CreateQueueCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventProducer } from '@personalization-data-platform/producer';
import { parseOnFailureRecord, type RedriveRange } from '../../core/ingest/redrive';
import { resetClients, sqsClient } from '../../adapters/aws-clients';
import { startEmulators, type Emulators } from '../../local/emulators';
import { KinesisEventSourceRunner, type OnFailureRecord } from '../../local/event-source/runner';
import { LambdaEndpoint } from '../../local/lambda-endpoint';
import { Workload } from '../../workload/generator';
import { createStream } from './support';

// ------------------------------------------------------------------------------ SQS-compatible server

interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5: string;
  readonly sentMs: number;
  visibleAtMs: number;
  receiveCount: number;
  /** Every handle issued for the message; only the last one deletes it or changes its visibility. */
  readonly handles: string[];
}

interface Queue {
  readonly name: string;
  readonly url: string;
  visibilityTimeoutSeconds: number;
  messages: QueuedMessage[];
}

class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface SqsServerOptions {
  /** Awaited before a DeleteMessage that will remove a message is answered. */
  beforeDelete?: (message: { messageId: string; body: string }) => Promise<void>;
}

class SqsServer {
  private readonly server: Server;
  private readonly queues = new Map<string, Queue>();
  /** Operations served, in order. */
  readonly calls: string[] = [];
  endpoint = '';

  constructor(private readonly options: SqsServerOptions = {}) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** What the queue holds, as an operator would see it in the console. */
  contents(queueUrl: string, now = Date.now()): { messageId: string; body: string; visible: boolean; receiveCount: number }[] {
    return this.queue(queueUrl).messages.map((m) => ({ messageId: m.messageId, body: m.body, visible: m.visibleAtMs <= now, receiveCount: m.receiveCount }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    this.calls.push(operation || `${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/x-amz-json-1.0');
    res.setHeader('x-amzn-requestid', randomUUID());
    try {
      if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-amz-json-1.0')) {
        throw new SqsError('com.amazonaws.sqs#InvalidAction', 'InvalidAction', 'only the JSON protocol is served');
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new SqsError('MissingAuthenticationToken', 'MissingAuthenticationToken', 'request is not signed', 403);
      }
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const output = await this.operation(operation, input);
      res.end(JSON.stringify(output));
    } catch (err) {
      const e = err instanceof SqsError ? err : new SqsError('com.amazonaws.sqs#InternalError', 'InternalError', String(err), 500);
      res.statusCode = e.status;
      // With x-amzn-query-mode the SDK takes the legacy query error code from this header.
      res.setHeader('x-amzn-query-error', `${e.queryCode};${e.status >= 500 ? 'Receiver' : 'Sender'}`);
      res.end(JSON.stringify({ __type: e.type, message: e.message }));
    }
  }

  private queue(url: unknown): Queue {
    const name = typeof url === 'string' ? url.split('/').pop()! : '';
    const q = this.queues.get(name);
    if (!q || q.url !== url) throw new SqsError('com.amazonaws.sqs#QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return q;
  }

  private inflight(q: Queue, handle: unknown): QueuedMessage | 'stale' {
    if (typeof handle !== 'string' || handle === '') throw new SqsError('com.amazonaws.sqs#MissingParameter', 'MissingParameter', 'ReceiptHandle is required');
    const m = q.messages.find((x) => x.handles.includes(handle));
    if (!m) {
      // A handle never issued is invalid; one of a message already deleted is accepted and does nothing.
      if (!this.issued.has(handle)) throw new SqsError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not valid.`);
      return 'stale';
    }
    return m.handles[m.handles.length - 1] === handle ? m : 'stale';
  }

  private readonly issued = new Set<string>();

  private async operation(name: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    switch (name) {
      case 'CreateQueue': {
        const queueName = String(input.QueueName ?? '');
        if (!/^[A-Za-z0-9_-]{1,80}$/.test(queueName)) throw new SqsError('com.amazonaws.sqs#InvalidParameterValue', 'InvalidParameterValue', 'bad queue name');
        const attributes = (input.Attributes ?? {}) as Record<string, string>;
        const existing = this.queues.get(queueName);
        if (!existing) {
          this.queues.set(queueName, {
            name: queueName,
            url: `${this.endpoint}/000000000000/${queueName}`,
            visibilityTimeoutSeconds: Number(attributes.VisibilityTimeout ?? 30),
            messages: [],
          });
        }
        return { QueueUrl: this.queues.get(queueName)!.url };
      }
      case 'GetQueueUrl': {
        const q = this.queues.get(String(input.QueueName ?? ''));
        if (!q) throw new SqsError('com.amazonaws.sqs#QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
        return { QueueUrl: q.url };
      }
      case 'SendMessage': {
        const q = this.queue(input.QueueUrl);
        const body = input.MessageBody;
        if (typeof body !== 'string' || body === '') throw new SqsError('com.amazonaws.sqs#MissingParameter', 'MissingParameter', 'MessageBody is required');
        if (Buffer.byteLength(body) > 262_144) throw new SqsError('com.amazonaws.sqs#InvalidParameterValue', 'InvalidParameterValue', 'message too long');
        const delay = Number(input.DelaySeconds ?? 0);
        const m: QueuedMessage = {
          messageId: randomUUID(),
          body,
          md5: createHash('md5').update(body, 'utf8').digest('hex'),
          sentMs: Date.now(),
          visibleAtMs: Date.now() + delay * 1000,
          receiveCount: 0,
          handles: [],
        };
        q.messages.push(m);
        return { MessageId: m.messageId, MD5OfMessageBody: m.md5 };
      }
      case 'ReceiveMessage': {
        const q = this.queue(input.QueueUrl);
        const max = Number(input.MaxNumberOfMessages ?? 1);
        if (!Number.isInteger(max) || max < 1 || max > 10) throw new SqsError('com.amazonaws.sqs#InvalidParameterValue', 'InvalidParameterValue', 'MaxNumberOfMessages must be 1..10');
        const visibility = Number(input.VisibilityTimeout ?? q.visibilityTimeoutSeconds);
        const waitUntil = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
        for (;;) {
          const now = Date.now();
          const picked = q.messages.filter((m) => m.visibleAtMs <= now).slice(0, max);
          if (picked.length > 0 || now >= waitUntil) {
            return {
              Messages: picked.map((m) => {
                const handle = randomBytes(48).toString('base64');
                this.issued.add(handle);
                m.handles.push(handle);
                m.receiveCount++;
                m.visibleAtMs = now + visibility * 1000;
                return {
                  MessageId: m.messageId,
                  ReceiptHandle: handle,
                  MD5OfBody: m.md5,
                  Body: m.body,
                  Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentMs) },
                };
              }),
            };
          }
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      case 'DeleteMessage': {
        const q = this.queue(input.QueueUrl);
        const m = this.inflight(q, input.ReceiptHandle);
        if (m !== 'stale') {
          await this.options.beforeDelete?.({ messageId: m.messageId, body: m.body });
          q.messages = q.messages.filter((x) => x !== m);
        }
        return {};
      }
      case 'ChangeMessageVisibility': {
        const q = this.queue(input.QueueUrl);
        const m = this.inflight(q, input.ReceiptHandle);
        const timeout = Number(input.VisibilityTimeout);
        if (!Number.isInteger(timeout) || timeout < 0 || timeout > 43_200) throw new SqsError('com.amazonaws.sqs#InvalidParameterValue', 'InvalidParameterValue', 'VisibilityTimeout must be 0..43200');
        if (m === 'stale' || m.visibleAtMs <= Date.now()) throw new SqsError('com.amazonaws.sqs#MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'The message is not in flight.');
        m.visibleAtMs = Date.now() + timeout * 1000;
        return {};
      }
      case 'GetQueueAttributes': {
        const q = this.queue(input.QueueUrl);
        const now = Date.now();
        return {
          Attributes: {
            ApproximateNumberOfMessages: String(q.messages.filter((m) => m.visibleAtMs <= now).length),
            ApproximateNumberOfMessagesNotVisible: String(q.messages.filter((m) => m.visibleAtMs > now).length),
            VisibilityTimeout: String(q.visibilityTimeoutSeconds),
          },
        };
      }
      default:
        throw new SqsError('com.amazonaws.sqs#UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation', `${name || 'no operation'} is not served here`);
    }
  }
}

// ------------------------------------------------------------------------------------------ the test

const ROOT = join(__dirname, '..', '..');
let emulators: Emulators;
let env: Record<string, string>;
const savedEnv = { ...process.env };
/** What the redriven function received: every record of every invocation, as the event carried it. */
interface Received {
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly text: string;
  readonly arrivalMs: number;
  readonly eventID: string;
}
const received: Received[] = [];
const FUNCTION = 'pdp-test-validate';
const functions = new LambdaEndpoint().register(FUNCTION, async (event) => {
  for (const r of (event as KinesisStreamEvent).Records) {
    received.push({
      sequenceNumber: r.kinesis.sequenceNumber,
      partitionKey: r.kinesis.partitionKey,
      text: Buffer.from(r.kinesis.data, 'base64').toString('utf8'),
      arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
      eventID: r.eventID,
    });
  }
  return { batchItemFailures: [] };
});

/** For each DeleteMessage that removed a message: how many of its range's records the function had received then. */
const atDelete = new Map<string, number>();
const sqs = new SqsServer({
  beforeDelete: async ({ body }) => {
    const parsed = parseOnFailureRecord(body);
    const key = parsed.ok ? rangeKey(parsed.range) : 'unparseable';
    atDelete.set(key, received.filter((r) => parsed.ok && inRangeOf(r.sequenceNumber, parsed.range)).length);
  },
});

const rangeKey = (r: RedriveRange) => `${r.shardId}/${r.startSequenceNumber}`;
function inRangeOf(seq: string, range: RedriveRange): boolean {
  return BigInt(seq) >= BigInt(range.startSequenceNumber) && BigInt(seq) <= BigInt(range.endSequenceNumber);
}

beforeAll(async () => {
  const [started, sqsEndpoint, lambdaEndpoint] = await Promise.all([startEmulators({ kinesis: true }), sqs.start(), functions.start()]);
  emulators = started;
  env = { ...emulators.env, AWS_ENDPOINT_URL_SQS: sqsEndpoint, AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint };
  Object.assign(process.env, env);
  resetClients();
}, 60_000);

afterAll(async () => {
  resetClients();
  process.env = savedEnv;
  await Promise.all([emulators?.stop(), sqs.stop(), functions.stop()]);
});

/** `npm run redrive -- <args>`, with the emulators' endpoints in its environment. */
function redrive(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'redrive.ts'), ...args], {
      cwd: ROOT,
      env: { ...savedEnv, ...env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const outcomesOf = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { source: string; function: string; shardId: string; start: string; end: string; expected: number; found: number; replayed: number; done: boolean; error?: string });

// Two `npm run redrive` child processes (tsx start-up each): give a busy two-core machine room.
describe('npm run redrive --queue-url', { timeout: 120_000 }, () => {
  it('replays every skipped record once to its function with its identity, deletes only the redriven messages, keeps the rest; --dry-run changes nothing', async () => {
    const { QueueUrl: created } = await sqsClient().send(new CreateQueueCommand({ QueueName: 'pdp-test-on-failure' }));
    const { QueueUrl: queueUrl } = await sqsClient().send(new GetQueueUrlCommand({ QueueName: 'pdp-test-on-failure' }));
    expect(queueUrl).toBe(created);

    const raw = await createStream('raw');
    const sent = new Workload({ seed: 41, users: 6 }).take(8);
    const summary = await new EventProducer({ streamName: raw.name, validate: false }).sendRecords(sent);
    expect(summary.sent).toBe(8);
    const sequences = summary.results.map((r) => (r.status === 'sent' ? r.sequenceNumber : ''));

    // A function that always fails, batches of 3, no retries: the runner sends its on-failure records
    // to the queue through the SQS client, as Lambda's on-failure destination does.
    const runner = new KinesisEventSourceRunner({
      streamName: raw.name,
      functionName: FUNCTION,
      startingPosition: 'TRIM_HORIZON',
      batchSize: 3,
      retryAttempts: 0,
      handler: async (_event: KinesisStreamEvent) => {
        throw new Error('validated stream unavailable');
      },
      onFailure: { queueUrl: queueUrl! },
      pollIntervalMs: 20,
      retryBackoffMs: 1,
    });
    await runner.start();
    try {
      await runner.drain();
    } finally {
      await runner.stop();
    }
    const fromRunner = sqs.contents(queueUrl!);
    const records = fromRunner.map((m) => JSON.parse(m.body) as OnFailureRecord);
    expect(records.map((r) => r.KinesisBatchInfo.batchSize)).toEqual([3, 3, 2]);
    expect(records.every((r) => r.requestContext.condition === 'RetryAttemptsExhausted' && r.KinesisBatchInfo.streamArn === raw.arn)).toBe(true);

    // A record written after the failures, outside every range: never replayed.
    await new EventProducer({ streamName: raw.name, validate: false }).sendRecords([{ data: Buffer.from('{"later":true}'), partitionKey: 'later' }]);
    // The same on-failure record delivered twice (SQS is at-least-once), one naming a shard the stream
    // does not have, and one that is not an on-failure record at all.
    const wrongShard = { ...records[1]!, KinesisBatchInfo: { ...records[1]!.KinesisBatchInfo, shardId: 'shardId-000000000007' } };
    for (const body of [JSON.stringify(records[0]), JSON.stringify(wrongShard), 'not json']) {
      await sqsClient().send(new SendMessageCommand({ QueueUrl: queueUrl!, MessageBody: body }));
    }
    const ids = sqs.contents(queueUrl!).map((m) => m.messageId);
    const [first, second, third, duplicate, wrong, garbage] = ids;
    expect(ids).toHaveLength(6);

    // Dry run: reports what would be redriven, writes nothing, deletes nothing, leaves every message visible.
    const dry = await redrive(['--queue-url', queueUrl!, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    const dryOutcomes = outcomesOf(dry.stdout);
    expect(dryOutcomes.map((o) => [o.source, o.found, o.replayed, o.done]).sort()).toEqual(
      [
        [first, 3, 0, false],
        [second, 3, 0, false],
        [third, 2, 0, false],
        [duplicate, 3, 0, false],
        [wrong, 0, 0, false],
      ].sort(),
    );
    expect(dry.stderr).toContain('(dry run)');
    expect(received).toEqual([]);
    expect(sqs.calls).not.toContain('DeleteMessage');
    expect(sqs.contents(queueUrl!).map((m) => [m.messageId, m.visible])).toEqual(ids.map((id) => [id, true]));

    // The redrive: every record of the ranges once, in order, with its sequence number, key, bytes and
    // arrival time, to the function named in the on-failure records.
    const run = await redrive(['--queue-url', queueUrl!]);
    expect(run.code, run.stderr).toBe(1); // something was kept
    const outcomes = outcomesOf(run.stdout);
    expect(outcomes.map((o) => [o.source, o.function, o.expected, o.found, o.replayed, o.done]).sort()).toEqual(
      [
        [first, FUNCTION, 3, 3, 3, true],
        [second, FUNCTION, 3, 3, 3, true],
        [third, FUNCTION, 2, 2, 2, true],
        [duplicate, FUNCTION, 3, 3, 3, true],
        [wrong, FUNCTION, 3, 0, 0, false],
      ].sort(),
    );
    expect(received.map((r) => [r.sequenceNumber, r.partitionKey, r.text, r.eventID])).toEqual(
      sent.map((r, i) => [sequences[i], r.partitionKey, r.data.toString('utf8'), `shardId-000000000000:${sequences[i]}`]),
    );
    // The original arrival times: the validation function judges event times against them.
    expect(received.every((r) => Math.abs(r.arrivalMs - Date.now()) < 120_000)).toBe(true);

    // Deleted: the redriven messages (both copies of the duplicate), each only once the function had its whole range.
    const left = sqs.contents(queueUrl!);
    expect(left.map((m) => m.messageId)).toEqual([wrong, garbage]);
    expect(sqs.calls.filter((c) => c === 'DeleteMessage')).toHaveLength(4);
    for (const r of records) expect(atDelete.get(rangeKey(parseRange(JSON.stringify(r))))).toBe(r.KinesisBatchInfo.batchSize);
    // The kept ones are reported, and are visible again for inspection or the next run.
    expect(run.stderr).toMatch(new RegExp(`${garbage}: skipped, not JSON`));
    expect(outcomes.find((o) => o.source === wrong)).toMatchObject({ shardId: 'shardId-000000000007', error: expect.stringMatching(/^ResourceNotFoundException/) });
    expect(run.stderr).toMatch(/shardId-000000000007 \d+\.\.\d+: cannot be read \(ResourceNotFoundException/);
    expect(run.stderr).toMatch(/redriven ranges: 4\/5, messages deleted: 4; 1 range\(s\) incomplete/);
    expect(left.every((m) => m.visible)).toBe(true);

    // Running again replays nothing more and keeps what it cannot redrive.
    const again = await redrive(['--queue-url', queueUrl!]);
    expect(again.code).toBe(1);
    expect(outcomesOf(again.stdout).map((o) => [o.source, o.done])).toEqual([[wrong, false]]);
    expect(received).toHaveLength(8);
    expect(sqs.contents(queueUrl!).map((m) => m.messageId)).toEqual([wrong, garbage]);
  });
});

function parseRange(body: string): RedriveRange {
  const parsed = parseOnFailureRecord(body);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.range;
}
