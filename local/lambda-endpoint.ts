/**
 * A Lambda Invoke endpoint on 127.0.0.1 for the functions the local runtime runs in-process, so that tools
 * which invoke a deployed function (the redrive command) run unchanged against the local runtime, through
 * the real `@aws-sdk/client-lambda` and the standard AWS_ENDPOINT_URL_LAMBDA variable.
 *
 * It serves the one operation they use, Invoke (`POST /2015-03-31/functions/{FunctionName}/invocations`),
 * as the Lambda API reference documents it: FunctionName is a name or an ARN; InvocationType
 * RequestResponse (the default) answers 200 with the function's result, or with X-Amz-Function-Error:
 * Unhandled and `{ errorType, errorMessage }` when the function throws; DryRun answers 204; Event
 * (asynchronous) is not served (400). An unknown function is ResourceNotFoundException (404). Requests are
 * not authenticated: the endpoint listens on the loopback interface only.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A function as the endpoint invokes it: the event, a minimal context, and its result. */
export type InvokableHandler = (event: unknown, context: { awsRequestId: string; functionName: string; getRemainingTimeInMillis(): number }) => Promise<unknown> | unknown;

export interface LambdaEndpointOptions {
  /** Time each invocation may take before it fails as timed out (the function's timeout). @default 60 s */
  readonly timeoutMs?: (functionName: string) => number;
  readonly log?: (line: string) => void;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The function name of a name, a partial ARN or an ARN (`arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`). */
export function functionNameOf(nameOrArn: string): string {
  const m = /^(?:arn:aws[a-z-]*:lambda:[^:]*:\d{12}:function:|\d{12}:function:)?([A-Za-z0-9_-]+)(?::[A-Za-z0-9$_-]+)?$/.exec(nameOrArn);
  return m?.[1] ?? nameOrArn;
}

export class LambdaEndpoint {
  private readonly server: Server;
  private readonly handlers = new Map<string, InvokableHandler>();
  private url = '';
  /** Invocations served, by function name. */
  readonly invocations = new Map<string, number>();

  constructor(private readonly options: LambdaEndpointOptions = {}) {
    this.server = createServer((req, res) => void this.serve(req, res));
  }

  /** Makes `handler` invokable as `functionName`. */
  register(functionName: string, handler: InvokableHandler): this {
    this.handlers.set(functionName, handler);
    return this;
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  get endpoint(): string {
    return this.url;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    res.setHeader('x-amzn-requestid', requestId);
    const error = (status: number, type: string, message: string) => {
      res.statusCode = status;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-amzn-errortype', type);
      res.end(JSON.stringify({ Type: 'User', message }));
    };
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const path = PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (req.method !== 'POST' || !path) return error(404, 'UnknownOperationException', `${req.method} ${req.url} is not served here (only Invoke)`);
      const name = functionNameOf(decodeURIComponent(path[1]!));
      const handler = this.handlers.get(name);
      if (!handler) return error(404, 'ResourceNotFoundException', `Function not found: ${name} (served: ${[...this.handlers.keys()].join(', ')})`);
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (type === 'DryRun') {
        res.statusCode = 204;
        return void res.end();
      }
      if (type !== 'RequestResponse') return error(400, 'InvalidParameterValueException', `InvocationType ${type} is not served locally; use RequestResponse`);
      let event: unknown;
      try {
        event = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        return error(400, 'InvalidRequestContentException', 'Could not parse request body into json');
      }
      this.invocations.set(name, (this.invocations.get(name) ?? 0) + 1);
      const timeoutMs = this.options.timeoutMs?.(name) ?? 60_000;
      const deadline = Date.now() + timeoutMs;
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-amz-executed-version', '$LATEST');
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          Promise.resolve(handler(event, { awsRequestId: requestId, functionName: name, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) })),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`), { name: 'Sandbox.Timedout' })), timeoutMs);
          }),
        ]);
        res.statusCode = 200;
        res.end(result === undefined ? 'null' : JSON.stringify(result));
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        this.options.log?.(`lambda endpoint: ${name} failed: ${e.name}: ${e.message}`);
        res.statusCode = 200;
        res.setHeader('x-amz-function-error', 'Unhandled');
        res.end(JSON.stringify({ errorType: e.name, errorMessage: e.message }));
      } finally {
        clearTimeout(timer);
      }
    } catch (err) {
      if (!res.headersSent) error(500, 'ServiceException', String(err));
    }
  }
}
