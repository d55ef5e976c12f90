/**
 * Group commit for the object index: writes requested in the same tick run as savepoints inside
 * ONE immediate transaction. That transaction commits at `synchronous = NORMAL` (appending to the
 * write-ahead log, which survives a crash of the process at once); each promise then settles once a
 * group fdatasync of the log on the thread pool (see WalSync) has made the batch survive power
 * loss too, so the event loop never waits for the disk. A write that throws rolls back only its
 * own savepoint and rejects only its own promise. The connection's other writes keep its default
 * (`synchronous = FULL`).
 *
 * A full disk (SQLITE_FULL) or an I/O error can make SQLite roll back the WHOLE transaction while
 * one write runs; the batch then stops there and every write of it rejects with that error (none
 * of them committed; none runs outside the transaction). A batch that committed but whose log sync
 * failed rejects with {@link UnsyncedCommitError}: its rows are visible, so callers must not undo
 * what the rows refer to.
 */
import type Database from 'better-sqlite3';
import { WalSync } from '../../util/index.js';

interface PendingWrite {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** A write that made SQLite roll back the whole batch transaction (thrown out of it to stop the batch). */
class BatchRolledBack extends Error {
  override readonly name = 'BatchRolledBack';
}

/**
 * The rejection of a write that COMMITTED, but whose log sync then failed: the write is visible
 * (and survives a crash of the process), only its survival of a power cut is unknown. `value` is
 * what the write returned; `cause` the sync error.
 */
export class UnsyncedCommitError extends Error {
  override readonly name = 'UnsyncedCommitError';
  constructor(
    readonly value: unknown,
    cause: unknown,
  ) {
    super('The write was committed, but syncing the write-ahead log failed.', { cause });
  }
}

/** Batches index writes made in the same tick into one transaction. */
export class GroupCommitter {
  private pending: PendingWrite[] = [];
  private scheduled = false;
  private readonly wal: WalSync;
  private readonly relaxed: Database.Statement;
  private readonly strict: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.wal = new WalSync(db.name);
    this.relaxed = db.prepare('PRAGMA synchronous = NORMAL');
    this.strict = db.prepare('PRAGMA synchronous = FULL');
  }

  /** Runs `work` inside the next batch transaction; resolves once that batch is on stable storage. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything pending now; its promises settle after the log sync. */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      this.relaxed.run();
      try {
        outcomes = this.db.transaction(() => batch.map((item) => this.attempt(item))).immediate();
      } finally {
        this.strict.run();
      }
    } catch (error) {
      const reason = error instanceof BatchRolledBack ? error.cause : error;
      for (const item of batch) item.reject(reason);
      return;
    }
    const committed: { item: PendingWrite; value: unknown }[] = [];
    outcomes.forEach((outcome, i) => {
      const item = batch[i]!;
      if (outcome.ok) committed.push({ item, value: outcome.value });
      else item.reject(outcome.error);
    });
    if (committed.length === 0) return;
    this.wal.sync().then(
      () => committed.forEach(({ item, value }) => item.resolve(value)),
      (error: unknown) => committed.forEach(({ item, value }) => item.reject(new UnsyncedCommitError(value, error))),
    );
  }

  /** Commits what is pending and waits until every commit is on stable storage (before close). */
  async close(): Promise<void> {
    this.flush();
    await this.wal.close();
  }

  /** Runs one write in its savepoint; stops the batch when its failure rolled back the whole transaction. */
  private attempt(item: PendingWrite): Outcome {
    try {
      return { ok: true, value: this.db.transaction(item.work)() };
    } catch (error) {
      if (!this.db.inTransaction) throw new BatchRolledBack('SQLite rolled back the batch transaction.', { cause: error });
      return { ok: false, error };
    }
  }
}
