/**
 * The ObjectStore port's shapes from and to the S3 SDK's: object descriptions from HEAD/GET
 * answers, write options as PutObject/CreateMultipartUpload parameters, checksums and ranges.
 */
import type { ChecksumAlgorithm, ChecksumType, ObjectInfo, PutObjectOptions, RangeRequest, WritePrecondition } from '../port.js';

/** Every checksum algorithm, as the SDK's field suffix (`ChecksumCRC32`, …). */
export const ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Algorithms S3 computes only as COMPOSITE for multipart objects. */
const COMPOSITE_ONLY: ReadonlySet<ChecksumAlgorithm> = new Set<ChecksumAlgorithm>(['SHA1', 'SHA256']);

/** The checksum fields of an SDK answer. */
export type ChecksumFields = { [A in ChecksumAlgorithm as `Checksum${A}`]?: string | undefined };

/** The stored HTTP headers of the port, by their SDK field names. */
const HTTP_HEADER_FIELDS = {
  'cache-control': 'CacheControl',
  'content-disposition': 'ContentDisposition',
  'content-encoding': 'ContentEncoding',
  'content-language': 'ContentLanguage',
  expires: 'Expires',
} as const;

/** What HEAD and GET answer about an object. */
export interface ObjectFields extends ChecksumFields {
  readonly ContentType?: string | undefined;
  readonly ContentLength?: number | undefined;
  readonly ContentRange?: string | undefined;
  readonly ETag?: string | undefined;
  readonly LastModified?: Date | undefined;
  readonly Metadata?: Record<string, string> | undefined;
  readonly PartsCount?: number | undefined;
  readonly ChecksumType?: string | undefined;
  readonly CacheControl?: string | undefined;
  readonly ContentDisposition?: string | undefined;
  readonly ContentEncoding?: string | undefined;
  readonly ContentLanguage?: string | undefined;
  readonly Expires?: Date | undefined;
  readonly ExpiresString?: string | undefined;
}

/** An SDK checksum algorithm as one of the port's (undefined for others, e.g. MD5, SHA512). */
export function checksumSetting(value: string | undefined): ChecksumAlgorithm | undefined {
  return ALGORITHMS.find((alg) => alg === value);
}

/** The checksums of an SDK answer. */
export function checksumsOf(fields: ChecksumFields): Partial<Record<ChecksumAlgorithm, string>> {
  const out: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const alg of ALGORITHMS) {
    const value = fields[`Checksum${alg}`];
    if (value) out[alg] = value;
  }
  return out;
}

/** `bytes a-b/size` → the span and the size; undefined when absent or not of that form. */
export function parseContentRange(value: string | undefined): { start: number; end: number; size: number } | undefined {
  const m = value === undefined ? null : /^bytes (\d+)-(-?\d+)\/(\d+)$/.exec(value.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), size: Number(m[3]) };
}

/** The multipart part count an ETag states (`"…-N"`), if any. */
export function etagPartCount(etag: string): number | undefined {
  const m = /-(\d+)"?$/.exec(etag);
  return m ? Number(m[1]) : undefined;
}

/**
 * The checksums of a whole object and how they were computed. A value ending in `-N` is
 * COMPOSITE; so is a SHA checksum of a multipart object (S3 computes no other kind), whose
 * missing `-N` some servers leave off on HEAD and which is restored here.
 */
function objectChecksums(fields: ObjectFields, partsCount: number | undefined): { checksums: Partial<Record<ChecksumAlgorithm, string>>; checksumType?: ChecksumType } {
  const checksums = checksumsOf(fields);
  const entries = Object.entries(checksums) as [ChecksumAlgorithm, string][];
  if (entries.length === 0) return { checksums };
  let type: ChecksumType | undefined = fields.ChecksumType === 'COMPOSITE' || fields.ChecksumType === 'FULL_OBJECT' ? fields.ChecksumType : undefined;
  if (type === undefined && entries.some(([, v]) => /-\d+$/.test(v))) type = 'COMPOSITE';
  if (type === undefined && partsCount !== undefined && entries.every(([alg]) => COMPOSITE_ONLY.has(alg))) type = 'COMPOSITE';
  if (type === 'COMPOSITE' && partsCount !== undefined) {
    for (const [alg, value] of entries) if (!/-\d+$/.test(value)) checksums[alg] = `${value}-${partsCount}`;
  }
  return type === undefined ? { checksums } : { checksums, checksumType: type };
}

