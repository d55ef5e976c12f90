/**
 * Where an asynchronous request's input comes from and where its result goes.
 *
 * Naming rule (documented in the README): the output key is
 * `<outputPath prefix>/[<S3OutputPathExtension>/]<Filename, else <InferenceId>.out>` and the
 * failure key is `<failurePath prefix>/[<S3OutputPathExtension>/]<Filename, else InferenceId>-error.out`.
 * Keys are deterministic, so a retried request overwrites instead of duplicating.
 */
import { InferqError } from '../errors/index.js';
import type { S3Path } from '../config/index.js';
import type { JobInput, ObjectLocation } from '../queue/index.js';

/** `part` without leading and trailing slashes. */
function trimSlashes(part: string): string {
  let start = 0;
  let end = part.length;
  while (start < end && part.charCodeAt(start) === 47) start++;
  while (end > start && part.charCodeAt(end - 1) === 47) end--;
  return start === 0 && end === part.length ? part : part.slice(start, end);
}

/** Joins the non-empty parts with single slashes, each part trimmed of its own slashes at both ends. */
function joinKey(...parts: (string | undefined)[]): string {
  let key = '';
  for (const part of parts) {
    const trimmed = part === undefined ? '' : trimSlashes(part);
    if (trimmed !== '') key = key === '' ? trimmed : `${key}/${trimmed}`;
  }
  return key;
}

/** The output and failure locations of a request. */
export function resultLocations(output: S3Path, failure: S3Path, inferenceId: string, extension?: string, filename?: string): { output: ObjectLocation; failure: ObjectLocation } {
  const base = filename ?? inferenceId;
  return {
    output: { bucket: output.bucket, key: joinKey(output.prefix, extension, filename ?? `${inferenceId}.out`) },
    failure: { bucket: failure.bucket, key: joinKey(failure.prefix, extension, `${base}-error.out`) },
  };
}

/** Formats a location as `s3://bucket/key`. */
export function s3Uri(location: ObjectLocation): string {
  return `s3://${location.bucket}/${location.key}`;
}

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InferqError('ValidationError', `InputLocation key is not valid percent-encoding: ${raw}`);
  }
}

/** Same origin, and the path starts with the prefix's path (so `https://a.com` does not admit `https://a.com.evil.org`). */
function isUnder(url: URL, prefix: string): boolean {
  const allowed = new URL(prefix);
  return url.origin === allowed.origin && url.pathname.startsWith(allowed.pathname);
}

const VIRTUAL_HOST = /^([a-z0-9][a-z0-9.-]*[a-z0-9])\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/;
const PATH_HOST = /^s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/;

/**
 * Resolves an InputLocation: `s3://bucket/key` and S3 https URLs (virtual-hosted or path-style)
 * map to the object store; other https URLs are fetched only when they start with an entry of the
 * allow-list (no SSRF by default).
 * @throws InferqError ValidationError
 */
export function resolveInputLocation(location: string, allowList: readonly string[]): JobInput {
  if (location.startsWith('s3://')) {
    const rest = location.slice(5);
    const slash = rest.indexOf('/');
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    if (slash < 0 || key === '') throw new InferqError('ValidationError', `InputLocation ${location} must name an object: s3://bucket/key`);
    return { kind: 'object', location: { bucket: rest.slice(0, slash), key } };
  }
  const url = URL.canParse(location) ? new URL(location) : undefined;
  if (url === undefined) throw new InferqError('ValidationError', `InputLocation ${location} is not a valid URL.`);
  const virtual = VIRTUAL_HOST.exec(url.hostname);
  if (virtual && url.pathname.length > 1) return { kind: 'object', location: { bucket: virtual[1]!, key: decodeKey(url.pathname.slice(1)) } };
  if (PATH_HOST.test(url.hostname)) {
    const [, bucket = '', ...key] = url.pathname.split('/');
    if (bucket && key.join('/')) return { kind: 'object', location: { bucket, key: decodeKey(key.join('/')) } };
  }
  if (allowList.some((prefix) => isUnder(url, prefix))) return { kind: 'url', url: location };
  throw new InferqError('ValidationError', `InputLocation ${location} is neither in the object store (s3://bucket/key or an S3 https URL) nor under a prefix of server.inputUrlAllowList.`);
}
