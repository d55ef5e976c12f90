/**
 * The PostgreSQL ResourceStore: the `resources` table of the queue schema, through a small pool of
 * its own, so every API and worker process sharing the schema sees the same resources.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { InferqError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../util/index.js';
import { RESOURCE_KINDS, type ResourceKind, type ResourceStore, type StoredResource } from '../resources.js';
import { toPgQueueError } from './errors.js';
import { migrate, quoteIdent } from './schema.js';

const Row = z.object({
  kind: z.enum(RESOURCE_KINDS),
  key: z.string(),
  doc: z.string(),
  created_at: z.coerce.number(),
  modified_at: z.coerce.number(),
});

function toResource(raw: unknown): StoredResource {
  const row = Row.parse(raw);
  return { kind: row.kind, key: row.key, doc: row.doc, createdAt: row.created_at, modifiedAt: row.modified_at };
}

/** Options of {@link openPostgresResourceStore}. */
export interface PostgresResourceStoreOptions {
  readonly url: string;
  readonly password?: string;
  readonly schema: string;
  readonly logger?: Logger;
}

class PgResourceStore implements ResourceStore {
  private closed = false;
  private readonly table: string;

  constructor(private readonly pool: pg.Pool, schema: string) {
    this.table = `${quoteIdent(schema)}.resources`;
  }

  private async query(sql: string, params: readonly unknown[]): Promise<pg.QueryResult> {
    if (this.closed) throw new InferqError('ServiceUnavailable', 'The resource store is closed.');
    try {
      return await this.pool.query(sql, [...params]);
    } catch (err) {
      throw toPgQueueError(err);
    }
  }

  async create(r: StoredResource): Promise<boolean> {
    const res = await this.query(`INSERT INTO ${this.table} (kind, key, doc, created_at, modified_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [r.kind, r.key, r.doc, r.createdAt, r.modifiedAt]);
    return res.rowCount === 1;
  }

  async replace(kind: ResourceKind, key: string, doc: string, modifiedAt: number, ifDoc?: string): Promise<boolean> {
    const res = ifDoc === undefined
      ? await this.query(`UPDATE ${this.table} SET doc = $1, modified_at = $2 WHERE kind = $3 AND key = $4`, [doc, modifiedAt, kind, key])
      : await this.query(`UPDATE ${this.table} SET doc = $1, modified_at = $2 WHERE kind = $3 AND key = $4 AND doc = $5`, [doc, modifiedAt, kind, key, ifDoc]);
    return res.rowCount === 1;
  }

  async get(kind: ResourceKind, key: string): Promise<StoredResource | undefined> {
    const res = await this.query(`SELECT kind, key, doc, created_at, modified_at FROM ${this.table} WHERE kind = $1 AND key = $2`, [kind, key]);
    const row: unknown = res.rows[0];
    return row === undefined ? undefined : toResource(row);
  }

  async list(kind: ResourceKind): Promise<StoredResource[]> {
    const res = await this.query(`SELECT kind, key, doc, created_at, modified_at FROM ${this.table} WHERE kind = $1 ORDER BY key COLLATE "C"`, [kind]);
    return res.rows.map((row: unknown) => toResource(row));
  }

  async delete(kind: ResourceKind, key: string): Promise<boolean> {
    const res = await this.query(`DELETE FROM ${this.table} WHERE kind = $1 AND key = $2`, [kind, key]);
    return res.rowCount === 1;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * Opens the resource store in `options.schema` (creating and migrating the schema if needed).
 * @throws InferqError ServiceUnavailable when the database cannot be reached.
 */
export async function openPostgresResourceStore(options: PostgresResourceStoreOptions): Promise<ResourceStore> {
  const pool = new pg.Pool({
    connectionString: options.url, max: 2, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000, query_timeout: 60_000,
    application_name: 'inferq-resources', ...(options.password !== undefined ? { password: options.password } : {}),
  });
  const logger = options.logger ?? silentLogger;
  pool.on('error', (err) => logger.warn('an idle resource database connection failed', { error: err.message }));
  try {
    const client = await pool.connect();
    try {
      await migrate(client, options.schema, `${process.pid}:${randomUUID()}`);
    } finally {
      client.release(true);
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw toPgQueueError(err);
  }
  return new PgResourceStore(pool, options.schema);
}
