/**
 * Verification of AWS Signature Version 2 presigned S3 URLs (`?AWSAccessKeyId=…&Expires=…&Signature=…`).
 * botocore and the AWS CLI (`aws s3 presign`) still produce this form by default for S3, so a
 * server that wants unmodified clients to work must accept it. Only the query form is accepted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { InferqError } from '../errors/index.js';
import type { Clock } from '../util/index.js';
import type { AuthResult, CredentialLookup, SignableRequest } from './types.js';

/** Query parameters that are part of the signed resource (sub-resources and response overrides). */
const SIGNED_SUBRESOURCES = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy', 'requestPayment',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'response-content-language',
  'response-content-type', 'response-expires', 'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId',
  'versioning', 'versions', 'website',
]);

/** The claims of a SigV2 presigned URL, read before any secret is involved. */
export interface SigV2Claims {
  readonly accessKeyId: string;
  /** Seconds since the epoch, as written in the query (it is part of the string to sign). */
  readonly expires: string;
  readonly signature: string;
  readonly subresources: readonly [string, string | undefined][];
}

/** Longest lifetime of a SigV2 presigned URL, as for SigV4 (7 days), in ms. */
const MAX_SIGV2_LIFETIME_MS = 604_800_000;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new InferqError('IncompleteSignature', 'The presigned URL is not valid percent-encoding.');
  }
}

const V2_PARAMS = new Set(['AWSAccessKeyId', 'Expires', 'Signature']);

/** Whether a raw query parameter name is one of SigV2's (`AWSAccessKeyId`, `Expires`, `Signature`). */
export function isSigV2Param(rawName: string): boolean {
  return V2_PARAMS.has(rawName);
}

/**
 * Parses the SigV2 query (without `?`). A missing or repeated `AWSAccessKeyId`, `Expires` or
 * `Signature`, or an `Expires` that is not a number, is IncompleteSignature.
 */
export function parseSigV2Query(rawQuery: string): SigV2Claims {
  const found = new Map<string, string>();
  const subresources: [string, string | undefined][] = [];
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const raw = eq < 0 ? undefined : part.slice(eq + 1);
    if (V2_PARAMS.has(name)) {
      if (found.has(name)) throw new InferqError('IncompleteSignature', `The query parameter ${name} is given more than once.`);
      found.set(name, decode(raw ?? ''));
    } else if (SIGNED_SUBRESOURCES.has(name)) subresources.push([name, raw === undefined ? undefined : decode(raw)]);
  }
  const accessKeyId = found.get('AWSAccessKeyId');
  const expires = found.get('Expires');
  const signature = found.get('Signature');
  if (accessKeyId === undefined || signature === undefined || expires === undefined) {
    throw new InferqError('IncompleteSignature', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d{1,12}$/.test(expires)) throw new InferqError('IncompleteSignature', 'Expires must be a number of seconds since the epoch.');
  return { accessKeyId, expires, signature, subresources };
}

function header(req: SignableRequest, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v ?? '';
}

function stringToSign(req: SignableRequest, path: string, q: SigV2Claims): string {
  const amz = Object.keys(req.headers)
    .filter((h) => h.startsWith('x-amz-'))
    .sort()
    .map((h) => `${h}:${header(req, h).trim()}\n`)
    .join('');
  const sub = [...q.subresources].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([k, v]) => (v === undefined ? k : `${k}=${v}`));
  const resource = sub.length > 0 ? `${path}?${sub.join('&')}` : path;
  return `${req.method}\n${header(req, 'content-md5')}\n${header(req, 'content-type')}\n${q.expires}\n${amz}${resource}`;
}

/**
 * Verifies a SigV2 presigned S3 request from its parsed claims. An `Expires` more than 7 days
 * ahead is refused like an over-long SigV4 `X-Amz-Expires`.
 * @throws InferqError IncompleteSignature, InvalidAccessKeyId, RequestExpired or SignatureDoesNotMatch.
 */
export function verifySigV2Presigned(req: SignableRequest, q: SigV2Claims, credentials: CredentialLookup, clock: Clock, bucketFromHost?: string): AuthResult {
  const secret = credentials.secretFor(q.accessKeyId);
  if (secret === undefined) throw new InferqError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: q.accessKeyId });
  const expiresMs = Number(q.expires) * 1000;
  const now = clock.now();
  if (expiresMs < now) throw new InferqError('RequestExpired', 'Request has expired', { Expires: new Date(expiresMs).toISOString() });
  if (expiresMs - now > MAX_SIGV2_LIFETIME_MS) throw new InferqError('IncompleteSignature', 'Expires must be at most 7 days (604800 seconds) from now.', { Expires: q.expires });
  const qi = req.rawUrl.indexOf('?');
  const rawPath = qi < 0 ? req.rawUrl : req.rawUrl.slice(0, qi);
  const path = bucketFromHost ? `/${bucketFromHost}${rawPath}` : rawPath;
  const expected = createHmac('sha1', secret).update(stringToSign(req, path, q), 'utf8').digest();
  const given = Buffer.from(q.signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InferqError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { accessKeyId: q.accessKeyId, service: 's3', region: 'us-east-1', presigned: true, payload: { kind: 'unsigned' } };
}
