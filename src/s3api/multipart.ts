/** Multipart upload operations of the S3 front. */
import { InferqError, isInferqError } from '../errors/index.js';
import type { CompletedPart, UploadInfo } from '../objects/index.js';
import { announcedBody, decodeRequestBody, readSmallBody, requireLength } from './body.js';
import { bucketOf, keyOf, sendEmpty, sendXml, type S3Request } from './context.js';
import { readWriteOptions } from './headers.js';
import {
  checkExpectationsAgainstUpload,
  checkPartAlgorithm,
  hasExpectations,
  listedChecksums,
  objectChecksum,
  objectChecksumXml,
  partChecksumHeaders,
  partChecksumXml,
  readCompleteExpectations,
  readUploadChecksum,
  uploadChecksumHeaders,
} from './multipart-checksums.js';
import { DEFAULT_MAX_OBJECT_BYTES } from './objects.js';
import { readWritePrecondition } from './write-conditions.js';
import { parseXmlBody, renderXml, xmlDate, type XmlNode } from './xml.js';

const MAX_XML_BYTES = 2 * 1024 * 1024;

/** The `uploadId` query parameter, or InvalidArgument. */
export function uploadIdOf(r: S3Request): string {
  const id = r.address.query.get('uploadId');
  if (!id) throw new InferqError('InvalidArgument', 'uploadId must be given', { ArgumentName: 'uploadId' });
  return id;
}

/** An integer query parameter within bounds (undefined when absent), or InvalidArgument. */
export function integerParam(r: S3Request, name: string, min: number, max: number): number | undefined {
  const raw = r.address.query.get(name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InferqError('InvalidArgument', `${name} must be an integer between ${min} and ${max}`, { ArgumentName: name, ArgumentValue: raw });
  }
  return Number(raw);
}

/** POST /bucket/key?uploads (with `x-amz-checksum-algorithm` / `x-amz-checksum-type`). */
export async function createMultipartUpload(r: S3Request): Promise<void> {
  const options = Object.assign({}, readWriteOptions(r.req.headers), readUploadChecksum(r.req.headers));
  const upload = await r.deps.store.createMultipartUpload(bucketOf(r), keyOf(r), options);
  for (const [name, value] of Object.entries(uploadChecksumHeaders(upload))) r.res.setHeader(name, value);
  sendXml(r.res, 200, renderXml('InitiateMultipartUploadResult', [['Bucket', upload.bucket], ['Key', upload.key], ['UploadId', upload.uploadId]]));
}

/** The upload a part request names (NoSuchUpload before its body is read). */
export async function uploadOf(r: S3Request): Promise<UploadInfo> {
  return (await r.deps.store.listParts(bucketOf(r), keyOf(r), uploadIdOf(r), { maxParts: 0 })).upload;
}

/** The open upload a request names, or undefined when there is none (NoSuchUpload). */
async function openUploadOf(r: S3Request): Promise<UploadInfo | undefined> {
  try {
    return await uploadOf(r);
  } catch (err) {
    if (isInferqError(err, 'NoSuchUpload')) return undefined;
    throw err;
  }
}

/** The `partNumber` query parameter, required. */
export function partNumberOf(r: S3Request): number {
  const partNumber = integerParam(r, 'partNumber', 1, 10000);
  if (partNumber === undefined) throw new InferqError('InvalidArgument', 'partNumber must be given', { ArgumentName: 'partNumber' });
  return partNumber;
}

/** PUT /bucket/key?partNumber=N&uploadId=… (a part of an upload with an algorithm records its checksum). */
export async function uploadPart(r: S3Request): Promise<void> {
  requireLength(r.req);
  const partNumber = partNumberOf(r);
  const upload = await uploadOf(r);
  checkPartAlgorithm(upload, r.req.headers);
  const alg = upload.checksumAlgorithm;
  const body = decodeRequestBody(r.req, r.auth, r.deps.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES, alg ? [alg] : []);
  const { contentLength } = announcedBody(r.req, r.auth);
  const part = await r.deps.store.uploadPart(bucketOf(r), keyOf(r), upload.uploadId, partNumber, body.stream, Object.assign({ checksums: body.computed }, contentLength === undefined ? {} : { contentLength }));
  sendEmpty(r.res, 200, { ETag: part.etag, ...partChecksumHeaders(upload, part, body.checksums()) });
}

