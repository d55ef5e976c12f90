/** Public surface of the job queue: the JobQueue and WorkerRegistry ports and the SQLite backend. */
export type {
  EnqueueResult,
  Job,
  JobFinish,
  JobInput,
  JobOutcome,
  JobQueue,
  JobState,
  NewJob,
  ObjectLocation,
  QueueStats,
  TerminalState,
  WorkerRegistry,
} from './port.js';
export { MAX_INLINE_BODY_BYTES, openSqliteJobQueue } from './sqlite/index.js';
export type { QueueDurability, SeedOptions, SqliteJobQueue, SqliteJobQueueOptions } from './sqlite/index.js';
