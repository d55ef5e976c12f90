/**
 * State shared by the local store's operation modules, and the helpers they all need: bucket
 * lookup, the closed check, body staging, and the atomic commit of a finished body (inline in
 * the index row or a blob file) as an object version.
 */
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { UnsyncedCommitError, type GroupCommitter } from './group-commit.js';
import { InferqError, toInferqError } from '../../errors/index.js';
import type { Clock, Logger } from '../../util/index.js';
import type { ChecksumAlgorithm, ObjectInfo, PutObjectOptions, WritePrecondition } from '../port.js';
import { removeQuietly, type BlobFiles, type TempFile } from './blobs.js';
import { checkWritePrecondition } from './preconditions.js';
import { discardBody, stageBody, type StagedBody } from './staging.js';
import { toObjectInfo, type BucketRow, type ObjectRow, type Statements } from './statements.js';
import type { UploadIdSource } from './upload-ids.js';

/** Everything an operation needs from the open store. */
export interface StoreContext {
  readonly db: Database.Database;
  readonly stmts: Statements;
  readonly files: BlobFiles;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Aborted when the store closes: in-flight writes stop and clean up. */
  readonly signal: AbortSignal;
  /** Upload ids whose completion is in progress (no part uploads or aborts meanwhile). */
  readonly completing: Set<string>;
  /** Issues the ids of new multipart uploads, in ascending order. */
  readonly uploadIds: UploadIdSource;
  /** Largest object stored inline in the index; 0 stores every object in a blob file. */
  readonly inlineMaxBytes: number;
  /** Batches object commits of the same tick into one transaction. */
  readonly commits: GroupCommitter;
  /** Buckets seen to exist (see {@link bucketSeen}); the commit transaction re-checks. */
  readonly knownBuckets: Set<string>;
}

/** The error every operation reports once the store is closed or closing. */
export function closedError(): InferqError {
  return new InferqError('ServiceUnavailable', 'The object store is closed.');
}

/** Throws when the store is closing. */
export function ensureOpen(ctx: StoreContext): void {
  if (ctx.signal.aborted) throw closedError();
}

