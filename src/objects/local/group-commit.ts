/**
 * Group commit for the object index: writes requested in the same tick run as savepoints inside
 * ONE immediate transaction, so one WAL fsync (synchronous = FULL) makes a whole batch of new
 * objects durable. A write that throws rolls back only its own savepoint and rejects only its
 * own promise.
 */
import type Database from 'better-sqlite3';

interface PendingWrite {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Batches index writes made in the same tick into one transaction. */
export class GroupCommitter {
  private pending: PendingWrite[] = [];
  private scheduled = false;

  constructor(private readonly db: Database.Database) {}

  /** Runs `work` inside the next batch transaction; resolves after that transaction committed. */
  run<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything pending now (also used before close). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.db
        .transaction(() => batch.map((item): Outcome => {
          try {
            return { ok: true, value: this.db.transaction(item.work)() };
          } catch (error) {
            return { ok: false, error };
          }
        }))
        .immediate();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => {
      const item = batch[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
