/**
 * Test helper: SigV4 signing of requests given as raw wire parts (a raw, possibly malformed URL
 * and lower-case headers), so tests can send validly signed requests with odd paths, queries and
 * headers, plus aws-chunked body framing (signed chunks, unsigned chunks with trailers). Built on
 * the canonical-request code of src/auth (the verifier's own), so it agrees with the server by
 * construction; SDK-based tests check agreement with real clients (and test/helpers/sigv4.ts signs
 * independently of src). Also the bytes of a whole signed request ({@link signedRequestBytes}).
 */
import { createHash, createHmac } from 'node:crypto';
import { buildCanonicalRequest, deriveSigningKey, EMPTY_SHA256, SIGV4_ALGORITHM } from '../../src/auth/index.js';
import { DEV, REGION } from './clients.js';
import { requestBytes } from './raw-http.js';
import { sha256Hex } from './sigv4.js';

/** A request to sign, as it goes on the wire. */
export interface RawToSign {
  readonly method: string;
  /** Path and query exactly as sent (not normalised). */
  readonly rawUrl: string;
  /** The Host header, unless `headers` names another. */
  readonly host: string;
  /** Lower-case names; every one is signed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, `UNSIGNED-PAYLOAD` or a `STREAMING-*` value; sent as x-amz-content-sha256 unless `omitPayloadHeader`. */
  readonly payloadHash: string;
  readonly service: string;
  readonly date?: Date;
  /** Leave out x-amz-content-sha256 (non-S3 services: the server hashes the body). */
  readonly omitPayloadHeader?: boolean;
}

/** What a chunk signature chains from. */
export interface ChunkSigning {
  readonly signingKey: Buffer;
  readonly scope: string;
  readonly amzDate: string;
  readonly seedSignature: string;
}

/** The signed headers, and the chaining context for aws-chunked bodies. */
export interface RawSigned {
  readonly headers: Record<string, string>;
  readonly chunk: ChunkSigning;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** The SigV4 date of a time, e.g. 20261126T175152Z. */
export function amzDateOf(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Signs a raw request with the development credentials. */
export function signRaw(r: RawToSign): RawSigned {
  const amzDate = amzDateOf(r.date ?? new Date());
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = Object.assign({ host: r.host }, r.headers, { 'x-amz-date': amzDate }, r.omitPayloadHeader ? {} : { 'x-amz-content-sha256': r.payloadHash });
  const signedHeaders = Object.keys(headers).sort();
  const canonical = buildCanonicalRequest({ method: r.method, rawUrl: r.rawUrl, headers }, { service: r.service, signedHeaders, payloadHash: r.payloadHash, presigned: false });
  const scope = `${day}/${REGION}/${r.service}/aws4_request`;
  const signingKey = deriveSigningKey(DEV.secretAccessKey, day, REGION, r.service);
  const signature = hmac(signingKey, [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n')).toString('hex');
  headers['authorization'] = `${SIGV4_ALGORITHM} Credential=${DEV.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return { headers, chunk: { signingKey, scope, amzDate, seedSignature: signature } };
}

/**
 * The bytes of one signed request to `path` of the server at `base` (lower-cased headers, Content-Length
 * framing; non-S3 services without x-amz-content-sha256, as the SDKs send them).
 */
export function signedRequestBytes(base: string, service: 's3' | 'sagemaker', method: string, path: string, headers: Record<string, string> = {}, body: Buffer = Buffer.alloc(0)): Buffer {
  const url = new URL(path, `${base}/`);
  const rawUrl = `${url.pathname}${url.search}`;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const signed = signRaw({ method, rawUrl, host: url.host, headers: { ...lower, 'content-length': String(body.length) }, payloadHash: sha256Hex(body), service, omitPayloadHeader: service !== 's3' });
  return requestBytes(method, rawUrl, signed.headers, body);
}

/** The signature of one chunk, chained from `previous`. */
export function chunkSignature(ctx: ChunkSigning, previous: string, data: Buffer): string {
  const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${ctx.amzDate}\n${ctx.scope}\n${previous}\n${EMPTY_SHA256}\n${sha256Hex(data)}`;
  return hmac(ctx.signingKey, stringToSign).toString('hex');
}

/** One frame of an aws-chunked body: its data, and how its header line is written. */
export interface ChunkFrame {
  readonly data: Buffer;
  /** The size text to write instead of the real hex size. */
  readonly sizeText?: string;
  /** The signature to write instead of the right one. */
  readonly signature?: string;
}

/** The `x-amz-trailer-signature` of trailers following the chunk signed `previous`. */
export function trailerSignature(ctx: ChunkSigning, previous: string, trailers: Readonly<Record<string, string>>): string {
  const canonical = Object.entries(trailers).map(([name, value]) => `${name}:${value}\n`).join('');
  const stringToSign = `AWS4-HMAC-SHA256-TRAILER\n${ctx.amzDate}\n${ctx.scope}\n${previous}\n${createHash('sha256').update(canonical, 'latin1').digest('hex')}`;
  return hmac(ctx.signingKey, stringToSign).toString('hex');
}

/**
 * Frames `chunks` as aws-chunked (the final zero-length chunk appended), signing each chunk when
 * `ctx` is given (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) and adding `trailers` after the final chunk
 * (STREAMING-UNSIGNED-PAYLOAD-TRAILER; with `ctx` also their signature, as
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER has it, unless `trailers` already names one).
 */
export function awsChunked(chunks: readonly ChunkFrame[], ctx?: ChunkSigning, trailers: Readonly<Record<string, string>> = {}): Buffer {
  const out: Buffer[] = [];
  let previous = ctx?.seedSignature ?? '';
  for (const frame of [...chunks, { data: Buffer.alloc(0) }]) {
    const size = 'sizeText' in frame && frame.sizeText !== undefined ? frame.sizeText : frame.data.length.toString(16);
    let line = size;
    if (ctx !== undefined) {
      const right = chunkSignature(ctx, previous, frame.data);
      previous = right;
      line += `;chunk-signature=${'signature' in frame && frame.signature !== undefined ? frame.signature : right}`;
    }
    out.push(Buffer.from(`${line}\r\n`, 'latin1'), frame.data);
    if (frame.data.length > 0) out.push(Buffer.from('\r\n'));
  }
  for (const [name, value] of Object.entries(trailers)) out.push(Buffer.from(`${name}:${value}\r\n`, 'latin1'));
  if (ctx !== undefined && Object.keys(trailers).length > 0 && !('x-amz-trailer-signature' in trailers)) {
    out.push(Buffer.from(`x-amz-trailer-signature:${trailerSignature(ctx, previous, trailers)}\r\n`, 'latin1'));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}
