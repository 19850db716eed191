/**
 * What the signed requests (the validation function's quarantine PUTs and tombstone Query, sent without the
 * service clients) share: SHA-256 and HMAC-SHA-256 from node:crypto for the SDK's SigV4 signer, the request
 * to sign, and sending it and reading the answer.
 */
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, HttpRequest, Provider, SourceData } from '@smithy/types';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { FailureKind } from '../core/errors';
import { classifyError } from './retry';

export class Sha256 implements Checksum {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : ArrayBuffer.isView(this.secret) ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** The whole body of an HTTP answer as text ('' when it has none). */
export async function readBody(body: unknown): Promise<string> {
  if (!body || typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') return '';
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** A region given as a name or as the SDK's provider of one. */
export function regionProvider(region: string | Provider<string>): Provider<string> {
  return typeof region === 'string' ? () => Promise.resolve(region) : region;
}

/** The public endpoint host of a service in a region (`<prefix>.<region>.amazonaws.com`, `.com.cn` in China). */
export function regionalHost(prefix: string, region: string): string {
  return `${prefix}.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
}

/** The request to sign for a URL: its host, port and path, with `host` and `content-length` set. */
export function signableRequest(method: string, url: URL, headers: Record<string, string>, body: Buffer): HttpRequest {
  const port = url.port ? Number(url.port) : undefined;
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(port ? { port } : {}),
    path: url.pathname || '/',
    query: {},
    headers: { host: url.host, ...headers, 'content-length': String(body.byteLength) },
    body,
  };
}

/**
 * Signs a request and sends it through the SDK's HTTP handler; resolves with the answer's status and body
 * text, whatever the status. A request that got no answer (a refused or reset connection, a timeout) is the
 * network's failure, not the service's verdict: it throws what `noAnswer` makes of the error and its kind
 * (never permanent: another attempt may get through).
 */
export async function sendSigned(
  signer: SignatureV4,
  http: NodeHttpHandler,
  request: HttpRequest,
  noAnswer: (err: Error, kind: Exclude<FailureKind, 'permanent'>) => Error,
): Promise<{ status: number; text: string }> {
  const signed = (await signer.sign(request)) as HttpRequest;
  try {
    const { response } = await http.handle(signed as Parameters<NodeHttpHandler['handle']>[0]);
    return { status: response.statusCode, text: await readBody(response.body) };
  } catch (err) {
    const kind = classifyError(err);
    throw noAnswer(err as Error, kind === 'permanent' ? 'transient' : kind);
  }
}