/** The bucket row, or NoSuchBucket. */
export function requireBucket(ctx: StoreContext, bucket: string): BucketRow {
  const row = ctx.stmts.bucketGet.get(bucket);
  if (!row) throw new InferqError('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  return row;
}

/**
 * The early NoSuchBucket check of a write, before its body is staged: answered from the buckets
 * seen to exist, else from the index (a read of its own, about as costly as the rest of a small
 * PUT). Only a shortcut: the commit transaction checks the bucket again, so a bucket deleted
 * meanwhile (by this process or another one sharing the data dir) still fails the write.
 */
export function bucketSeen(ctx: StoreContext, bucket: string): void {
  if (ctx.knownBuckets.has(bucket)) return;
  requireBucket(ctx, bucket);
  ctx.knownBuckets.add(bucket);
}

/** The NoSuchKey error for `key`. */
export function noSuchKey(key: string): InferqError {
  return new InferqError('NoSuchKey', 'The specified key does not exist.', { Key: key });
}

/** Resolves `options.checksums`, calling it when it is a function (only after the body ended). */
export function resolveChecksums(options: PutObjectOptions | undefined): Readonly<Partial<Record<ChecksumAlgorithm, string>>> {
  const checksums = options?.checksums;
  return typeof checksums === 'function' ? checksums() : (checksums ?? {});
}

/**
 * Streams a body into a temp file (see BlobFiles.writeTemp). A failure caused by the store closing
 * is reported as the closed error; any other (e.g. the body's own error) is rethrown unchanged.
 */
export async function writeBody(ctx: StoreContext, source: Readable | AsyncIterable<Buffer>): Promise<TempFile> {
  try {
    return await ctx.files.writeTemp(source, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw closedError();
    throw err;
  }
}

/**
 * Stages an object body: inline when it has at most `ctx.inlineMaxBytes` bytes, otherwise in a
 * temp file (see stageBody). Errors are reported as by {@link writeBody}.
 */
export async function stageObjectBody(ctx: StoreContext, source: Readable): Promise<StagedBody> {
  try {
    return await stageBody(ctx.files, source, ctx.signal, ctx.inlineMaxBytes);
  } catch (err) {
    if (ctx.signal.aborted) throw closedError();
    throw err;
  }
}

/**
 * Fails a conditional write early, before its body is staged or assembled. Only a shortcut: the
 * commit transaction checks the precondition again (see commitObject).
 */
export function precheckWrite(ctx: StoreContext, bucket: string, key: Buffer, precondition: WritePrecondition | undefined): void {
  if (precondition === undefined) return;
  checkWritePrecondition(precondition, ctx.stmts.objectGet.get(bucket, key), key.toString('utf8'));
}

/** What a commit records besides the body. */
export interface CommitFields {
  readonly etag: string;
  readonly partsCount: number | null;
  /** Encoded metadata (see encodeMeta). */
  readonly meta: string;
  /** Extra work inside the commit transaction (e.g. consuming a multipart upload); may throw. */
  readonly inTransaction?: () => void;
  /** Checked against the key's current object inside the commit transaction. */
  readonly precondition?: WritePrecondition;
  /** For a completed multipart upload: its id and its parts in order (size, checksum under the upload's algorithm). */
  readonly multipart?: { readonly uploadId: string; readonly parts: readonly { readonly size: number; readonly checksum: string | null }[] };
}

/** Replaces the part boundaries of `bucket/key` (inside the commit transaction). */
function writePartRows(ctx: StoreContext, bucket: string, key: Buffer, previous: ObjectRow | undefined, fields: CommitFields): void {
  if (previous !== undefined && previous.parts_count !== null) ctx.stmts.objectPartsDelete.run(bucket, key);
  let firstByte = 0;
  fields.multipart?.parts.forEach(({ size, checksum }, i) => {
    ctx.stmts.objectPartInsert.run(bucket, key, i + 1, firstByte, size, checksum);
    firstByte += size;
  });
}

/**
 * Makes a finished body the current version of `bucket/key`. A file body is first renamed into
 * blobs/; then one transaction checks the bucket still exists and the precondition holds, and
 * upserts the row (holding the bytes themselves for an inline body) and the part boundaries; after
 * commit the replaced blob file, if any, is unlinked. On failure the new blob is removed and
 * nothing is visible — unless the commit itself happened and only the log sync after it failed:
 * the new version is then visible and whole (its blob is kept, the replaced one unlinked), and the
 * sync error is reported.
 */
export async function commitObject(ctx: StoreContext, bucket: string, key: Buffer, body: StagedBody, fields: CommitFields): Promise<ObjectInfo> {
  let blob: string | null = null;
  try {
    ensureOpen(ctx);
    if (body.kind === 'file') blob = await ctx.files.promoteToBlob(body.path);
  } catch (err) {
    await discardBody(body);
    throw err;
  }
  const inlineData = body.kind === 'inline' ? body.data : null;
  const row: ObjectRow = { key, size: body.size, etag: fields.etag, last_modified: ctx.clock.now(), parts_count: fields.partsCount, blob, meta: fields.meta };
  let previous: ObjectRow | undefined;
  try {
    ensureOpen(ctx);
    previous = await ctx.commits.run(() => {
      ensureOpen(ctx);
      requireBucket(ctx, bucket);
      const old = ctx.stmts.objectGet.get(bucket, key);
      checkWritePrecondition(fields.precondition, old, key.toString('utf8'));
      fields.inTransaction?.();
      const uploadId = fields.multipart?.uploadId ?? null;
      ctx.stmts.objectUpsert.run({ bucket, key, size: row.size, etag: row.etag, lastModified: row.last_modified, partsCount: row.parts_count, blob, meta: row.meta, inlineData, uploadId });
      writePartRows(ctx, bucket, key, old, fields);
      return old;
    });
  } catch (err) {
    if (err instanceof UnsyncedCommitError) {
      const replaced = err.value as ObjectRow | undefined;
      if (replaced && replaced.blob !== null) await removeQuietly(ctx.files.blobPath(replaced.blob));
      throw toInferqError(err.cause);
    }
    if (blob !== null) await removeQuietly(ctx.files.blobPath(blob));
    throw err;
  }
  if (previous && previous.blob !== null) await removeQuietly(ctx.files.blobPath(previous.blob));
  return toObjectInfo(bucket, row);
}
