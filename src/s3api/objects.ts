/** Object operations of the S3 front: PutObject, CopyObject, GetObject, HeadObject, DeleteObject. */
import { pipeline } from 'node:stream/promises';
import { InferqError } from '../errors/index.js';
import type { ObjectInfo, PutObjectOptions } from '../objects/index.js';
import { announcedBody, decodeRequestBody, requireLength } from './body.js';
import { bucketOf, header, keyOf, sendEmpty, sendXml, type S3Request } from './context.js';
import { checkConditions, readWriteOptions, responseOverrides, writeObjectHeaders } from './headers.js';
import { partSelectorOf, passesReadConditions, readSelectorOf, writePartChecksumHeaders, writeSpanHeaders } from './reads.js';
import { readWritePrecondition } from './write-conditions.js';
import { renderXml, xmlDate } from './xml.js';

/** S3's single-PUT limit. */
export const DEFAULT_MAX_OBJECT_BYTES = 5 * 1024 ** 3;

function checksumHeaders(info: ObjectInfo): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [alg, value] of Object.entries(info.checksums)) if (value) out[`x-amz-checksum-${alg.toLowerCase()}`] = value;
  return out;
}

/** PUT /bucket/key */
export async function putObject(r: S3Request): Promise<void> {
  requireLength(r.req);
  const options = readWriteOptions(r.req.headers);
  const precondition = readWritePrecondition(r.req.headers);
  const announced = announcedBody(r.req, r.auth);
  const body = decodeRequestBody(r.req, r.auth, r.deps.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES);
  const stated: PutObjectOptions = Object.assign({}, options, announced);
  const info = await r.deps.store.putObject(bucketOf(r), keyOf(r), body.stream, Object.assign(stated, { checksums: body.checksums }, precondition ? { precondition } : {}));
  sendEmpty(r.res, 200, { ETag: info.etag, ...checksumHeaders(info) });
}

/** Parses `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, URL-encoded). */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const [path = ''] = value.split('?');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.startsWith('/') ? path.slice(1) : path);
  } catch {
    throw new InferqError('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new InferqError('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/** PUT /bucket/key with x-amz-copy-source */
export async function copyObject(r: S3Request): Promise<void> {
  const source = parseCopySource(header(r.req, 'x-amz-copy-source') ?? '');
  const directive = header(r.req, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') throw new InferqError('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive' });
  const precondition = readWritePrecondition(r.req.headers);
  const sourceInfo = await r.deps.store.headObject(source.bucket, source.key);
  checkCopyConditions(r, sourceInfo);
  const info = await r.deps.store.copyObject(source.bucket, source.key, bucketOf(r), keyOf(r), {
    metadataDirective: directive,
    ...(directive === 'REPLACE' ? { metadata: readWriteOptions(r.req.headers) } : {}),
    ...(precondition ? { precondition } : {}),
  });
  sendXml(r.res, 200, renderXml('CopyObjectResult', [['LastModified', xmlDate(info.lastModified)], ['ETag', info.etag]]));
}

/** Applies the `x-amz-copy-source-if-*` conditions to the copy source (PreconditionFailed, never 304). */
export function checkCopyConditions(r: S3Request, info: ObjectInfo): void {
  const map: Record<string, string> = {
    'x-amz-copy-source-if-match': 'if-match',
    'x-amz-copy-source-if-none-match': 'if-none-match',
    'x-amz-copy-source-if-modified-since': 'if-modified-since',
    'x-amz-copy-source-if-unmodified-since': 'if-unmodified-since',
  };
  const headers: Record<string, string> = {};
  for (const [from, to] of Object.entries(map)) {
    const v = header(r.req, from);
    if (v !== undefined) headers[to] = v;
  }
  try {
    checkConditions(headers, info);
  } catch (err) {
    if (err instanceof InferqError && err.code === 'NotModified') throw new InferqError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    throw err;
  }
}

/** GET /bucket/key (Range or partNumber, conditional headers, response-* overrides). */
export async function getObject(r: S3Request): Promise<void> {
  const overrides = responseOverrides(r.address.query);
  const select = readSelectorOf(r);
  const head = await r.deps.store.headObject(bucketOf(r), keyOf(r));
  if (!passesReadConditions(r, head)) return;
  const object = await r.deps.store.getObject(bucketOf(r), keyOf(r), select);
  const { res } = r;
  const checksumMode = header(r.req, 'x-amz-checksum-mode') === 'ENABLED';
  writeObjectHeaders(res, object.info, overrides, checksumMode && !object.range);
  if (checksumMode) writePartChecksumHeaders(res, object.partChecksums);
  writeSpanHeaders(res, object.info, object.range, select !== undefined && 'partNumber' in select);
  await pipeline(object.body, res);
}

/** HEAD /bucket/key (partNumber, conditional headers) */
export async function headObject(r: S3Request): Promise<void> {
  const overrides = responseOverrides(r.address.query);
  const part = partSelectorOf(r);
  const head = await r.deps.store.headObject(bucketOf(r), keyOf(r));
  if (!passesReadConditions(r, head)) return;
  const partHead = part === undefined ? undefined : await r.deps.store.headObjectPart(bucketOf(r), keyOf(r), part);
  const info = partHead?.info ?? head;
  const span = partHead?.range;
  const checksumMode = header(r.req, 'x-amz-checksum-mode') === 'ENABLED';
  writeObjectHeaders(r.res, info, overrides, checksumMode && span === undefined);
  if (checksumMode) writePartChecksumHeaders(r.res, partHead?.partChecksums);
  writeSpanHeaders(r.res, info, span, part !== undefined);
  r.res.end();
}

/** DELETE /bucket/key */
export async function deleteObject(r: S3Request): Promise<void> {
  await r.deps.store.deleteObject(bucketOf(r), keyOf(r));
  sendEmpty(r.res, 204);
}
