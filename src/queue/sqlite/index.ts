/**
 * The embedded SQLite job queue: one database file (WAL; enqueues acknowledged after a group fdatasync of the log) holding jobs, backlog
 * counters and the worker registry. One process should own the file; other processes on the host
 * may share it safely (every write is an IMMEDIATE transaction), at the cost of lock waits.
 */
import { silentLogger, type Clock, type Logger } from '../../util/index.js';
import type { QueueDurability } from './context.js';
import { openJobDatabase } from './schema.js';
import { createStatements } from './statements.js';
import { SqliteQueue, type SqliteJobQueue } from './queue.js';
import { ThreadedSqliteQueue } from './threaded.js';

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
  /**
   * Runs the database on a worker thread of its own (the event loop never waits for SQLite).
   * `false` runs every statement on the calling thread.
   * @default true
   */
  readonly thread?: boolean;
  /**
   * With `thread`: the most enqueues of one event-loop turn sent to the thread in one message. A
   * busy turn's first enqueues then start committing while the event loop still parses the rest.
   * @default 32
   */
  readonly maxEnqueuesPerMessage?: number;
  /**
   * When an enqueue resolves: `power-loss` after a group fdatasync of the write-ahead log has put
   * its commit on stable storage; `process-crash` after the commit alone (the log is in the OS, so
   * the job survives a crash or SIGKILL of this process) with the log synced in the background
   * within 100 ms, so a power cut or OS crash may lose the jobs of about the last 0.1 s.
   * @default 'power-loss'
   */
  readonly durability?: QueueDurability;
}

/** Default of {@link SqliteJobQueueOptions.maxEnqueuesPerMessage}. */
export const DEFAULT_MAX_ENQUEUES_PER_MESSAGE = 32;

/**
 * Opens (creating and migrating if needed) the SQLite job queue. Synchronous: the database is
 * created and migrated when this returns (on a thread, the calls made meanwhile wait for it). Throws InternalError if the file has a newer schema version.
 */
export function openSqliteJobQueue(options: SqliteJobQueueOptions): SqliteJobQueue {
  const db = openJobDatabase(options.file);
  const logger = options.logger ?? silentLogger;
  const maxBatchDelayMs = Math.max(0, options.maxBatchDelayMs ?? 0);
  const durability = options.durability ?? 'power-loss';
  if (options.thread ?? true) {
    db.close();
    const requested = options.maxEnqueuesPerMessage ?? DEFAULT_MAX_ENQUEUES_PER_MESSAGE;
    const perMessage = Number.isNaN(requested) ? DEFAULT_MAX_ENQUEUES_PER_MESSAGE : Math.max(1, Math.trunc(requested));
    return new ThreadedSqliteQueue({ file: options.file, maxBatchDelayMs, durability }, logger, perMessage);
  }
  try {
    return new SqliteQueue({ db, stmts: createStatements(db), logger }, maxBatchDelayMs, durability);
  } catch (err) {
    db.close();
    throw err;
  }
}

export { SCHEMA_VERSION } from './schema.js';
export { MAX_INLINE_BODY_BYTES } from './statements.js';
export type { SqliteJobQueue } from './queue.js';
export type { QueueDurability } from './context.js';
export type { SeedOptions } from './seed.js';
