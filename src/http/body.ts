/** Bounded reading of small request bodies (SageMaker API calls are at most a few MB). */
import type { IncomingMessage } from 'node:http';
import type { InferqError } from '../errors/index.js';

/**
 * Reads the whole body, failing with `tooLarge` once more than `maxBytes` arrived. With
 * `discardUpTo`, an oversized body is still read (and dropped) up to that many bytes before the
 * failure, so the client gets the error on a connection that stays usable instead of a reset
 * while it is still sending; a body declared or found larger than that fails at once.
 * Listens for `data`/`end` directly (no async iterator: this runs once per API call).
 * @throws InferqError
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number, tooLarge: () => InferqError, discardUpTo = maxBytes): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > Math.max(maxBytes, discardUpTo)) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err !== undefined) reject(err);
      else if (size > maxBytes) reject(tooLarge());
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > discardUpTo) {
        req.pause();
        done(tooLarge());
      } else if (size <= maxBytes) chunks.push(chunk);
    };
    const onEnd = (): void => done(undefined);
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
