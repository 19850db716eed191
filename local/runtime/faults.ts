/**
 * Faults of the local runtime beyond what the event-source runner injects itself (crashes after side
 * effects, lost checkpoints, Lambda throttles, delays): seeded DynamoDB throttling on the profile writes,
 * which the SDK retries with backoff and, when the retries run out, fails the aggregator's window so Lambda
 * retries it; and outages of one dependency for some users (profile writes, the validated stream) long
 * enough to outlast the retries, which send ranges to the on-failure destination.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient, PutRecordsCommandInput, PutRecordsCommandOutput, PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  MetadataBearer,
} from '@smithy/types';
import { seededRandom } from '../../core/seeded-random';

export interface DynamoDbThrottlingOptions {
  seed: number;
  /** Probability that one write request is answered ProvisionedThroughputExceededException. */
  probability: number;
  /** Commands affected (default: the writes UpdateItem, PutItem, BatchWriteItem). */
  commands?: readonly string[];
}

export interface InjectedThrottling {
  /** Requests answered with a throttling error so far. */
  readonly throttled: () => number;
  /** Removes the middleware. */
  readonly remove: () => void;
}

const DEFAULT_WRITES = ['UpdateItemCommand', 'PutItemCommand', 'BatchWriteItemCommand'];
const MIDDLEWARE_NAME = 'localInjectedThrottling';

/**
 * Adds a middleware below the SDK's retry step that fails a seeded share of write attempts the way
 * DynamoDB does (HTTP 400, ProvisionedThroughputExceededException), so the real retry strategy sees them.
 */
export function injectDynamoDbThrottling(client: DynamoDBClient, options: DynamoDbThrottlingOptions): InjectedThrottling {
  const random = seededRandom(options.seed);
  const commands = new Set(options.commands ?? DEFAULT_WRITES);
  let throttled = 0;
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<object, MetadataBearer>, context: HandlerExecutionContext) => async (args: FinalizeHandlerArguments<object>) => {
      if (commands.has(String(context.commandName)) && random() < options.probability) {
        throttled++;
        const error = Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded (injected)'), {
          name: 'ProvisionedThroughputExceededException',
          $fault: 'client' as const,
          $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 },
        });
        throw error;
      }
      return next(args);
    },
    // Right after the retry middleware: each attempt passes here, so retries can be throttled again.
    { relation: 'after', toMiddleware: 'retryMiddleware', name: MIDDLEWARE_NAME, override: true },
  );
  return {
    throttled: () => throttled,
    remove: () => {
      client.middlewareStack.remove(MIDDLEWARE_NAME);
    },
  };
}

export interface WriteOutageOptions {
  /** Users whose writes fail. */
  userIds: readonly string[];
  /** How long each user's outage lasts, from the first write attempt of that user. */
  durationMs: number;
  /** Commands that fail (default: UpdateItem, on any table: the profile and its ledger items). */
  commands?: readonly string[];
  /**
   * When given, each user's outage lasts past `durationMs` until this says the failing function has given a
   * range up to its on-failure destination (at most `OUTAGE_CAP_FACTOR` times `durationMs`). On a slow or loaded
   * machine the event source's retries stretch, and a fixed outage could end before they run out.
   */
  healWhen?: () => boolean;
}

/** An outage with `healWhen` lasts at most this many times its duration. */
export const OUTAGE_CAP_FACTOR = 4;

/** Whether an outage that started `elapsed` ms ago still holds. */
export function outageHolds(elapsed: number, options: { durationMs: number; healWhen?: () => boolean }): boolean {
  if (elapsed < options.durationMs) return true;
  return options.healWhen !== undefined && elapsed < options.durationMs * OUTAGE_CAP_FACTOR && !options.healWhen();
}

export interface InjectedOutage {
  /** Requests answered with an error so far. */
  readonly failed: () => number;
  readonly remove: () => void;
}

/** The partition key a DynamoDB command names, marshalled ({ S: ... }) or not. */
function userOf(input: { Key?: Record<string, unknown> }): string | undefined {
  const key = input.Key?.user_id;
  if (typeof key === 'string') return key;
  if (key && typeof key === 'object' && typeof (key as { S?: unknown }).S === 'string') return (key as { S: string }).S;
  return undefined;
}

