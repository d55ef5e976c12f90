/**
 * The on-disk file layout of the local object store. Object bytes live in files named by random
 * ids (never by key), so no key can address a path outside the data directory:
 *
 *   <root>/index.db              the SQLite index
 *   <root>/tmp/<uuid>            bodies being written (removed at open)
 *   <root>/blobs/<xx>/<uuid>     committed object bodies; the index holds `<xx>/<uuid>`
 *   <root>/parts/<uploadId>/<n>.<md5>  multipart parts (`<n>` alone: written by inferq ≤ 0.1)
 *
 * Bodies are streamed to tmp/ while hashing (MD5) and counting, fsynced, then renamed into place.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, promises as fsp, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InferqError, toStorageFault } from '../../errors/index.js';

/** A finished temporary file with what was learned while writing it. */
export interface TempFile {
  readonly path: string;
  /** Hex MD5 of the bytes. */
  readonly md5: string;
  readonly size: number;
}

/** Passes bytes through while computing their MD5 and count. */
class HashingCounter extends Transform {
  readonly hash = createHash('md5');
  size = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }
}

/** The calls a write stream makes on its file. */
const FILE_CALLS: ReadonlySet<string> = new Set(['open', 'write', 'writev', 'fsync', 'fdatasync', 'close']);

/** Whether `err` is a system error of one of those calls (ENOSPC from `write`, …). */
function isFileCallError(err: unknown): boolean {
  return err instanceof Error && 'syscall' in err && typeof err.syscall === 'string' && FILE_CALLS.has(err.syscall) && 'code' in err && typeof err.code === 'string';
}

/** Paths and file operations under one store root (`<dataDir>/objects`). */
export class BlobFiles {
  readonly indexFile: string;
  readonly tmpDir: string;
  readonly blobsDir: string;
  readonly partsDir: string;
  private readonly madeDirs = new Set<string>();

  constructor(readonly root: string) {
    this.indexFile = join(root, 'index.db');
    this.tmpDir = join(root, 'tmp');
    this.blobsDir = join(root, 'blobs');
    this.partsDir = join(root, 'parts');
  }

  /** Creates the directory skeleton. */
  async init(): Promise<void> {
    for (const dir of [this.tmpDir, this.blobsDir, this.partsDir]) await fsp.mkdir(dir, { recursive: true });
  }

  /** Absolute path of a committed blob id (`xx/uuid`). */
  blobPath(id: string): string {
    return join(this.blobsDir, id);
  }

  /** Directory holding the parts of one upload. */
  uploadDir(uploadId: string): string {
    return join(this.partsDir, uploadId);
  }

  /**
   * Absolute path of one part file: named by part number and content MD5 (hex), so a re-upload of
   * a part never overwrites the file the index row still names until that row is replaced.
   */
  partPath(uploadId: string, partNumber: number, md5: string): string {
    return join(this.partsDir, uploadId, `${partNumber}.${md5}`);
  }

  /** Path of a part file as written before parts were named by MD5 (still read). */
  legacyPartPath(uploadId: string, partNumber: number): string {
    return join(this.partsDir, uploadId, String(partNumber));
  }

  /** The file holding part `partNumber` with content MD5 `md5`: {@link partPath}, or the legacy name. */
  existingPartPath(uploadId: string, partNumber: number, md5: string): string {
    const path = this.partPath(uploadId, partNumber, md5);
    return existsSync(path) ? path : this.legacyPartPath(uploadId, partNumber);
  }

  /**
   * Streams `source` into a new temp file, computing MD5 and size, and fsyncs it. On any failure
   * (source error, abort, a full disk) the temp file is removed; an error of the source or the
   * abort is rethrown as it is, an error of the file itself becomes an InferqError (StorageFull,
   * StorageReadOnly or InternalError), so callers can tell the store's faults from the source's.
   */
  async writeTemp(source: Readable | AsyncIterable<Buffer>, signal: AbortSignal): Promise<TempFile> {
    const path = join(this.tmpDir, randomUUID());
    const counter = new HashingCounter();
    const out = createWriteStream(path, { flags: 'wx', flush: true, highWaterMark: 1 << 20 });
    // The file's own error is a system error of a file call; a failure of the source (or an abort)
    // reaches the file too (the pipeline destroys it with that error) but is not one.
    let fileError: unknown;
    out.once('error', (err) => { fileError = err; });
    try {
      await pipeline(source, counter, out, { signal });
    } catch (err) {
      out.destroy();
      await removeQuietly(path);
      if (err === fileError && isFileCallError(err)) throw toStorageFault(err) ?? new InferqError('InternalError', 'The object store could not write the body to its disk.', {}, { cause: err });
      throw err;
    }
    return { path, md5: counter.hash.digest('hex'), size: counter.size };
  }

  /** Moves a temp file into blobs/ under a fresh id and returns the id. */
  async promoteToBlob(tempPath: string): Promise<string> {
    const uuid = randomUUID();
    const shard = uuid.slice(0, 2);
    const dir = join(this.blobsDir, shard);
    if (!this.madeDirs.has(dir)) {
      await fsp.mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    const id = `${shard}/${uuid}`;
    await fsp.rename(tempPath, this.blobPath(id));
    return id;
  }

  /**
   * Synchronously moves a temp file into place as a part with content MD5 `md5`; returns its path.
   * Only a file of the same part with the same bytes is replaced.
   */
  promoteToPartSync(tempPath: string, uploadId: string, partNumber: number, md5: string): string {
    mkdirSync(this.uploadDir(uploadId), { recursive: true });
    const path = this.partPath(uploadId, partNumber, md5);
    renameSync(tempPath, path);
    return path;
  }
}

/** Synchronously removes a file, ignoring "not found" and any other failure. */
export function removeQuietlySync(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // best effort: an unreferenced file is swept at the next open
  }
}

/** Removes a file or directory tree, ignoring "not found" and any other failure. */
export async function removeQuietly(path: string): Promise<void> {
  await fsp.rm(path, { recursive: true, force: true }).catch(() => undefined);
}
