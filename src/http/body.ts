/** Bounded reading of small request bodies (SageMaker API calls are at most a few MB). */
import type { IncomingMessage } from 'node:http';
import { InferqError } from '../errors/index.js';

/**
 * Reads the whole body, failing with `tooLarge` once more than `maxBytes` arrived. With
 * `discardUpTo`, an oversized body is still read (and dropped) up to that many bytes before the
 * failure, so the client gets the error on a connection that stays usable instead of a reset
 * while it is still sending; a body declared or found larger than that fails at once.
 * Listens for `data`/`end` directly (no async iterator: this runs once per API call). A client
 * closing the connection mid-body is IncompleteBody.
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
    // A client that goes away mid-body is the client's failure, not an internal error.
    const gone = (cause?: Error): InferqError => new InferqError('IncompleteBody', 'The client closed the connection before sending the whole body.', {}, cause === undefined ? undefined : { cause });
    const onError = (err: Error): void => done(gone(err));
    const onClose = (): void => done(gone());
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
