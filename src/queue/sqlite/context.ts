/**
 * State shared by the SQLite queue's modules (database, statements, logger, availability
 * listeners) and the mapping of SQLite failures onto the error catalogue.
 */
import Database from 'better-sqlite3';
import { InferqError, toInferqError, toStorageFault } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';
import type { Statements } from './statements.js';

/** When an enqueue resolves (see SqliteJobQueueOptions.durability). */
export type QueueDurability = 'power-loss' | 'process-crash';

/** Everything an operation needs from the open queue. */
export interface QueueContext {
  readonly db: Database.Database;
  readonly stmts: Statements;
  readonly logger: Logger;
  /** Tells same-process listeners (after commit, asynchronously) that `endpoints` have claimable jobs. */
  readonly notify: (endpoints: Iterable<string>) => void;
}

/** The error every operation reports once the queue is closed or closing. */
export function closedError(): InferqError {
  return new InferqError('ServiceUnavailable', 'The job queue is closed.');
}

const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/;

/** Whether `err` is a storage-level SQLite failure (busy, disk full, I/O) rather than a bad row. */
export function isStorageFailure(err: unknown): boolean {
  return err instanceof Database.SqliteError && TRANSIENT.test(err.code);
}

/**
 * Maps anything a database call threw onto the catalogue: a full or read-only disk is StorageFull /
 * StorageReadOnly, other storage failures (busy, I/O) ServiceUnavailable; all are 503 and retryable.
 */
export function toQueueError(err: unknown): InferqError {
  const fault = toStorageFault(err);
  if (fault) return fault;
  if (isStorageFailure(err)) {
    return new InferqError('ServiceUnavailable', 'The job queue cannot write to its database right now; retry later.', {}, { cause: err });
  }
  return toInferqError(err);
}
