/**
 * What a GET/HEAD of an object reads and how the answer is framed: `Range` or `?partNumber=N`
 * (not both), 206 with `Content-Range` for a part or range, `x-amz-mp-parts-count` on part reads
 * of multipart objects (and a part's own checksum with checksum mode), and the 304 Not Modified
 * answer (which carries ETag and Last-Modified).
 */
import type { ServerResponse } from 'node:http';
import { InferqError, isInferqError } from '../errors/index.js';
import type { ByteSpan, ChecksumAlgorithm, ObjectInfo, PartSelector, RangeRequest } from '../objects/index.js';
import { header, type S3Request } from './context.js';
import { checkConditions, parseRange } from './headers.js';

/**
 * The part a request asks for with `?partNumber=N`, if any.
 * @throws InferqError InvalidArgument (not 1–10000), InvalidRequest (with a Range header too).
 */
export function partSelectorOf(r: S3Request): PartSelector | undefined {
  const raw = r.address.query.get('partNumber');
  if (raw === undefined) return undefined;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10000) {
    throw new InferqError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  if (header(r.req, 'range') !== undefined) throw new InferqError('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  return { partNumber: Number(raw) };
}

/** What a GET reads: a part, a byte range, or (undefined) the whole object. */
export function readSelectorOf(r: S3Request): PartSelector | RangeRequest | undefined {
  return partSelectorOf(r) ?? parseRange(header(r.req, 'range'));
}

/**
 * Applies the conditional headers to `info`. Returns false after answering 304 Not Modified
 * (with the object's ETag and Last-Modified); throws PreconditionFailed.
 */
export function passesReadConditions(r: S3Request, info: ObjectInfo): boolean {
  try {
    checkConditions(r.req.headers, info);
    return true;
  } catch (err) {
    if (!isInferqError(err) || err.code !== 'NotModified') throw err;
    r.res.writeHead(304, { ETag: info.etag, 'Last-Modified': info.lastModified.toUTCString() });
    r.res.end();
    return false;
  }
}

/**
 * With `x-amz-checksum-mode: ENABLED` on a part read: the part's own checksum, when the store
 * knows it (a part of a COMPOSITE-checksummed multipart object).
 */
export function writePartChecksumHeaders(res: ServerResponse, checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>> | undefined): void {
  for (const [alg, value] of Object.entries(checksums ?? {})) if (value) res.setHeader(`x-amz-checksum-${alg.toLowerCase()}`, value);
}

/**
 * Sets status, Content-Length and Content-Range for the bytes sent: 206 for a non-empty range or
 * part, else 200; part reads of multipart objects also name the parts count.
 */
export function writeSpanHeaders(res: ServerResponse, info: ObjectInfo, span: ByteSpan | undefined, partRead: boolean): void {
  if (partRead && info.partsCount !== undefined) res.setHeader('x-amz-mp-parts-count', String(info.partsCount));
  if (span === undefined) {
    res.statusCode = 200;
    res.setHeader('Content-Length', info.size);
  } else if (span.end < span.start) {
    res.statusCode = 200;
    res.setHeader('Content-Length', 0);
  } else {
    res.statusCode = 206;
    res.setHeader('Content-Range', `bytes ${span.start}-${span.end}/${info.size}`);
    res.setHeader('Content-Length', span.end - span.start + 1);
  }
}
