/**
 * The local-disk ObjectStore: buckets and objects over the SQLite index and blob files (small
 * objects live inline in the index row). Every public method runs through `run`, which rejects
 * after close, lets close wait for in-flight operations (writes are aborted and clean up their
 * temp files), and reports a full or read-only disk (ENOSPC, SQLITE_FULL, EROFS, …) as
 * StorageFull / StorageReadOnly: whatever the write staged is gone by then and the previous version
 * of the key is untouched.
 */
import { openSync, createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Statement } from 'better-sqlite3';
import { InferqError, toStorageFault } from '../../errors/index.js';
import type {
  BucketInfo,
  ByteSpan,
  CompletedPart,
  CompleteMultipartUploadOptions,
  CopyObjectOptions,
  ListObjectsOptions,
  ListObjectsPage,
  ListPartsPage,
  ListUploadsOptions,
  ListUploadsPage,
  MultipartUploadOptions,
  ObjectInfo,
  ObjectPartHead,
  ObjectStore,
  ObjectStream,
  PartInfo,
  PartSelector,
  PutObjectOptions,
  RangeRequest,
  UploadInfo,
  UploadPartOptions,
} from '../port.js';
import { removeQuietly, type BlobFiles } from './blobs.js';
import { bucketSeen, closedError, commitObject, ensureOpen, noSuchKey, precheckWrite, requireBucket, resolveChecksums, stageObjectBody, type StoreContext } from './context.js';
import { listObjectPage } from './listing.js';
import * as multipart from './multipart.js';
import { partSpan } from './part-read.js';
import { listUploadPage } from './upload-listing.js';
import { discardBody } from './staging.js';
import { decodeMeta, encodeMeta, toObjectInfo, type ObjectBodyRow, type ObjectRow } from './statements.js';
import { keyBytes, validateBucketName } from './validate.js';

const READ_HIGH_WATER_MARK = 1 << 20;

