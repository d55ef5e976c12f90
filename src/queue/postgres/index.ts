/**
 * The PostgreSQL job queue: jobs, backlog counters and the worker registry in one schema of a
 * PostgreSQL database that any number of inferq processes (API and workers, on any hosts) share.
 * Opening creates and migrates the schema (once, whoever starts first), then serves every call
 * from a pg Pool; wake-ups across processes arrive by LISTEN/NOTIFY.
 */
import { randomUUID } from 'node:crypto';
import pg, { type ClientConfig } from 'pg';
import { silentLogger, type Logger } from '../../util/index.js';
import { toPgQueueError } from './errors.js';
import { ChannelListener } from './listener.js';
import { PgQueue, type PostgresJobQueue } from './queue.js';
import { channelOf, migrate } from './schema.js';
import { createStatements } from './statements.js';

/** Options of {@link openPostgresJobQueue}. */
export interface PostgresJobQueueOptions {
  /** `postgres://user[:password]@host:port/database[?sslmode=…]`. */
  readonly url: string;
  /** The password when the URL has none (the config takes it from PGPASSWORD). */
  readonly password?: string;
  /** The schema holding every table ([a-z_][a-z0-9_]*, validated by the config). */
  readonly schema: string;
  readonly logger?: Logger;
  /**
   * Most pooled connections of this process (the LISTEN connection comes on top).
   * @default 10
   */
  readonly maxConnections?: number;
  /** Shown in pg_stat_activity. @default inferq */
  readonly applicationName?: string;
  /**
   * LISTEN for other processes' jobs from the start (a worker process): open resolves once the
   * LISTEN is in place, or after {@link LISTEN_WAIT_MS} (it keeps trying in the background).
   * Otherwise the LISTEN starts with the first onAvailable listener.
   * @default false
   */
  readonly listen?: boolean;
}

/** How long open waits for the first LISTEN (see {@link PostgresJobQueueOptions.listen}). */
const LISTEN_WAIT_MS = 5_000;

/** How long a new connection may take before the call fails with ServiceUnavailable. */
const CONNECT_TIMEOUT_MS = 5_000;
/** A statement without an answer for this long fails (a silently dropped network). */
const QUERY_TIMEOUT_MS = 60_000;

/** bigint columns (ids, epoch-ms times, counts) are read as numbers: all stay below 2^53. */
function numberTypes(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));
  return types;
}

function clientConfig(options: PostgresJobQueueOptions): ClientConfig {
  const config: ClientConfig = {
    connectionString: options.url,
    application_name: options.applicationName ?? 'inferq',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    query_timeout: QUERY_TIMEOUT_MS,
    keepAlive: true,
    types: numberTypes(),
  };
  if (options.password !== undefined) config.password = options.password;
  return config;
}

/**
 * Opens the queue on `options.schema`, creating and migrating it first.
 * @throws InferqError ServiceUnavailable when the database cannot be reached, InternalError when
 * the schema is newer than this inferq.
 */
export async function openPostgresJobQueue(options: PostgresJobQueueOptions): Promise<PostgresJobQueue> {
  const logger = options.logger ?? silentLogger;
  const config = clientConfig(options);
  const pool = new pg.Pool(Object.assign({}, config, { max: options.maxConnections ?? 10, idleTimeoutMillis: 30_000 }));
  pool.on('error', (err) => logger.warn('an idle queue database connection failed', { error: err.message }));
  try {
    const client = await pool.connect();
    try {
      await migrate(client, options.schema, `${process.pid}:${randomUUID()}`);
    } finally {
      client.release(true); // not reused: its session held the advisory lock, and its backend pid is not tracked as ours
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw toPgQueueError(err);
  }
  const stmts = createStatements(options.schema);
  const listener = new ChannelListener(config, channelOf(options.schema), {
    onNotify: (endpoint, processId) => queue.notified(endpoint, processId),
    onListening: () => logger.debug('listening for jobs of other processes', { schema: options.schema }),
  }, logger);
  const queue = new PgQueue(pool, stmts, listener, logger);
  if (options.listen) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([queue.whenListening(), new Promise<void>((resolve) => { timer = setTimeout(resolve, LISTEN_WAIT_MS); })]);
    clearTimeout(timer);
  }
  return queue;
}

export { SCHEMA_VERSION } from './schema.js';
export type { PostgresJobQueue } from './queue.js';
