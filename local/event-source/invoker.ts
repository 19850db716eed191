/**
 * Invoking the function as the Lambda service does: the event and the response cross the wire as JSON, the
 * handler gets a fresh context with a deadline, and an invocation running past its timeout fails as timed
 * out (its promise is kept, so stop() can give it one more timeout to settle).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import type { InvokeOutcome, KinesisEventSourceRunnerOptions, TumblingWindowEvent } from './types';

export class FunctionInvoker {
  /** Handler promises that outlived their timeout. */
  private readonly abandoned = new Set<Promise<unknown>>();

  constructor(
    private readonly handler: KinesisEventSourceRunnerOptions['handler'],
    private readonly functionName: string,
    /** Known once the runner has started (the ARN names the region). */
    private readonly functionArn: () => string,
    private readonly timeoutMs: number,
  ) {}

  async invoke(event: KinesisStreamEvent | TumblingWindowEvent): Promise<InvokeOutcome> {
    const deadline = Date.now() + this.timeoutMs;
    const context = this.context(deadline);
    const TIMEOUT = Symbol('timeout');
    let timer: NodeJS.Timeout | undefined;
    const call = (async () => this.handler(event, context))();
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), this.timeoutMs);
    });
    try {
      const result = await Promise.race([call, timeout]);
      if (result === TIMEOUT) {
        const settled = call.then(
          () => undefined,
          () => undefined,
        );
        this.abandoned.add(settled);
        void settled.finally(() => this.abandoned.delete(settled));
        return { kind: 'error', error: new Error(`Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`) };
      }
      // What the function returns crosses the wire as JSON. The Node.js runtime fails an invocation whose
      // result it cannot serialize (a cycle, a BigInt): "Unable to stringify response body as json: ...".
      if (result === undefined) return { kind: 'ok', response: null };
      const json = toJson(result);
      if (json === undefined) return { kind: 'error', error: new Error('Unable to stringify response body as json') };
      return { kind: 'ok', response: JSON.parse(json) };
    } catch (error) {
      return { kind: 'error', error };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for timed-out handlers to settle, for at most one more timeout (Lambda would have frozen them by now). */
  async settleAbandoned(): Promise<void> {
    if (this.abandoned.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.abandoned]), new Promise((r) => (timer = setTimeout(r, this.timeoutMs)))]);
    clearTimeout(timer);
  }

  private context(deadline: number): Context {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const unsupported = () => {
      throw new Error('context.done/succeed/fail are not supported: return a value or throw');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: this.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn(),
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${this.functionName}`,
      logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }
}

function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}
