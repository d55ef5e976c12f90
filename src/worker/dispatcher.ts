/**
 * One endpoint's dispatcher: runs as many jobs as the endpoint's slot scheduler grants it (the
 * model's capacity, shared with real-time calls, which go first), claiming more as soon as a slot
 * is set aside for async work, a job is enqueued (same-process event) or the model becomes
 * healthy, with a slow poll as the fallback for jobs enqueued by other processes. While the model
 * has no capacity (unhealthy, or scaled to zero) nothing is claimed, so requests wait in the queue
 * (within their TTL) instead of failing — but the backlog is still reported, which is what starts
 * a scaled-to-zero model.
 *
 * Faults of inferq's own storage are retried, never failed: a job whose result the object store
 * could not take is deferred in the queue (its attempt refunded) and claimed again after a backoff
 * of its own (see backoff.ts); recording an outcome that the queue cannot write (its disk is full)
 * is retried on the same schedule with the slot freed, so real-time calls keep the model meanwhile.
 */
import type { EndpointConfig } from '../config/index.js';
import { isInferqError, isStorageFault } from '../errors/index.js';
import type { ModelClient } from '../models/index.js';
import { CANCELLED_REASON, type Job, type JobQueue } from '../queue/index.js';
import type { SlotScheduler } from '../scheduling/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Clock, Logger } from '../util/index.js';
import { sleepUnlessAborted, storageRetryDelay, type StorageRetryPolicy } from './backoff.js';
import { executeJob, writeFailureReason, type ExecuteContext, type ExecuteResult } from './execute.js';
import type { FinishBatcher, FinishNotifications } from './finish-batch.js';

/** What a dispatcher needs. */
export interface DispatcherDeps {
  readonly endpoint: EndpointConfig;
  readonly queue: JobQueue;
  readonly model: ModelClient;
  /** The endpoint's slots, shared with real-time calls. */
  readonly slots: SlotScheduler;
  readonly execute: Omit<ExecuteContext, 'model' | 'maxAttempts'>;
  readonly owner: string;
  /** Records terminal outcomes for `owner`, batched per event-loop turn (shared by the pool's dispatchers). */
  readonly finishes: FinishBatcher;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  /** Waits between retries after storage faults. */
  readonly storageRetry: StorageRetryPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Counts outcomes (completions, failures by reason, response upload failures). */
  readonly metrics?: Metrics;
  /** Called after every terminal outcome (status watchers, metrics). */
  readonly onFinished?: (job: Job, result: ExecuteResult) => void;
  /** Builds the notification recorded with each terminal outcome, and hears when one was. */
  readonly notifications?: FinishNotifications;
}

/** The queued backlog is read (and reported as demand) at most this often. */
export const BACKLOG_INTERVAL_MS = 200;

/** Most jobs whose storage-fault count a dispatcher remembers (the oldest are forgotten first). */
const MAX_TRACKED_FAULTS = 10_000;

/** Whether a failed queue write may succeed later (the queue's disk is full, its database busy or its thread restarting). */
function queueMayRecover(err: unknown): boolean {
  return isStorageFault(err) || isInferqError(err, 'ServiceUnavailable');
}

/** `Code: message`, with the code of the underlying system or SQLite error (ENOSPC, SQLITE_FULL, …) when there is one. */
function describeError(err: unknown): string {
  if (!isInferqError(err)) return err instanceof Error ? err.message : String(err);
  const cause: unknown = err.cause;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? ` (${cause.code})` : '';
  return `${err.code}${code}: ${err.message}`;
}

/** The abort reason of a job whose cancel was requested. */
class CancelRequested extends Error {
  override readonly name = 'CancelRequested';
  constructor() {
    super('cancel requested');
  }
}

/** Wait before the retry after attempt `attempts` (1-based): backoff doubling per retry, capped. */
function retryDelay(endpoint: EndpointConfig, attempts: number): number {
  const policy = endpoint.async.retry;
  if (!policy) return 0;
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, attempts - 1));
}

interface InFlight {
  readonly job: Job;
  readonly abort: AbortController;
}

/** Claims and runs one endpoint's jobs. */
export class EndpointDispatcher {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly unsubscribe: (() => void)[] = [];
  private pumping = false;
  /** The claim loop running now, if one is (stop() waits for it: the jobs it claims are in flight too). */
  private claiming: Promise<void> | undefined;
  private pumpAgain = false;
  private pumpScheduled = false;
  private stopping = false;
  private poll: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;
  private backlogAt = -Infinity;
  private readingBacklog = false;
  /** Consecutive storage faults of each job this dispatcher deferred (for its backoff). */
  private readonly storageFaults = new Map<string, number>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Ids of the jobs in flight (for lease renewal). */
  inFlightIds(): string[] {
    return [...this.inFlight.keys()];
  }

