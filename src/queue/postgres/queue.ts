/**
 * The PostgreSQL JobQueue and WorkerRegistry: a pg Pool running the named statements of
 * statements.ts, group-committed enqueues (enqueue.ts), and availability events from two sources —
 * this process's own commits (told at once, in process) and NOTIFYs from other processes'
 * backends (listener.ts; our own backends' NOTIFYs are skipped, we told those already). Every
 * method rejects with ServiceUnavailable once close() was called, or while the database cannot be
 * reached; the pool opens new connections as soon as it can again, so the queue recovers by
 * itself. close() first commits the enqueues already accepted.
 */
import type { Pool, PoolClient } from 'pg';
import { InferqError } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';
import { AvailabilityListeners } from '../availability.js';
import type { CancelResult, EndpointDemand, EnqueueResult, Job, JobFinish, JobOutcome, JobPage, ListQuery, NewJob, QueueBackend, QueueStats, RerunResult, TerminalState, WorkerRoute } from '../port.js';
import { routeEndpointsText, toRoute } from '../routes.js';
import { parseJobId, toJob, type JobRow } from '../rows.js';
import { PgEnqueueBatcher } from './enqueue.js';
import { closedError, toPgQueueError } from './errors.js';
import type { ChannelListener } from './listener.js';
import { bind, type Statement, type Statements } from './statements.js';

const PURGE_CHUNK = 5_000;
const TERMINAL: ReadonlySet<string> = new Set<TerminalState>(['succeeded', 'failed', 'expired', 'cancelled']);

/** The PostgreSQL queue's API: the JobQueue port, the worker registry, retention and a test hook. */
export interface PostgresJobQueue extends QueueBackend {
  /** The registered workers of `hostname` with their process ids. */
  workersOnHost(hostname: string): Promise<{ owner: string; pid: number }[]>;
  /**
   * Number of enqueue batch statements committed since open (to observe group commit).
   * @internal
   */
  commitCount(): number;
  /**
   * Resolves once this queue LISTENs for other processes' jobs (it starts with the first
   * onAvailable listener, or with this call).
   * @internal
   */
  whenListening(): Promise<void>;
}

function positiveCount(max: number): number {
  return Number.isFinite(max) ? Math.max(0, Math.floor(max)) : 0;
}

function checkTerminal(outcome: JobOutcome): void {
  if (!TERMINAL.has(outcome.state)) throw new InferqError('InvalidArgument', `A job cannot finish in state ${String(outcome.state)}.`);
}

function bySeq(rows: readonly JobRow[]): Job[] {
  return [...rows].sort((a, b) => a.seq - b.seq).map(toJob);
}

/** Reads a pooled client's backend pid (pg sets `processID` on connect; its type declarations omit it). */
function backendPid(client: PoolClient): number | undefined {
  const pid: unknown = Reflect.get(client, 'processID');
  return typeof pid === 'number' ? pid : undefined;
}

/** The implementation of {@link PostgresJobQueue} over a pool whose schema is migrated. */
export class PgQueue implements PostgresJobQueue {
  private closing: Promise<void> | undefined;
  private readonly batcher: PgEnqueueBatcher;
  /** Backend pids of this pool's connections: NOTIFYs they sent were already told in process. */
  private readonly ownBackends = new Set<number>();
  private readonly listeners: AvailabilityListeners;

  constructor(
    private readonly pool: Pool,
    private readonly stmts: Statements,
    private readonly listener: ChannelListener,
    private readonly logger: Logger,
  ) {
    this.listeners = new AvailabilityListeners(logger);
    this.batcher = new PgEnqueueBatcher(pool, stmts, logger, (endpoints) => this.notify(endpoints));
    pool.on('connect', (client) => {
      const pid = backendPid(client);
      if (pid !== undefined) this.ownBackends.add(pid);
    });
    pool.on('remove', (client) => {
      const pid = backendPid(client);
      if (pid !== undefined) this.ownBackends.delete(pid);
    });
  }

  /** A NOTIFY from backend `processId` for `endpoint` (see the module header). */
  notified(endpoint: string, processId: number): void {
    if (!this.ownBackends.has(processId)) this.notify([endpoint], false);
  }

