/**
 * Bounded reading of small request bodies (SageMaker API calls are at most a few MB), and the one
 * budget of bytes buffered before their signature can be checked: SageMaker signs the payload, so
 * its body must be read before the request is known to be genuine, and without a shared bound any
 * caller who knows an access key id could make the server hold megabytes per connection.
 */
import type { IncomingMessage } from 'node:http';
import { InferqError } from '../errors/index.js';

/** Bytes of request bodies held while their signature is not yet verified, shared by every request. */
export class UnverifiedBodyBudget {
  private used = 0;

  /** @param limit most bytes held at once (`server.maxUnverifiedBodyBytes`). */
  constructor(readonly limit: number) {}

  /** Bytes currently reserved. */
  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes`; false (nothing reserved) when that would pass the limit. */
  tryReserve(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  /** Gives back bytes from {@link tryReserve}. */
  release(bytes: number): void {
    this.used -= bytes;
  }
}

/** The error for a body refused because the budget is spent. */
function budgetSpent(): InferqError {
  return new InferqError('ServiceUnavailable', 'Too many request bodies are waiting for their signature to be checked (server.maxUnverifiedBodyBytes); retry later.');
}

/** Options of {@link readBoundedBody}. */
export interface ReadBodyOptions {
  /**
   * An oversized body is still read (and dropped) up to this many bytes before the failure, so the
   * client gets the error on a connection that stays usable; a body declared or found larger than
   * this fails at once. @default maxBytes
   */
  readonly discardUpTo?: number;
  /**
   * Kept bytes are reserved here before the read starts (the declared length) or as they arrive
   * (no declared length). Refused reservations fail with ServiceUnavailable; the caller gives the
   * bytes back with the returned body's `release`.
   */
  readonly budget?: UnverifiedBodyBudget;
  /** Called once the body may be read, just before reading starts (to send `100 Continue`). */
  readonly beforeRead?: () => void;
}

/** A body read by {@link readBoundedBody}. */
export interface BoundedBody {
  readonly bytes: Buffer;
  /** Gives back the budget the body holds (idempotent; a no-op without a budget). */
  release(): void;
}

/**
 * Reads the whole body, failing with `tooLarge` once more than `maxBytes` arrived (see
 * {@link ReadBodyOptions} for the discard window and the budget). Listens for `data`/`end`
 * directly (no async iterator: this runs once per API call).
 * @throws InferqError
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number, tooLarge: () => InferqError, options: ReadBodyOptions = {}): Promise<BoundedBody> {
  const discardUpTo = options.discardUpTo ?? maxBytes;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > Math.max(maxBytes, discardUpTo)) return Promise.reject(tooLarge());
  const { budget } = options;
  let reserved = 0;
  const release = (): void => {
    budget?.release(reserved);
    reserved = 0;
  };
  if (budget !== undefined && declared > 0) {
    const wanted = Math.min(declared, maxBytes);
    if (!budget.tryReserve(wanted)) return Promise.reject(budgetSpent());
    reserved = wanted;
  }
  const growBy = budget !== undefined && !(declared >= 0) ? budget : undefined;
  options.beforeRead?.();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | undefined): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err === undefined && size > maxBytes) err = tooLarge();
      if (err !== undefined) {
        release();
        reject(err);
      } else resolve({ bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), release });
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > discardUpTo) {
        req.pause();
        done(tooLarge());
      } else if (size <= maxBytes) {
        if (growBy !== undefined) {
          if (!growBy.tryReserve(chunk.length)) {
            req.pause();
            done(budgetSpent());
            return;
          }
          reserved += chunk.length;
        }
        chunks.push(chunk);
      }
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