function httpHeadersOf(fields: ObjectFields): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, field] of Object.entries(HTTP_HEADER_FIELDS)) {
    if (field === 'Expires') {
      const value = fields.ExpiresString ?? fields.Expires?.toUTCString();
      if (value) out[header] = value;
    } else {
      const value = fields[field];
      if (value) out[header] = value;
    }
  }
  return out;
}

/**
 * The port's description of an object from a HEAD or GET answer. `size` is the whole object's
 * (from Content-Range when only a part or range was sent); checksums are taken only when the
 * answer describes the whole object (`wholeChecksums`).
 */
export function objectInfoOf(bucket: string, key: string, fields: ObjectFields, wholeChecksums: boolean): ObjectInfo {
  const etag = fields.ETag ?? '""';
  const span = parseContentRange(fields.ContentRange);
  const partsCount = fields.PartsCount ?? etagPartCount(etag);
  const { checksums, checksumType } = wholeChecksums ? objectChecksums(fields, partsCount) : { checksums: {}, checksumType: undefined };
  return {
    bucket,
    key,
    size: span?.size ?? fields.ContentLength ?? 0,
    etag,
    lastModified: fields.LastModified ?? new Date(0),
    contentType: fields.ContentType ?? 'binary/octet-stream',
    userMetadata: { ...(fields.Metadata ?? {}) },
    httpHeaders: httpHeadersOf(fields),
    checksums,
    ...(checksumType === undefined ? {} : { checksumType }),
    ...(partsCount === undefined ? {} : { partsCount }),
  };
}

/** The metadata of a write as PutObject / CreateMultipartUpload / CopyObject parameters. */
export function writeParams(options: PutObjectOptions | undefined): {
  ContentType?: string;
  Metadata?: Record<string, string>;
  CacheControl?: string;
  ContentDisposition?: string;
  ContentEncoding?: string;
  ContentLanguage?: string;
  Expires?: Date;
} {
  const headers = options?.httpHeaders ?? {};
  const out: ReturnType<typeof writeParams> = {};
  // S3's default, stated: the SDK would otherwise send application/octet-stream with a body.
  out.ContentType = options?.contentType ?? 'binary/octet-stream';
  if (options?.userMetadata !== undefined && Object.keys(options.userMetadata).length > 0) out.Metadata = { ...options.userMetadata };
  if (headers['cache-control'] !== undefined) out.CacheControl = headers['cache-control'];
  if (headers['content-disposition'] !== undefined) out.ContentDisposition = headers['content-disposition'];
  if (headers['content-encoding'] !== undefined) out.ContentEncoding = headers['content-encoding'];
  if (headers['content-language'] !== undefined) out.ContentLanguage = headers['content-language'];
  if (headers['expires'] !== undefined) {
    const expires = new Date(headers['expires']);
    if (!Number.isNaN(expires.getTime())) out.Expires = expires;
  }
  return out;
}

/** A range request as a `Range` header value. */
export function rangeHeader(range: RangeRequest): string {
  if ('suffix' in range) return `bytes=-${range.suffix}`;
  return `bytes=${range.start}-${range.end ?? ''}`;
}

/** A precondition as S3's `If-None-Match` / `If-Match` parameters (ETag lists are resolved by the caller). */
export function preconditionParams(precondition: WritePrecondition | undefined): { IfNoneMatch?: string; IfMatch?: string } {
  if (precondition === undefined) return {};
  if ('ifNoneMatch' in precondition) return { IfNoneMatch: '*' };
  return { IfMatch: precondition.ifMatch };
}

/** `"etag"` with quotes whatever the input had. */
export function quoteEtag(etag: string): string {
  const bare = etag.trim().replace(/^W\//, '').replaceAll('"', '');
  return `"${bare}"`;
}
