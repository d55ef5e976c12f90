/**
 * Streaming object bodies into an S3 backend. A body of known length (the port's `contentLength`:
 * what the S3 front read from Content-Length / x-amz-decoded-content-length) is streamed as one
 * PutObject, however large (up to S3's 5 GiB); a body of unknown length (a model's answer) is
 * read one part at a time: when it ends within the first part it is one PutObject, otherwise a
 * multipart upload of {@link PART_BYTES} parts, so at most one part is held in memory. A body that
 * fails aborts the request (or the multipart upload): nothing becomes visible, and the body's own
 * error is what the caller sees.
 */
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InferqError } from '../../errors/index.js';
import type { ChecksumAlgorithm, PutObjectOptions } from '../port.js';
import { checksumsOf, writeParams } from './convert.js';
import { mapS3Error, type ErrorContext } from './errors.js';

/** Part size of uploads of unknown length (S3's minimum is 5 MiB; 10000 parts of 16 MiB is 156 GiB). */
export const PART_BYTES = 16 * 1024 * 1024;

/** S3's largest single PUT. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;

/** What a write produced. */
export interface WriteResult {
  readonly etag: string;
  readonly size: number;
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** Where and how to write. */
export interface WriteTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly key: string;
  /** If-None-Match / If-Match, already resolved to what S3 accepts. */
  readonly condition: { IfNoneMatch?: string; IfMatch?: string };
}

/**
 * Checksum parameters: a value known before the body is sent as it is (S3 verifies it); otherwise
 * the announced algorithm, which the SDK computes while streaming and sends as a trailer.
 */
export function checksumParams(checksums: PutObjectOptions['checksums'], algorithm: ChecksumAlgorithm | undefined): Partial<PutObjectCommandInput> {
  if (checksums !== undefined && typeof checksums !== 'function') {
    const known = Object.entries(checksums).find(([, v]) => v) as [ChecksumAlgorithm, string] | undefined;
    // The algorithm is named too: some servers record a checksum header only then.
    if (known && (algorithm === undefined || algorithm === known[0])) return { ChecksumAlgorithm: known[0], [`Checksum${known[0]}`]: known[1] };
  }
  return algorithm === undefined ? {} : { ChecksumAlgorithm: algorithm };
}

/**
 * Sends one request with `body` as its payload: when the body fails, the request is aborted and
 * the body's error is thrown (not the SDK's); S3 failures are mapped onto the catalogue.
 */
export async function sendWithBody<T>(body: Readable, ctx: ErrorContext, send: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let bodyError: unknown;
  const onError = (err: unknown): void => {
    bodyError ??= err;
    abort.abort(err);
  };
  body.once('error', onError);
  try {
    return await send(abort.signal);
  } catch (err) {
    // The body's own error (a decoder's, a model stream's) is what the caller must see.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    if (bodyError !== undefined) throw bodyError;
    throw mapS3Error(err, ctx);
  } finally {
    body.off('error', onError);
  }
}

/** Reads up to `max` bytes; `ended` when the body ended first. Rejects with the body's error. */
async function readUpTo(body: Readable, max: number, carry: Buffer[]): Promise<{ chunks: Buffer[]; size: number; ended: boolean }> {
  const chunks = carry.splice(0);
  let size = chunks.reduce((n, c) => n + c.length, 0);
  if (size >= max) return { chunks: splitAt(chunks, max, carry), size: max, ended: false };
  for await (const chunk of body.iterator({ destroyOnReturn: false })) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buf);
    size += buf.length;
    if (size >= max) return { chunks: splitAt(chunks, max, carry), size: max, ended: false };
  }
  return { chunks, size, ended: true };
}

/** Keeps the first `max` bytes of `chunks`, moving the rest into `carry`. */
function splitAt(chunks: Buffer[], max: number, carry: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size + chunk.length <= max) {
      out.push(chunk);
      size += chunk.length;
    } else {
      const room = max - size;
      if (room > 0) out.push(chunk.subarray(0, room));
      carry.push(chunk.subarray(room));
      size = max;
    }
  }
  return out;
}

