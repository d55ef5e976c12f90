/**
 * The PostgreSQL queue schema: every table lives in one configured schema, created and brought to
 * {@link SCHEMA_VERSION} at open by versioned migrations recorded in `schema_migrations`. Processes
 * that start at once serialise on a session advisory lock keyed by the schema name, so each
 * migration is applied exactly once. Backlog counters (`job_counts`, one row per endpoint and slot;
 * a statement picks one of {@link COUNT_SLOTS} slots at random so concurrent transactions seldom
 * wait on the same row) are kept by statement-level triggers in the transaction that changes the
 * jobs, and the same triggers NOTIFY the schema's channel with the endpoint of every job that
 * becomes queued (insert, release), which LISTENing workers of any process turn into a claim.
 */
import type { PoolClient } from 'pg';
import { InferqError } from '../../errors/index.js';

/** Counter rows per endpoint (see the module header). */
export const COUNT_SLOTS = 16;

/** The schema name quoted as an SQL identifier (names are validated by the config: [a-z_][a-z0-9_]*). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The NOTIFY channel of a schema's job availability. */
export function channelOf(schema: string): string {
  return `${schema}_jobs_available`;
}

/** Migration N (index N-1) brings the schema from version N-1 to N; `S` is the quoted schema. Append only; never edit. */
function migrations(S: string, channel: string): readonly string[] {
  const ch = channel.replace(/'/g, "''");
  return [
    `
    CREATE TABLE ${S}.jobs (
      seq                        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      endpoint                   text NOT NULL,
      inference_id               text NOT NULL,
      state                      text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'expired')),
      attempts                   integer NOT NULL DEFAULT 0,
      lease_owner                text,
      lease_until                bigint,
      lease_counted              integer NOT NULL DEFAULT 0,
      received_at                bigint NOT NULL,
      expires_at                 bigint NOT NULL,
      started_at                 bigint,
      finished_at                bigint,
      failure_reason             text,
      fingerprint                text NOT NULL,
      input                      text NOT NULL,
      input_body                 bytea,
      content_type               text,
      accept                     text,
      custom_attributes          text,
      output_bucket              text NOT NULL,
      output_key                 text NOT NULL,
      failure_bucket             text NOT NULL,
      failure_key                text NOT NULL,
      invocation_timeout_seconds integer NOT NULL,
      CONSTRAINT jobs_inference_id UNIQUE (endpoint, inference_id)
    );
    CREATE INDEX jobs_queued ON ${S}.jobs (endpoint, seq) WHERE state = 'queued';
    CREATE INDEX jobs_running ON ${S}.jobs (endpoint, seq) WHERE state = 'running';
    CREATE INDEX jobs_expiry ON ${S}.jobs (expires_at, seq) WHERE state = 'queued';
    CREATE INDEX jobs_owner ON ${S}.jobs (lease_owner) WHERE state = 'running';
    CREATE INDEX jobs_finished ON ${S}.jobs (finished_at) WHERE finished_at IS NOT NULL;

    CREATE TABLE ${S}.job_counts (
      endpoint text NOT NULL,
      slot     smallint NOT NULL,
      queued   bigint NOT NULL DEFAULT 0,
      running  bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (endpoint, slot)
    );

    CREATE FUNCTION ${S}.jobs_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${S}.job_counts AS c (endpoint, slot, queued, running)
        SELECT endpoint, floor(random() * ${COUNT_SLOTS})::smallint, count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'running')
        FROM new_rows GROUP BY endpoint ORDER BY endpoint
        ON CONFLICT (endpoint, slot) DO UPDATE SET queued = c.queued + excluded.queued, running = c.running + excluded.running;
      PERFORM pg_notify('${ch}', e) FROM (SELECT DISTINCT endpoint FROM new_rows WHERE state = 'queued') AS d(e);
      RETURN NULL;
    END $$;

    CREATE FUNCTION ${S}.jobs_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      s smallint := floor(random() * ${COUNT_SLOTS})::smallint;
    BEGIN
      INSERT INTO ${S}.job_counts AS c (endpoint, slot, queued, running)
        SELECT endpoint, s, sum(q), sum(r) FROM (
          SELECT endpoint, (state = 'queued')::int AS q, (state = 'running')::int AS r FROM new_rows
          UNION ALL
          SELECT endpoint, -(state = 'queued')::int, -(state = 'running')::int FROM old_rows
        ) AS d GROUP BY endpoint HAVING sum(q) <> 0 OR sum(r) <> 0 ORDER BY endpoint
        ON CONFLICT (endpoint, slot) DO UPDATE SET queued = c.queued + excluded.queued, running = c.running + excluded.running;
      PERFORM pg_notify('${ch}', e) FROM (
        SELECT DISTINCT n.endpoint FROM new_rows n JOIN old_rows o ON o.seq = n.seq WHERE n.state = 'queued' AND o.state <> 'queued'
      ) AS d(e);
      RETURN NULL;
    END $$;

    CREATE FUNCTION ${S}.jobs_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ${S}.job_counts AS c (endpoint, slot, queued, running)
        SELECT endpoint, floor(random() * ${COUNT_SLOTS})::smallint, -count(*) FILTER (WHERE state = 'queued'), -count(*) FILTER (WHERE state = 'running')
        FROM old_rows WHERE state IN ('queued', 'running') GROUP BY endpoint ORDER BY endpoint
        ON CONFLICT (endpoint, slot) DO UPDATE SET queued = c.queued + excluded.queued, running = c.running + excluded.running;
      RETURN NULL;
    END $$;

    CREATE TRIGGER jobs_count_insert AFTER INSERT ON ${S}.jobs REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${S}.jobs_count_insert();
    CREATE TRIGGER jobs_count_update AFTER UPDATE ON ${S}.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${S}.jobs_count_update();
    CREATE TRIGGER jobs_count_delete AFTER DELETE ON ${S}.jobs REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${S}.jobs_count_delete();

    CREATE TABLE ${S}.workers (
      owner         text PRIMARY KEY,
      pid           integer NOT NULL,
      hostname      text NOT NULL,
      registered_at bigint NOT NULL,
      heartbeat_at  bigint NOT NULL
    );
    CREATE INDEX workers_host ON ${S}.workers (hostname);
    CREATE INDEX workers_heartbeat ON ${S}.workers (heartbeat_at);
    `,
    // 2: real-time forwarding: the routes worker processes publish, and the demand API processes record.
    `
    CREATE TABLE ${S}.worker_routes (
      owner      text PRIMARY KEY,
      url        text NOT NULL,
      endpoints  text NOT NULL,
      updated_at bigint NOT NULL
    );
    CREATE INDEX worker_routes_updated ON ${S}.worker_routes (updated_at);
    CREATE TABLE ${S}.endpoint_demand (
      endpoint text PRIMARY KEY,
      waiting  integer NOT NULL,
      at       bigint NOT NULL
    );
    `,
    // 3: cancel and retry (issue 13): the 'cancelled' state, a retry's not-before time, the cancel
    // flag, and indexes to list an endpoint's jobs newest first.
    `
    ALTER TABLE ${S}.jobs DROP CONSTRAINT jobs_state_check;
    ALTER TABLE ${S}.jobs ADD CONSTRAINT jobs_state_check CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'expired', 'cancelled'));
    ALTER TABLE ${S}.jobs ADD COLUMN not_before bigint, ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
    CREATE INDEX jobs_list ON ${S}.jobs (endpoint, seq);
    CREATE INDEX jobs_list_state ON ${S}.jobs (endpoint, state, seq);
    CREATE INDEX jobs_cancel ON ${S}.jobs (seq) WHERE cancel_requested;
    `,
  ];
}

/** The schema version this code writes. */
export const SCHEMA_VERSION = migrations('s', 'c').length;

/**
 * Creates `schema` if needed and applies the missing migrations, each in its own transaction,
 * under a session advisory lock (concurrent openers wait, then find nothing left to do).
 * `appliedBy` is recorded with each migration this call applies. Throws InternalError when the
 * schema was written by a newer version of inferq.
 */
export async function migrate(client: PoolClient, schema: string, appliedBy: string): Promise<number[]> {
  const S = quoteIdent(schema);
  const all = migrations(S, channelOf(schema));
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`inferq.migrate.${schema}`]);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${S}.schema_migrations (
      version    integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now(),
      applied_by text NOT NULL
    )`);
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${S}.schema_migrations`);
    const current = rows[0]?.v ?? 0;
    if (current > all.length) {
      throw new InferqError('InternalError', `The queue schema ${schema} has version ${current}, newer than this inferq supports (${all.length}); upgrade inferq.`);
    }
    const applied: number[] = [];
    for (let version = current + 1; version <= all.length; version++) {
      await client.query('BEGIN');
      try {
        await client.query(all[version - 1]!);
        await client.query(`INSERT INTO ${S}.schema_migrations (version, applied_by) VALUES ($1, $2)`, [version, appliedBy]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      applied.push(version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`inferq.migrate.${schema}`]).catch(() => undefined);
  }
}
