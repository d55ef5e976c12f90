/** Small shared utilities: clock, logger, SQLite opening, WAL group sync and response header lists. */
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LogFormat, LogLevel } from './logger.js';
export { openMigratedDatabase } from './sqlite.js';
export type { MigratedDatabaseOptions } from './sqlite.js';
export { WalSync } from './wal-sync.js';
export { setHeaderList } from './headers.js';
export { systemErrorReason } from './system-error.js';