  /** Starts claiming. */
  start(): void {
    const name = this.deps.endpoint.name;
    this.unsubscribe.push(this.deps.queue.onAvailable((endpoint) => {
      if (endpoint !== name) return;
      this.noteBacklog();
      this.pump();
    }));
    this.unsubscribe.push(this.deps.model.onHealthChange((health) => { if (health === 'healthy') this.pump(); }));
    this.unsubscribe.push(this.deps.slots.onAsyncSlots(() => this.pump()));
    this.poll = setInterval(() => {
      this.noteBacklog();
      this.pump();
    }, this.deps.pollIntervalMs);
    this.poll.unref();
    this.noteBacklog();
    this.pump();
  }

  /** Reads the queued count (at most every {@link BACKLOG_INTERVAL_MS}) and reports it as demand. */
  private noteBacklog(): void {
    const { queue, slots, clock, endpoint, logger } = this.deps;
    const now = clock.now();
    if (this.readingBacklog || this.stopping || now - this.backlogAt < BACKLOG_INTERVAL_MS) return;
    this.readingBacklog = true;
    this.backlogAt = now;
    queue.stats(endpoint.name, now)
      .then((stats) => slots.setAsyncBacklog(stats.queued))
      .catch((err: unknown) => logger.warn('could not read the backlog', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => { this.readingBacklog = false; });
  }

  /**
   * Aborts the model calls of jobs whose cancel was requested (status API DELETE); each is then
   * recorded `cancelled` with a failure object saying so.
   */
  cancel(ids: readonly string[]): void {
    for (const id of ids) this.inFlight.get(id)?.abort.abort(new CancelRequested());
  }

  /** Aborts jobs whose lease was lost (another worker owns them now). */
  abandon(ids: readonly string[]): void {
    for (const id of ids) this.inFlight.get(id)?.abort.abort(new Error('lease lost'));
  }

  /** Stops claiming; waits for a claim already sent, then up to `graceMs` for jobs in flight, then aborts them (they are released to the queue). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.poll);
    for (const off of this.unsubscribe) off();
    this.deps.slots.asyncIdle();
    // A claim sent before the stop may still bring jobs: they run (and are waited for) like the others.
    await this.claiming;
    if (this.inFlight.size === 0) return;
    const drained = new Promise<void>((resolve) => { this.drained = resolve; });
    const timer = setTimeout(() => {
      this.deps.logger.warn('shutdown grace is over: the requests still running go back to the queue', { requests: this.inFlight.size });
      for (const f of this.inFlight.values()) f.abort.abort(new Error('shutdown'));
    }, graceMs);
    await drained;
    clearTimeout(timer);
  }

  /** Claims as many jobs as the scheduler grants slots, repeatedly, until the queue or the slots run out. */
  pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    this.claiming = this.claimLoop()
      .catch((err: unknown) => this.deps.logger.error('claim failed', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        this.pumping = false;
        this.claiming = undefined;
        if (this.pumpAgain && !this.stopping) {
          this.pumpAgain = false;
          this.pump();
        }
      });
  }