function completedParts(doc: Record<string, unknown>): CompletedPart[] {
  const root = doc['CompleteMultipartUpload'];
  const parts = typeof root === 'object' && root !== null ? (root as Record<string, unknown>)['Part'] : undefined;
  if (!Array.isArray(parts) || parts.length === 0) throw new InferqError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  return parts.map((p: unknown) => {
    const part = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
    const num = part['PartNumber'];
    const etag = part['ETag'];
    if (typeof num !== 'string' || !/^\d+$/.test(num.trim()) || typeof etag !== 'string') {
      throw new InferqError('MalformedXML', 'Each Part needs a PartNumber and an ETag.');
    }
    const checksums = listedChecksums(part);
    return { partNumber: Number(num.trim()), etag: etag.trim(), ...(Object.keys(checksums).length > 0 ? { checksums } : {}) };
  });
}

/** POST /bucket/key?uploadId=… (checks and answers the object checksum of an upload with an algorithm). */
export async function completeMultipartUpload(r: S3Request): Promise<void> {
  const precondition = readWritePrecondition(r.req.headers);
  const expect = readCompleteExpectations(r.req.headers);
  const parts = completedParts(parseXmlBody(await readSmallBody(r.req, r.auth, MAX_XML_BYTES, true)));
  if (hasExpectations(expect)) {
    // A repeated completion finds no open upload; the store then answers the object it made.
    const upload = await openUploadOf(r);
    if (upload) checkExpectationsAgainstUpload(expect, upload);
  }
  const info = await r.deps.store.completeMultipartUpload(bucketOf(r), keyOf(r), uploadIdOf(r), parts, {
    objectChecksum: (upload, stored) => objectChecksum(expect, upload, stored),
    ...(precondition ? { precondition } : {}),
  });
  sendXml(r.res, 200, renderXml('CompleteMultipartUploadResult', [
    ['Location', `/${encodeURIComponent(info.bucket)}/${info.key.split('/').map(encodeURIComponent).join('/')}`],
    ['Bucket', info.bucket],
    ['Key', info.key],
    ['ETag', info.etag],
    ...objectChecksumXml(info),
  ]));
}

/** DELETE /bucket/key?uploadId=… */
export async function abortMultipartUpload(r: S3Request): Promise<void> {
  await r.deps.store.abortMultipartUpload(bucketOf(r), keyOf(r), uploadIdOf(r));
  sendEmpty(r.res, 204);
}

/** GET /bucket/key?uploadId=… */
export async function listParts(r: S3Request): Promise<void> {
  const maxParts = integerParam(r, 'max-parts', 0, 2147483647) ?? 1000;
  const marker = integerParam(r, 'part-number-marker', 0, 10000);
  const page = await r.deps.store.listParts(bucketOf(r), keyOf(r), uploadIdOf(r), { maxParts: Math.min(maxParts, 1000), ...(marker ? { partNumberMarker: marker } : {}) });
  sendXml(r.res, 200, renderXml('ListPartsResult', [
    ['Bucket', page.upload.bucket],
    ['Key', page.upload.key],
    ['UploadId', page.upload.uploadId],
    ['PartNumberMarker', marker ?? 0],
    ['NextPartNumberMarker', page.nextPartNumberMarker],
    ['MaxParts', maxParts],
    ['IsTruncated', page.isTruncated],
    ['StorageClass', 'STANDARD'],
    ['ChecksumAlgorithm', page.upload.checksumAlgorithm],
    ['ChecksumType', page.upload.checksumType],
    ...page.parts.map((p): [string, XmlNode] => ['Part', [['PartNumber', p.partNumber], ['LastModified', xmlDate(p.lastModified)], ['ETag', p.etag], ['Size', p.size], ...partChecksumXml(page.upload, p)]]),
  ]));
}