/** Streams a body of known length as one PutObject. */
async function putStreamed(target: WriteTarget, body: Readable, length: number, options: PutObjectOptions | undefined, algorithm: ChecksumAlgorithm | undefined): Promise<WriteResult> {
  if (length > MAX_PUT_BYTES) throw new InferqError('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${MAX_PUT_BYTES} bytes.`);
  const { client, bucket, key, condition } = target;
  const out = await sendWithBody(body, { bucket, key }, (abortSignal) => client.send(new PutObjectCommand({
    Bucket: bucket, Key: key, Body: body, ContentLength: length, ...writeParams(options), ...condition, ...checksumParams(options?.checksums, algorithm),
  }), { abortSignal }));
  return { etag: out.ETag ?? '""', size: length, checksums: checksumsOf(out) };
}

/** Writes a body held in memory as one PutObject. */
async function putBuffered(target: WriteTarget, data: Buffer, options: PutObjectOptions | undefined, algorithm: ChecksumAlgorithm | undefined): Promise<WriteResult> {
  const { client, bucket, key, condition } = target;
  try {
    const out = await client.send(new PutObjectCommand({
      Bucket: bucket, Key: key, Body: data, ContentLength: data.length, ...writeParams(options), ...condition, ...checksumParams(options?.checksums, algorithm),
    }));
    return { etag: out.ETag ?? '""', size: data.length, checksums: checksumsOf(out) };
  } catch (err) {
    throw mapS3Error(err, { bucket, key });
  }
}

/** Writes a long body of unknown length as a multipart upload, `first` being its first part. */
async function putMultipart(target: WriteTarget, body: Readable, first: Buffer, carry: Buffer[], options: PutObjectOptions | undefined): Promise<WriteResult> {
  const { client, bucket, key, condition } = target;
  const ctx = { bucket, key };
  let uploadId: string | undefined;
  try {
    const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...writeParams(options) }));
    uploadId = created.UploadId;
    const parts: { PartNumber: number; ETag: string }[] = [];
    let part: Buffer | undefined = first;
    let size = 0;
    while (part !== undefined) {
      const out = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: parts.length + 1, Body: part, ContentLength: part.length }));
      parts.push({ PartNumber: parts.length + 1, ETag: out.ETag ?? '' });
      size += part.length;
      if (part.length < PART_BYTES) break;
      const next = await readUpTo(body, PART_BYTES, carry);
      part = next.size > 0 || !next.ended ? Buffer.concat(next.chunks) : undefined;
    }
    const done = await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...condition }));
    return { etag: done.ETag ?? '""', size, checksums: checksumsOf(done) };
  } catch (err) {
    if (uploadId !== undefined) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    if (err instanceof InferqError || isS3Answer(err) || isNetworkError(err)) throw mapS3Error(err, ctx);
    throw err;
  }
}

function isS3Answer(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}

function isNetworkError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'syscall' in err;
}

/**
 * Writes `body` to `target`: streamed when `options.contentLength` is known, otherwise part by
 * part (one PutObject when it fits one part). `algorithm` is the checksum S3 is to compute.
 */
export async function writeBody(target: WriteTarget, body: Readable, options: PutObjectOptions | undefined, algorithm: ChecksumAlgorithm | undefined): Promise<WriteResult> {
  const length = options?.contentLength;
  if (length !== undefined) return putStreamed(target, body, length, options, algorithm);
  // Between parts nobody reads the body; its error is then kept by the stream (and thrown by the
  // next read) instead of being an unhandled 'error' event.
  const keep = (): void => undefined;
  body.on('error', keep);
  try {
    const carry: Buffer[] = [];
    const first = await readUpTo(body, PART_BYTES, carry);
    if (first.ended) return await putBuffered(target, Buffer.concat(first.chunks), options, algorithm);
    return await putMultipart(target, body, Buffer.concat(first.chunks), carry, options);
  } finally {
    body.off('error', keep);
  }
}
