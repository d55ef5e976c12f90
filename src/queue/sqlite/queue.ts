/**
 * The SQLite JobQueue and WorkerRegistry: one database file, group-committed enqueues, leases in
 * IMMEDIATE transactions. Every public method rejects with ServiceUnavailable once close() was
 * called; close() first commits the enqueues already accepted.
 */
import { WalSync, type Logger } from '../../util/index.js';
import { AvailabilityListeners } from '../availability.js';
import type { CancelResult, EndpointDemand, EnqueueResult, Job, JobFinish, JobOutcome, JobPage, ListQuery, NewJob, QueueBackend, QueueStats, RerunResult, WorkerRoute } from '../port.js';
import { routeEndpointsText, toRoute } from '../routes.js';
import { closedError, toQueueError, type QueueContext, type QueueDurability } from './context.js';
import { EnqueueBatcher, type InsertOutcome } from './enqueue.js';
import { claimExpiredJobs, claimJobs, deferJob, finishJob, finishJobs, releaseJob, releaseOwnerJobs, renewLeases } from './leases.js';
import { cancelJob, cancelRequestedJobs, listJobs, rerunJob, retryJobLater } from './lifecycle.js';
import { seedQueuedJobs, type SeedOptions } from './seed.js';
import { toJob, type InsertRow } from './statements.js';

const PURGE_CHUNK = 5_000;

/** The SQLite queue's API: the JobQueue port, the worker registry, retention and test hooks. */
export interface SqliteJobQueue extends QueueBackend {
  /** The registered workers of `hostname` with their process ids. */
  workersOnHost(hostname: string): Promise<{ owner: string; pid: number }[]>;
  /**
   * Number of enqueue batch transactions committed since open (to observe group commit).
   * @internal
   */
  commitCount(): number;
  /**
   * Bulk-inserts `n` queued jobs for tests and benchmarks; resolves to the first and last id.
   * @internal
   */
  seedForBenchmark(n: number, options?: SeedOptions): Promise<{ first: string; last: string } | undefined>;
}

/** The implementation of {@link SqliteJobQueue} over an opened, migrated database. */
export class SqliteQueue implements SqliteJobQueue {
  private closing: Promise<void> | undefined;
  private readonly batcher: EnqueueBatcher;
  private readonly ctx: QueueContext;
  private readonly wal: WalSync;
  private readonly listeners: AvailabilityListeners;

  /**
   * Takes ownership of the database in `ctx` (minus `notify`, which the queue provides); see
   * SqliteJobQueueOptions for `maxBatchDelayMs` and `durability`.
   */
  constructor(ctx: Omit<QueueContext, 'notify'>, maxBatchDelayMs: number, durability: QueueDurability) {
    this.listeners = new AvailabilityListeners(ctx.logger);
    this.ctx = Object.assign({}, ctx, { notify: (endpoints: Iterable<string>) => this.notify(endpoints) });
    this.wal = new WalSync(ctx.db.name);
    this.batcher = new EnqueueBatcher(this.ctx, maxBatchDelayMs, this.wal, durability);
  }

  private get logger(): Logger {
    return this.ctx.logger;
  }

  private run<T>(op: () => T): Promise<T> {
    if (this.closing) return Promise.reject(closedError());
    try {
      return Promise.resolve(op());
    } catch (err) {
      return Promise.reject(toQueueError(err));
    }
  }

  private notify(endpoints: Iterable<string>): void {
    this.listeners.tell(endpoints);
  }

  enqueue(job: NewJob): Promise<EnqueueResult> {
    if (this.closing) return Promise.reject(closedError());
    return this.batcher.add(job);
  }

  /**
   * Enqueues jobs ({@link toInsertRow} rows) in one batch (one transaction unless it exceeds the batch limit); resolves once
   * durable to one outcome per job, in order. The queue thread's entry point for a main-thread tick.
   */
  enqueueMany(jobs: readonly InsertRow[]): Promise<InsertOutcome[]> {
    if (this.closing) return Promise.reject(closedError());
    return this.batcher.addMany(jobs);
  }

  claim(endpoint: string, owner: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    return this.run(() => claimJobs(this.ctx, endpoint, owner, max, leaseMs, now));
  }

  renew(owner: string, ids: readonly string[], leaseMs: number, now: number): Promise<string[]> {
    return this.run(() => renewLeases(this.ctx, owner, ids, leaseMs, now));
  }

  finish(owner: string, id: string, outcome: JobOutcome, now: number): Promise<boolean> {
    return this.run(() => finishJob(this.ctx, owner, id, outcome, now));
  }

  finishMany(owner: string, finishes: readonly JobFinish[], now: number): Promise<boolean[]> {
    return this.run(() => finishJobs(this.ctx, owner, finishes, now));
  }

  release(owner: string, id: string): Promise<void> {
    return this.run(() => releaseJob(this.ctx, owner, id));
  }

  defer(owner: string, id: string, until: number): Promise<void> {
    return this.run(() => deferJob(this.ctx, owner, id, until));
  }

