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

interface V2Query {
  readonly accessKeyId: string;
  readonly expires: string;
  readonly signature: string;
  readonly subresources: readonly [string, string | undefined][];
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new InferqError('IncompleteSignature', 'The presigned URL is not valid percent-encoding.');
  }
}

function parseV2Query(rawQuery: string): V2Query | undefined {
  let accessKeyId: string | undefined;
  let expires: string | undefined;
  let signature: string | undefined;
  const subresources: [string, string | undefined][] = [];
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const raw = eq < 0 ? undefined : part.slice(eq + 1);
    if (name === 'AWSAccessKeyId') accessKeyId = decode(raw ?? '');
    else if (name === 'Expires') expires = decode(raw ?? '');
    else if (name === 'Signature') signature = decode(raw ?? '');
    else if (SIGNED_SUBRESOURCES.has(name)) subresources.push([name, raw === undefined ? undefined : decode(raw)]);
  }
  if (accessKeyId === undefined || signature === undefined || expires === undefined) return undefined;
  return { accessKeyId, expires, signature, subresources };
}

/** Whether the request is a SigV2 presigned URL (cheap check for routing). */
export function isSigV2Presigned(req: SignableRequest): boolean {
  const q = req.rawUrl.indexOf('?');
  if (q < 0) return false;
  const query = req.rawUrl.slice(q + 1);
  return /(^|&)AWSAccessKeyId=/.test(query) && /(^|&)Signature=/.test(query);
}

function header(req: SignableRequest, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v ?? '';
}

function stringToSign(req: SignableRequest, path: string, q: V2Query): string {
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
 * Verifies a SigV2 presigned S3 request.
 * @throws InferqError IncompleteSignature, InvalidAccessKeyId, RequestExpired or SignatureDoesNotMatch.
 */
export function verifySigV2Presigned(req: SignableRequest, credentials: CredentialLookup, clock: Clock, bucketFromHost?: string): AuthResult {
  const qi = req.rawUrl.indexOf('?');
  const q = qi < 0 ? undefined : parseV2Query(req.rawUrl.slice(qi + 1));
  if (!q) throw new InferqError('IncompleteSignature', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  if (!/^\d+$/.test(q.expires)) throw new InferqError('IncompleteSignature', 'Expires must be a number of seconds since the epoch.');
  const secret = credentials.secretFor(q.accessKeyId);
  if (secret === undefined) throw new InferqError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: q.accessKeyId });
  if (Number(q.expires) * 1000 < clock.now()) throw new InferqError('RequestExpired', 'Request has expired', { Expires: new Date(Number(q.expires) * 1000).toISOString() });
  const rawPath = qi < 0 ? req.rawUrl : req.rawUrl.slice(0, qi);
  const path = bucketFromHost ? `/${bucketFromHost}${rawPath}` : rawPath;
  const expected = createHmac('sha1', secret).update(stringToSign(req, path, q), 'utf8').digest();
  const given = Buffer.from(q.signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InferqError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { accessKeyId: q.accessKeyId, service: 's3', region: 'us-east-1', presigned: true, payload: { kind: 'unsigned' } };
}
