/** Bounded reading of small request bodies (SageMaker API calls are at most a few MB). */
import type { IncomingMessage } from 'node:http';
import type { InferqError } from '../errors/index.js';

/**
 * Reads the whole body, failing with `tooLarge` once more than `maxBytes` arrived. With
 * `discardUpTo`, an oversized body is still read (and dropped) up to that many bytes before the
 * failure, so the client gets the error on a connection that stays usable instead of a reset
 * while it is still sending; a body declared or found larger than that fails at once.
 * @throws InferqError
 */
export async function readBoundedBody(req: IncomingMessage, maxBytes: number, tooLarge: () => InferqError, discardUpTo = maxBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > Math.max(maxBytes, discardUpTo)) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > discardUpTo) throw tooLarge();
    if (size <= maxBytes) chunks.push(buf);
  }
  if (size > maxBytes) throw tooLarge();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
