/** Public surface of the job queue: the JobQueue, WorkerRegistry and ResourceStore ports, the SQLite and PostgreSQL backends. */
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
  NewNotification,
  NotificationSettlement,
  NotificationState,
  OutboxEntry,
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
export type { ResourceKind, ResourceStore, StoredResource } from './resources.js';
export { openSqliteResourceStore } from './sqlite/resources.js';
export { openPostgresResourceStore } from './postgres/resources.js';
export type { PostgresResourceStoreOptions } from './postgres/resources.js';
