/**
 * Group commit of enqueues: every enqueue made before the next flush (the same tick, or within
 * `maxBatchDelayMs`), single or in groups (the queue thread hands over each main-thread tick's
 * enqueues as one group), is inserted in ONE transaction, committed at `synchronous = NORMAL`. At
 * `power-loss` durability each promise settles only once a group fdatasync of the write-ahead log
 * (off the event loop, see {@link WalSync}) has made the batch survive power loss; at
 * `process-crash` it settles at commit and the log is synced in the background soon after. Idempotency is decided per job inside the batch: a
 * repeated (endpoint, inferenceId) resolves to the stored job when its fingerprint matches and
 * rejects with InferenceIdConflict otherwise, without affecting the other jobs of the batch.
 */
import Database from 'better-sqlite3';
import { InferqError, toInferqError } from '../../errors/index.js';
import type { WalSync } from '../../util/index.js';
import type { EnqueueResult, Job, NewJob } from '../port.js';
import { closedError, toQueueError, type QueueContext, type QueueDurability } from './context.js';
import { insertedJob, toInsertRow, toJob, type InsertRow } from './statements.js';

/** At `process-crash` durability, the longest a commit waits for an fdatasync of the log. */
export const BACKGROUND_SYNC_MS = 100;

/** Most jobs written by one transaction; a larger backlog is flushed in several (whole groups at a time). */
export const MAX_BATCH = 5_000;

/**
 * What one enqueue of a batch came to: the id of the job it created, the job already stored under
 * its InferenceId (an identical replay), or its own error.
 */
export type InsertOutcome = number | { readonly existing: Job } | { readonly error: InferqError };

/** Enqueues handed over together; settled together once their batch is durable. */
interface PendingGroup {
  readonly jobs: readonly InsertRow[];
  readonly resolve: (outcomes: InsertOutcome[]) => void;
  readonly reject: (err: InferqError) => void;
}

/** The EnqueueResult of `job` from its outcome, or the outcome's error. */
function toEnqueueResult(job: NewJob, outcome: InsertOutcome | undefined): EnqueueResult {
  if (outcome === undefined) throw new InferqError('InternalError', 'A batched enqueue has no outcome.');
  if (typeof outcome === 'number') return { job: insertedJob(job, outcome), created: true };
  if ('error' in outcome) throw outcome.error;
  return { job: outcome.existing, created: false };
}

/** Collects enqueues and writes them in batches; owned by the SQLite queue. */
export class EnqueueBatcher {
  private pending: PendingGroup[] = [];
  private pendingJobs = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private commits = 0;
  private backgroundSync: NodeJS.Timeout | undefined;

  /**
   * `delayMs` 0 flushes on the next setImmediate; more waits that long for further enqueues. At
   * `power-loss` durability a batch settles once `wal` is synced; at `process-crash` as soon as it
   * is committed, and `wal` is synced within {@link BACKGROUND_SYNC_MS} after.
   */
  constructor(
    private readonly ctx: QueueContext,
    private readonly delayMs: number,
    private readonly wal: WalSync,
    private readonly durability: QueueDurability,
  ) {}

  /** Number of batch transactions committed so far. */
  get commitCount(): number {
    return this.commits;
  }

  /** Queues `job` for the next batch; settles after the batch is durable. */
  add(job: NewJob): Promise<EnqueueResult> {
    let row: InsertRow;
    try {
      row = toInsertRow(job);
    } catch (err) {
      return Promise.reject(toInferqError(err));
    }
    return this.addMany([row]).then((outcomes) => toEnqueueResult(job, outcomes[0]));
  }

  /**
   * Queues jobs (as {@link toInsertRow} rows) for the next batch; resolves, once the batch is
   * durable, to one outcome per job (in order). Rejects only when the batch could not be written.
   */
  addMany(jobs: readonly InsertRow[]): Promise<InsertOutcome[]> {
    return new Promise<InsertOutcome[]>((resolve, reject) => {
      this.pending.push({ jobs, resolve, reject });
      this.pendingJobs += jobs.length;
      this.schedule();
    });
  }

  /** Writes everything pending now (used by close, which then syncs the log itself). */
  flushAll(): void {
    this.cancelTimer();
    clearTimeout(this.backgroundSync);
    this.backgroundSync = undefined;
    while (this.pending.length > 0) this.commitBatch(this.takeBatch());
  }

