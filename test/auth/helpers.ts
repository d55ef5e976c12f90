/**
 * Test helpers for the auth feature: an independent SigV4 signer (@smithy/signature-v4 over node's
 * crypto), conversion of signed smithy requests into the SignableRequest the verifier sees, and a
 * settable clock.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { NodeSha256, sigv4Signer } from '../helpers/sigv4.js';
import type { CredentialLookup, SignableRequest } from '../../src/auth/index.js';
import type { Clock } from '../../src/util/clock.js';

export const AKID = 'AKIDEXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

/** Credential lookup knowing one key pair (plus any extra). */
export function credentials(extra: Record<string, string> = {}): CredentialLookup {
  const table = new Map<string, string>([[AKID, SECRET], ...Object.entries(extra)]);
  return { secretFor: (id) => table.get(id) };
}

/** A clock whose time tests set. */
export class FakeClock implements Clock {
  constructor(public ms: number) {}
  now(): number {
    return this.ms;
  }
}

export { NodeSha256 };

/** An independent signer for `service`. */
export function signer(service: string, opts: { secret?: string; accessKeyId?: string; uriEscapePath?: boolean; applyChecksum?: boolean; sessionToken?: string } = {}): SignatureV4 {
  return sigv4Signer(service, {
    credentials: { accessKeyId: opts.accessKeyId ?? AKID, secretAccessKey: opts.secret ?? SECRET, ...(opts.sessionToken ? { sessionToken: opts.sessionToken } : {}) },
    ...(opts.uriEscapePath === undefined ? {} : { uriEscapePath: opts.uriEscapePath }),
    ...(opts.applyChecksum === undefined ? {} : { applyChecksum: opts.applyChecksum }),
  });
}

/** A JS SDK S3 client (the test key pair, path style) whose requests are captured into `sink` and answered with `response`. */
export function capturingS3Client(sink: Captured[], response: { statusCode: number; headers?: Record<string, string>; body?: string }): S3Client {
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:8080',
    forcePathStyle: true,
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    requestHandler: captureHandler(sink, response),
  });
}

/** AWS query encoding as HTTP clients apply it. */
export function escape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Builds a smithy request. */
export function request(
  method: string,
  path: string,
  headers: Record<string, string>,
  query: Record<string, string | string[] | null> = {},
  body?: string | Uint8Array,
): HttpRequest {
  return { method, protocol: 'http:', hostname: '127.0.0.1', port: 8080, path, query, headers: { host: '127.0.0.1:8080', ...headers }, body };
}

/** What the server would see for a signed smithy request (lower-cased header names). */
export function toSignable(req: HttpRequest): SignableRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(req.query ?? {})) {
    if (v === null) parts.push(escape(k));
    else if (Array.isArray(v)) for (const item of v) parts.push(`${escape(k)}=${escape(item)}`);
    else parts.push(`${escape(k)}=${escape(v)}`);
  }
  return { method: req.method, rawUrl: parts.length > 0 ? `${req.path}?${parts.join('&')}` : req.path, headers };
}

/** Reads a smithy body (string, bytes or stream) into one buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof Readable || (typeof body === 'object' && Symbol.asyncIterator in body)) {
    const chunks: Buffer[] = [];
    for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    return Buffer.concat(chunks);
  }
  throw new Error(`unsupported body ${typeof body}`);
}

/** The SigV4 date of an epoch time, e.g. 20261126T175152Z. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A request captured from a real AWS SDK client, as the server would see it. */
export interface Captured {
  readonly signable: SignableRequest;
  readonly body: Buffer;
}

/**
 * A request handler for AWS SDK v3 clients that records the outgoing (signed) request instead of
 * sending it, and answers with `response`.
 */
export function captureHandler(sink: Captured[], response: { statusCode: number; headers?: Record<string, string>; body?: string } = { statusCode: 200 }) {
  return {
    handle: async (req: HttpRequest) => {
      const body = await bodyBytes(req.body);
      sink.push({ signable: toSignable(req), body });
      return {
        response: { statusCode: response.statusCode, headers: response.headers ?? {}, body: Readable.from(response.body === undefined ? [] : [Buffer.from(response.body)]) },
      };
    },
  };
}
