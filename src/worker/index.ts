/** Workers: dispatchers per endpoint, job execution, the TTL sweeper and the pool that runs them. */
export { startWorkerPool } from './pool.js';
export type { PoolEndpoint, WorkerPool, WorkerPoolDeps } from './pool.js';
export type { ExecuteResult } from './execute.js';
export type { StorageRetryPolicy } from './backoff.js';
export { sweepExpired } from './sweeper.js';
export type { FinishNotifications } from './finish-batch.js';
