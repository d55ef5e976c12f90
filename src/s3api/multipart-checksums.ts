/**
 * Multipart checksums on the S3 wire, as S3 documents them: CreateMultipartUpload's
 * `x-amz-checksum-algorithm` / `x-amz-checksum-type`, the checksum every UploadPart must (COMPOSITE)
 * or may (FULL_OBJECT) carry, the part checksums listed in CompleteMultipartUpload, and the object
 * checksum Complete computes (composite `base64-N` or a full-object CRC) and checks against the
 * `x-amz-checksum-<alg>`, `x-amz-checksum-type` and `x-amz-mp-object-size` the client sent.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { CHECKSUM_ALGORITHMS, checksumHeaderName, combineCrcs, compositeChecksum, isCombinable } from '../auth/index.js';
import { InferqError } from '../errors/index.js';
import type { ChecksumAlgorithm, ChecksumType, ObjectInfo, PartInfo, UploadInfo } from '../objects/index.js';
import type { XmlNode } from './xml.js';

const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Whether `value` is the base64 of a digest of `alg` (strict base64, right length). */
function isDigest(alg: ChecksumAlgorithm, value: string): boolean {
  return BASE64.test(value) && Buffer.from(value, 'base64').length === DIGEST_BYTES[alg];
}

/** The XML element of an algorithm's checksum, e.g. `ChecksumSHA256`. */
export function checksumElement(alg: ChecksumAlgorithm): string {
  return `Checksum${alg}`;
}

/** Reads CreateMultipartUpload's checksum headers (names and values case-insensitive, as S3 accepts). */
export function readUploadChecksum(headers: IncomingHttpHeaders): { checksumAlgorithm?: ChecksumAlgorithm; checksumType?: ChecksumType } {
  const rawAlg = single(headers, 'x-amz-checksum-algorithm');
  const rawType = single(headers, 'x-amz-checksum-type');
  const alg = rawAlg === undefined ? undefined : CHECKSUM_ALGORITHMS.find((a) => a === rawAlg.trim().toUpperCase());
  if (rawAlg !== undefined && alg === undefined) {
    throw new InferqError('InvalidRequest', `Checksum algorithm provided is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(', ')}]`);
  }
  const type = rawType === undefined ? undefined : (['COMPOSITE', 'FULL_OBJECT'] as const).find((t) => t === rawType.trim().toUpperCase());
  if (rawType !== undefined && type === undefined) throw new InferqError('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  return Object.assign({}, alg ? { checksumAlgorithm: alg } : {}, type ? { checksumType: type } : {});
}

/** The response headers naming an upload's checksum algorithm and type. */
export function uploadChecksumHeaders(upload: UploadInfo): Record<string, string> {
  if (!upload.checksumAlgorithm || !upload.checksumType) return {};
  return { 'x-amz-checksum-algorithm': upload.checksumAlgorithm, 'x-amz-checksum-type': upload.checksumType };
}

/** The algorithms a request carries a checksum of, as a header or named by `x-amz-trailer`. */
export function sentAlgorithms(headers: IncomingHttpHeaders): ChecksumAlgorithm[] {
  const trailers = (single(headers, 'x-amz-trailer') ?? '').split(',').map((t) => t.trim().toLowerCase());
  return CHECKSUM_ALGORITHMS.filter((alg) => headers[checksumHeaderName(alg)] !== undefined || trailers.includes(checksumHeaderName(alg)));
}

/**
 * Checks, before its body is read, that an UploadPart (or UploadPartCopy) request fits its
 * upload: no checksum of another algorithm, and for COMPOSITE uploads one of the upload's.
 * @throws InferqError InvalidRequest `Checksum Type mismatch occurred, …`
 */
export function checkPartAlgorithm(upload: UploadInfo, headers: IncomingHttpHeaders, copy = false): void {
  const alg = upload.checksumAlgorithm;
  if (!alg) return;
  const sent = sentAlgorithms(headers);
  const other = sent.find((a) => a !== alg);
  const missing = !copy && upload.checksumType === 'COMPOSITE' && !sent.includes(alg);
  if (other !== undefined || missing) {
    throw new InferqError('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${alg.toLowerCase()}, actual checksum Type: ${other?.toLowerCase() ?? 'null'}`);
  }
}

/** The checksums of a Part element of CompleteMultipartUpload (at most one, valid base64 of its algorithm). */
export function listedChecksums(part: Readonly<Record<string, unknown>>): Partial<Record<ChecksumAlgorithm, string>> {
  const found: [ChecksumAlgorithm, string][] = [];
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = part[checksumElement(alg)];
    if (typeof value === 'string') found.push([alg, value.trim()]);
  }
  if (found.length > 1 || (found[0] && !isDigest(found[0][0], found[0][1]))) {
    throw new InferqError('InvalidArgument', 'Invalid Base64 or multiple checksums present in request', {
      ArgumentName: 'Checksum',
      ArgumentValue: found.map(([alg, value]) => `${alg}:${value};`).join(''),
    });
  }
  return Object.fromEntries(found);
}

/** What a CompleteMultipartUpload request says about the object's checksum. */
export interface CompleteExpectations {
  readonly type?: ChecksumType;
  /** `x-amz-checksum-<alg>` headers sent, by algorithm. */
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>;
  readonly objectSize?: number;
}

/** Reads CompleteMultipartUpload's checksum headers; whether any was sent tells if the upload must be looked up first. */
export function readCompleteExpectations(headers: IncomingHttpHeaders): CompleteExpectations {
  const { checksumType } = readUploadChecksum({ 'x-amz-checksum-type': headers['x-amz-checksum-type'] });
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = single(headers, checksumHeaderName(alg));
    if (value !== undefined) checksums[alg] = value.trim();
  }
  const rawSize = single(headers, 'x-amz-mp-object-size');
  if (rawSize !== undefined && !/^\d{1,16}$/.test(rawSize.trim())) {
    throw new InferqError('InvalidArgument', 'Value for x-amz-mp-object-size header is invalid.', { ArgumentName: 'x-amz-mp-object-size', ArgumentValue: rawSize });
  }
  return Object.assign({ checksums }, checksumType ? { type: checksumType } : {}, rawSize === undefined ? {} : { objectSize: Number(rawSize.trim()) });
}

