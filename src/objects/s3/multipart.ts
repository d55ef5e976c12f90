/**
 * Multipart uploads on an S3 backend. The part list of a completion is checked here first, with
 * the same rules and error codes as the local store (ascending, known ETags, 5 MiB parts, the
 * checksum rules), so every backend answers alike; S3 then assembles the object and computes its
 * checksum itself. An upload's algorithm and type are remembered for the uploads this process
 * created (ListParts tells them otherwise). A completion of an upload that already completed
 * answers the object it made while that is still the key's current object (by its multipart ETag).
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  type CompletedPart as SdkCompletedPart,
  type ListPartsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InferqError, isInferqError } from '../../errors/index.js';
import { MIN_PART_SIZE, multipartEtag } from '../local/multipart.js';
import { uploadChecksumColumns } from '../local/part-checksums.js';
import { keyBytes, validatePartNumber } from '../local/validate.js';
import type { ChecksumAlgorithm, CompletedPart, CompleteMultipartUploadOptions, ListPartsPage, MultipartUploadOptions, PartInfo, UploadInfo, UploadPartOptions } from '../port.js';
import { checksumSetting, checksumsOf, quoteEtag, writeParams } from './convert.js';
import { s3Call } from './errors.js';
import { sendWithBody } from './upload.js';

/** Most uploads whose checksum settings are remembered. */
const MAX_REMEMBERED = 10_000;

/** Largest part of unknown length held in memory to learn its length (S3 needs it before the body). */
export const MAX_BUFFERED_PART_BYTES = 64 * 1024 * 1024;

/** What multipart calls share: the client, and the uploads this process created. */
export class UploadBook {
  private readonly known = new Map<string, UploadInfo>();
  constructor(readonly client: S3Client) {}

  remember(upload: UploadInfo): void {
    this.known.set(upload.uploadId, upload);
    if (this.known.size > MAX_REMEMBERED) {
      const oldest = this.known.keys().next();
      if (oldest.done !== true) this.known.delete(oldest.value);
    }
  }

  forget(uploadId: string): void {
    this.known.delete(uploadId);
  }

  /** The remembered upload when it is of this bucket and key. */
  recall(bucket: string, key: string, uploadId: string): UploadInfo | undefined {
    const upload = this.known.get(uploadId);
    return upload && upload.bucket === bucket && upload.key === key ? upload : undefined;
  }
}

function partInfoOf(part: NonNullable<ListPartsCommandOutput['Parts']>[number], alg: ChecksumAlgorithm | undefined): PartInfo {
  const checksum = alg === undefined ? undefined : checksumsOf(part)[alg];
  return {
    partNumber: part.PartNumber ?? 0,
    etag: quoteEtag(part.ETag ?? ''),
    size: part.Size ?? 0,
    lastModified: part.LastModified ?? new Date(0),
    ...(checksum === undefined ? {} : { checksum }),
  };
}

/** The upload as a ListParts answer describes it (the remembered one when this process made it). */
function uploadOf(book: UploadBook, bucket: string, key: string, uploadId: string, out: ListPartsCommandOutput): UploadInfo {
  const remembered = book.recall(bucket, key, uploadId);
  if (remembered) return remembered;
  const alg = checksumSetting(out.ChecksumAlgorithm);
  const type = out.ChecksumType === 'COMPOSITE' || out.ChecksumType === 'FULL_OBJECT' ? out.ChecksumType : alg === undefined ? undefined : alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
  return { bucket, key, uploadId, initiated: new Date(0), ...(alg === undefined || type === undefined ? {} : { checksumAlgorithm: alg, checksumType: type }) };
}

/** Starts an upload with the object's metadata and checksum settings. */
export async function createUpload(book: UploadBook, bucket: string, key: string, options?: MultipartUploadOptions): Promise<UploadInfo> {
  keyBytes(key);
  const [alg, type] = uploadChecksumColumns(options);
  const out = await s3Call({ bucket, key }, () => book.client.send(new CreateMultipartUploadCommand({
    Bucket: bucket, Key: key, ...writeParams(options), ...(alg === null || type === null ? {} : { ChecksumAlgorithm: alg, ChecksumType: type }),
  })));
  if (!out.UploadId) throw new InferqError('InternalError', 'The S3 backend answered CreateMultipartUpload without an UploadId.');
  const upload: UploadInfo = { bucket, key, uploadId: out.UploadId, initiated: new Date(), ...(alg === null || type === null ? {} : { checksumAlgorithm: alg, checksumType: type }) };
  book.remember(upload);
  return upload;
}