/**
 * One dependency failing for some users for a while, the way a hot partition or a bad deployment fails in
 * AWS: every write of those users is answered InternalServerError (HTTP 500, which the SDK and the function
 * retry) for `durationMs` from the first attempt, then the table heals. Long enough, it outlasts the event
 * source's retries, and the windows of those users go to the on-failure destination, to be redriven.
 */
export function injectDynamoDbWriteOutage(client: DynamoDBClient, options: WriteOutageOptions): InjectedOutage {
  const users = new Set(options.userIds);
  const commands = new Set(options.commands ?? ['UpdateItemCommand']);
  const started = new Map<string, number>();
  let failed = 0;
  const name = 'localInjectedWriteOutage';
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<object, MetadataBearer>, context: HandlerExecutionContext) => async (args: FinalizeHandlerArguments<object>) => {
      const user = commands.has(String(context.commandName)) ? userOf(args.input as { Key?: Record<string, unknown> }) : undefined;
      if (user !== undefined && users.has(user)) {
        const now = Date.now();
        if (!started.has(user)) started.set(user, now);
        if (outageHolds(now - started.get(user)!, options)) {
          failed++;
          throw Object.assign(new Error(`Internal server error (injected outage of ${user}'s writes)`), {
            name: 'InternalServerError',
            $fault: 'server' as const,
            $metadata: { httpStatusCode: 500, attempts: 1, totalRetryDelay: 0 },
          });
        }
      }
      return next(args);
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name, override: true },
  );
  return { failed: () => failed, remove: () => void client.middlewareStack.remove(name) };
}

/**
 * The validated stream refusing some users' records for a while: in every PutRecords call to `streamName`,
 * the entries of those users fail with InternalFailure (a partial failure, as Kinesis reports one) for
 * `durationMs` from the first attempt; the other entries are written. The validation function retries them,
 * then reports them as batch item failures, and past its retries the range goes to the on-failure destination,
 * although the records after them in the batch were forwarded.
 */
export function injectKinesisPutOutage(
  client: KinesisClient,
  options: { streamName: string; userIds: readonly string[]; durationMs: number; healWhen?: () => boolean },
): InjectedOutage {
  const users = new Set(options.userIds);
  const started = new Map<string, number>();
  let failed = 0;
  const name = 'localInjectedPutOutage';
  client.middlewareStack.add(
    (next: InitializeHandler<object, MetadataBearer>, context: HandlerExecutionContext) => async (args: InitializeHandlerArguments<object>) => {
      const input = args.input as PutRecordsCommandInput;
      if (context.commandName !== 'PutRecordsCommand' || input.StreamName !== options.streamName || !input.Records) return next(args);
      const now = Date.now();
      const refused = input.Records.map((r) => {
        if (!users.has(r.PartitionKey ?? '')) return false;
        if (!started.has(r.PartitionKey!)) started.set(r.PartitionKey!, now);
        return outageHolds(now - started.get(r.PartitionKey!)!, options);
      });
      if (!refused.some(Boolean)) return next(args);
      const passed = input.Records.filter((_, i) => !refused[i]);
      let written: PutRecordsResultEntry[] = [];
      let output: PutRecordsCommandOutput | undefined;
      if (passed.length > 0) {
        const result = await next({ ...args, input: { ...input, Records: passed } });
        output = result.output as PutRecordsCommandOutput;
        written = output.Records ?? [];
      }
      let k = 0;
      let failures = output?.FailedRecordCount ?? 0;
      const records = refused.map((r): PutRecordsResultEntry => {
        if (!r) return written[k++]!;
        failed++;
        failures++;
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure (injected outage)' };
      });
      return { response: undefined, output: { $metadata: output?.$metadata ?? {}, FailedRecordCount: failures, Records: records } as PutRecordsCommandOutput };
    },
    { step: 'initialize', name, override: true },
  );
  return { failed: () => failed, remove: () => void client.middlewareStack.remove(name) };
}