  /** Rejects everything still pending (the database can no longer be written). */
  rejectAll(): void {
    this.cancelTimer();
    const error = closedError();
    for (const group of this.takeAll()) group.reject(error);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = this.delayMs > 0 ? setTimeout(() => this.flushOne(), this.delayMs) : setImmediate(() => this.flushOne());
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private takeAll(): PendingGroup[] {
    this.pendingJobs = 0;
    return this.pending.splice(0);
  }

  /** Whole groups from the front, up to MAX_BATCH jobs (at least one group). */
  private takeBatch(): PendingGroup[] {
    if (this.pendingJobs <= MAX_BATCH) return this.takeAll();
    let count = 0;
    let groups = 0;
    for (const group of this.pending) {
      if (groups > 0 && count + group.jobs.length > MAX_BATCH) break;
      count += group.jobs.length;
      groups++;
    }
    this.pendingJobs -= count;
    return this.pending.splice(0, groups);
  }

  /** Commits one batch; what is left (beyond MAX_BATCH, or added meanwhile) waits for the next turn. */
  private flushOne(): void {
    this.timer = undefined;
    this.commitBatch(this.takeBatch());
    if (this.pending.length > 0) this.timer = setImmediate(() => this.flushOne());
  }

  private commitBatch(batch: readonly PendingGroup[]): void {
    if (batch.length === 0) return;
    const created = new Map<string, number>();
    let outcomes: InsertOutcome[][];
    try {
      outcomes = this.ctx.db.transaction(() => {
        const inserted = batch.map((group) => group.jobs.map((job) => this.insert(job, created)));
        for (const [endpoint, n] of created) this.ctx.stmts.countQueued.run(endpoint, n);
        return inserted;
      }).immediate();
      this.commits++;
    } catch (err) {
      this.fail(batch, err);
      return;
    }
    if (created.size > 0) this.ctx.notify(created.keys());
    const settle = (): void => batch.forEach((group, i) => group.resolve(outcomes[i] ?? []));
    if (this.durability === 'power-loss') {
      this.wal.sync().then(settle, (err: unknown) => this.fail(batch, err));
      return;
    }
    settle();
    this.syncSoon();
  }

  /** At `process-crash` durability: one fdatasync of the log within BACKGROUND_SYNC_MS of a commit. */
  private syncSoon(): void {
    if (this.backgroundSync !== undefined) return;
    this.backgroundSync = setTimeout(() => {
      this.backgroundSync = undefined;
      this.wal.sync().catch((err: unknown) => this.ctx.logger.error('background sync of the job log failed', { error: err }));
    }, BACKGROUND_SYNC_MS);
  }

  private fail(batch: readonly PendingGroup[], err: unknown): void {
    const error = toQueueError(err);
    this.ctx.logger.error('job enqueue batch failed', { jobs: batch.reduce((n, group) => n + group.jobs.length, 0), error: err });
    for (const group of batch) group.reject(error);
  }

  /**
   * Inserts one job inside the batch transaction (counting it under its endpoint in `created` when it is new).
   * A bad job becomes its own error outcome; storage failures propagate and fail the batch.
   */
  private insert(row: InsertRow, created: Map<string, number>): InsertOutcome {
    const { stmts } = this.ctx;
    const [endpoint, inferenceId, , , fingerprint] = row;
    try {
      const info = stmts.insert.run(row);
      if (info.changes > 0) {
        created.set(endpoint, (created.get(endpoint) ?? 0) + 1);
        return Number(info.lastInsertRowid);
      }
      const existing = stmts.byKey.get(endpoint, inferenceId);
      if (!existing) throw new InferqError('InternalError', 'A conflicting job vanished during enqueue.');
      if (existing.fingerprint !== fingerprint) {
        const message = `The InferenceId ${inferenceId} is already used by a different request on endpoint ${endpoint}.`;
        return { error: new InferqError('InferenceIdConflict', message, { InferenceId: inferenceId }) };
      }
      return { existing: toJob(existing) };
    } catch (err) {
      return { error: badJobError(err) };
    }
  }
}

/** A job-level failure as its InvalidArgument (or own) error; rethrows storage failures. */
function badJobError(err: unknown): InferqError {
  if (err instanceof InferqError) return err;
  if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) {
    return new InferqError('InvalidArgument', `The job could not be stored: ${err.message}`, {}, { cause: err });
  }
  if (err instanceof TypeError || err instanceof RangeError) {
    return new InferqError('InvalidArgument', `The job could not be stored: ${err.message}`, {}, { cause: err });
  }
  throw err;
}
