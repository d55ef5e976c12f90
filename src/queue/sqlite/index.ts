/**
 * The embedded SQLite job queue: one database file (WAL; enqueues acknowledged after a group fdatasync of the log) holding jobs, backlog
 * counters and the worker registry. One process should own the file; other processes on the host
 * may share it safely (every write is an IMMEDIATE transaction), at the cost of lock waits.
 */
import { silentLogger, type Clock, type Logger } from '../../util/index.js';
import { openJobDatabase } from './schema.js';
import { createStatements } from './statements.js';
import { SqliteQueue, type SqliteJobQueue } from './queue.js';

/** Options of {@link openSqliteJobQueue}. */
export interface SqliteJobQueueOptions {
  /** Path of the database file (created if missing, with its `-wal` and `-shm` companions). */
  readonly file: string;
  /**
   * Accepted for symmetry with the other stores; every queue operation takes its `now` explicitly,
   * so the queue itself never reads a clock.
   */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * How long the first enqueue of a batch waits for more before the batch commits. 0 commits on
   * the next `setImmediate`, i.e. everything enqueued in the same tick shares one transaction.
   * @default 0
   */
  readonly maxBatchDelayMs?: number;
}

/**
 * Opens (creating and migrating if needed) the SQLite job queue. Synchronous: the database is
 * ready when this returns. Throws InternalError if the file has a newer schema version.
 */
export function openSqliteJobQueue(options: SqliteJobQueueOptions): SqliteJobQueue {
  const db = openJobDatabase(options.file);
  try {
    const stmts = createStatements(db);
    return new SqliteQueue({ db, stmts, logger: options.logger ?? silentLogger }, Math.max(0, options.maxBatchDelayMs ?? 0));
  } catch (err) {
    db.close();
    throw err;
  }
}

export { SCHEMA_VERSION } from './schema.js';
export { MAX_INLINE_BODY_BYTES } from './statements.js';
export type { SqliteJobQueue } from './queue.js';
export type { SeedOptions } from './seed.js';
