/**
 * Multipart uploads for the local store. Parts are files `parts/<uploadId>/<partNumber>.<md5>`,
 * written to tmp/ first and renamed into place; the part row names the file by its ETag, so a
 * re-upload replaces the part only when its row commits (a failed one, e.g. on a full disk, leaves
 * the earlier upload of the part whole), and the replaced file is removed after. Completion
 * validates the part list, streams the part files into one new blob and commits the object and the
 * removal of the upload in one transaction; while it runs, the upload accepts no parts or aborts.
 * The object remembers the upload that made it and where each part lies (GET ?partNumber=N), so a
 * repeated completion answers the same object. Upload ids sort in creation order (upload-ids.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { InferqError } from '../../errors/index.js';
import type { CompletedPart, CompleteMultipartUploadOptions, ListPartsPage, MultipartUploadOptions, ObjectInfo, PartInfo, UploadInfo, UploadPartOptions } from '../port.js';
import { removeQuietly, removeQuietlySync } from './blobs.js';
import { commitObject, ensureOpen, precheckWrite, requireBucket, resolveChecksums, writeBody, type StoreContext } from './context.js';
import { checkListedChecksums, completedMeta, partChecksum, uploadChecksumColumns } from './part-checksums.js';
import { fileBody } from './staging.js';
import { encodeMeta, toObjectInfo, toPartInfo, toUploadInfo, type PartRow, type UploadRow } from './statements.js';
import { keyBytes, validatePartNumber } from './validate.js';

/** Smallest size of every part but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;
const unquote = (etag: string): string => etag.trim().replace(/^"|"$/g, '');

function noSuchUpload(uploadId: string): InferqError {
  return new InferqError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
}

/** The upload row for `bucket/key/uploadId` (undefined also while it completes), or NoSuchBucket. */
function findUpload(ctx: StoreContext, bucket: string, key: Buffer, uploadId: string): UploadRow | undefined {
  requireBucket(ctx, bucket);
  const row = UPLOAD_ID.test(uploadId) ? ctx.stmts.uploadGet.get(uploadId) : undefined;
  if (!row || row.bucket !== bucket || !row.key.equals(key) || ctx.completing.has(uploadId)) return undefined;
  return row;
}

/** The upload row for `bucket/key/uploadId`, or NoSuchBucket / NoSuchUpload (also while it completes). */
function requireUpload(ctx: StoreContext, bucket: string, key: Buffer, uploadId: string): UploadRow {
  const row = findUpload(ctx, bucket, key, uploadId);
  if (!row) throw noSuchUpload(uploadId);
  return row;
}

/** Starts an upload; its metadata (and checksums) become the object's on completion. */
export function createUpload(ctx: StoreContext, bucket: string, key: string, options?: MultipartUploadOptions): UploadInfo {
  const keyBuf = keyBytes(key);
  const [checksumAlgorithm, checksumType] = uploadChecksumColumns(options);
  requireBucket(ctx, bucket);
  const now = ctx.clock.now();
  const id = ctx.uploadIds.next();
  ctx.stmts.uploadInsert.run(id, bucket, keyBuf, now, encodeMeta(options, resolveChecksums(options)), checksumAlgorithm, checksumType);
  return {
    bucket, key, uploadId: id, initiated: new Date(now),
    ...(checksumAlgorithm === null || checksumType === null ? {} : { checksumAlgorithm, checksumType }),
  };
}

/** Stores one part (replacing an earlier upload of the same number). */
export async function uploadPart(
  ctx: StoreContext,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  body: Readable,
  options?: UploadPartOptions,
): Promise<PartInfo> {
  const keyBuf = keyBytes(key);
  validatePartNumber(partNumber);
  requireUpload(ctx, bucket, keyBuf, uploadId);
  const temp = await writeBody(ctx, body);
  try {
    // Synchronous from the re-check to the removal of the replaced file: no abort, completion or
    // other upload of the part can interleave.
    ensureOpen(ctx);
    const upload = requireUpload(ctx, bucket, keyBuf, uploadId);
    const part: PartRow = { part_number: partNumber, etag: `"${temp.md5}"`, size: temp.size, last_modified: ctx.clock.now(), checksum: partChecksum(upload, options) };
    const previous = ctx.stmts.partGet.get(uploadId, partNumber);
    const path = ctx.files.promoteToPartSync(temp.path, uploadId, partNumber, temp.md5);
    try {
      ctx.stmts.partUpsert.run(uploadId, partNumber, part.etag, part.size, part.last_modified, part.checksum);
    } catch (err) {
      // The same bytes uploaded before live in the same file, which the old row still names.
      if (previous?.etag !== part.etag) removeQuietlySync(path);
      throw err;
    }
    if (previous && previous.etag !== part.etag) {
      removeQuietlySync(ctx.files.partPath(uploadId, partNumber, unquote(previous.etag)));
      removeQuietlySync(ctx.files.legacyPartPath(uploadId, partNumber));
    }
    return toPartInfo(part);
  } catch (err) {
    await removeQuietly(temp.path);
    throw err;
  }
}

