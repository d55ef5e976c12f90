/**
 * Conditional writes on the S3 wire (PutObject, CopyObject, CompleteMultipartUpload): the
 * `If-None-Match: *` and `If-Match: "etag"` headers become the store's WritePrecondition, which the
 * store checks atomically with the commit. As in S3, If-None-Match takes only `*`, and the two
 * headers cannot be combined (NotImplemented).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { InferqError } from '../errors/index.js';
import type { WritePrecondition } from '../objects/index.js';

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function notImplemented(header: string): InferqError {
  return new InferqError('NotImplemented', 'A header you provided implies functionality that is not implemented', { Header: header });
}

/**
 * The precondition a write request states, if any.
 * @throws InferqError NotImplemented for If-None-Match other than `*`, or both headers at once.
 */
export function readWritePrecondition(headers: IncomingHttpHeaders): WritePrecondition | undefined {
  const ifMatch = single(headers['if-match']);
  const ifNoneMatch = single(headers['if-none-match']);
  if (ifMatch !== undefined && ifNoneMatch !== undefined) throw notImplemented('If-Match');
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw notImplemented('If-None-Match');
    return { ifNoneMatch: '*' };
  }
  return ifMatch === undefined ? undefined : { ifMatch };
}
