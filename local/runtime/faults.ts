/**
 * Seeded faults of the local runtime beyond what the event-source runner injects itself (crashes after side
 * effects, lost checkpoints, Lambda throttles, delays): DynamoDB throttling on the profile writes, which the
 * SDK retries with backoff and, when the retries run out, fails the aggregator's window so Lambda retries it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FinalizeHandler, FinalizeHandlerArguments, HandlerExecutionContext, MetadataBearer } from '@smithy/types';
import { seededRandom } from '../workload';

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
