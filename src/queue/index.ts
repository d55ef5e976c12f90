/** Public surface of the job queue: the JobQueue and WorkerRegistry ports, the SQLite and PostgreSQL backends. */
export type {
  CancelResult,
  EndpointDemand,
  EnqueueResult,
  Job,
  JobFinish,
  JobInput,
  JobOutcome,
  JobPage,
  JobQueue,
  JobState,
  ListQuery,
  NewJob,
  ObjectLocation,
  QueueBackend,
  QueueStats,
  RerunResult,
  RouteEndpoint,
  RouteRegistry,
  TerminalState,
  WorkerRegistry,
  WorkerRoute,
} from './port.js';
export { CANCELLED_REASON } from './reasons.js';
export { MAX_INLINE_BODY_BYTES, openSqliteJobQueue } from './sqlite/index.js';
export type { QueueDurability, SeedOptions, SqliteJobQueue, SqliteJobQueueOptions } from './sqlite/index.js';
export { openPostgresJobQueue } from './postgres/index.js';
export type { PostgresJobQueue, PostgresJobQueueOptions } from './postgres/index.js';