  retryLater(owner: string, id: string, notBefore: number): Promise<boolean> {
    return this.run(() => retryJobLater(this.ctx, owner, id, notBefore));
  }

  cancel(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number): Promise<CancelResult | undefined> {
    return this.run(() => cancelJob(this.ctx, endpoint, inferenceId, owner, leaseMs, now));
  }

  cancelRequested(ids: readonly string[]): Promise<string[]> {
    return this.run(() => cancelRequestedJobs(this.ctx, ids));
  }

  rerun(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number, expiresAt: number): Promise<RerunResult | undefined> {
    return this.run(() => rerunJob(this.ctx, endpoint, inferenceId, owner, leaseMs, now, expiresAt));
  }

  list(endpoint: string, query: ListQuery): Promise<JobPage> {
    return this.run(() => listJobs(this.ctx, endpoint, query));
  }

  claimExpired(owner: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    return this.run(() => claimExpiredJobs(this.ctx, owner, max, leaseMs, now));
  }

  releaseOwner(owner: string): Promise<number> {
    return this.run(() => releaseOwnerJobs(this.ctx, owner));
  }

  get(endpoint: string, inferenceId: string): Promise<Job | undefined> {
    return this.run(() => {
      const row = this.ctx.stmts.byKey.get(endpoint, inferenceId);
      return row ? toJob(row) : undefined;
    });
  }

  stats(endpoint: string, now: number): Promise<QueueStats> {
    return this.run(() => {
      const { stmts } = this.ctx;
      let queued = 0;
      let running = 0;
      for (const row of stmts.counts.all(endpoint)) {
        if (row.state === 'queued') queued = row.n;
        else if (row.state === 'running') running = row.n;
      }
      const oldest = queued > 0 ? stmts.oldestQueued.get(endpoint) : undefined;
      return { queued, running, oldestQueuedAgeMs: oldest ? Math.max(0, now - oldest.received_at) : 0 };
    });
  }

  onAvailable(listener: (endpoint: string) => void): () => void {
    return this.listeners.add(listener);
  }

  registerWorker(owner: string, pid: number, hostname: string, now: number): Promise<void> {
    return this.run(() => void this.ctx.stmts.workerUpsert.run(owner, pid, hostname, now, now));
  }

  heartbeatWorker(owner: string, now: number): Promise<boolean> {
    return this.run(() => this.ctx.stmts.workerHeartbeat.run(now, owner).changes > 0);
  }

  unregisterWorker(owner: string): Promise<void> {
    return this.run(() => void this.ctx.stmts.workerDelete.run(owner));
  }

  deadWorkers(hostname: string, isAlive: (pid: number) => boolean): Promise<string[]> {
    return this.workersOnHost(hostname).then((rows) => rows.filter((row) => !isAlive(row.pid)).map((row) => row.owner));
  }

  staleWorkers(heartbeatBefore: number): Promise<string[]> {
    return this.run(() => this.ctx.stmts.staleWorkers.all(heartbeatBefore).map((row) => row.owner));
  }

  publishRoute(route: WorkerRoute): Promise<void> {
    return this.run(() => void this.ctx.stmts.routeUpsert.run(route.owner, route.url, routeEndpointsText(route), route.updatedAt));
  }

  withdrawRoute(owner: string): Promise<void> {
    return this.run(() => void this.ctx.stmts.routeDelete.run(owner));
  }

  routes(updatedSince: number): Promise<WorkerRoute[]> {
    return this.run(() => this.ctx.stmts.routesSince.all(updatedSince).map(toRoute));
  }

  recordDemand(endpoint: string, waiting: number, now: number): Promise<void> {
    return this.run(() => void this.ctx.stmts.demandUpsert.run(endpoint, waiting, now));
  }

  demand(since: number): Promise<EndpointDemand[]> {
    return this.run(() => this.ctx.stmts.demandSince.all(since));
  }

  workersOnHost(hostname: string): Promise<{ owner: string; pid: number }[]> {
    return this.run(() => this.ctx.stmts.workersOnHost.all(hostname).map((row) => ({ owner: row.owner, pid: row.pid })));
  }

  async purgeFinished(olderThan: number): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.run(() => this.ctx.db.transaction(() => this.ctx.stmts.purgeFinished.run(olderThan, PURGE_CHUNK).changes).immediate());
      total += removed;
      if (removed < PURGE_CHUNK) return total;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  commitCount(): number {
    return this.batcher.commitCount;
  }

  seedForBenchmark(n: number, options?: SeedOptions): Promise<{ first: string; last: string } | undefined> {
    if (this.closing) return Promise.reject(closedError());
    return seedQueuedJobs(this.ctx.db, n, options).catch((err: unknown) => Promise.reject(toQueueError(err)));
  }

  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  /** Commits what was accepted, makes it durable, then closes the database. */
  private async closeNow(): Promise<void> {
    try {
      this.batcher.flushAll();
      await this.wal.close();
      this.ctx.db.close();
    } catch (err) {
      this.batcher.rejectAll();
      if (this.ctx.db.open) this.ctx.db.close();
      throw toQueueError(err);
    }
  }
}
