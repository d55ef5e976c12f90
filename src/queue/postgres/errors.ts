/**
 * The PostgreSQL queue's failures on the error catalogue. A server that is unreachable, restarting
 * or out of resources is `ServiceUnavailable` (503, retryable): the API answers it to the client,
 * workers retry. pg reports a broken or refused connection as a plain Error or a Node system error
 * (no SQLSTATE), so anything a pg call throws that is not a server `DatabaseError` (nor a
 * TypeError / RangeError: a bug of ours) counts as the connection failing; a `DatabaseError` is classified by its SQLSTATE class, never by its text.
 */
import { DatabaseError } from 'pg';
import { InferqError, toInferqError } from '../../errors/index.js';

/** The error every operation reports once the queue is closed or closing. */
export function closedError(): InferqError {
  return new InferqError('ServiceUnavailable', 'The job queue is closed.');
}

/**
 * SQLSTATE classes and codes that mean "the database cannot serve this right now": 08 connection
 * exception, 53 insufficient resources, 57P0x shutdown / cannot connect now, 40001 serialization
 * failure, 40P01 deadlock, 55P03 lock not available, 57014 query cancelled (statement timeout).
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53']);
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '57P04', '57P05', '40001', '40P01', '55P03', '57014']);

/** Whether `err`, thrown by a pg call, means the database is (for now) unavailable. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof DatabaseError) {
    const code = err.code ?? '';
    return UNAVAILABLE_CLASSES.has(code.slice(0, 2)) || UNAVAILABLE_CODES.has(code);
  }
  return !(err instanceof InferqError || err instanceof TypeError || err instanceof RangeError);
}

/** Whether `err` is the server refusing one row's data (SQLSTATE class 22 data exception, 23 integrity). */
export function isBadData(err: unknown): boolean {
  if (!(err instanceof DatabaseError)) return false;
  const cls = (err.code ?? '').slice(0, 2);
  return cls === '22' || cls === '23';
}

/** Maps anything a pg call threw onto the catalogue (see the module header). */
export function toPgQueueError(err: unknown): InferqError {
  if (err instanceof InferqError) return err;
  if (isUnavailable(err)) {
    return new InferqError('ServiceUnavailable', 'The job queue database is not reachable right now; retry later.', {}, { cause: err });
  }
  if (isBadData(err)) {
    return new InferqError('InvalidArgument', `The job could not be stored: ${(err as Error).message}`, {}, { cause: err });
  }
  return toInferqError(err);
}
