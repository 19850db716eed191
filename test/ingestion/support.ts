/** Helpers of the ingestion integration tests: streams on kinesis-local, reading them back, injected faults. */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { randomUUID } from 'node:crypto';
import { kinesisClient } from '../../adapters/aws-clients';

export async function createStream(prefix: string, shardCount = 1): Promise<{ name: string; arn: string }> {
  const name = `${prefix}-${randomUUID().slice(0, 8)}`;
  await kinesisClient().send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount }));
  for (;;) {
    const out = await kinesisClient().send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return { name, arn: out.StreamDescriptionSummary.StreamARN! };
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ReadRecord {
  readonly partitionKey: string;
  readonly text: string;
  readonly sequenceNumber: string;
  readonly shardId: string;
}

/** Every record of every shard of the stream, from the oldest. */
export async function readStream(streamName: string): Promise<ReadRecord[]> {
  const kinesis = kinesisClient();
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
  const out: ReadRecord[] = [];
  for (const shard of shards) {
    let iterator = (
      await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
    ).ShardIterator;
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) {
        out.push({ partitionKey: r.PartitionKey!, text: Buffer.from(r.Data!).toString('utf8'), sequenceNumber: r.SequenceNumber!, shardId: shard.ShardId! });
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

/** Decides, per PutRecords call (counted from 1), which entries the "service" rejects and with what code. */
export type PutRecordsFault = (call: number, entry: { partitionKey: string; data: Uint8Array }) => string | undefined;

/**
 * A real SDK Kinesis client (same endpoint and settings as the shared one) with a middleware that makes
 * chosen PutRecords entries fail the way the service reports partial failures: the entry is not written,
 * and its result carries an ErrorCode. Everything else goes to kinesis-local unchanged.
 */
export function kinesisWithPutRecordsFaults(fault: PutRecordsFault): { client: KinesisClient; calls: () => number } {
  const client = new KinesisClient({ requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand') return next(args);
      calls++;
      const input = args.input as PutRecordsCommandInput;
      const all = input.Records ?? [];
      const codes = all.map((r) => fault(calls, { partitionKey: r.PartitionKey!, data: r.Data! }));
      const passed = all.filter((_, i) => codes[i] === undefined);
      const result = passed.length > 0
        ? await next({ ...args, input: { ...input, Records: passed } })
        : { output: { Records: [], FailedRecordCount: 0, $metadata: {} }, response: {} };
      const output = result.output as PutRecordsCommandOutput;
      const real = [...(output.Records ?? [])];
      const merged: PutRecordsResultEntry[] = codes.map((code) =>
        code === undefined ? real.shift()! : { ErrorCode: code, ErrorMessage: `injected ${code}` },
      );
      return { ...result, output: { ...output, Records: merged, FailedRecordCount: merged.filter((r) => r.ErrorCode).length } };
    },
    { step: 'initialize', name: 'injectPutRecordsFaults' },
  );
  return { client, calls: () => calls };
}

/**
 * Captures what Powertools writes (EMF metrics and JSON logs; warnings and errors go to stderr) as parsed
 * JSON lines; other output passes through.
 */
export function captureStdout(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const captured: string[] = [];
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((s) => s.write.bind(s));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (text.trimStart().startsWith('{')) {
        captured.push(text.endsWith('\n') ? text : `${text}\n`);
        return true;
      }
      return originals[i]!(chunk, ...(rest as []));
    }) as typeof stream.write;
  });
  return {
    lines: () =>
      captured
        .join('')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = originals[i]!;
      });
    },
  };
}
