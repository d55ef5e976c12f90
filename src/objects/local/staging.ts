/**
 * Staging of object bodies before commit. A small body is read into memory and stored inline in
 * the index row (no file operations at all); the moment a body grows past the inline limit, the
 * bytes buffered so far and the rest of the stream go to a temp file exactly as before (see
 * BlobFiles.writeTemp), so memory stays bounded by the limit plus one chunk.
 */
import { createHash } from 'node:crypto';
import { addAbortSignal, type Readable } from 'node:stream';
import { removeQuietly, type BlobFiles, type TempFile } from './blobs.js';

/** Default largest object (in bytes) stored inline in the index instead of in a blob file. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** A finished body held in memory, to be stored in the index row. */
export interface InlineBody {
  readonly kind: 'inline';
  readonly data: Buffer;
  /** Hex MD5 of the bytes. */
  readonly md5: string;
  readonly size: number;
}

/** A finished body in a fsynced temp file, to be renamed into blobs/ at commit. */
export interface FileBody extends TempFile {
  readonly kind: 'file';
}

/** A finished body, inline or in a file. */
export type StagedBody = InlineBody | FileBody;

/** Wraps a temp file as a staged body. */
export function fileBody(temp: TempFile): FileBody {
  return { kind: 'file', path: temp.path, md5: temp.md5, size: temp.size };
}

/** Releases what a staged body holds on disk (nothing for inline bodies). */
export async function discardBody(body: StagedBody): Promise<void> {
  if (body.kind === 'file') await removeQuietly(body.path);
}

/** A chunk as bytes (streams may also carry strings or plain Uint8Arrays). */
type Chunk = Buffer | Uint8Array | string;
const toBuffer = (chunk: Chunk): Buffer => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));

/** Yields the buffered head, then the rest of the source. */
async function* prepend(head: readonly Buffer[], rest: AsyncIterator<Chunk>): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of { [Symbol.asyncIterator]: () => rest }) yield toBuffer(chunk);
}

/**
 * Reads `source` into memory while it stays within `inlineMax` bytes and returns it inline, or,
 * as soon as it exceeds that, streams everything into a temp file. `inlineMax` ≤ 0 disables
 * inlining (even an empty body gets a file). On any failure (source error, abort) nothing is
 * left behind and the error is rethrown; an abort surfaces as an AbortError.
 */
export async function stageBody(files: BlobFiles, source: Readable, signal: AbortSignal, inlineMax: number): Promise<StagedBody> {
  if (inlineMax <= 0) return fileBody(await files.writeTemp(source, signal));
  addAbortSignal(signal, source);
  const iterator: AsyncIterator<Chunk> = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) {
      const data = head.length === 1 && head[0] ? head[0] : Buffer.concat(head, size);
      return { kind: 'inline', data, md5: createHash('md5').update(data).digest('hex'), size };
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    size += chunk.length;
    if (size > inlineMax) break;
  }
  try {
    return fileBody(await files.writeTemp(prepend(head, iterator), signal));
  } finally {
    // The pipeline consumed or destroyed the generator; make sure the source is released too.
    if (!source.readableEnded) source.destroy();
  }
}
