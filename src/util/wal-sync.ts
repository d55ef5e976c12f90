/**
 * Durability of SQLite WAL commits without blocking the event loop. A connection in WAL mode with
 * `synchronous = NORMAL` commits by appending frames to the `-wal` file (surviving a crash of the
 * process at once); this module then makes those frames survive power loss with `fdatasync` on the
 * libuv thread pool, while the event loop keeps serving. Callers that arrive while a sync runs
 * share the next one (group fsync): N batches committed during one sync cost one more sync, not N.
 *
 * Sound because SQLite itself syncs the WAL before every checkpoint copies frames into the
 * database, and the database after it; the WAL file keeps its inode while a connection is open.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

/** Group `fdatasync` of one database's write-ahead log. */
export class WalSync {
  private fd: number | undefined;
  private running = false;
  private waiting: Waiter[] = [];
  private idle: (() => void)[] = [];
  private closing = false;
  private syncs = 0;

  /** `databaseFile` is the main database path; its log is `${databaseFile}-wal`. */
  constructor(private readonly databaseFile: string) {}

  /** Number of fdatasync calls made so far (to observe grouping). */
  get syncCount(): number {
    return this.syncs;
  }

  /** Resolves once everything committed to the WAL before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.closing) return Promise.reject(new Error('The write-ahead log is closed.'));
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.start();
    });
  }

  /** Waits for a running sync, syncs once more synchronously and closes the log file. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.running) await new Promise<void>((resolve) => this.idle.push(resolve));
    const waiters = this.waiting.splice(0);
    try {
      if (this.fd !== undefined) fdatasyncSync(this.fd);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err as Error);
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private start(): void {
    const batch = this.waiting.splice(0);
    let fd: number;
    try {
      fd = this.fd ??= openSync(`${this.databaseFile}-wal`, 'r');
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
      return;
    }
    this.running = true;
    this.syncs++;
    fdatasync(fd, (err) => {
      this.running = false;
      for (const w of batch) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (this.closing) for (const resolve of this.idle.splice(0)) resolve();
      else if (this.waiting.length > 0) this.start();
    });
  }
}
