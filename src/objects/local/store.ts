/**
 * The local-disk ObjectStore: buckets and objects over the SQLite index and blob files. Every
 * public method runs through `run`, which rejects after close and lets close wait for in-flight
 * operations (writes are aborted and clean up their temp files).
 */
import { openSync, createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { InferqError } from '../../errors/index.js';
import type {
  BucketInfo,
  CopyObjectOptions,
  ListObjectsOptions,
  ListObjectsPage,
  ListPartsPage,
  ObjectInfo,
  ObjectStore,
  ObjectStream,
  PartInfo,
  PutObjectOptions,
  RangeRequest,
  UploadInfo,
} from '../port.js';
import { removeQuietly } from './blobs.js';
import { closedError, commitObject, ensureOpen, noSuchKey, requireBucket, resolveChecksums, writeBody, type StoreContext } from './context.js';
import { listObjectPage } from './listing.js';
import * as multipart from './multipart.js';
import { decodeMeta, encodeMeta, toObjectInfo, type ObjectRow } from './statements.js';
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
    const promise = (async () => op())();
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
    });
  }

  putObject(bucket: string, key: string, body: Readable, options?: PutObjectOptions): Promise<ObjectInfo> {
    return this.run(async () => {
      const keyBuf = keyBytes(key);
      requireBucket(this.ctx, bucket);
      const temp = await writeBody(this.ctx, body);
      let meta: string;
      try {
        meta = encodeMeta(options, resolveChecksums(options));
      } catch (err) {
        await removeQuietly(temp.path);
        throw err;
      }
      return commitObject(this.ctx, bucket, keyBuf, temp, { etag: `"${temp.md5}"`, partsCount: null, meta });
    });
  }

  getObject(bucket: string, key: string, range?: RangeRequest): Promise<ObjectStream> {
    return this.run(() => {
      const row = this.lookup(bucket, key);
      const resolved = range === undefined ? undefined : resolveRange(range, row.size);
      // Open the blob in the same tick as the lookup: a concurrent overwrite unlinks it only
      // after its commit, and an open descriptor keeps reading the old bytes.
      const path = this.ctx.files.blobPath(row.blob);
      const fd = openSync(path, 'r');
      const body = createReadStream(path, { fd, start: resolved?.start, end: resolved?.end, highWaterMark: READ_HIGH_WATER_MARK });
      const info = toObjectInfo(bucket, row);
      return resolved ? { info, body, range: resolved } : { info, body };
    });
  }

  headObject(bucket: string, key: string): Promise<ObjectInfo> {
    return this.run(() => toObjectInfo(bucket, this.lookup(bucket, key)));
  }

  deleteObject(bucket: string, key: string): Promise<void> {
    return this.run(async () => {
      const keyBuf = keyBytes(key);
      requireBucket(this.ctx, bucket);
      const { stmts } = this.ctx;
      const previous = stmts.objectGet.get(bucket, keyBuf);
      if (!previous) return;
      stmts.objectDelete.run(bucket, keyBuf);
      await removeQuietly(this.ctx.files.blobPath(previous.blob));
    });
  }

  copyObject(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options: CopyObjectOptions): Promise<ObjectInfo> {
    return this.run(async () => {
      const dstKeyBuf = keyBytes(dstKey);
      requireBucket(this.ctx, dstBucket);
      const source = this.lookup(srcBucket, srcKey);
      if (srcBucket === dstBucket && srcKey === dstKey && options.metadataDirective !== 'REPLACE') {
        throw new InferqError(
          'InvalidRequest',
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      const path = this.ctx.files.blobPath(source.blob);
      const fd = openSync(path, 'r');
      const temp = await writeBody(this.ctx, createReadStream(path, { fd, highWaterMark: READ_HIGH_WATER_MARK }));
      let meta = source.meta;
      try {
        if (options.metadataDirective === 'REPLACE') {
          const given = resolveChecksums(options.metadata);
          meta = encodeMeta(options.metadata, Object.keys(given).length > 0 ? given : decodeMeta(source.meta).checksums);
        }
      } catch (err) {
        await removeQuietly(temp.path);
        throw err;
      }
      return commitObject(this.ctx, dstBucket, dstKeyBuf, temp, { etag: `"${temp.md5}"`, partsCount: null, meta });
    });
  }

  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsPage> {
    return this.run(() => {
      requireBucket(this.ctx, bucket);
      return listObjectPage(this.ctx.stmts, bucket, options);
    });
  }

  createMultipartUpload(bucket: string, key: string, options?: PutObjectOptions): Promise<UploadInfo> {
    return this.run(() => multipart.createUpload(this.ctx, bucket, key, options));
  }

  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable): Promise<PartInfo> {
    return this.run(() => multipart.uploadPart(this.ctx, bucket, key, uploadId, partNumber, body));
  }

  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<ObjectInfo> {
    return this.run(() => multipart.completeUpload(this.ctx, bucket, key, uploadId, parts));
  }

  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    return this.run(() => multipart.abortUpload(this.ctx, bucket, key, uploadId));
  }

  listParts(bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): Promise<ListPartsPage> {
    return this.run(() => multipart.listParts(this.ctx, bucket, key, uploadId, options));
  }

  /** Aborts in-flight writes, waits for every operation to settle, then closes the index. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.abort();
      this.closing = (async () => {
        while (this.active.size > 0) await Promise.allSettled([...this.active]);
        this.ctx.db.close();
      })();
    }
    return this.closing;
  }

  /** The current row of an object, or NoSuchBucket / NoSuchKey. */
  private lookup(bucket: string, key: string): ObjectRow {
    const keyBuf = keyBytes(key);
    ensureOpen(this.ctx);
    requireBucket(this.ctx, bucket);
    const row = this.ctx.stmts.objectGet.get(bucket, keyBuf);
    if (!row) throw noSuchKey(key);
    return row;
  }
}
