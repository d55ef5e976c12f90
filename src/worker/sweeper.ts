/**
 * The TTL sweeper: requests still queued after their RequestTTLSeconds are expired on a timer,
 * not only when a worker frees up. Each gets a failure object and the `expired` state.
 */
import type { Metrics } from '../metrics/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { JobQueue } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';
import { writeFailureReason } from './execute.js';
import type { FinishNotifications } from './finish-batch.js';

/** What the sweeper needs. */
export interface SweeperDeps {
  readonly queue: JobQueue;
  readonly store: ObjectStore;
  readonly owner: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly notifications?: FinishNotifications;
  /** Counts each expiry. */
  readonly metrics?: Pick<Metrics, 'recordExpired'>;
}

/** Expires every queued job past its TTL; returns how many. */
export async function sweepExpired(deps: SweeperDeps): Promise<number> {
  let total = 0;
  for (;;) {
    const jobs = await deps.queue.claimExpired(deps.owner, 100, deps.leaseMs, deps.clock.now());
    for (const job of jobs) {
      const ttl = Math.round((job.expiresAt - job.receivedAt) / 1000);
      const reason = `RequestExpired: the request waited in the queue longer than its RequestTTLSeconds (${ttl} s) and was not sent to the model.`;
      try {
        await writeFailureReason(deps, job, reason);
        const outcome = { state: 'expired' as const, failureReason: reason };
        const now = deps.clock.now();
        const notification = deps.notifications?.build(job, outcome, now);
        const kept = await deps.queue.finish(deps.owner, job.id, outcome, now, notification);
        if (kept && notification) deps.notifications?.recorded();
        deps.metrics?.recordExpired(job.endpoint);
        deps.logger.info('request expired', { endpoint: job.endpoint, inferenceId: job.inferenceId });
      } catch (err) {
        deps.logger.error('could not expire request; will retry', { inferenceId: job.inferenceId, error: err instanceof Error ? err.message : String(err) });
        await deps.queue.release(deps.owner, job.id);
      }
    }
    total += jobs.length;
    if (jobs.length < 100) return total;
  }
}
