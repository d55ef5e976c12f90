/**
 * The SQLite queue on its own thread. Every SQLite call (inserts, commits, checkpoints, leases)
 * runs on a worker thread with its own connection (thread-host.ts), so the event loop that serves
 * HTTP never waits for the database. Enqueues of one event-loop turn travel as flat rows, in one
 * message (parts of 32 in a busy turn); each promise settles when the thread has made its batch
 * durable (or committed it, at `process-crash` durability).
 * If the thread dies, every call rejects with ServiceUnavailable; nothing acknowledged is lost.
 */
import { Worker } from 'node:worker_threads';
import { InferqError, toInferqError } from '../../errors/index.js';
import type { Logger } from '../../util/index.js';
import type { CancelResult, EndpointDemand, EnqueueResult, Job, JobFinish, JobOutcome, JobPage, ListQuery, NewJob, QueueStats, RerunResult, WorkerRoute } from '../port.js';
import { closedError } from './context.js';
import type { SqliteJobQueue } from './queue.js';
import type { SeedOptions } from './seed.js';
import { insertedJob, toInsertRow, type InsertRow } from './statements.js';
import { fromWireError, reviveJob, type EnqueueReply, type QueueThreadApi, type QueueThreadData, type ThreadMessage } from './thread-protocol.js';

