/**
 * Writes quarantine objects to S3 with a single signed PUT per object.
 *
 * Why not the S3 SDK client: the function makes exactly one S3 call, PutObject, and the S3 client adds
 * ~140 KB of minified code (every operation's schema, endpoint rules, checksum and XML layers) to a bundle
 * budgeted at 300 KB, plus its import time to every cold start. The request is signed by the SDK's own
 * SigV4 signer with the credentials and region of the shared Kinesis client, and sent through the SDK's
 * HTTP handler, so credentials, signing and transport are the SDK's; only the URL is built here.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, HttpRequest, Provider } from '@smithy/types';
import { regionalHost, regionProvider, sendSigned, Sha256, signableRequest } from '../signed-request';
import { DependencyError, type FailureKind } from '../../core/errors';
import type { RetryPolicy } from '../../core/retry-policy';
import { CLIENT_LIMITS, timedRequestHandler } from '../client-limits';
import { classifyErrorCode, withRetry } from '../retry';

/** Where the validation function puts its quarantine objects. */
export interface QuarantineSink {
  /** Stores `body` under `key`, overwriting; throws when it cannot (after its own retries). */
  put(key: string, body: string): Promise<void>;
}

export interface S3QuarantineSinkOptions {
  readonly bucket: string;
  readonly region: string | Provider<string>;
  readonly credentials: Provider<AwsCredentialIdentity>;
  /** Custom endpoint (an emulator, LocalStack): path-style requests to it. @default the regional S3 endpoint */
  readonly endpoint?: string;
  readonly retry: RetryPolicy;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Longest time one PUT (request and answer) may take. @default CLIENT_LIMITS.quarantine (5 s) */
  readonly requestTimeoutMs?: number;
  /** Longest wait for a connection. @default CLIENT_LIMITS.quarantine (1.1 s) */
  readonly connectionTimeoutMs?: number;
}

/** A quarantine object that could not be stored; `kind` says whether another attempt can help. */
export class QuarantineWriteError extends DependencyError {
  override name = 'QuarantineWriteError';

  constructor(message: string, code: string, kind: FailureKind, options?: ErrorOptions) {
    super(message, code, kind, options);
  }
}

/** S3 object keys are sent encoded once per path segment (SigV4 for S3 signs the path as sent). */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

export function s3QuarantineSink(options: S3QuarantineSinkOptions): QuarantineSink {
  const http = timedRequestHandler(
    {
      ...CLIENT_LIMITS.quarantine,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.connectionTimeoutMs !== undefined ? { connectionTimeoutMs: options.connectionTimeoutMs } : {}),
    },
    10,
  );
  const region = regionProvider(options.region);
  const signer = new SignatureV4({ service: 's3', region, credentials: options.credentials, sha256: Sha256, uriEscapePath: false, applyChecksum: true });

  const request = async (key: string, body: Buffer): Promise<HttpRequest> => {
    let url: URL;
    if (options.endpoint) {
      url = new URL(options.endpoint);
      url.pathname = `${url.pathname.replace(/\/$/, '')}/${options.bucket}/${encodeKey(key)}`;
    } else {
      const host = regionalHost('s3', await region());
      // Bucket names with dots do not match the wildcard certificate of virtual-hosted style.
      url = options.bucket.includes('.') ? new URL(`https://${host}/${options.bucket}/${encodeKey(key)}`) : new URL(`https://${options.bucket}.${host}/${encodeKey(key)}`);
    }
    return signableRequest('PUT', url, { 'content-type': 'application/x-ndjson' }, body);
  };

  const attempt = async (key: string, body: Buffer): Promise<void> => {
    const { status, text } = await sendSigned(signer, http, await request(key, body), (err, kind) =>
      new QuarantineWriteError(`PUT s3://${options.bucket}/${key} failed: ${err.message}`, err.name || 'NetworkError', kind, { cause: err }),
    );
    if (status >= 200 && status < 300) return;
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP${status}`;
    throw new QuarantineWriteError(`PUT s3://${options.bucket}/${key} answered ${status} ${code}`, code, classifyErrorCode(code, status));
  };

  return {
    async put(key, text) {
      const body = Buffer.from(text, 'utf8');
      await withRetry(() => attempt(key, body), {
        policy: options.retry,
        ...(options.random ? { random: options.random } : {}),
        ...(options.sleep ? { sleep: options.sleep } : {}),
      });
    },
  };
}
