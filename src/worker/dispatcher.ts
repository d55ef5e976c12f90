/**
 * One endpoint's dispatcher: runs as many jobs as the endpoint's slot scheduler grants it (the
 * model's capacity, shared with real-time calls, which go first), claiming more as soon as a slot
 * is set aside for async work, a job is enqueued (same-process event) or the model becomes
 * healthy, with a slow poll as the fallback for jobs enqueued by other processes. While the model
 * has no capacity (unhealthy, or scaled to zero) nothing is claimed, so requests wait in the queue
 * (within their TTL) instead of failing — but the backlog is still reported, which is what starts
 * a scaled-to-zero model.
 */
import type { EndpointConfig } from '../config/index.js';
import type { ModelClient } from '../models/index.js';
import type { Job, JobQueue } from '../queue/index.js';
import type { SlotScheduler } from '../scheduling/index.js';
import type { Clock, Logger } from '../util/index.js';
import { executeJob, type ExecuteContext, type ExecuteResult } from './execute.js';

/** What a dispatcher needs. */
export interface DispatcherDeps {
  readonly endpoint: EndpointConfig;
  readonly queue: JobQueue;
  readonly model: ModelClient;
  /** The endpoint's slots, shared with real-time calls. */
  readonly slots: SlotScheduler;
  readonly execute: Omit<ExecuteContext, 'model' | 'maxAttempts'>;
  readonly owner: string;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called after every terminal outcome (status watchers, metrics). */
  readonly onFinished?: (job: Job, result: ExecuteResult) => void;
}

/** The queued backlog is read (and reported as demand) at most this often. */
export const BACKLOG_INTERVAL_MS = 200;

interface InFlight {
  readonly job: Job;
  readonly abort: AbortController;
}

/** Claims and runs one endpoint's jobs. */
export class EndpointDispatcher {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly unsubscribe: (() => void)[] = [];
  private pumping = false;
  private pumpAgain = false;
  private stopping = false;
  private poll: NodeJS.Timeout | undefined;
  private drained: (() => void) | undefined;
  private backlogAt = -Infinity;
  private readingBacklog = false;

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

  /** Aborts jobs whose lease was lost (another worker owns them now). */
  abandon(ids: readonly string[]): void {
    for (const id of ids) this.inFlight.get(id)?.abort.abort(new Error('lease lost'));
  }

  /** Stops claiming; waits up to `graceMs` for jobs in flight, then aborts them (they are released to the queue). */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.poll);
    for (const off of this.unsubscribe) off();
    this.deps.slots.asyncIdle();
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
    this.claimLoop()
      .catch((err: unknown) => this.deps.logger.error('claim failed', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain && !this.stopping) {
          this.pumpAgain = false;
          this.pump();
        }
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
    const abort = new AbortController();
    this.inFlight.set(job.id, { job, abort });
    const ctx: ExecuteContext = Object.assign({}, this.deps.execute, { model: this.deps.model, maxAttempts: this.deps.endpoint.async.maxAttempts });
    executeJob(ctx, job, abort.signal)
      .then((result) => this.settle(job, result, abort.signal))
      .catch(async (err: unknown) => {
        this.deps.logger.error('job failed unexpectedly; releasing it for a retry', { inferenceId: job.inferenceId, error: err instanceof Error ? err.message : String(err) });
        await this.deps.queue.release(this.deps.owner, job.id).catch(() => undefined);
      })
      .finally(() => {
        this.inFlight.delete(job.id);
        this.deps.slots.releaseAsync();
        if (this.inFlight.size === 0) this.drained?.();
        this.pump();
      });
  }

  private async settle(job: Job, result: ExecuteResult, signal: AbortSignal): Promise<void> {
    const { queue, owner, clock, logger } = this.deps;
    if (result.state === 'release') {
      if (!(signal.reason instanceof Error && signal.reason.message === 'lease lost')) await queue.release(owner, job.id);
      logger.debug('released', { inferenceId: job.inferenceId, why: result.why });
      return;
    }
    const kept = await queue.finish(owner, job.id, result, clock.now());
    if (!kept) logger.warn('lease lost before finishing; another worker will redo the request', { inferenceId: job.inferenceId });
    else logger.debug('finished', { inferenceId: job.inferenceId, state: result.state });
    this.deps.onFinished?.(job, result);
  }
}