/** Resolves a requested range against an object size (inclusive bounds), or throws InvalidRange. */
export function resolveRange(range: RangeRequest, size: number): { start: number; end: number } {
  const invalid = (): InferqError =>
    new InferqError('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size) });
  if ('suffix' in range) {
    if (!Number.isInteger(range.suffix) || range.suffix <= 0 || size === 0) throw invalid();
    return { start: Math.max(0, size - range.suffix), end: size - 1 };
  }
  const { start, end } = range;
  if (!Number.isInteger(start) || start < 0 || start >= size) throw invalid();
  if (end !== undefined && (!Number.isInteger(end) || end < start)) throw invalid();
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}

/**
 * A stream over a stored object's bytes (inclusive range, or all of them). Inline bytes are
 * already in memory; a blob file is opened synchronously, so a caller that looked the row up in
 * the same tick reads the version it saw even if a concurrent overwrite unlinks the file.
 */
function openBody(files: BlobFiles, row: ObjectBodyRow, range?: ByteSpan): Readable {
  if (range !== undefined && range.end < range.start) return Readable.from([], { objectMode: false });
  if (row.inline_data !== null) {
    const bytes = range ? row.inline_data.subarray(range.start, range.end + 1) : row.inline_data;
    return Readable.from(bytes.length > 0 ? [bytes] : [], { objectMode: false });
  }
  if (row.blob === null) throw new InferqError('InternalError', 'The object row references no bytes.');
  const path = files.blobPath(row.blob);
  const fd = openSync(path, 'r');
  return createReadStream(path, { fd, start: range?.start, end: range?.end, highWaterMark: READ_HIGH_WATER_MARK });
}

/** The local-disk implementation of {@link ObjectStore}. */
export class LocalObjectStore implements ObjectStore {
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly active = new Set<Promise<unknown>>();

  /** Takes ownership of an opened context; `abort` aborts `ctx.signal`. */
  constructor(
    private readonly ctx: StoreContext,
    private readonly abort: () => void,
  ) {}

  private run<T>(op: () => Promise<T> | T): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    const promise = (async () => {
      try {
        return await op();
      } catch (err) {
        throw toStorageFault(err) ?? err;
      }
    })();
    this.active.add(promise);
    const forget = (): void => void this.active.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  createBucket(name: string): Promise<void> {
    return this.run(() => {
      validateBucketName(name);
      if (this.ctx.stmts.bucketInsert.run(name, this.ctx.clock.now()).changes === 0) {
        throw new InferqError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
      }
    });
  }

  headBucket(name: string): Promise<BucketInfo> {
    return this.run(() => {
      const row = requireBucket(this.ctx, name);
      return { name: row.name, createdAt: new Date(row.created_at) };
    });
  }

  listBuckets(): Promise<readonly BucketInfo[]> {
    return this.run(() => this.ctx.stmts.bucketList.all().map((row) => ({ name: row.name, createdAt: new Date(row.created_at) })));
  }

  deleteBucket(name: string): Promise<void> {
    return this.run(() => {
      const { stmts, db } = this.ctx;
      db.transaction(() => {
        requireBucket(this.ctx, name);
        if (stmts.bucketHasObject.get(name) || stmts.bucketHasUpload.get(name)) {
          throw new InferqError('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
        }
        stmts.bucketDelete.run(name);
      }).immediate();
      this.ctx.knownBuckets.delete(name);
    });
  }

  putObject(bucket: string, key: string, body: Readable, options?: PutObjectOptions): Promise<ObjectInfo> {
    return this.run(async () => {
      const keyBuf = keyBytes(key);
      bucketSeen(this.ctx, bucket);
      precheckWrite(this.ctx, bucket, keyBuf, options?.precondition);
      const staged = await stageObjectBody(this.ctx, body);
      let meta: string;
      try {
        meta = encodeMeta(options, resolveChecksums(options));
      } catch (err) {
        await discardBody(staged);
        throw err;
      }
      const precondition = options?.precondition;
      return commitObject(this.ctx, bucket, keyBuf, staged, { etag: `"${staged.md5}"`, partsCount: null, meta, ...(precondition ? { precondition } : {}) });
    });
  }

  getObject(bucket: string, key: string, select?: RangeRequest | PartSelector): Promise<ObjectStream> {
    return this.run(() => {
      const row = this.find(bucket, key, this.ctx.stmts.objectGetBody);
      const part = select !== undefined && 'partNumber' in select ? partSpan(this.ctx.stmts, bucket, row, select.partNumber) : undefined;
      const resolved = part?.range ?? (select === undefined || 'partNumber' in select ? undefined : resolveRange(select, row.size));
      // Open the body in the same tick as the lookup: a concurrent overwrite unlinks a blob only
      // after its commit, and an open descriptor keeps reading the old bytes.
      const body = openBody(this.ctx.files, row, resolved);
      const info = toObjectInfo(bucket, row);
      return resolved ? { info, body, range: resolved, ...(part?.partChecksums ? { partChecksums: part.partChecksums } : {}) } : { info, body };
    });
  }

  headObject(bucket: string, key: string): Promise<ObjectInfo> {
    return this.run(() => toObjectInfo(bucket, this.lookup(bucket, key)));
  }

  headObjectPart(bucket: string, key: string, select: PartSelector): Promise<ObjectPartHead> {
    return this.run(() => {
      const row = this.lookup(bucket, key);
      return { info: toObjectInfo(bucket, row), ...partSpan(this.ctx.stmts, bucket, row, select.partNumber) };
    });
  }

  deleteObject(bucket: string, key: string): Promise<void> {
    return this.run(async () => {
      const keyBuf = keyBytes(key);
      requireBucket(this.ctx, bucket);
      const { stmts } = this.ctx;
      const previous = stmts.objectGet.get(bucket, keyBuf);
      if (!previous) return;
      this.ctx.db.transaction(() => {
        stmts.objectDelete.run(bucket, keyBuf);
        stmts.objectPartsDelete.run(bucket, keyBuf);
      })();
      if (previous.blob !== null) await removeQuietly(this.ctx.files.blobPath(previous.blob));
    });
  }

  copyObject(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options: CopyObjectOptions): Promise<ObjectInfo> {
    return this.run(async () => {
      const dstKeyBuf = keyBytes(dstKey);
      requireBucket(this.ctx, dstBucket);
      const source = this.find(srcBucket, srcKey, this.ctx.stmts.objectGetBody);
      if (srcBucket === dstBucket && srcKey === dstKey && options.metadataDirective !== 'REPLACE') {
        throw new InferqError(
          'InvalidRequest',
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      const precondition = options.precondition;
      precheckWrite(this.ctx, dstBucket, dstKeyBuf, precondition);
      const staged = await stageObjectBody(this.ctx, openBody(this.ctx.files, source));
      let meta = source.meta;
      try {
        if (options.metadataDirective === 'REPLACE') {
          const given = resolveChecksums(options.metadata);
          const kept = decodeMeta(source.meta);
          meta = Object.keys(given).length > 0 ? encodeMeta(options.metadata, given) : encodeMeta(options.metadata, kept.checksums, kept.checksumType);
        }
      } catch (err) {
        await discardBody(staged);
        throw err;
      }
      return commitObject(this.ctx, dstBucket, dstKeyBuf, staged, { etag: `"${staged.md5}"`, partsCount: null, meta, ...(precondition ? { precondition } : {}) });
    });
  }

  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsPage> {
    return this.run(() => {
      requireBucket(this.ctx, bucket);
      return listObjectPage(this.ctx.stmts, bucket, options);
    });
  }

  createMultipartUpload(bucket: string, key: string, options?: MultipartUploadOptions): Promise<UploadInfo> {
    return this.run(() => multipart.createUpload(this.ctx, bucket, key, options));
  }

  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, options?: UploadPartOptions): Promise<PartInfo> {
    return this.run(() => multipart.uploadPart(this.ctx, bucket, key, uploadId, partNumber, body, options));
  }

  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly CompletedPart[], options?: CompleteMultipartUploadOptions): Promise<ObjectInfo> {
    return this.run(() => multipart.completeUpload(this.ctx, bucket, key, uploadId, parts, options));
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.run(() => multipart.abortUpload(this.ctx, bucket, key, uploadId));
  }

  listParts(bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): Promise<ListPartsPage> {
    return this.run(() => multipart.listParts(this.ctx, bucket, key, uploadId, options));
  }

  listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsPage> {
    return this.run(() => {
      requireBucket(this.ctx, bucket);
      return listUploadPage(this.ctx.stmts, bucket, options);
    });
  }

  /** Aborts in-flight writes, waits for every operation to settle, then closes the index. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.abort();
      this.closing = (async () => {
        while (this.active.size > 0) await Promise.allSettled([...this.active]);
        await this.ctx.commits.close();
        this.ctx.db.close();
      })();
    }
    return this.closing;
  }

  /** The current row of an object (without inline bytes), or NoSuchBucket / NoSuchKey. */
  private lookup(bucket: string, key: string): ObjectRow {
    return this.find(bucket, key, this.ctx.stmts.objectGet);
  }

  /**
   * The current row of an object as read by `stmt`, or NoSuchBucket / NoSuchKey. The row is looked
   * up first: an object implies its bucket, so only a miss needs the bucket read that tells the two
   * errors apart.
   */
  private find<R>(bucket: string, key: string, stmt: Statement<[string, Buffer], R>): R {
    const keyBuf = keyBytes(key);
    ensureOpen(this.ctx);
    const row = stmt.get(bucket, keyBuf);
    if (row) return row;
    requireBucket(this.ctx, bucket);
    throw noSuchKey(key);
  }
}