/** One page of an upload's parts. */
export async function listParts(book: UploadBook, bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): Promise<ListPartsPage> {
  keyBytes(key);
  const maxParts = Math.max(0, Math.floor(options.maxParts));
  const out = await s3Call({ bucket, key, uploadId, notFound: 'NoSuchUpload' }, () => book.client.send(new ListPartsCommand({
    Bucket: bucket, Key: key, UploadId: uploadId, MaxParts: Math.max(1, maxParts), ...(options.partNumberMarker === undefined ? {} : { PartNumberMarker: String(options.partNumberMarker) }),
  })));
  const upload = uploadOf(book, bucket, key, uploadId, out);
  if (maxParts === 0) return { upload, parts: [], isTruncated: false };
  const parts = (out.Parts ?? []).slice(0, maxParts).map((p) => partInfoOf(p, upload.checksumAlgorithm));
  const last = parts.at(-1);
  return out.IsTruncated === true && last ? { upload, parts, isTruncated: true, nextPartNumberMarker: last.partNumber } : { upload, parts, isTruncated: false };
}

/** Every part of an upload, ascending. */
async function allParts(book: UploadBook, bucket: string, key: string, uploadId: string): Promise<{ upload: UploadInfo; parts: PartInfo[] }> {
  const parts: PartInfo[] = [];
  let marker: number | undefined;
  for (;;) {
    const page = await listParts(book, bucket, key, uploadId, { maxParts: 1000, ...(marker === undefined ? {} : { partNumberMarker: marker }) });
    parts.push(...page.parts);
    if (!page.isTruncated) return { upload: page.upload, parts };
    marker = page.nextPartNumberMarker;
  }
}

/** The upload a part goes to: remembered, or asked for (NoSuchUpload before any byte is sent). */
async function uploadForPart(book: UploadBook, bucket: string, key: string, uploadId: string): Promise<UploadInfo> {
  return book.recall(bucket, key, uploadId) ?? (await listParts(book, bucket, key, uploadId, { maxParts: 0 })).upload;
}

