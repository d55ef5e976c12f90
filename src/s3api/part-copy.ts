/**
 * UploadPartCopy: `PUT /bucket/key?partNumber=N&uploadId=…` with `x-amz-copy-source`, optionally
 * `x-amz-copy-source-range: bytes=first-last` and the `x-amz-copy-source-if-*` conditions. The
 * source bytes stream from the store into the part (through a checksum computation when the upload
 * has a checksum algorithm); the conditions are checked on the version being read.
 */
import { pipeline } from 'node:stream';
import { createChecksumVerifier } from '../auth/index.js';
import { InferqError } from '../errors/index.js';
import type { ObjectStream, PartInfo } from '../objects/index.js';
import { bucketOf, header, keyOf, sendXml, type S3Request } from './context.js';
import { checkPartAlgorithm, partChecksumXml } from './multipart-checksums.js';
import { partNumberOf, uploadOf } from './multipart.js';
import { checkCopyConditions, DEFAULT_MAX_OBJECT_BYTES, parseCopySource } from './objects.js';
import { renderXml, xmlDate } from './xml.js';

/** The largest part (and so the largest copied range), as in S3. */
const MAX_PART_BYTES = 5 * 1024 ** 3;

/**
 * Parses `x-amz-copy-source-range` (`bytes=first-last`, both required, first ≤ last).
 * @throws InferqError InvalidArgument for any other form.
 */
export function parseCopyRange(value: string | undefined): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^bytes=(\d{1,16})-(\d{1,16})$/.exec(value.trim());
  if (!match || Number(match[1]) > Number(match[2])) {
    throw new InferqError('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', {
      ArgumentName: 'x-amz-copy-source-range',
      ArgumentValue: value,
    });
  }
  return { start: Number(match[1]), end: Number(match[2]) };
}

function rangeOutsideSource(value: string, size: number): InferqError {
  return new InferqError('InvalidArgument', `Range specified is not valid for source object of size: ${size}`, {
    ArgumentName: 'x-amz-copy-source-range',
    ArgumentValue: value,
  });
}

/** Opens the source (the requested range of it), checking the range lies inside it and the conditions hold. */
async function openSource(r: S3Request, range: { start: number; end: number } | undefined): Promise<ObjectStream> {
  const source = parseCopySource(header(r.req, 'x-amz-copy-source') ?? '');
  const rangeHeader = header(r.req, 'x-amz-copy-source-range') ?? '';
  let object: ObjectStream;
  try {
    object = await r.deps.store.getObject(source.bucket, source.key, range);
  } catch (err) {
    if (range && err instanceof InferqError && err.code === 'InvalidRange') {
      const head = await r.deps.store.headObject(source.bucket, source.key);
      throw rangeOutsideSource(rangeHeader, head.size);
    }
    throw err;
  }
  try {
    if (range && object.range?.end !== range.end) throw rangeOutsideSource(rangeHeader, object.info.size);
    checkCopyConditions(r, object.info);
    const length = object.range ? object.range.end - object.range.start + 1 : object.info.size;
    if (length > Math.min(MAX_PART_BYTES, r.deps.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES)) {
      throw new InferqError('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PART_BYTES}`);
    }
  } catch (err) {
    object.body.destroy();
    throw err;
  }
  return object;
}

/** PUT /bucket/key?partNumber=N&uploadId=… with x-amz-copy-source */
export async function uploadPartCopy(r: S3Request): Promise<void> {
  const partNumber = partNumberOf(r);
  const range = parseCopyRange(header(r.req, 'x-amz-copy-source-range'));
  const upload = await uploadOf(r);
  checkPartAlgorithm(upload, r.req.headers, true);
  const object = await openSource(r, range);
  const alg = upload.checksumAlgorithm;
  const hasher = createChecksumVerifier({}, () => ({}), { compute: alg ? [alg] : [] });
  pipeline(object.body, hasher, () => undefined);
  let part: PartInfo;
  try {
    const contentLength = object.range ? object.range.end - object.range.start + 1 : object.info.size;
    part = await r.deps.store.uploadPart(bucketOf(r), keyOf(r), upload.uploadId, partNumber, hasher, { checksums: () => hasher.computedChecksums(), contentLength });
  } catch (err) {
    hasher.destroy(); // and with it the source stream
    throw err;
  }
  sendXml(r.res, 200, renderXml('CopyPartResult', [['LastModified', xmlDate(part.lastModified)], ['ETag', part.etag], ...partChecksumXml(upload, part)]));
}
