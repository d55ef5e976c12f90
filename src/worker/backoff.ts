/**
 * The backoff of retries after inferq's own storage failed (a full or read-only disk): a job whose
 * result could not be stored runs again after `initialMs`, doubling with each further fault up to
 * `maxMs`; a queue write that failed the same way is retried on the same schedule.
 */

/** Waits between storage-fault retries. */
export interface StorageRetryPolicy {
  /** Wait after the first fault (ms); `worker.storageRetryInitialSeconds` (default 1 s). */
  readonly initialMs: number;
  /** Longest wait (ms); `worker.storageRetryMaxSeconds` (default 30 s). */
  readonly maxMs: number;
}

/** The wait (ms) before the retry that follows the `faults`-th consecutive fault (1, 2, …). */
export function storageRetryDelay(policy: StorageRetryPolicy, faults: number): number {
  const exponent = Math.min(Math.max(0, faults - 1), 40);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
