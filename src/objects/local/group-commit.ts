/**
 * Group commit for the object index: writes requested in the same tick run as savepoints inside
 * ONE immediate transaction. That transaction commits at `synchronous = NORMAL` (appending to the
 * write-ahead log, which survives a crash of the process at once); each promise then settles once a
 * group fdatasync of the log on the thread pool (see WalSync) has made the batch survive power
 * loss too, so the event loop never waits for the disk. A write that throws rolls back only its
 * own savepoint and rejects only its own promise. The connection's other writes keep its default
 * (`synchronous = FULL`).
 */
import type Database from 'better-sqlite3';
import { WalSync } from '../../util/index.js';

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
      for (const item of batch) item.reject(error);
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
      (error: unknown) => committed.forEach(({ item }) => item.reject(error)),
    );
  }

  /** Commits what is pending and waits until every commit is on stable storage (before close). */
  async close(): Promise<void> {
    this.flush();
    await this.wal.close();
  }

  private attempt(item: PendingWrite): Outcome {
    try {
      return { ok: true, value: this.db.transaction(item.work)() };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
