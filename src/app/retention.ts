/**
 * Retention of finished asynchronous requests (`server.requestRetentionSeconds`): a timer deletes
 * from the queue database the requests that reached a terminal state longer ago than the retention.
 * Their output and failure objects stay in the object store; only the status (and the InferenceId's
 * idempotency) goes.
 */
import type { QueueBackend } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';

/** How often the purge runs: a tenth of the retention, at least every second and at most every hour. */
export function purgeIntervalMs(retentionMs: number): number {
  return Math.min(3_600_000, Math.max(1000, Math.floor(retentionMs / 10)));
}

/**
 * Starts purging finished requests older than `retentionMs` (0: keep them forever, no timer).
 * Returns a function that stops the timer and resolves once a purge under way has finished.
 */
export function startRetention(queue: QueueBackend, retentionMs: number, clock: Clock, logger: Logger): () => Promise<void> {
  if (retentionMs <= 0) return () => Promise.resolve();
  let running: Promise<void> | undefined;
  const purge = (): void => {
    if (running) return;
    running = queue.purgeFinished(clock.now() - retentionMs)
      .then((removed) => { if (removed > 0) logger.info('purged finished requests past their retention', { requests: removed }); })
      .catch((err: unknown) => logger.warn('could not purge finished requests; will retry', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => { running = undefined; });
  };
  const timer = setInterval(purge, purgeIntervalMs(retentionMs));
  timer.unref();
  purge();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
