/**
 * Group commit of enqueues on PostgreSQL: the enqueues of one event-loop turn are written by ONE
 * INSERT … SELECT FROM unnest(…) statement (one transaction, one round trip), and every promise
 * settles only after that COMMIT returned (with synchronous_commit on, the server flushed its WAL).
 * At most {@link MAX_IN_FLIGHT} batches run at once; enqueues made meanwhile wait and form the next,
 * larger batch. Idempotency is decided per job, as in the SQLite backend: a job whose (endpoint,
 * InferenceId) exists — stored earlier, by another process, or earlier in the same batch —
 * resolves to the stored job when its fingerprint matches and rejects with InferenceIdConflict
 * otherwise. A row the server refuses (bad data) fails only its own job: the batch is then
 * written again one job per statement.
 */
import type { Pool } from 'pg';
import { InferqError, toInferqError } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';
import type { EnqueueResult, Job, NewJob } from '../port.js';
import { insertedJob, toInsertRow, toJob, type InsertRow, type JobRow } from '../rows.js';
import { isBadData, toPgQueueError } from './errors.js';
import { bind, type Statements } from './statements.js';

/** Batches written concurrently (each on its own pooled connection). */
export const MAX_IN_FLIGHT = 2;

/** Most jobs one statement writes; a larger backlog is written by several. */
export const MAX_BATCH = 2_000;

interface Pending {
  readonly job: NewJob;
  readonly row: InsertRow;
  readonly resolve: (result: EnqueueResult) => void;
  readonly reject: (err: InferqError) => void;
}

const key = (endpoint: string, inferenceId: string): string => `${endpoint}\u0000${inferenceId}`;

/** A text the server cannot store (PostgreSQL text cannot hold NUL). */
function hasNul(row: InsertRow): boolean {
  return row.some((value) => typeof value === 'string' && value.includes('\u0000'));
}

/** Collects enqueues and writes them in batches; owned by the PostgreSQL queue. */
export class PgEnqueueBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  private commits = 0;
  private idle: (() => void)[] = [];

  /** `notify` tells same-process listeners, after commit, which endpoints got new jobs. */
  constructor(
    private readonly pool: Pool,
    private readonly stmts: Statements,
    private readonly logger: Logger,
    private readonly notify: (endpoints: Iterable<string>) => void,
  ) {}

  /** Number of batch statements committed so far. */
  get commitCount(): number {
    return this.commits;
  }

  /** Queues `job` for the next batch; settles once its batch committed. */
  add(job: NewJob): Promise<EnqueueResult> {
    let row: InsertRow;
    try {
      row = toInsertRow(job);
      if (hasNul(row)) throw new InferqError('InvalidArgument', 'The job could not be stored: a text field contains a NUL character.');
    } catch (err) {
      return Promise.reject(toInferqError(err));
    }
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.pending.push({ job, row, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is pending or being written (close waits for this). */
  drain(): Promise<void> {
    this.flush();
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const batch = this.pending.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.flush();
        if (this.pending.length === 0 && this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    try {
      await this.writeBatch(batch);
    } catch (err) {
      if (!isBadData(err) || batch.length === 1) {
        this.fail(batch, err);
        return;
      }
      for (const item of batch) {
        try {
          await this.writeBatch([item]);
        } catch (one) {
          this.fail([item], one);
        }
      }
    }
  }

  /** One INSERT for the batch, then (only when some job was not created) one read of the stored jobs. */
  private async writeBatch(batch: readonly Pending[]): Promise<void> {
    const columns = Array.from({ length: 15 }, (_, c) => batch.map((item) => item.row[c]));
    const inserted = await this.pool.query<{ seq: number; endpoint: string; inference_id: string }>(bind(this.stmts.insertMany, columns));
    this.commits++;
    const created = new Map<string, number>();
    for (const row of inserted.rows) created.set(key(row.endpoint, row.inference_id), row.seq);
    const firstOf = new Map<string, Pending>();
    const replays: Pending[] = [];
    for (const item of batch) {
      const k = key(item.job.endpoint, item.job.inferenceId);
      if (created.has(k) && !firstOf.has(k)) firstOf.set(k, item);
      else replays.push(item);
    }
    const stored = replays.length > 0 ? await this.readStored(replays, created, firstOf) : new Map<string, Job>();
    if (created.size > 0) this.notify(new Set(inserted.rows.map((row) => row.endpoint)));
    for (const [k, item] of firstOf) item.resolve({ job: insertedJob(item.job, created.get(k)!), created: true });
    for (const item of replays) settleReplay(item, stored.get(key(item.job.endpoint, item.job.inferenceId)));
  }

  /** The stored job of each replay: one created by this batch, or one read back from the table. */
  private async readStored(replays: readonly Pending[], created: ReadonlyMap<string, number>, firstOf: ReadonlyMap<string, Pending>): Promise<Map<string, Job>> {
    const stored = new Map<string, Job>();
    const missing = replays.filter((item) => {
      const k = key(item.job.endpoint, item.job.inferenceId);
      const first = firstOf.get(k);
      if (first) stored.set(k, insertedJob(first.job, created.get(k)!));
      return !first;
    });
    if (missing.length === 0) return stored;
    const keys = [missing.map((item) => item.job.endpoint), missing.map((item) => item.job.inferenceId)];
    const { rows } = await this.pool.query<JobRow>(bind(this.stmts.byKeys, keys));
    for (const row of rows) stored.set(key(row.endpoint, row.inference_id), toJob(row));
    return stored;
  }

  private fail(batch: readonly Pending[], err: unknown): void {
    const error = toPgQueueError(err);
    this.logger.error('job enqueue batch failed', { jobs: batch.length, error: err });
    for (const item of batch) item.reject(error);
  }
}

function settleReplay(item: Pending, existing: Job | undefined): void {
  const { inferenceId, endpoint, fingerprint } = item.job;
  if (!existing) {
    item.reject(new InferqError('ServiceUnavailable', 'A job with this InferenceId is being written by another request; retry.'));
  } else if (existing.fingerprint !== fingerprint) {
    const message = `The InferenceId ${inferenceId} is already used by a different request on endpoint ${endpoint}.`;
    item.reject(new InferqError('InferenceIdConflict', message, { InferenceId: inferenceId }));
  } else {
    item.resolve({ job: existing, created: false });
  }
}
