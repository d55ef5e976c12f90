/**
 * The worker pool of one process: a dispatcher per endpoint, lease renewal for every job in
 * flight, the TTL sweeper, and the worker registry that lets a restarted process take back the
 * leases of a process that died on the same host without waiting for them to run out. With each
 * heartbeat the pool also releases the leases of workers on any host (sharing a PostgreSQL queue)
 * whose heartbeat is older than a lease: several survivors may do it at once, which is harmless.
 * Heartbeats compare times of different hosts, so their clocks must agree to well under a lease
 * (as the leases themselves need). A worker that finds itself reaped registers again.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EndpointConfig } from '../config/index.js';
import type { ModelClient } from '../models/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { Job, JobQueue, WorkerRegistry } from '../queue/index.js';
import type { SlotScheduler } from '../scheduling/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Clock, Logger } from '../util/index.js';
import type { StorageRetryPolicy } from './backoff.js';
import { EndpointDispatcher } from './dispatcher.js';
import { FinishBatcher, type FinishNotifications } from './finish-batch.js';
import type { ExecuteContext, ExecuteResult } from './execute.js';
import { sweepExpired } from './sweeper.js';

/** One endpoint as the pool serves it: its configuration, model and slot scheduler (shared with the real-time API of the same process). */
export interface PoolEndpoint {
  readonly endpoint: EndpointConfig;
  readonly model: ModelClient;
  readonly slots: SlotScheduler;
}

/** What the pool needs. */
export interface WorkerPoolDeps {
  /** The endpoints served from the start (more come and go with {@link WorkerPool.serve} and {@link WorkerPool.retire}). */
  readonly endpoints: readonly PoolEndpoint[];
  readonly queue: JobQueue & WorkerRegistry;
  readonly store: ObjectStore;
  readonly fetchUrl: ExecuteContext['fetchUrl'];
  readonly leaseMs: number;
  readonly sweepIntervalMs: number;
  /** Waits between retries after faults of inferq's own storage (see backoff.ts). */
  readonly storageRetry: StorageRetryPolicy;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onFinished?: (job: Job, result: ExecuteResult) => void;
  /** Notifications recorded with terminal outcomes (none when absent). */
  readonly notifications?: FinishNotifications;
  /** Where outcomes, expiries and model latencies are counted. */
  readonly metrics?: Metrics;
}

