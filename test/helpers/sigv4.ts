/**
 * Test helper: SigV4 signing with an implementation independent of inferq's own
 * (@smithy/signature-v4, the signer of the AWS SDK for JavaScript, over node:crypto), so a signing
 * bug in src cannot hide itself by verifying its own signatures.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { DEV, REGION } from './clients.js';

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA256 in the shape @smithy/signature-v4 expects, over node:crypto. */
export class NodeSha256 implements Checksum {
  private h: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}

/** An access key pair. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options of {@link sigv4Signer}. */
export interface SignerOptions {
  /** Default: the development pair test/test. */
  readonly credentials?: Credentials;
  /** Default: us-east-1. */
  readonly region?: string;
  /** Double-encode the path as every service but S3 does (default: `service !== 's3'`). */
  readonly uriEscapePath?: boolean;
  /** Let the signer add x-amz-content-sha256 itself (default false: callers set it). */
  readonly applyChecksum?: boolean;
}

/** A SigV4 signer for `service`, configured as the AWS SDK configures it. */
export function sigv4Signer(service: string, options: SignerOptions = {}): SignatureV4 {
  return new SignatureV4({
    service,
    region: options.region ?? REGION,
    credentials: options.credentials ?? DEV,
    sha256: NodeSha256,
    uriEscapePath: options.uriEscapePath ?? service !== 's3',
    applyChecksum: options.applyChecksum ?? false,
  });
}

/** Hex SHA-256. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A request to sign with {@link signHeaders}. */
export interface RequestToSign {
  readonly method: string;
  /** The full URL: its path (already percent-encoded) and query are signed. */
  readonly url: URL;
  readonly service: string;
  /** Extra headers to send and sign. */
  readonly headers?: Record<string, string>;
  /** The body, hashed into x-amz-content-sha256 unless `payloadHash` is given. */
  readonly body?: Buffer | string;
  /** x-amz-content-sha256 as sent: a hex hash, `UNSIGNED-PAYLOAD`, `STREAMING-…`. */
  readonly payloadHash?: string;
  readonly credentials?: Credentials;
  readonly date?: Date;
}

/** Every header to send for a SigV4-signed request: the given ones plus host, x-amz-date, x-amz-content-sha256 and authorization. */
export async function signHeaders(r: RequestToSign): Promise<Record<string, string>> {
  const lower = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of r.url.searchParams) {
    const seen = query[k];
    query[k] = seen === undefined ? v : [...(Array.isArray(seen) ? seen : [seen]), v];
  }
  const signed = await sigv4Signer(r.service, r.credentials ? { credentials: r.credentials } : {}).sign({
    method: r.method,
    protocol: r.url.protocol,
    hostname: r.url.hostname,
    ...(r.url.port ? { port: Number(r.url.port) } : {}),
    path: r.url.pathname,
    query,
    headers: { host: r.url.host, 'x-amz-content-sha256': r.payloadHash ?? sha256Hex(r.body ?? ''), ...lower },
  }, r.date ? { signingDate: r.date } : {});
  return signed.headers;
}
