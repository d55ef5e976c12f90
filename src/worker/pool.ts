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

/** What the pool needs. */
export interface WorkerPoolDeps {
  readonly endpoints: readonly EndpointConfig[];
  readonly models: ReadonlyMap<string, ModelClient>;
  /** Each endpoint's slot scheduler (shared with the real-time API of the same process). */
  readonly slots: ReadonlyMap<string, SlotScheduler>;
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
function watchCancels(deps: WorkerPoolDeps, dispatchers: readonly EndpointDispatcher[]): NodeJS.Timeout {
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

/** Starts workers for every endpoint. */
export async function startWorkerPool(deps: WorkerPoolDeps): Promise<WorkerPool> {
  const host = hostname();
  const owner = `${host}:${process.pid}:${randomUUID().slice(0, 8)}`;
  await deps.queue.registerWorker(owner, process.pid, host, deps.clock.now());
  await recoverDeadWorkers(deps, host, owner);
  const finishes = new FinishBatcher(deps.queue, owner, deps.clock);
  const dispatchers = deps.endpoints.map((endpoint) => new EndpointDispatcher({
    endpoint,
    queue: deps.queue,
    model: deps.models.get(endpoint.name)!,
    slots: deps.slots.get(endpoint.name)!,
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
  }));
  const renew = setInterval(() => {
    void (async () => {
      await heartbeat(deps, owner, host);
      await reapStaleWorkers(deps, owner, deps.clock.now() - deps.leaseMs);
      for (const d of dispatchers) {
        const ids = d.inFlightIds();
        if (ids.length > 0) d.abandon(await deps.queue.renew(owner, ids, deps.leaseMs, deps.clock.now()));
      }
    })().catch((err: unknown) => deps.logger.error('lease renewal failed', { error: err instanceof Error ? err.message : String(err) }));
  }, Math.max(1000, Math.floor(deps.leaseMs / 3)));
  const cancels = watchCancels(deps, dispatchers);
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
  for (const d of dispatchers) d.start();
  return {
    owner,
    async stop(graceMs) {
      clearInterval(sweep);
      clearInterval(cancels);
      await Promise.all(dispatchers.map((d) => d.stop(graceMs)));
      clearInterval(renew);
      await deps.queue.unregisterWorker(owner);
    },
  };
}
