/**
 * Crash recovery at open: a SIGKILL can leave temp files, blobs renamed into place but never
 * committed, and part files of uploads that no longer exist. None is visible through the index;
 * this sweep deletes them. Referenced blobs and parts of live uploads are kept.
 */
import { promises as fsp, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../util/index.js';
import { removeQuietly, type BlobFiles } from './blobs.js';
import type { Statements } from './statements.js';

/** How many leftovers a sweep removed. */
export interface SweepResult {
  readonly tempFiles: number;
  readonly blobs: number;
  readonly parts: number;
}

async function entries(dir: string): Promise<Dirent[]> {
  return fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
}

async function sweepTemp(files: BlobFiles): Promise<number> {
  const found = await entries(files.tmpDir);
  for (const entry of found) await removeQuietly(join(files.tmpDir, entry.name));
  return found.length;
}

async function sweepBlobs(files: BlobFiles, stmts: Statements): Promise<number> {
  let removed = 0;
  for (const shard of await entries(files.blobsDir)) {
    const shardDir = join(files.blobsDir, shard.name);
    if (!shard.isDirectory()) {
      await removeQuietly(shardDir);
      removed++;
      continue;
    }
    for (const entry of await entries(shardDir)) {
      if (entry.isFile() && stmts.blobReferenced.get(`${shard.name}/${entry.name}`)) continue;
      await removeQuietly(join(shardDir, entry.name));
      removed++;
    }
  }
  return removed;
}

async function sweepParts(files: BlobFiles, stmts: Statements): Promise<number> {
  let removed = 0;
  for (const upload of await entries(files.partsDir)) {
    const uploadDir = join(files.partsDir, upload.name);
    if (!upload.isDirectory() || !stmts.uploadGet.get(upload.name)) {
      await removeQuietly(uploadDir);
      removed++;
      continue;
    }
    // A part's file is `<n>.<md5>` (or `<n>`, as written by older versions).
    const known = new Set(stmts.partsAll.all(upload.name).flatMap((row) => [String(row.part_number), `${row.part_number}.${row.etag.replace(/"/g, '')}`]));
    for (const entry of await entries(uploadDir)) {
      if (entry.isFile() && known.has(entry.name)) continue;
      await removeQuietly(join(uploadDir, entry.name));
      removed++;
    }
  }
  return removed;
}

/** Deletes every file under the store root that the index does not reference. */
export async function sweepLeftovers(files: BlobFiles, stmts: Statements, logger: Logger): Promise<SweepResult> {
  const result: SweepResult = {
    tempFiles: await sweepTemp(files),
    blobs: await sweepBlobs(files, stmts),
    parts: await sweepParts(files, stmts),
  };
  if (result.tempFiles + result.blobs + result.parts > 0) logger.info('removed crash leftovers from the object store', { ...result });
  return result;
}