/** Whether Complete must look at the upload before completing it (checksum expectations were sent). */
export function hasExpectations(e: CompleteExpectations): boolean {
  return e.type !== undefined || Object.keys(e.checksums).length > 0;
}

/**
 * Checks expectations that need only the upload (before its parts are assembled): the checksum
 * type, and that checksums are expected only of an upload with an algorithm, and of its algorithm.
 */
export function checkExpectationsAgainstUpload(e: CompleteExpectations, upload: UploadInfo): void {
  const alg = upload.checksumAlgorithm;
  const sent = Object.keys(e.checksums) as ChecksumAlgorithm[];
  const other = sent.find((a) => a !== alg);
  if (other !== undefined) {
    throw new InferqError('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${alg?.toLowerCase() ?? 'null'}, actual checksum Type: ${other.toLowerCase()}`);
  }
  if (e.type !== undefined && e.type !== upload.checksumType) {
    throw new InferqError('BadDigest', `The checksum type you specified (${e.type}) did not match the checksum type of the upload (${upload.checksumType ?? 'none'}).`);
  }
}

/** Computes an object's checksum from its parts and checks it against what the client expects. */
export function objectChecksum(e: CompleteExpectations, upload: UploadInfo, parts: readonly PartInfo[]): string {
  const alg = upload.checksumAlgorithm;
  if (!alg) throw new InferqError('InternalError', 'objectChecksum called for an upload without a checksum algorithm.');
  checkExpectationsAgainstUpload(e, upload);
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  if (e.objectSize !== undefined && e.objectSize !== total) {
    throw new InferqError('InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${e.objectSize} does not match what was computed: ${total}`);
  }
  const checksums = parts.map((p) => p.checksum ?? '');
  const value = upload.checksumType === 'FULL_OBJECT' && isCombinable(alg)
    ? combineCrcs(alg, parts.map((p, i) => ({ checksum: checksums[i]!, size: p.size })))
    : compositeChecksum(alg, checksums);
  const expected = e.checksums[alg];
  if (expected !== undefined) checkExpected(alg, upload.checksumType, expected, value);
  return value;
}

function checkExpected(alg: ChecksumAlgorithm, type: ChecksumType | undefined, expected: string, value: string): void {
  const match = type === 'COMPOSITE' ? /^([^-]+)(?:-(\d+))?$/.exec(expected) : /^([^-]+)()$/.exec(expected);
  const digest = match?.[1];
  if (!digest || !isDigest(alg, digest)) throw new InferqError('InvalidRequest', `Value for ${checksumHeaderName(alg)} header is invalid.`);
  const count = match[2];
  const [computed, computedCount] = value.split('-');
  if (digest !== computed || (count && count !== computedCount)) {
    throw new InferqError('BadDigest', `The ${alg.toLowerCase()} you specified did not match the calculated checksum.`);
  }
}

/** Response headers with a part's checksum: the part's under its upload's algorithm, plus any other verified. */
export function partChecksumHeaders(upload: UploadInfo, part: PartInfo, verified: Partial<Record<ChecksumAlgorithm, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [alg, value] of Object.entries(verified) as [ChecksumAlgorithm, string][]) if (value) out[checksumHeaderName(alg)] = value;
  if (upload.checksumAlgorithm && part.checksum) out[checksumHeaderName(upload.checksumAlgorithm)] = part.checksum;
  return out;
}

/** XML children naming a part's checksum (ListParts Part, CopyPartResult). */
export function partChecksumXml(upload: UploadInfo, part: PartInfo): XmlNode {
  return upload.checksumAlgorithm && part.checksum ? [[checksumElement(upload.checksumAlgorithm), part.checksum]] : [];
}

/** XML children of a completed object's checksum and checksum type (CompleteMultipartUploadResult). */
export function objectChecksumXml(info: ObjectInfo): XmlNode {
  const entries = Object.entries(info.checksums) as [ChecksumAlgorithm, string][];
  if (entries.length === 0) return [];
  return [...entries.map(([alg, value]): [string, string] => [checksumElement(alg), value]), ['ChecksumType', info.checksumType ?? 'FULL_OBJECT']];
}