/** A running pool. */
export interface WorkerPool {
  readonly owner: string;
  /**
   * Starts claiming for an endpoint: a new one, or a new version of one served (then the old
   * version's dispatcher stops claiming at once and finishes its calls in flight for up to
   * `graceMs`; what is left goes back to the queue). Resolves once the old version is done.
   */
  serve(endpoint: PoolEndpoint, graceMs: number): Promise<void>;
  /** Stops claiming for endpoint `name`; its calls in flight finish for up to `graceMs`, the rest go back to the queue. */
  retire(name: string, graceMs: number): Promise<void>;
  /** Stops claiming, lets jobs in flight finish for up to `graceMs`, releases the rest. */
  stop(graceMs: number): Promise<void>;
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Releases the jobs of workers on this host whose process is gone; `self` (just registered, maybe with a dead predecessor's pid) is skipped. */
async function recoverDeadWorkers(deps: WorkerPoolDeps, host: string, self: string): Promise<void> {
  for (const dead of await deps.queue.deadWorkers(host, pidAlive)) {
    if (dead === self) continue;
    const released = await deps.queue.releaseOwner(dead);
    await deps.queue.unregisterWorker(dead);
    if (released > 0) deps.logger.info('recovered requests of a worker that died', { worker: dead, requests: released });
  }
}

/** Releases the leases of workers (on any host) whose last heartbeat is older than `before`, except `self`. */
async function reapStaleWorkers(deps: WorkerPoolDeps, self: string, before: number): Promise<void> {
  for (const stale of await deps.queue.staleWorkers(before)) {
    if (stale === self) continue;
    await deps.queue.unregisterWorker(stale);
    const released = await deps.queue.releaseOwner(stale);
    deps.logger.warn('a worker stopped sending heartbeats; its requests go back to the queue', { worker: stale, requests: released });
  }
}

/** Heartbeat of `owner`, registering it again if a survivor reaped it meanwhile (its heartbeat was late). */
async function heartbeat(deps: WorkerPoolDeps, owner: string, host: string): Promise<void> {
  const now = deps.clock.now();
  if (await deps.queue.heartbeatWorker(owner, now)) return;
  await deps.queue.registerWorker(owner, process.pid, host, now);
  deps.logger.warn('this worker was presumed dead (its heartbeat was late) and registered again', { worker: owner });
}

/** How often the pool asks the queue whether a job it runs was cancelled (any process may have asked). */
export const CANCEL_CHECK_INTERVAL_MS = 500;

/** Aborts the jobs in flight whose cancel was requested, checked every {@link CANCEL_CHECK_INTERVAL_MS}. */
function watchCancels(deps: WorkerPoolDeps, dispatchers: ReadonlySet<EndpointDispatcher>): NodeJS.Timeout {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void (async () => {
      for (const d of dispatchers) {
        const ids = d.inFlightIds();
        if (ids.length > 0) d.cancel(await deps.queue.cancelRequested(ids));
      }
    })()
      .catch((err: unknown) => deps.logger.warn('could not check for cancelled requests', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => { checking = false; });
  }, CANCEL_CHECK_INTERVAL_MS);
  timer.unref();
  return timer;
}

/** Starts workers for the given endpoints. */
export async function startWorkerPool(deps: WorkerPoolDeps): Promise<WorkerPool> {
  const host = hostname();
  const owner = `${host}:${process.pid}:${randomUUID().slice(0, 8)}`;
  await deps.queue.registerWorker(owner, process.pid, host, deps.clock.now());
  await recoverDeadWorkers(deps, host, owner);
  const finishes = new FinishBatcher(deps.queue, owner, deps.clock);
  const dispatcherOf = ({ endpoint, model, slots }: PoolEndpoint): EndpointDispatcher => new EndpointDispatcher({
    endpoint,
    queue: deps.queue,
    model,
    slots,
    execute: { store: deps.store, logger: deps.logger.child(endpoint.name), fetchUrl: deps.fetchUrl, ...(deps.metrics ? { metrics: deps.metrics } : {}) },
    owner,
    finishes,
    leaseMs: deps.leaseMs,
    pollIntervalMs: 250,
    storageRetry: deps.storageRetry,
    clock: deps.clock,
    logger: deps.logger.child(endpoint.name),
    ...(deps.onFinished ? { onFinished: deps.onFinished } : {}),
    ...(deps.notifications ? { notifications: deps.notifications } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
  /** The dispatcher claiming for each endpoint; `running` also holds replaced ones still finishing their calls (their leases are renewed). */
  const claiming = new Map<string, EndpointDispatcher>();
  const running = new Set<EndpointDispatcher>();
  const stopDispatcher = async (d: EndpointDispatcher | undefined, graceMs: number): Promise<void> => {
    if (d === undefined) return;
    await d.stop(graceMs);
    running.delete(d);
  };
  const serve = (endpoint: PoolEndpoint): EndpointDispatcher | undefined => {
    const previous = claiming.get(endpoint.endpoint.name);
    const d = dispatcherOf(endpoint);
    claiming.set(endpoint.endpoint.name, d);
    running.add(d);
    d.start();
    return previous;
  };
  const renew = setInterval(() => {
    void (async () => {
      await heartbeat(deps, owner, host);
      await reapStaleWorkers(deps, owner, deps.clock.now() - deps.leaseMs);
      for (const d of running) {
        const ids = d.inFlightIds();
        if (ids.length > 0) d.abandon(await deps.queue.renew(owner, ids, deps.leaseMs, deps.clock.now()));
      }
    })().catch((err: unknown) => deps.logger.error('lease renewal failed', { error: err instanceof Error ? err.message : String(err) }));
  }, Math.max(1000, Math.floor(deps.leaseMs / 3)));
  const cancels = watchCancels(deps, running);
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweepExpired({
      queue: deps.queue, store: deps.store, owner, leaseMs: deps.leaseMs, clock: deps.clock, logger: deps.logger,
      ...(deps.notifications ? { notifications: deps.notifications } : {}), ...(deps.metrics ? { metrics: deps.metrics } : {}),
    })
      .catch((err: unknown) => deps.logger.error('sweep failed', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => { sweeping = false; });
  }, deps.sweepIntervalMs);
  for (const endpoint of deps.endpoints) serve(endpoint);
  return {
    owner,
    serve: (endpoint, graceMs) => stopDispatcher(serve(endpoint), graceMs),
    retire(name, graceMs) {
      const d = claiming.get(name);
      claiming.delete(name);
      return stopDispatcher(d, graceMs);
    },
    async stop(graceMs) {
      clearInterval(sweep);
      clearInterval(cancels);
      claiming.clear();
      await Promise.all([...running].map((d) => stopDispatcher(d, graceMs)));
      clearInterval(renew);
      await deps.queue.unregisterWorker(owner);
    },
  };
}
