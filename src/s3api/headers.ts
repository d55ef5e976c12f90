/**
 * Object headers on the S3 wire: what a writer's request sets (Content-Type, x-amz-meta-*, the
 * stored HTTP headers) and what GET/HEAD answers with, including conditional requests and the
 * presigned `response-*` overrides.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { InferqError } from '../errors/index.js';
import type { ObjectInfo, PutObjectOptions, RangeRequest } from '../objects/index.js';

const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'] as const;
const OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
/** User metadata may total at most 2 KB, as in S3. */
const MAX_USER_METADATA_BYTES = 2048;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/** Reads the metadata a PutObject / CreateMultipartUpload / CopyObject(REPLACE) sets. */
export function readWriteOptions(headers: IncomingHttpHeaders): PutObjectOptions {
  const userMetadata: Record<string, string> = {};
  let metaBytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const key = name.slice('x-amz-meta-'.length);
    const text = single(value) ?? '';
    metaBytes += Buffer.byteLength(key) + Buffer.byteLength(text);
    userMetadata[key] = text;
  }
  if (metaBytes > MAX_USER_METADATA_BYTES) throw new InferqError('InvalidArgument', 'Your metadata headers exceed the maximum allowed metadata size.');
  const httpHeaders: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let value = single(headers[name]);
    if (name === 'content-encoding' && value) value = value.split(',').map((v) => v.trim()).filter((v) => v !== 'aws-chunked').join(',');
    if (value) httpHeaders[name] = value;
  }
  const contentType = single(headers['content-type']);
  return { userMetadata, httpHeaders, ...(contentType ? { contentType } : {}) };
}

/** Parses `Range: bytes=…`; a malformed or multi-range header is ignored (the whole object is sent), as S3 does. */
export function parseRange(header: string | undefined): RangeRequest | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, start, end] = match;
  if (!start && !end) return undefined;
  if (!start) return { suffix: Number(end) };
  if (end && Number(end) < Number(start)) return undefined;
  return end ? { start: Number(start), end: Number(end) } : { start: Number(start) };
}

function httpDate(date: Date): string {
  return date.toUTCString();
}

function etagMatches(list: string, etag: string): boolean {
  const bare = etag.replace(/"/g, '');
  return list.split(',').some((item) => {
    const t = item.trim().replace(/^W\//, '').replace(/"/g, '');
    return t === '*' || t === bare;
  });
}

/**
 * Applies If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since.
 * @throws InferqError PreconditionFailed or NotModified.
 */
export function checkConditions(headers: IncomingHttpHeaders, info: ObjectInfo): void {
  const ifMatch = single(headers['if-match']);
  const ifNoneMatch = single(headers['if-none-match']);
  const modifiedSec = Math.floor(info.lastModified.getTime() / 1000);
  const since = (name: string): number | undefined => {
    const v = single(headers[name]);
    const t = v ? Date.parse(v) : NaN;
    return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
  };
  if (ifMatch !== undefined && !etagMatches(ifMatch, info.etag)) throw new InferqError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  const unmodifiedSince = since('if-unmodified-since');
  if (ifMatch === undefined && unmodifiedSince !== undefined && modifiedSec > unmodifiedSince) throw new InferqError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Unmodified-Since' });
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, info.etag)) throw new InferqError('NotModified', 'Not Modified');
  const modifiedSince = since('if-modified-since');
  if (ifNoneMatch === undefined && modifiedSince !== undefined && modifiedSec <= modifiedSince) throw new InferqError('NotModified', 'Not Modified');
}

/** A control character (tab aside): never valid in a header value. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * The `response-*` overrides of a GET/HEAD as header name/value pairs, checked before anything is
 * read: a control character is InvalidArgument; other non-ASCII text goes out as its UTF-8 bytes.
 * @throws InferqError InvalidArgument naming the parameter.
 */
export function responseOverrides(query: ReadonlyMap<string, string>): [string, string][] {
  const out: [string, string][] = [];
  for (const [param, header] of Object.entries(OVERRIDES)) {
    const value = query.get(param);
    if (value === undefined) continue;
    if (CONTROL.test(value)) throw new InferqError('InvalidArgument', `The ${param} parameter must not contain control characters.`, { ArgumentName: param });
    out.push([header, /^[\t\x20-\x7e]*$/.test(value) ? value : Buffer.from(value, 'utf8').toString('latin1')]);
  }
  return out;
}

/** Sets the headers that describe an object on a GET/HEAD response (`overrides` from {@link responseOverrides}). */
export function writeObjectHeaders(res: ServerResponse, info: ObjectInfo, overrides: readonly (readonly [string, string])[], includeChecksums: boolean): void {
  res.setHeader('ETag', info.etag);
  res.setHeader('Last-Modified', httpDate(info.lastModified));
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', info.contentType);
  for (const [name, value] of Object.entries(info.httpHeaders)) res.setHeader(name, value);
  for (const [name, value] of Object.entries(info.userMetadata)) res.setHeader(`x-amz-meta-${name}`, value);
  if (includeChecksums) {
    const entries = Object.entries(info.checksums).filter(([, value]) => value);
    for (const [alg, value] of entries) res.setHeader(`x-amz-checksum-${alg.toLowerCase()}`, value);
    if (entries.length > 0) res.setHeader('x-amz-checksum-type', info.checksumType ?? 'FULL_OBJECT');
  }
  for (const [header, value] of overrides) res.setHeader(header, value);
}