/** Reads a part of unknown length into memory, at most {@link MAX_BUFFERED_PART_BYTES}. */
async function bufferPart(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > MAX_BUFFERED_PART_BYTES) {
      body.destroy();
      throw new InferqError('MissingContentLength', `A part sent without Content-Length may hold at most ${MAX_BUFFERED_PART_BYTES} bytes on an S3 backend; send its Content-Length.`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Stores one part; S3 computes its checksum under the upload's algorithm. A part of an upload with
 * an algorithm whose checksums the caller did not announce is refused before anything is sent.
 */
export async function uploadPart(book: UploadBook, bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, options?: UploadPartOptions): Promise<PartInfo> {
  keyBytes(key);
  validatePartNumber(partNumber);
  const upload = await uploadForPart(book, bucket, key, uploadId);
  const alg = upload.checksumAlgorithm;
  const given = options?.checksums;
  if (alg !== undefined && (given === undefined || (typeof given !== 'function' && given[alg] === undefined))) {
    throw new InferqError('InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${alg.toLowerCase()}, actual checksum Type: null`);
  }
  const known = given !== undefined && typeof given !== 'function' && alg !== undefined ? given[alg] : undefined;
  const checksum = alg === undefined ? {} : known !== undefined ? { ChecksumAlgorithm: alg, [`Checksum${alg}`]: known } : { ChecksumAlgorithm: alg };
  const ctx = { bucket, key, uploadId };
  const length = options?.contentLength;
  const payload: Readable | Buffer = length === undefined ? await bufferPart(body) : body;
  const out = await sendWithBody(body, ctx, (abortSignal) => book.client.send(new UploadPartCommand({
    Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: payload, ContentLength: length ?? (payload as Buffer).length, ...checksum,
  }), { abortSignal }));
  const value = alg === undefined ? undefined : checksumsOf(out)[alg] ?? known;
  return { partNumber, etag: quoteEtag(out.ETag ?? ''), size: length ?? (payload as Buffer).length, lastModified: new Date(), ...(value === undefined ? {} : { checksum: value }) };
}

function invalidPart(uploadId: string, part: CompletedPart): InferqError {
  return new InferqError('InvalidPart', "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", {
    UploadId: uploadId, PartNumber: String(part.partNumber), ETag: part.etag,
  });
}

const outOfOrder = (): InferqError => new InferqError('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');

/** Checks a completion's part list against the stored parts (see the local store); returns them in list order. */
export function checkPartList(upload: UploadInfo, stored: readonly PartInfo[], parts: readonly CompletedPart[]): PartInfo[] {
  if (parts.length === 0) throw new InferqError('InvalidRequest', 'You must specify at least one part.');
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  const alg = upload.checksumAlgorithm;
  const rows: PartInfo[] = [];
  let previous = 0;
  for (const part of parts) {
    if (part.partNumber <= previous) throw outOfOrder();
    previous = part.partNumber;
    const row = byNumber.get(part.partNumber);
    if (!row || quoteEtag(row.etag) !== quoteEtag(part.etag)) throw invalidPart(upload.uploadId, part);
    rows.push(row);
  }
  for (const row of rows.slice(0, -1)) {
    if (row.size < MIN_PART_SIZE) {
      throw new InferqError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { PartNumber: String(row.partNumber), ProposedSize: String(row.size), MinSizeAllowed: String(MIN_PART_SIZE) });
    }
  }
  if (alg === undefined) return rows;
  return parts.map((part, i) => {
    const row = rows[i]!;
    if (part.partNumber !== i + 1) throw outOfOrder();
    if (Object.keys(part.checksums ?? {}).some((name) => name !== alg)) throw invalidPart(upload.uploadId, part);
    const listed = part.checksums?.[alg];
    if (listed === undefined && upload.checksumType === 'COMPOSITE') {
      throw new InferqError('InvalidRequest', `The upload was created using a ${alg.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.partNumber} in the request.`);
    }
    if (listed === undefined) return row;
    // A backend whose ListParts names no part checksums checks the listed ones at completion.
    if (row.checksum === undefined) return Object.assign({}, row, { checksum: listed });
    if (listed !== row.checksum) throw invalidPart(upload.uploadId, part);
    return row;
  });
}

/**
 * Completes an upload: checks the list, lets `options.objectChecksum` check the object checksum
 * (it may refuse: nothing is written), then has S3 assemble the object under the precondition.
 * Returns the new object's ETag (the caller reads its description).
 */
export async function completeUpload(book: UploadBook, bucket: string, key: string, uploadId: string, parts: readonly CompletedPart[], options: CompleteMultipartUploadOptions | undefined, condition: { IfNoneMatch?: string; IfMatch?: string }): Promise<{ etag: string; repeated: boolean }> {
  keyBytes(key);
  let found: { upload: UploadInfo; parts: PartInfo[] };
  try {
    found = await allParts(book, bucket, key, uploadId);
  } catch (err) {
    if (isInferqError(err, 'NoSuchUpload') && parts.length > 0) return { etag: multipartEtag(parts.map((p) => p.etag)), repeated: true };
    throw err;
  }
  const rows = checkPartList(found.upload, found.parts, parts);
  const alg = found.upload.checksumAlgorithm;
  if (alg !== undefined) {
    if (!options?.objectChecksum) throw new InferqError('InternalError', 'Completing an upload with a checksum algorithm needs objectChecksum.');
    options.objectChecksum(found.upload, rows);
  }
  const listed: SdkCompletedPart[] = rows.map((row) => ({ PartNumber: row.partNumber, ETag: row.etag, ...(alg !== undefined && row.checksum !== undefined ? { [`Checksum${alg}`]: row.checksum } : {}) }));
  const out = await s3Call({ bucket, key, uploadId }, () => book.client.send(new CompleteMultipartUploadCommand({
    Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: listed }, ...condition,
  })));
  book.forget(uploadId);
  return { etag: quoteEtag(out.ETag ?? ''), repeated: false };
}

/** Discards an upload. */
export async function abortUpload(book: UploadBook, bucket: string, key: string, uploadId: string): Promise<void> {
  keyBytes(key);
  // S3 answers 204 for an unknown upload id; the port promises NoSuchUpload.
  await listParts(book, bucket, key, uploadId, { maxParts: 0 });
  await s3Call({ bucket, key, uploadId, notFound: 'NoSuchUpload' }, () => book.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })));
  book.forget(uploadId);
}
