/**
 * The SQL of the PostgreSQL queue, as named (server-side prepared) statements: pg prepares each
 * name once per connection and afterwards only binds and executes it. Texts are built once per
 * queue for its schema. Every lease change is one statement (its own transaction): claims lock the
 * rows they take with `FOR UPDATE SKIP LOCKED`, so concurrent claimers in any process pass over
 * each other's rows instead of waiting or taking them twice. State literals are written into the
 * SQL so the planner uses the partial indexes of schema.ts.
 */
import { JOB_COLUMNS } from '../rows.js';
import { quoteIdent } from './schema.js';

/** A named statement: pg's QueryConfig without values. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

const JOB_COLS = JOB_COLUMNS;

const J_COLS = JOB_COLS.split(',').map((c) => `j.${c.trim()}`).join(', ');

/** A named statement with its values, as pg's query() takes it. */
export function bind(stmt: Statement, values: unknown[]): { name: string; text: string; values: unknown[] } {
  return { name: stmt.name, text: stmt.text, values };
}

function build(S: string) {
  const st = (name: string, text: string): Statement => ({ name: `inferq_${name}`, text });
  return {
    /** $1..$15: one array per InsertRow column; inserts in array order, skipping existing InferenceIds. */
    insertMany: st('insert_many', `INSERT INTO ${S}.jobs (endpoint, inference_id, state, received_at, expires_at, fingerprint, input, input_body,
        content_type, accept, custom_attributes, output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds)
      SELECT endpoint, inference_id, 'queued', received_at, expires_at, fingerprint, input, input_body,
        content_type, accept, custom_attributes, output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bytea[], $8::text[], $9::text[],
        $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::integer[])
        WITH ORDINALITY AS t(endpoint, inference_id, received_at, expires_at, fingerprint, input, input_body, content_type, accept,
          custom_attributes, output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds, ord)
      ORDER BY ord
      ON CONFLICT (endpoint, inference_id) DO NOTHING
      RETURNING seq, endpoint, inference_id`),
    /** $1 endpoints, $2 inference ids (pairwise). */
    byKeys: st('by_keys', `SELECT ${J_COLS} FROM ${S}.jobs j JOIN unnest($1::text[], $2::text[]) AS k(endpoint, inference_id)
      ON j.endpoint = k.endpoint AND j.inference_id = k.inference_id`),
    byKey: st('by_key', `SELECT ${JOB_COLS} FROM ${S}.jobs WHERE endpoint = $1 AND inference_id = $2`),
    /** $1 endpoint, $2 now, $3 max, $4 owner, $5 lease until. */
    claim: st('claim', `WITH stale AS (
        SELECT seq FROM ${S}.jobs WHERE endpoint = $1 AND state = 'running' AND lease_until <= $2 ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED
      ), fresh AS (
        SELECT seq FROM ${S}.jobs WHERE endpoint = $1 AND state = 'queued' AND expires_at > $2 AND (not_before IS NULL OR not_before <= $2)
          ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED
      ), picked AS (
        SELECT seq FROM (SELECT seq FROM stale UNION ALL SELECT seq FROM fresh) AS c ORDER BY seq LIMIT $3
      )
      UPDATE ${S}.jobs j SET state = 'running', lease_owner = $4, lease_until = $5, lease_counted = 1,
        attempts = j.attempts + 1, started_at = COALESCE(j.started_at, $2), not_before = NULL
      FROM picked WHERE j.seq = picked.seq
      RETURNING ${J_COLS}`),
    /** $1 now, $2 max, $3 owner, $4 lease until. */
    claimExpired: st('claim_expired', `WITH picked AS (
        SELECT seq FROM ${S}.jobs WHERE state = 'queued' AND expires_at <= $1 ORDER BY expires_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
      )
      UPDATE ${S}.jobs j SET state = 'running', lease_owner = $3, lease_until = $4, lease_counted = 0
      FROM picked WHERE j.seq = picked.seq
      RETURNING ${J_COLS}`),
    /** $1 lease until, $2 seqs, $3 owner. */
    renew: st('renew', `UPDATE ${S}.jobs SET lease_until = $1 WHERE seq = ANY($2::bigint[]) AND state = 'running' AND lease_owner = $3 RETURNING seq`),
    /** $1 now, $2 seqs, $3 states, $4 reasons, $5 owner. */
    finishMany: st('finish_many', `UPDATE ${S}.jobs j SET state = f.state, finished_at = $1, failure_reason = f.reason,
        lease_owner = NULL, lease_until = NULL, lease_counted = 0
      FROM unnest($2::bigint[], $3::text[], $4::text[]) AS f(seq, state, reason)
      WHERE j.seq = f.seq AND j.state = 'running' AND j.lease_owner = $5
      RETURNING j.seq`),
    /** $1 seq, $2 owner. */
    release: st('release', `UPDATE ${S}.jobs SET state = 'queued', attempts = attempts - lease_counted,
        started_at = CASE WHEN attempts - lease_counted = 0 THEN NULL ELSE started_at END,
        lease_owner = NULL, lease_until = NULL, lease_counted = 0
      WHERE seq = $1 AND state = 'running' AND lease_owner = $2 RETURNING endpoint`),
    /** $1 until, $2 seq, $3 owner. */
    defer: st('defer', `UPDATE ${S}.jobs SET attempts = attempts - lease_counted, lease_counted = 0, lease_until = $1
      WHERE seq = $2 AND state = 'running' AND lease_owner = $3`),
    /** $1 not before, $2 seq, $3 owner. */
    retryLater: st('retry_later', `UPDATE ${S}.jobs SET state = 'queued', not_before = $1, lease_owner = NULL, lease_until = NULL, lease_counted = 0
      WHERE seq = $2 AND state = 'running' AND lease_owner = $3 RETURNING seq`),
    /** $1 endpoint, $2 inference id, $3 owner, $4 lease until: leases a queued job, flags a running one, reports the rest. */
    cancel: st('cancel', `WITH target AS (
        SELECT seq, state FROM ${S}.jobs WHERE endpoint = $1 AND inference_id = $2 FOR UPDATE
      ), changed AS (
        UPDATE ${S}.jobs j SET cancel_requested = true,
          state = 'running', not_before = NULL,
          lease_owner = CASE WHEN t.state = 'queued' THEN $3 ELSE j.lease_owner END,
          lease_until = CASE WHEN t.state = 'queued' THEN $4 ELSE j.lease_until END,
          lease_counted = CASE WHEN t.state = 'queued' THEN 0 ELSE j.lease_counted END
        FROM target t WHERE j.seq = t.seq AND t.state IN ('queued', 'running')
        RETURNING ${J_COLS}
      )
      SELECT t.state AS before_state, c.* FROM target t LEFT JOIN changed c ON c.seq = t.seq`),
    /** $1 seqs. */
    cancelRequested: st('cancel_requested', `SELECT seq FROM ${S}.jobs WHERE seq = ANY($1::bigint[]) AND cancel_requested`),
    /** $1 endpoint, $2 inference id, $3 owner, $4 lease until, $5 expires at. */
    rerun: st('rerun', `UPDATE ${S}.jobs SET state = 'running', attempts = 0, lease_owner = $3, lease_until = $4, lease_counted = 0,
        expires_at = $5, started_at = NULL, finished_at = NULL, failure_reason = NULL, not_before = NULL, cancel_requested = false
      WHERE endpoint = $1 AND inference_id = $2 AND state IN ('failed', 'expired', 'cancelled') RETURNING ${JOB_COLS}`),
    /** $1 endpoint, $2 before seq, $3 limit. */
    listAll: st('list_all', `SELECT ${JOB_COLS} FROM ${S}.jobs WHERE endpoint = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`),
    /** $1 endpoint, $2 state, $3 before seq, $4 limit. */
    listState: st('list_state', `SELECT ${JOB_COLS} FROM ${S}.jobs WHERE endpoint = $1 AND state = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4`),
    releaseOwner: st('release_owner', `UPDATE ${S}.jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, lease_counted = 0
      WHERE state = 'running' AND lease_owner = $1 RETURNING endpoint`),
    /** The counters' sums and the oldest queued job's received_at, in one round trip. */
    stats: st('stats', `SELECT COALESCE(sum(queued), 0)::bigint AS queued, COALESCE(sum(running), 0)::bigint AS running,
        (SELECT received_at FROM ${S}.jobs WHERE endpoint = $1 AND state = 'queued' ORDER BY seq LIMIT 1) AS oldest
      FROM ${S}.job_counts WHERE endpoint = $1`),
    /** $1 cutoff, $2 chunk. */
    purgeFinished: st('purge_finished', `DELETE FROM ${S}.jobs WHERE seq IN (
        SELECT seq FROM ${S}.jobs WHERE finished_at IS NOT NULL AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`),
    workerUpsert: st('worker_upsert', `INSERT INTO ${S}.workers (owner, pid, hostname, registered_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)
      ON CONFLICT (owner) DO UPDATE SET pid = excluded.pid, hostname = excluded.hostname,
        registered_at = excluded.registered_at, heartbeat_at = excluded.heartbeat_at`),
    workerHeartbeat: st('worker_heartbeat', `UPDATE ${S}.workers SET heartbeat_at = $1 WHERE owner = $2`),
    workerDelete: st('worker_delete', `DELETE FROM ${S}.workers WHERE owner = $1`),
    workersOnHost: st('workers_on_host', `SELECT owner, pid FROM ${S}.workers WHERE hostname = $1 ORDER BY owner`),
    staleWorkers: st('stale_workers', `SELECT owner FROM ${S}.workers WHERE heartbeat_at < $1 ORDER BY heartbeat_at, owner`),
    /** $1 owner, $2 url, $3 endpoints (JSON), $4 now. */
    routeUpsert: st('route_upsert', `INSERT INTO ${S}.worker_routes (owner, url, endpoints, updated_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (owner) DO UPDATE SET url = excluded.url, endpoints = excluded.endpoints, updated_at = excluded.updated_at`),
    routeDelete: st('route_delete', `DELETE FROM ${S}.worker_routes WHERE owner = $1`),
    routesSince: st('routes_since', `SELECT owner, url, endpoints, updated_at FROM ${S}.worker_routes WHERE updated_at >= $1 ORDER BY owner`),
    /** $1 endpoint, $2 waiting, $3 now; a record older than 1 s is replaced, a recent one keeps the larger count. */
    demandUpsert: st('demand_upsert', `INSERT INTO ${S}.endpoint_demand AS d (endpoint, waiting, at) VALUES ($1, $2, $3)
      ON CONFLICT (endpoint) DO UPDATE SET waiting = CASE WHEN d.at >= excluded.at - 1000 THEN greatest(d.waiting, excluded.waiting) ELSE excluded.waiting END,
        at = greatest(d.at, excluded.at)`),
    demandSince: st('demand_since', `SELECT endpoint, waiting, at FROM ${S}.endpoint_demand WHERE at >= $1 ORDER BY endpoint`),
  };
}

/** The statements of one queue. */
export type Statements = ReturnType<typeof build>;

/** Builds every statement of a queue on `schema`. */
export function createStatements(schema: string): Statements {
  return build(quoteIdent(schema));
}
