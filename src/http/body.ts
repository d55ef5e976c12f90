/** Bounded reading of small request bodies (SageMaker API calls are at most a few MB). */
import type { IncomingMessage } from 'node:http';
import type { InferqError } from '../errors/index.js';

/**
 * Reads the whole body, failing with `tooLarge` as soon as more than `maxBytes` arrive.
 * @throws InferqError
 */
export async function readBoundedBody(req: IncomingMessage, maxBytes: number, tooLarge: () => InferqError): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(buf);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}