  private async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.closing) throw closedError();
    try {
      return await op();
    } catch (err) {
      throw toPgQueueError(err);
    }
  }

  private query<R extends object>(stmt: Statement, values: unknown[]): Promise<R[]> {
    return this.run(async () => (await this.pool.query<R & Record<string, unknown>>(bind(stmt, values))).rows);
  }

  private notify(endpoints: Iterable<string>, later = true): void {
    this.listeners.tell(endpoints, later);
  }

  enqueue(job: NewJob): Promise<EnqueueResult> {
    if (this.closing) return Promise.reject(closedError());
    return this.batcher.add(job);
  }

  async claim(endpoint: string, owner: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    const limit = positiveCount(max);
    if (limit === 0) return this.run(() => Promise.resolve([]));
    return bySeq(await this.query<JobRow>(this.stmts.claim, [endpoint, now, limit, owner, now + leaseMs]));
  }

  async claimExpired(owner: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    const limit = positiveCount(max);
    if (limit === 0) return this.run(() => Promise.resolve([]));
    return bySeq(await this.query<JobRow>(this.stmts.claimExpired, [now, limit, owner, now + leaseMs]));
  }

  async renew(owner: string, ids: readonly string[], leaseMs: number, now: number): Promise<string[]> {
    const seqs = ids.map(parseJobId).filter((seq): seq is number => seq !== undefined);
    const kept = new Set<string>();
    if (seqs.length > 0) {
      for (const row of await this.query<{ seq: number }>(this.stmts.renew, [now + leaseMs, seqs, owner])) kept.add(String(row.seq));
    } else if (this.closing) {
      throw closedError();
    }
    return ids.filter((id) => !kept.has(id));
  }

  async finish(owner: string, id: string, outcome: JobOutcome, now: number): Promise<boolean> {
    const [done] = await this.finishMany(owner, [{ id, outcome }], now);
    return done ?? false;
  }

  async finishMany(owner: string, finishes: readonly JobFinish[], now: number): Promise<boolean[]> {
    if (this.closing) throw closedError();
    for (const { outcome } of finishes) checkTerminal(outcome);
    const valid = finishes.filter(({ id }) => parseJobId(id) !== undefined);
    const done = new Set<string>();
    if (valid.length > 0) {
      const rows = await this.query<{ seq: number }>(this.stmts.finishMany, [
        now,
        valid.map(({ id }) => parseJobId(id)),
        valid.map(({ outcome }) => outcome.state),
        valid.map(({ outcome }) => outcome.failureReason ?? null),
        owner,
      ]);
      for (const row of rows) done.add(String(row.seq));
    }
    // A job listed twice is recorded once: only its first entry reports true.
    return finishes.map(({ id }) => done.delete(id));
  }

  async release(owner: string, id: string): Promise<void> {
    const seq = parseJobId(id);
    if (seq === undefined) return this.run(() => Promise.resolve());
    const rows = await this.query<{ endpoint: string }>(this.stmts.release, [seq, owner]);
    if (rows.length > 0) this.notify(rows.map((row) => row.endpoint));
  }

  async defer(owner: string, id: string, until: number): Promise<void> {
    const seq = parseJobId(id);
    if (seq === undefined) return this.run(() => Promise.resolve());
    await this.query(this.stmts.defer, [until, seq, owner]);
  }

  async retryLater(owner: string, id: string, notBefore: number): Promise<boolean> {
    const seq = parseJobId(id);
    if (seq === undefined) return this.run(() => Promise.resolve(false));
    return (await this.query(this.stmts.retryLater, [notBefore, seq, owner])).length > 0;
  }

  async cancel(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number): Promise<CancelResult | undefined> {
    const [row] = await this.query<JobRow & { before_state: string; seq: number | null }>(this.stmts.cancel, [endpoint, inferenceId, owner, now + leaseMs]);
    if (!row) return undefined;
    if (row.seq !== null) return { outcome: row.before_state === 'queued' ? 'leased' : 'requested', job: toJob(row) };
    const job = await this.get(endpoint, inferenceId);
    return job ? { outcome: 'finished', job } : undefined;
  }

  async cancelRequested(ids: readonly string[]): Promise<string[]> {
    const seqs = ids.map(parseJobId).filter((seq): seq is number => seq !== undefined);
    if (seqs.length === 0) return this.run(() => Promise.resolve([]));
    const flagged = new Set((await this.query<{ seq: number }>(this.stmts.cancelRequested, [seqs])).map((row) => String(row.seq)));
    return ids.filter((id) => flagged.has(id));
  }

  async rerun(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number, expiresAt: number): Promise<RerunResult | undefined> {
    const [row] = await this.query<JobRow>(this.stmts.rerun, [endpoint, inferenceId, owner, now + leaseMs, expiresAt]);
    if (row) return { outcome: 'leased', job: toJob(row) };
    const job = await this.get(endpoint, inferenceId);
    return job ? { outcome: 'refused', job } : undefined;
  }

  async list(endpoint: string, query: ListQuery): Promise<JobPage> {
    const limit = Math.max(1, Math.min(1000, Math.floor(query.limit)));
    const before = query.before === undefined ? Number.MAX_SAFE_INTEGER : parseJobId(query.before) ?? 0;
    const rows = query.state === undefined
      ? await this.query<JobRow>(this.stmts.listAll, [endpoint, before, limit + 1])
      : await this.query<JobRow>(this.stmts.listState, [endpoint, query.state, before, limit + 1]);
    const jobs = rows.slice(0, limit).map(toJob);
    const last = jobs[jobs.length - 1];
    return rows.length > limit && last ? { jobs, next: last.id } : { jobs };
  }

  async releaseOwner(owner: string): Promise<number> {
    const rows = await this.query<{ endpoint: string }>(this.stmts.releaseOwner, [owner]);
    if (rows.length > 0) this.notify(new Set(rows.map((row) => row.endpoint)));
    return rows.length;
  }

  async get(endpoint: string, inferenceId: string): Promise<Job | undefined> {
    const [row] = await this.query<JobRow>(this.stmts.byKey, [endpoint, inferenceId]);
    return row ? toJob(row) : undefined;
  }

  async stats(endpoint: string, now: number): Promise<QueueStats> {
    const [row] = await this.query<{ queued: number; running: number; oldest: number | null }>(this.stmts.stats, [endpoint]);
    const queued = row?.queued ?? 0;
    const oldest = queued > 0 ? row?.oldest ?? null : null;
    return { queued, running: row?.running ?? 0, oldestQueuedAgeMs: oldest === null ? 0 : Math.max(0, now - oldest) };
  }

  onAvailable(listener: (endpoint: string) => void): () => void {
    const unsubscribe = this.listeners.add(listener);
    if (!this.closing) void this.listener.start();
    return unsubscribe;
  }

  async registerWorker(owner: string, pid: number, hostname: string, now: number): Promise<void> {
    await this.query(this.stmts.workerUpsert, [owner, pid, hostname, now]);
  }

  async heartbeatWorker(owner: string, now: number): Promise<boolean> {
    return this.run(async () => ((await this.pool.query(bind(this.stmts.workerHeartbeat, [now, owner]))).rowCount ?? 0) > 0);
  }

  async unregisterWorker(owner: string): Promise<void> {
    await this.query(this.stmts.workerDelete, [owner]);
  }

  async deadWorkers(hostname: string, isAlive: (pid: number) => boolean): Promise<string[]> {
    return (await this.workersOnHost(hostname)).filter((row) => !isAlive(row.pid)).map((row) => row.owner);
  }

  async staleWorkers(heartbeatBefore: number): Promise<string[]> {
    return (await this.query<{ owner: string }>(this.stmts.staleWorkers, [heartbeatBefore])).map((row) => row.owner);
  }

  async publishRoute(route: WorkerRoute): Promise<void> {
    await this.query(this.stmts.routeUpsert, [route.owner, route.url, routeEndpointsText(route), route.updatedAt]);
  }

  async withdrawRoute(owner: string): Promise<void> {
    await this.query(this.stmts.routeDelete, [owner]);
  }

  async routes(updatedSince: number): Promise<WorkerRoute[]> {
    return (await this.query<{ owner: string; url: string; endpoints: string; updated_at: number }>(this.stmts.routesSince, [updatedSince])).map(toRoute);
  }

  async recordDemand(endpoint: string, waiting: number, now: number): Promise<void> {
    await this.query(this.stmts.demandUpsert, [endpoint, waiting, now]);
  }

  demand(since: number): Promise<EndpointDemand[]> {
    return this.query<EndpointDemand>(this.stmts.demandSince, [since]);
  }

  workersOnHost(hostname: string): Promise<{ owner: string; pid: number }[]> {
    return this.query<{ owner: string; pid: number }>(this.stmts.workersOnHost, [hostname]);
  }

  async purgeFinished(olderThan: number): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await this.run(async () => (await this.pool.query(bind(this.stmts.purgeFinished, [olderThan, PURGE_CHUNK]))).rowCount ?? 0);
      total += removed;
      if (removed < PURGE_CHUNK) return total;
    }
  }

  commitCount(): number {
    return this.batcher.commitCount;
  }

  whenListening(): Promise<void> {
    void this.listener.start();
    return this.listener.whenListening();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.batcher.drain();
      await this.listener.close();
      await this.pool.end();
    })();
    return this.closing;
  }
}