  /**
   * {@link pump} once the current event-loop turn is over: the slots that jobs finishing together
   * free are claimed for in one call, not one claim per job.
   */
  private pumpSoon(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      if (!this.stopping) this.pump();
    });
  }

  private async claimLoop(): Promise<void> {
    const { endpoint, queue, slots, owner, leaseMs, clock } = this.deps;
    while (!this.stopping) {
      const granted = slots.tryAcquireAsync(Math.max(1, slots.capacity()));
      if (granted === 0) return;
      this.pumpAgain = false;
      let jobs: Job[];
      try {
        jobs = await queue.claim(endpoint.name, owner, granted, leaseMs, clock.now());
      } catch (err) {
        slots.releaseAsync(granted);
        throw err;
      }
      for (const job of jobs) this.run(job);
      this.noteBacklog();
      if (jobs.length < granted) {
        slots.releaseAsync(granted - jobs.length);
        slots.asyncIdle();
        return;
      }
    }
  }

  private run(job: Job): void {
    if (this.inFlight.has(job.id)) {
      // Claimed again while its run still waits to record its outcome (the queue could not be
      // written for longer than the lease): that run keeps the job.
      this.deps.slots.releaseAsync();
      return;
    }
    const abort = new AbortController();
    this.inFlight.set(job.id, { job, abort });
    let slotHeld = true;
    const freeSlot = (): void => {
      if (!slotHeld) return;
      slotHeld = false;
      this.deps.slots.releaseAsync();
    };
    const ctx: ExecuteContext = Object.assign({}, this.deps.execute, {
      model: this.deps.model, maxAttempts: this.deps.endpoint.async.maxAttempts, retry: this.deps.endpoint.async.retry,
    });
    executeJob(ctx, job, abort.signal)
      .then((result) => this.settleRetrying(job, result, abort.signal, () => { freeSlot(); this.pumpSoon(); }))
      .catch(async (err: unknown) => {
        this.deps.logger.error('job failed unexpectedly; releasing it for a retry', { inferenceId: job.inferenceId, error: describeError(err) });
        await this.deps.queue.release(this.deps.owner, job.id).catch(() => undefined);
      })
      .finally(() => {
        this.inFlight.delete(job.id);
        freeSlot();
        if (this.inFlight.size === 0) this.drained?.();
        this.pumpSoon();
      });
  }

  /**
   * Records `result`, retrying with the storage backoff while the queue cannot be written (its disk
   * is full, …) until it can or `signal` aborts; the job's slot is freed once the first retry waits.
   */
  private async settleRetrying(job: Job, result: ExecuteResult, signal: AbortSignal, freeSlot: () => void): Promise<void> {
    let deferMs = 0;
    if (result.state === 'storage-fault') {
      const faults = this.countStorageFault(job.id);
      deferMs = storageRetryDelay(this.deps.storageRetry, faults);
      this.deps.logger.warn('could not store the result of a request (a fault of inferq\'s storage, not of the model); it will run again', {
        inferenceId: job.inferenceId, error: describeError(result.error), retryInMs: deferMs, faults,
      });
    }
    for (let failures = 1; ; failures++) {
      try {
        await this.settle(job, result, signal, deferMs);
        return;
      } catch (err) {
        if (signal.aborted || !queueMayRecover(err)) throw err;
        const retryInMs = storageRetryDelay(this.deps.storageRetry, failures);
        this.deps.logger.warn('could not record the state of a request in the queue; retrying', { inferenceId: job.inferenceId, error: describeError(err), retryInMs });
        freeSlot();
        await sleepUnlessAborted(retryInMs, signal);
      }
    }
  }

  /** Counts one more storage fault of job `id`; returns how many it has had in a row. */
  private countStorageFault(id: string): number {
    const faults = (this.storageFaults.get(id) ?? 0) + 1;
    this.storageFaults.delete(id);
    this.storageFaults.set(id, faults);
    if (this.storageFaults.size > MAX_TRACKED_FAULTS) {
      const oldest = this.storageFaults.keys().next();
      if (oldest.done !== true) this.storageFaults.delete(oldest.value);
    }
    return faults;
  }

  private async settle(job: Job, outcome: ExecuteResult, signal: AbortSignal, deferMs: number): Promise<void> {
    let result = outcome;
    const { queue, owner, clock, logger } = this.deps;
    const leaseLost = signal.reason instanceof Error && signal.reason.message === 'lease lost';
    if (result.state === 'storage-fault') {
      this.deps.metrics?.recordResponseUploadFailure(job.endpoint);
      if (!leaseLost) await queue.defer(owner, job.id, clock.now() + deferMs);
      logger.debug('deferred', { inferenceId: job.inferenceId, retryInMs: deferMs });
      return;
    }
    this.storageFaults.delete(job.id);
    if (signal.reason instanceof CancelRequested && (result.state === 'release' || result.state === 'retry')) {
      await writeFailureReason(this.deps.execute, job, CANCELLED_REASON);
      result = { state: 'cancelled', failureReason: CANCELLED_REASON };
    }
    if (result.state === 'retry') {
      const retryInMs = retryDelay(this.deps.endpoint, job.attempts);
      const kept = leaseLost ? false : await queue.retryLater(owner, job.id, clock.now() + retryInMs);
      logger.info('the model call failed; the request will be retried', { inferenceId: job.inferenceId, attempt: job.attempts, reason: result.reason, retryInMs, kept });
      return;
    }
    if (result.state === 'release') {
      if (!leaseLost) await queue.release(owner, job.id);
      logger.debug('released', { inferenceId: job.inferenceId, why: result.why });
      return;
    }
    const notification = this.deps.notifications?.build(job, result, clock.now());
    const kept = await this.deps.finishes.finish(job.id, result, notification);
    if (kept && notification) this.deps.notifications?.recorded();
    if (!kept) logger.warn('lease lost before finishing; another worker will redo the request', { inferenceId: job.inferenceId });
    else {
      logger.debug('finished', { inferenceId: job.inferenceId, state: result.state });
      this.record(job, result);
    }
    this.deps.onFinished?.(job, result);
  }

  /**
   * Counts a recorded terminal outcome (`startedAt` is the claim of this attempt). Only final
   * outcomes get here: a retried attempt (`retry`) is not a failure of the request.
   */
  private record(job: Job, result: ExecuteResult): void {
    const { metrics, clock } = this.deps;
    if (metrics === undefined || (result.state !== 'succeeded' && result.state !== 'failed' && result.state !== 'cancelled')) return;
    const finishedAt = clock.now();
    const done = { endpoint: job.endpoint, receivedAt: job.receivedAt, startedAt: job.startedAt ?? finishedAt, finishedAt };
    if (result.state === 'succeeded') metrics.recordCompletion(done);
    else if (result.state === 'cancelled') metrics.recordFailure(done, 'cancelled');
    else metrics.recordFailure(done, 'failureKind' in result && result.failureKind !== undefined ? result.failureKind : 'no-response');
  }
}
