/**
 * Fetching a model's data (CreateModel `ModelDataUrl` / `ModelDataSource`) from the object store
 * into a directory of the data dir, once per model: a `model.tar.gz` is streamed from the store and
 * unpacked as it arrives (unpackModelArchive refuses members that escape, links included); an uncompressed
 * `S3Prefix` is copied object by object, keeping the keys' relative paths. Everything is written
 * into a temporary directory beside the target and renamed into place only when complete, so the
 * target is either absent or whole; a target that exists is not fetched again.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InferqError, isInferqError, toStorageFault } from '../errors/index.js';
import type { ObjectStore } from '../objects/index.js';
import { systemErrorReason } from '../util/index.js';
import { pathInside, unpackModelArchive } from './archive.js';
import { parseS3Url } from './s3-url.js';

/** The largest model archive, compressed and unpacked (it streams to disk: the bound is against a runaway archive, not memory). */
export const MODEL_ARCHIVE_MAX_BYTES = 64 * 1024 ** 3;

/** Where a model's data is (see modelDataOf). */
export interface ModelDataSource {
  readonly url: string;
  readonly compressed: boolean;
}

/** `<dataDir>/models/<lower-case model name>-<first 12 hex of sha256(url)>`: a new URL is a new directory. */
export function modelDirFor(dataDir: string, modelName: string, url: string): string {
  return join(dataDir, 'models', `${modelName.toLowerCase()}-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`);
}

function notFound(url: string, cause?: unknown): InferqError {
  return new InferqError('ControlPlaneValidation', `The model data ${url} was not found in the object store.`, {}, { cause });
}

/** An object's body, or `notFound` when the bucket or key does not exist. */
async function openObject(store: ObjectStore, url: string, bucket: string, key: string): Promise<{ body: Readable; size: number }> {
  try {
    const { body, info } = await store.getObject(bucket, key);
    return { body, size: info.size };
  } catch (err) {
    if (isInferqError(err, 'NoSuchKey') || isInferqError(err, 'NoSuchBucket')) throw notFound(url, err);
    throw err;
  }
}

async function fetchArchive(store: ObjectStore, url: string, bucket: string, key: string, dir: string, signal: AbortSignal | undefined): Promise<void> {
  if (key === '') throw new InferqError('ControlPlaneValidation', `The model data ${url} names no object (expected s3://bucket/path/model.tar.gz).`);
  const { body, size } = await openObject(store, url, bucket, key);
  if (size > MODEL_ARCHIVE_MAX_BYTES) {
    body.destroy();
    throw new InferqError('ControlPlaneValidation', `The model data ${url} is larger than ${MODEL_ARCHIVE_MAX_BYTES} bytes.`);
  }
  try {
    await unpackModelArchive(body, dir, MODEL_ARCHIVE_MAX_BYTES, signal);
  } catch (err) {
    if (isInferqError(err, 'ControlPlaneValidation')) throw new InferqError('ControlPlaneValidation', `The model data ${url} cannot be used: ${err.message}`, {}, { cause: err });
    throw err;
  }
}

/** Copies every object under the prefix `key` into `dir`, keeping the paths below the prefix. */
async function copyPrefix(store: ObjectStore, url: string, bucket: string, key: string, dir: string, signal: AbortSignal | undefined): Promise<void> {
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  let after: string | undefined;
  let files = 0;
  for (;;) {
    signal?.throwIfAborted();
    let page;
    try {
      page = await store.listObjects(bucket, { prefix, maxKeys: 1000, ...(after !== undefined ? { after } : {}) });
    } catch (err) {
      if (isInferqError(err, 'NoSuchBucket')) throw notFound(url, err);
      throw err;
    }
    for (const object of page.objects) {
      const rel = object.key.slice(prefix.length);
      if (rel === '') continue;
      const at = pathInside(dir, rel);
      if (!('path' in at)) throw new InferqError('ControlPlaneValidation', `The model data ${url} cannot be used: object key "${object.key}" escapes the model directory.`);
      if (rel.endsWith('/')) {
        await mkdir(at.path, { recursive: true });
        continue;
      }
      await mkdir(dirname(at.path), { recursive: true });
      const { body } = await openObject(store, `s3://${bucket}/${object.key}`, bucket, object.key);
      await pipeline(body, createWriteStream(at.path), ...(signal !== undefined ? [{ signal }] : []));
      files++;
    }
    if (!page.isTruncated || page.nextAfter === undefined) break;
    after = page.nextAfter;
  }
  if (files === 0) throw notFound(url);
}

/** A file-system failure while writing model data, as an InferqError (storage faults keep their codes). */
function writeFailure(err: unknown, url: string, targetDir: string): unknown {
  if (isInferqError(err) || (err instanceof Error && err.name === 'AbortError')) return err;
  return toStorageFault(err) ?? new InferqError('ControlPlaneValidation', `The model data ${url} cannot be written to ${targetDir}: ${systemErrorReason(err) ?? String(err)}.`, {}, { cause: err });
}

/**
 * Fetches the model data at `source` (s3://bucket/key of `store`) into `targetDir`: a tar.gz is
 * unpacked, an uncompressed prefix copied. Nothing is left half-written: on failure `targetDir`
 * does not exist. When `targetDir` already exists this does nothing.
 * @throws InferqError ControlPlaneValidation with a message fit for the endpoint's FailureReason
 * (not found, refused archive member, object key escaping the directory, too large);
 * StorageFull / StorageReadOnly / StorageUnavailable for storage faults; `signal`'s reason when aborted.
 */
export async function fetchModelData(store: ObjectStore, source: ModelDataSource, targetDir: string, signal?: AbortSignal): Promise<void> {
  if (existsSync(targetDir)) return;
  const { bucket, key } = parseS3Url(source.url, 'The model data URL');
  signal?.throwIfAborted();
  let temp: string | undefined;
  try {
    await mkdir(dirname(targetDir), { recursive: true });
    temp = await mkdtemp(join(dirname(targetDir), `.${basename(targetDir)}.partial-`));
    if (source.compressed) await fetchArchive(store, source.url, bucket, key, temp, signal);
    else await copyPrefix(store, source.url, bucket, key, temp, signal);
    signal?.throwIfAborted();
    await rename(temp, targetDir).catch((err: unknown) => {
      // Another fetch of the same data finished first: its directory is as good as this one.
      if (!existsSync(targetDir)) throw err;
    });
  } catch (err) {
    throw writeFailure(err, source.url, targetDir);
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}