/** Loads the host module, under tsx's loader when running from TypeScript sources (tests). */
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.entry);
})().catch((err) => setImmediate(() => { throw err; }));`;

function startThread(data: QueueThreadData): Worker {
  const self = import.meta.url;
  const fromSources = self.endsWith('.ts');
  const entry = new URL(fromSources ? './thread-host.ts' : './thread-host.js', self).href;
  const loader = fromSources ? import.meta.resolve('tsx/esm/api') : undefined;
  return new Worker(BOOTSTRAP, { eval: true, workerData: { entry, loader, file: data.file, maxBatchDelayMs: data.maxBatchDelayMs, durability: data.durability } });
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: InferqError) => void;
}

interface PendingEnqueue {
  readonly job: NewJob;
  readonly row: InsertRow;
  readonly resolve: (result: EnqueueResult) => void;
  readonly reject: (err: InferqError) => void;
}

type Result<K extends keyof QueueThreadApi> = Awaited<ReturnType<QueueThreadApi[K]>>;

/** {@link SqliteJobQueue} whose database lives on a worker thread. */
export class ThreadedSqliteQueue implements SqliteJobQueue {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(endpoint: string) => void>();
  private enqueues: PendingEnqueue[] = [];
  private flushScheduled = false;
  private nextId = 1;
  private commits = 0;
  private closing: Promise<void> | undefined;
  private broken: InferqError | undefined;

  /** Starts the thread for an existing, migrated database file; see {@link enqueue} for `maxEnqueuesPerMessage`. */
  constructor(
    data: QueueThreadData,
    private readonly logger: Logger,
    private readonly maxEnqueuesPerMessage: number,
  ) {
    this.worker = startThread(data);
    this.worker.unref();
    this.worker.on('message', (message: ThreadMessage) => this.onMessage(message));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the queue thread exited with code ${code}`)));
  }

  /**
   * Queues `job` for the thread. The enqueues of one event-loop turn travel together, in messages
   * of at most `maxEnqueuesPerMessage`: in a busy turn the thread starts committing the first ones
   * while this thread still parses the rest, instead of idling until the turn ends.
   */
  enqueue(job: NewJob): Promise<EnqueueResult> {
    if (this.closing) return Promise.reject(closedError());
    let row: InsertRow;
    try {
      row = toInsertRow(job);
    } catch (err) {
      return Promise.reject(toInferqError(err));
    }
    return new Promise<EnqueueResult>((resolve, reject) => {
      this.enqueues.push({ job, row, resolve, reject });
      if (this.enqueues.length >= this.maxEnqueuesPerMessage) this.sendEnqueues();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushEnqueues());
      }
    });
  }

  claim(endpoint: string, owner: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    return this.call('claim', endpoint, owner, max, leaseMs, now).then((jobs) => jobs.map(reviveJob));
  }

  renew(owner: string, ids: readonly string[], leaseMs: number, now: number): Promise<string[]> {
    return this.call('renew', owner, ids, leaseMs, now);
  }

  finish(owner: string, id: string, outcome: JobOutcome, now: number): Promise<boolean> {
    return this.call('finish', owner, id, outcome, now);
  }

  finishMany(owner: string, finishes: readonly JobFinish[], now: number): Promise<boolean[]> {
    return this.call('finishMany', owner, finishes, now);
  }

  release(owner: string, id: string): Promise<void> {
    return this.call('release', owner, id);
  }

  defer(owner: string, id: string, until: number): Promise<void> {
    return this.call('defer', owner, id, until);
  }

  retryLater(owner: string, id: string, notBefore: number): Promise<boolean> {
    return this.call('retryLater', owner, id, notBefore);
  }

  async cancel(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number): Promise<CancelResult | undefined> {
    const result = await this.call('cancel', endpoint, inferenceId, owner, leaseMs, now);
    return result ? { outcome: result.outcome, job: reviveJob(result.job) } : undefined;
  }

  cancelRequested(ids: readonly string[]): Promise<string[]> {
    return this.call('cancelRequested', ids);
  }

  async rerun(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number, expiresAt: number): Promise<RerunResult | undefined> {
    const result = await this.call('rerun', endpoint, inferenceId, owner, leaseMs, now, expiresAt);
    return result ? { outcome: result.outcome, job: reviveJob(result.job) } : undefined;
  }

  async list(endpoint: string, query: ListQuery): Promise<JobPage> {
    const page = await this.call('list', endpoint, query);
    return { jobs: page.jobs.map(reviveJob), ...(page.next !== undefined ? { next: page.next } : {}) };
  }

  claimExpired(owner: string, max: number, leaseMs: number, now: number): Promise<Job[]> {
    return this.call('claimExpired', owner, max, leaseMs, now).then((jobs) => jobs.map(reviveJob));
  }

  releaseOwner(owner: string): Promise<number> {
    return this.call('releaseOwner', owner);
  }

  get(endpoint: string, inferenceId: string): Promise<Job | undefined> {
    return this.call('get', endpoint, inferenceId).then((job) => (job ? reviveJob(job) : undefined));
  }

  stats(endpoint: string, now: number): Promise<QueueStats> {
    return this.call('stats', endpoint, now);
  }

  onAvailable(listener: (endpoint: string) => void): () => void {
    const wrapped = (endpoint: string): void => listener(endpoint);
    this.listeners.add(wrapped);
    this.updateRef();
    return () => {
      this.listeners.delete(wrapped);
      this.updateRef();
    };
  }

  registerWorker(owner: string, pid: number, hostname: string, now: number): Promise<void> {
    return this.call('registerWorker', owner, pid, hostname, now);
  }

  heartbeatWorker(owner: string, now: number): Promise<boolean> {
    return this.call('heartbeatWorker', owner, now);
  }

  unregisterWorker(owner: string): Promise<void> {
    return this.call('unregisterWorker', owner);
  }

  async deadWorkers(hostname: string, isAlive: (pid: number) => boolean): Promise<string[]> {
    const rows = await this.call('workersOnHost', hostname);
    return rows.filter((row) => !isAlive(row.pid)).map((row) => row.owner);
  }

  staleWorkers(heartbeatBefore: number): Promise<string[]> {
    return this.call('staleWorkers', heartbeatBefore);
  }

  workersOnHost(hostname: string): Promise<{ owner: string; pid: number }[]> {
    return this.call('workersOnHost', hostname);
  }

  publishRoute(route: WorkerRoute): Promise<void> {
    return this.call('publishRoute', route);
  }

  withdrawRoute(owner: string): Promise<void> {
    return this.call('withdrawRoute', owner);
  }

  routes(updatedSince: number): Promise<WorkerRoute[]> {
    return this.call('routes', updatedSince);
  }

  recordDemand(endpoint: string, waiting: number, now: number): Promise<void> {
    return this.call('recordDemand', endpoint, waiting, now);
  }

  demand(since: number): Promise<EndpointDemand[]> {
    return this.call('demand', since);
  }

  purgeFinished(olderThan: number): Promise<number> {
    return this.call('purgeFinished', olderThan);
  }

  commitCount(): number {
    return this.commits;
  }

  seedForBenchmark(n: number, options?: SeedOptions): Promise<{ first: string; last: string } | undefined> {
    return this.call('seedForBenchmark', n, ...(options ? [options] : []));
  }

  /**
   * Sends what was accepted, lets the thread commit and close the database, then stops it. Closing
   * a queue whose thread already died resolves (there is nothing left to close).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.flushEnqueues();
      try {
        if (!this.broken) await this.send('close', []);
      } finally {
        this.broken ??= closedError();
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  private call<K extends keyof QueueThreadApi>(method: K, ...args: Parameters<QueueThreadApi[K]>): Promise<Result<K>> {
    if (this.closing) return Promise.reject(closedError());
    return this.send(method, args);
  }

  private send<K extends keyof QueueThreadApi>(method: K, args: readonly unknown[]): Promise<Result<K>> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise<Result<K>>((resolve, reject) => {
      if (this.pending.size === 0 && this.listeners.size === 0) this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, method, args });
    });
  }

  private flushEnqueues(): void {
    this.flushScheduled = false;
    this.sendEnqueues();
  }

  private sendEnqueues(): void {
    const batch = this.enqueues;
    if (batch.length === 0) return;
    this.enqueues = [];
    this.send('enqueueMany', [batch.map((item) => item.row)]).then(
      (replies) => batch.forEach((item, i) => settleEnqueue(item, replies[i])),
      (err: InferqError) => batch.forEach((item) => item.reject(err)),
    );
  }

  private onMessage(message: ThreadMessage): void {
    switch (message.type) {
      case 'reply':
      case 'error': {
        this.commits = message.commits;
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (this.pending.size === 0) this.updateRef();
        if (message.type === 'reply') pending?.resolve(message.value);
        else pending?.reject(fromWireError(message.error));
        return;
      }
      case 'available':
        for (const listener of [...this.listeners]) {
          try {
            listener(message.endpoint);
          } catch (err) {
            this.logger.warn('job availability listener threw', { endpoint: message.endpoint, error: err });
          }
        }
        return;
      case 'log':
        this.logger[message.level](message.message, message.fields);
    }
  }

  /** The thread keeps the process alive while calls are waiting or someone listens for jobs. */
  private updateRef(): void {
    if (this.pending.size > 0 || this.listeners.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  /** The thread is gone: every waiting and later call fails. */
  private fail(cause: Error): void {
    if (this.broken) return;
    this.broken = new InferqError('ServiceUnavailable', 'The job queue is not available right now; retry later.', {}, { cause });
    this.logger.error('the job queue thread stopped', { error: cause });
    for (const pending of this.pending.values()) pending.reject(this.broken);
    this.pending.clear();
    for (const item of this.enqueues.splice(0)) item.reject(this.broken);
  }
}

function settleEnqueue(item: PendingEnqueue, reply: EnqueueReply | undefined): void {
  if (reply === undefined) item.reject(new InferqError('InternalError', 'A batched enqueue has no outcome.'));
  else if (typeof reply === 'number') item.resolve({ job: insertedJob(item.job, reply), created: true });
  else if (reply.kind === 'existing') item.resolve({ job: reviveJob(reply.job), created: false });
  else item.reject(fromWireError(reply.error));
}
