/**
 * Group commit of enqueues: every enqueue made before the next flush (the same tick, or within
 * `maxBatchDelayMs`) is inserted in ONE transaction, committed at `synchronous = NORMAL`; each
 * promise settles only once a group fdatasync of the write-ahead log (off the event loop, see
 * {@link WalSync}) has made the batch survive power loss. Idempotency is decided per job inside the batch: a
 * repeated (endpoint, inferenceId) resolves to the stored job when its fingerprint matches and
 * rejects with InferenceIdConflict otherwise, without affecting the other jobs of the batch.
 */
import Database from 'better-sqlite3';
import { InferqError, toInferqError } from '../../errors/index.js';
import type { WalSync } from '../../util/index.js';
import type { EnqueueResult, NewJob } from '../port.js';
import { closedError, toQueueError, type QueueContext } from './context.js';
import { insertedJob, toInsertParams, toJob, type InsertParams } from './statements.js';

/** Most jobs written by one transaction; a larger backlog is flushed in several. */
export const MAX_BATCH = 5_000;

interface PendingEnqueue {
  readonly job: NewJob;
  readonly params: InsertParams;
  readonly resolve: (result: EnqueueResult) => void;
  readonly reject: (err: InferqError) => void;
}

type Outcome = { readonly result: EnqueueResult } | { readonly error: InferqError };

/** Collects enqueues and writes them in batches; owned by the SQLite queue. */
export class EnqueueBatcher {
  private pending: PendingEnqueue[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private commits = 0;

  /** `delayMs` 0 flushes on the next setImmediate; more waits that long for further enqueues. */
  constructor(
    private readonly ctx: QueueContext,
    private readonly delayMs: number,
    private readonly wal: WalSync,
  ) {}

  /** Number of batch transactions committed so far. */
  get commitCount(): number {
    return this.commits;
  }

  /** Queues `job` for the next batch; settles after the batch commits. */
  add(job: NewJob): Promise<EnqueueResult> {
    let params: InsertParams;
    try {
      params = toInsertParams(job);
    } catch (err) {
      return Promise.reject(toInferqError(err));
    }
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.pending.push({ job, params, resolve, reject });
      this.schedule();
    });
  }

  /** Writes everything pending now (used by close). */
  flushAll(): void {
    this.cancelTimer();
    while (this.pending.length > 0) this.commitBatch(this.pending.splice(0, MAX_BATCH));
  }

  /** Rejects everything still pending (the database can no longer be written). */
  rejectAll(): void {
    this.cancelTimer();
    const error = closedError();
    for (const item of this.pending.splice(0)) item.reject(error);
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

  /** Commits one batch; what is left (beyond MAX_BATCH, or added meanwhile) waits for the next turn. */
  private flushOne(): void {
    this.timer = undefined;
    this.commitBatch(this.pending.splice(0, MAX_BATCH));
    if (this.pending.length > 0) this.timer = setImmediate(() => this.flushOne());
  }

  private commitBatch(batch: readonly PendingEnqueue[]): void {
    if (batch.length === 0) return;
    let outcomes: Outcome[];
    try {
      outcomes = this.ctx.db.transaction(() => batch.map((item) => this.insert(item))).immediate();
      this.commits++;
    } catch (err) {
      this.fail(batch, err);
      return;
    }
    const endpoints = new Set<string>();
    outcomes.forEach((outcome) => {
      if ('result' in outcome && outcome.result.created) endpoints.add(outcome.result.job.endpoint);
    });
    if (endpoints.size > 0) this.ctx.notify(endpoints);
    this.wal.sync().then(
      () => settle(batch, outcomes),
      (err: unknown) => this.fail(batch, err),
    );
  }

  private fail(batch: readonly PendingEnqueue[], err: unknown): void {
    const error = toQueueError(err);
    this.ctx.logger.error('job enqueue batch failed', { jobs: batch.length, error: err });
    for (const item of batch) item.reject(error);
  }

  /** Inserts one job inside the batch transaction. Storage failures propagate and fail the batch. */
  private insert({ job, params }: PendingEnqueue): Outcome {
    const { stmts } = this.ctx;
    try {
      const info = stmts.insert.run(params);
      if (info.changes > 0) return { result: { job: insertedJob(job, Number(info.lastInsertRowid)), created: true } };
      const existing = stmts.byKey.get(params.endpoint, params.inferenceId);
      if (!existing) throw new InferqError('InternalError', 'A conflicting job vanished during enqueue.');
      if (existing.fingerprint !== params.fingerprint) {
        const message = `The InferenceId ${params.inferenceId} is already used by a different request on endpoint ${params.endpoint}.`;
        return { error: new InferqError('InferenceIdConflict', message, { InferenceId: params.inferenceId }) };
      }
      return { result: { job: toJob(existing), created: false } };
    } catch (err) {
      if (err instanceof InferqError) return { error: err };
      if (err instanceof Database.SqliteError && err.code.startsWith('SQLITE_CONSTRAINT')) {
        return { error: new InferqError('InvalidArgument', `The job could not be stored: ${err.message}`, {}, { cause: err }) };
      }
      if (err instanceof TypeError || err instanceof RangeError) {
        return { error: new InferqError('InvalidArgument', `The job could not be stored: ${err.message}`, {}, { cause: err }) };
      }
      throw err;
    }
  }
}

/** Settles each enqueue of a durable batch with its own outcome. */
function settle(batch: readonly PendingEnqueue[], outcomes: readonly Outcome[]): void {
  batch.forEach((item, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) item.reject(new InferqError('InternalError', 'A batched enqueue has no outcome.'));
    else if ('error' in outcome) item.reject(outcome.error);
    else item.resolve(outcome.result);
  });
}
