/**
 * Maps an S3 request (method, path-style or virtual-hosted–style address, sub-resource query) to
 * the operation it names. A request is virtual-hosted exactly when its Host (port ignored) is
 * `<bucket>.<virtual host domain>` (`server.s3VirtualHostDomain`, default `localhost`); any
 * other Host (the server's own address, an IP, another name) is path style.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { InferqError } from '../errors/index.js';

/** The S3 operations inferq serves. */
export type S3Operation =
  | 'ListBuckets' | 'CreateBucket' | 'HeadBucket' | 'DeleteBucket' | 'GetBucketLocation'
  | 'ListObjectsV2' | 'ListObjects' | 'DeleteObjects'
  | 'PutObject' | 'CopyObject' | 'GetObject' | 'HeadObject' | 'DeleteObject'
  | 'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts'
  | 'ListMultipartUploads' | 'GetBucketVersioning' | 'GetBucketAcl' | 'GetObjectAcl';

/** A parsed S3 address. */
export interface S3Address {
  readonly bucket?: string;
  readonly key?: string;
  /** Decoded query parameters (first value wins). */
  readonly query: ReadonlyMap<string, string>;
  /** The raw path, for error `<Resource>`. */
  readonly resource: string;
  /** The bucket when it came from a `<bucket>.<virtual host domain>` Host header. */
  readonly bucketFromHost?: string;
}

/** Parses a raw query string into decoded name → value pairs. */
export function parseQuery(rawQuery: string): Map<string, string> {
  const query = new Map<string, string>();
  if (!rawQuery) return query;
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    if (!query.has(name)) query.set(name, eq < 0 ? '' : decodeComponent(part.slice(eq + 1)));
  }
  return query;
}

function decodeComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InferqError('InvalidArgument', `Invalid percent-encoding in ${JSON.stringify(text)}`);
  }
}

/** The default of `server.s3VirtualHostDomain`. */
export const DEFAULT_VIRTUAL_HOST_DOMAIN = 'localhost';

/**
 * The bucket a Host header names, when it is `<bucket>.<domain>` (case-insensitive, port
 * ignored; host names are case-insensitive, so the bucket is lower-cased). An empty domain turns
 * virtual hosting off.
 */
export function hostBucket(host: string | undefined, domain: string): string | undefined {
  if (!host || !domain) return undefined;
  const name = host.trim().replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
  const suffix = `.${domain.toLowerCase()}`;
  if (name.length <= suffix.length || !name.endsWith(suffix)) return undefined;
  return name.slice(0, -suffix.length);
}

/** Splits the request URL into bucket, key and query (virtual-hosted under `virtualHostDomain`). */
export function parseS3Address(rawUrl: string, headers: IncomingHttpHeaders, virtualHostDomain = DEFAULT_VIRTUAL_HOST_DOMAIN): S3Address {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
  const fromHost = hostBucket(headers.host, virtualHostDomain);
  const path = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  if (fromHost !== undefined) {
    return { bucket: fromHost, bucketFromHost: fromHost, ...(path ? { key: decodeComponent(path) } : {}), query, resource: rawPath };
  }
  if (!path) return { query, resource: rawPath };
  const slash = path.indexOf('/');
  const bucket = decodeComponent(slash < 0 ? path : path.slice(0, slash));
  const rawKey = slash < 0 ? '' : path.slice(slash + 1);
  return { bucket, ...(rawKey ? { key: decodeComponent(rawKey) } : {}), query, resource: rawPath };
}

function bucketOperation(method: string, query: ReadonlyMap<string, string>): S3Operation | undefined {
  switch (method) {
    case 'GET':
      if (query.has('location')) return 'GetBucketLocation';
      if (query.has('uploads')) return 'ListMultipartUploads';
      if (query.has('versioning')) return 'GetBucketVersioning';
      if (query.has('acl')) return 'GetBucketAcl';
      if (query.get('list-type') === '2') return 'ListObjectsV2';
      if (['policy', 'cors', 'lifecycle', 'tagging', 'versions', 'website', 'encryption', 'notification', 'replication', 'logging', 'ownershipControls', 'publicAccessBlock', 'object-lock'].some((s) => query.has(s))) return undefined;
      return 'ListObjects';
    case 'PUT': return query.size === 0 ? 'CreateBucket' : undefined;
    case 'HEAD': return 'HeadBucket';
    case 'DELETE': return query.size === 0 ? 'DeleteBucket' : undefined;
    case 'POST': return query.has('delete') ? 'DeleteObjects' : undefined;
    default: return undefined;
  }
}

function objectOperation(method: string, query: ReadonlyMap<string, string>, headers: IncomingHttpHeaders): S3Operation | undefined {
  const uploadId = query.has('uploadId');
  switch (method) {
    case 'GET':
      if (uploadId) return 'ListParts';
      if (query.has('acl')) return 'GetObjectAcl';
      return ['tagging', 'attributes', 'retention', 'legal-hold', 'torrent'].some((s) => query.has(s)) ? undefined : 'GetObject';
    case 'HEAD': return 'HeadObject';
    case 'PUT':
      if (uploadId || query.has('partNumber')) return headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
      if (['acl', 'tagging', 'retention', 'legal-hold'].some((s) => query.has(s))) return undefined;
      return headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    case 'DELETE': return uploadId ? 'AbortMultipartUpload' : 'DeleteObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (uploadId) return 'CompleteMultipartUpload';
      return undefined;
    default: return undefined;
  }
}

/**
 * Names the operation of a request.
 * @throws InferqError NotImplemented for sub-resources inferq does not serve, MethodNotAllowed for other methods.
 */
export function resolveOperation(method: string, address: S3Address, headers: IncomingHttpHeaders): S3Operation {
  if (!['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].includes(method)) throw new InferqError('MethodNotAllowed', `The specified method is not allowed against this resource.`, { Method: method });
  let op: S3Operation | undefined;
  if (address.bucket === undefined) {
    if (method !== 'GET') throw new InferqError('MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'SERVICE' });
    op = 'ListBuckets';
  }
  else if (address.key === undefined) op = bucketOperation(method, address.query);
  else op = objectOperation(method, address.query, headers);
  if (op === undefined) throw new InferqError('NotImplemented', 'A header or query you provided implies functionality that is not implemented.');
  return op;
}