/** Checks the requested part list against the stored parts; returns the stored rows in order. */
function validateParts(ctx: StoreContext, uploadId: string, parts: readonly CompletedPart[]): PartRow[] {
  if (parts.length === 0) throw new InferqError('InvalidRequest', 'You must specify at least one part.');
  const stored = new Map(ctx.stmts.partsAll.all(uploadId).map((row) => [row.part_number, row]));
  const rows: PartRow[] = [];
  let previous = 0;
  for (const part of parts) {
    if (part.partNumber <= previous) {
      throw new InferqError('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    }
    previous = part.partNumber;
    const row = stored.get(part.partNumber);
    if (!row || unquote(row.etag) !== unquote(part.etag)) {
      throw new InferqError('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', {
        UploadId: uploadId,
        PartNumber: String(part.partNumber),
        ETag: part.etag,
      });
    }
    rows.push(row);
  }
  rows.slice(0, -1).forEach((row) => {
    if (row.size < MIN_PART_SIZE) {
      throw new InferqError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        PartNumber: String(row.part_number),
        ProposedSize: String(row.size),
        MinSizeAllowed: String(MIN_PART_SIZE),
      });
    }
  });
  return rows;
}

async function* concatFiles(paths: readonly string[]): AsyncGenerator<Buffer> {
  for (const path of paths) {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Buffer;
  }
}

/** The multipart ETag: MD5 of the concatenated binary part MD5s, then `-N`. */
export function multipartEtag(partEtags: readonly string[]): string {
  const hash = createHash('md5');
  for (const etag of partEtags) hash.update(Buffer.from(unquote(etag), 'hex'));
  return `"${hash.digest('hex')}-${partEtags.length}"`;
}

/**
 * A completion of an upload that already completed: the object it made, while that is still the
 * key's current object and the part list names the same parts; otherwise NoSuchUpload.
 */
function completedBefore(ctx: StoreContext, bucket: string, key: Buffer, uploadId: string, parts: readonly { etag: string }[]): ObjectInfo {
  const row = ctx.stmts.objectGetUpload.get(bucket, key);
  if (row === undefined || row.upload_id !== uploadId || parts.length === 0 || multipartEtag(parts.map((p) => p.etag)) !== row.etag) {
    throw noSuchUpload(uploadId);
  }
  return toObjectInfo(bucket, row);
}

/** Assembles the listed parts into the object and ends the upload (which stays open if the precondition fails). */
export async function completeUpload(
  ctx: StoreContext,
  bucket: string,
  key: string,
  uploadId: string,
  parts: readonly CompletedPart[],
  options?: CompleteMultipartUploadOptions,
): Promise<ObjectInfo> {
  const keyBuf = keyBytes(key);
  const upload = findUpload(ctx, bucket, keyBuf, uploadId);
  if (upload === undefined) return completedBefore(ctx, bucket, keyBuf, uploadId, parts);
  const rows = validateParts(ctx, uploadId, parts);
  checkListedChecksums(upload, parts, rows);
  const precondition = options?.precondition;
  precheckWrite(ctx, bucket, keyBuf, precondition);
  const meta = completedMeta(upload, rows, options);
  ctx.completing.add(uploadId);
  let info: ObjectInfo;
  try {
    const temp = await writeBody(ctx, concatFiles(rows.map((row) => ctx.files.existingPartPath(uploadId, row.part_number, unquote(row.etag)))));
    const expected = rows.reduce((sum, row) => sum + row.size, 0);
    if (temp.size !== expected) {
      await removeQuietly(temp.path);
      throw new InferqError('InternalError', `Stored parts of upload ${uploadId} hold ${temp.size} bytes, expected ${expected}.`);
    }
    info = await commitObject(ctx, bucket, keyBuf, fileBody(temp), {
      etag: multipartEtag(rows.map((row) => row.etag)),
      partsCount: rows.length,
      meta,
      ...(precondition ? { precondition } : {}),
      multipart: { uploadId, parts: rows },
      inTransaction: () => {
        ctx.stmts.partsDelete.run(uploadId);
        if (ctx.stmts.uploadDelete.run(uploadId).changes === 0) throw noSuchUpload(uploadId);
      },
    });
  } finally {
    ctx.completing.delete(uploadId);
  }
  await removeQuietly(ctx.files.uploadDir(uploadId));
  return info;
}

/** Discards an upload and its parts. */
export async function abortUpload(ctx: StoreContext, bucket: string, key: string, uploadId: string): Promise<void> {
  requireUpload(ctx, bucket, keyBytes(key), uploadId);
  ctx.db
    .transaction(() => {
      ctx.stmts.partsDelete.run(uploadId);
      ctx.stmts.uploadDelete.run(uploadId);
    })
    .immediate();
  await removeQuietly(ctx.files.uploadDir(uploadId));
}

/** One page of an upload's parts, ascending, after `partNumberMarker`. */
export function listParts(ctx: StoreContext, bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): ListPartsPage {
  const row = requireUpload(ctx, bucket, keyBytes(key), uploadId);
  const upload = toUploadInfo(row);
  const maxParts = Math.max(0, Math.floor(options.maxParts));
  if (maxParts === 0) return { upload, parts: [], isTruncated: false };
  const rows = ctx.stmts.partsPage.all(uploadId, options.partNumberMarker ?? 0, maxParts + 1);
  const parts = rows.slice(0, maxParts).map(toPartInfo);
  const last = parts.at(-1);
  return rows.length > maxParts && last ? { upload, parts, isTruncated: true, nextPartNumberMarker: last.partNumber } : { upload, parts, isTruncated: false };
}
