/**
 * The checksum rules of multipart uploads in the local store: which algorithm and type an upload
 * may declare, the checksum each part records, what CompleteMultipartUpload must list, and the
 * metadata the finished object carries. The checksums themselves are computed by the caller (the
 * S3 front verifies and computes them as the bytes stream by); the store records and compares.
 */
import { InferqError } from '../../errors/index.js';
import type { ChecksumAlgorithm, ChecksumType, CompletedPart, CompleteMultipartUploadOptions, MultipartUploadOptions, UploadPartOptions } from '../port.js';
import { decodeMeta, encodeMeta, toPartInfo, toUploadInfo, type PartRow, type UploadRow } from './statements.js';

/** Algorithms whose part CRCs combine into a checksum of the whole object. */
const FULL_OBJECT_ALGORITHMS: ReadonlySet<ChecksumAlgorithm> = new Set(['CRC32', 'CRC32C', 'CRC64NVME']);

/** The algorithm and type an upload records (both null without an algorithm). */
export function uploadChecksumColumns(options: MultipartUploadOptions | undefined): [ChecksumAlgorithm | null, ChecksumType | null] {
  const alg = options?.checksumAlgorithm;
  const type = options?.checksumType;
  if (alg === undefined) {
    if (type !== undefined) throw new InferqError('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return [null, null];
  }
  const resolved = type ?? (alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (resolved === 'FULL_OBJECT' && !FULL_OBJECT_ALGORITHMS.has(alg)) {
    throw new InferqError('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`);
  }
  if (resolved === 'COMPOSITE' && alg === 'CRC64NVME') {
    throw new InferqError('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  }
  return [alg, resolved];
}

/**
 * The checksum a part records: its value under the upload's algorithm (null for an upload
 * without one). Call only after the part's body has ended.
 * @throws InferqError InvalidRequest when the upload has an algorithm and its value was not given.
 */
export function partChecksum(upload: UploadRow, options: UploadPartOptions | undefined): string | null {
  const alg = upload.checksum_algorithm;
  if (alg === null) return null;
  const given = options?.checksums;
  const checksums = typeof given === 'function' ? given() : (given ?? {});
  const value = checksums[alg];
  if (value === undefined) {
    throw new InferqError('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${alg.toLowerCase()}, actual checksum Type: null`);
  }
  return value;
}

function invalidPart(uploadId: string, part: CompletedPart): InferqError {
  return new InferqError('InvalidPart', "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", {
    UploadId: uploadId,
    PartNumber: String(part.partNumber),
    ETag: part.etag,
  });
}

/**
 * Checks a CompleteMultipartUpload list against the stored parts (`rows`, in the same order) for
 * an upload with an algorithm: numbered 1, 2, 3, …; every listed checksum matching the stored one;
 * a COMPOSITE upload listing every part's checksum.
 */
export function checkListedChecksums(upload: UploadRow, parts: readonly CompletedPart[], rows: readonly PartRow[]): void {
  const alg = upload.checksum_algorithm;
  if (alg === null) return;
  parts.forEach((part, i) => {
    if (part.partNumber !== i + 1) {
      throw new InferqError('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    }
    const listed = part.checksums?.[alg];
    const others = Object.keys(part.checksums ?? {}).filter((name) => name !== alg);
    if (others.length > 0) throw invalidPart(upload.id, part);
    if (listed === undefined) {
      if (upload.checksum_type === 'COMPOSITE') {
        throw new InferqError('InvalidRequest', `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.partNumber} in the request.`);
      }
    } else if (listed !== rows[i]?.checksum) {
      throw invalidPart(upload.id, part);
    }
  });
}

/**
 * The metadata the completed object carries: the upload's, with the object checksum computed by
 * `options.objectChecksum` for an upload with an algorithm.
 */
export function completedMeta(upload: UploadRow, rows: readonly PartRow[], options: CompleteMultipartUploadOptions | undefined): string {
  const alg = upload.checksum_algorithm;
  if (alg === null || upload.checksum_type === null) return upload.meta;
  if (!options?.objectChecksum) throw new InferqError('InternalError', 'Completing an upload with a checksum algorithm needs objectChecksum.');
  const value = options.objectChecksum(toUploadInfo(upload), rows.map(toPartInfo));
  const meta = decodeMeta(upload.meta);
  return encodeMeta(meta, { [alg]: value }, upload.checksum_type);
}
