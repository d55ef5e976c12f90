/**
 * Prepared statements over the job database (prepared once per queue); the row ↔ port
 * conversions live in ../rows.ts (shared with the PostgreSQL backend). State literals are written into the SQL (not bound) so the planner can use the
 * partial indexes of schema.ts.
 */
import type Database from 'better-sqlite3';
import type { JobState } from '../port.js';
import { JOB_COLUMNS, type InsertRow, type JobRow } from '../rows.js';

/** Named parameters of a lease grant. */
export interface LeaseParams {
  readonly seq: number;
  readonly owner: string;
  readonly until: number;
  readonly now: number;
}

/** A row of `workers`. */
export interface WorkerRow {
  readonly owner: string;
  readonly pid: number;
  readonly hostname: string;
}

const JOB_COLS = JOB_COLUMNS;

/** Adds `?2` new queued jobs to the count of endpoint `?1`; every insert into `jobs` runs it in its transaction. */
export const COUNT_QUEUED_SQL = `INSERT INTO job_counts (endpoint, state, n) VALUES (?, 'queued', ?)
  ON CONFLICT (endpoint, state) DO UPDATE SET n = n + excluded.n`;

function prepareJobStatements(db: Database.Database) {
  return {
    insert: db.prepare<InsertRow>(
      `INSERT INTO jobs (endpoint, inference_id, state, received_at, expires_at, fingerprint, input, input_body, content_type,
         accept, custom_attributes, output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds)
       VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (endpoint, inference_id) DO NOTHING`,
    ),
    /** Adds `n` new queued jobs of an endpoint to its count (inserts have no counting trigger). */
    countQueued: db.prepare<[string, number]>(COUNT_QUEUED_SQL),
    byKey: db.prepare<[string, string], JobRow>(`SELECT ${JOB_COLS} FROM jobs WHERE endpoint = ? AND inference_id = ?`),
    bySeq: db.prepare<[number], JobRow>(`SELECT ${JOB_COLS} FROM jobs WHERE seq = ?`),
    queuedHead: db.prepare<{ endpoint: string; now: number; limit: number }, { seq: number }>(
      `SELECT seq FROM jobs WHERE endpoint = @endpoint AND state = 'queued' AND expires_at > @now
         AND (not_before IS NULL OR not_before <= @now) ORDER BY seq LIMIT @limit`,
    ),
    staleHead: db.prepare<[string, number, number], { seq: number }>(
      `SELECT seq FROM jobs WHERE endpoint = ? AND state = 'running' AND lease_until <= ? ORDER BY seq LIMIT ?`,
    ),
    expiredHead: db.prepare<[number, number], { seq: number }>(
      `SELECT seq FROM jobs WHERE state = 'queued' AND expires_at <= ? ORDER BY expires_at, seq LIMIT ?`,
    ),
    claim: db.prepare<LeaseParams, JobRow>(
      `UPDATE jobs SET state = 'running', lease_owner = @owner, lease_until = @until, lease_counted = 1,
         attempts = attempts + 1, started_at = COALESCE(started_at, @now),
         not_before = NULL
       WHERE seq = @seq AND (state = 'queued' OR (state = 'running' AND lease_until <= @now)) RETURNING ${JOB_COLS}`,
    ),
    leaseExpired: db.prepare<Omit<LeaseParams, 'now'>, JobRow>(
      `UPDATE jobs SET state = 'running', lease_owner = @owner, lease_until = @until, lease_counted = 0
       WHERE seq = @seq AND state = 'queued' RETURNING ${JOB_COLS}`,
    ),
    renew: db.prepare<[number, number, string]>(`UPDATE jobs SET lease_until = ? WHERE seq = ? AND state = 'running' AND lease_owner = ?`),
    finish: db.prepare<[string, number, string | null, number, string]>(
      `UPDATE jobs SET state = ?, finished_at = ?, failure_reason = ?, lease_owner = NULL, lease_until = NULL, lease_counted = 0
       WHERE seq = ? AND state = 'running' AND lease_owner = ?`,
    ),
    release: db.prepare<[number, string], { endpoint: string }>(
      `UPDATE jobs SET state = 'queued', attempts = attempts - lease_counted,
         started_at = CASE WHEN attempts - lease_counted = 0 THEN NULL ELSE started_at END,
         lease_owner = NULL, lease_until = NULL, lease_counted = 0
       WHERE seq = ? AND state = 'running' AND lease_owner = ? RETURNING endpoint`,
    ),
    defer: db.prepare<[number, number, string]>(
      `UPDATE jobs SET attempts = attempts - lease_counted, lease_counted = 0, lease_until = ?
       WHERE seq = ? AND state = 'running' AND lease_owner = ?`,
    ),
    retryLater: db.prepare<[number, number, string], { endpoint: string }>(
      `UPDATE jobs SET state = 'queued', not_before = ?, lease_owner = NULL, lease_until = NULL, lease_counted = 0
       WHERE seq = ? AND state = 'running' AND lease_owner = ? RETURNING endpoint`,
    ),
    cancelQueued: db.prepare<[string, number, number], JobRow>(
      `UPDATE jobs SET state = 'running', cancel_requested = 1, lease_owner = ?, lease_until = ?, lease_counted = 0, not_before = NULL
       WHERE seq = ? AND state = 'queued' RETURNING ${JOB_COLS}`,
    ),
    cancelRunning: db.prepare<[number], JobRow>(
      `UPDATE jobs SET cancel_requested = 1 WHERE seq = ? AND state = 'running' RETURNING ${JOB_COLS}`,
    ),
    cancelFlag: db.prepare<[number], { seq: number }>('SELECT seq FROM jobs WHERE seq = ? AND cancel_requested = 1'),
    rerun: db.prepare<[string, number, number, number], JobRow>(
      `UPDATE jobs SET state = 'running', attempts = 0, lease_owner = ?, lease_until = ?, lease_counted = 0, expires_at = ?,
         started_at = NULL, finished_at = NULL, failure_reason = NULL, not_before = NULL, cancel_requested = 0
       WHERE seq = ? AND state IN ('failed', 'expired', 'cancelled') RETURNING ${JOB_COLS}`,
    ),
    listAll: db.prepare<[string, number, number], JobRow>(
      `SELECT ${JOB_COLS} FROM jobs WHERE endpoint = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    listState: db.prepare<[string, string, number, number], JobRow>(
      `SELECT ${JOB_COLS} FROM jobs WHERE endpoint = ? AND state = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
    ),
    releaseOwner: db.prepare<[string], { endpoint: string }>(
      `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, lease_counted = 0
       WHERE state = 'running' AND lease_owner = ? RETURNING endpoint`,
    ),
    counts: db.prepare<[string], { state: JobState; n: number }>(
      `SELECT state, n FROM job_counts WHERE endpoint = ? AND state IN ('queued', 'running')`,
    ),
    oldestQueued: db.prepare<[string], { received_at: number }>(
      `SELECT received_at FROM jobs WHERE endpoint = ? AND state = 'queued' ORDER BY seq LIMIT 1`,
    ),
    purgeFinished: db.prepare<[number, number]>(
      `DELETE FROM jobs WHERE seq IN (SELECT seq FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? LIMIT ?)`,
    ),
  };
}

function prepareWorkerStatements(db: Database.Database) {
  return {
    workerUpsert: db.prepare<[string, number, string, number, number]>(
      `INSERT INTO workers (owner, pid, hostname, registered_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET pid = excluded.pid, hostname = excluded.hostname,
         registered_at = excluded.registered_at, heartbeat_at = excluded.heartbeat_at`,
    ),
    workerHeartbeat: db.prepare<[number, string]>('UPDATE workers SET heartbeat_at = ? WHERE owner = ?'),
    workerDelete: db.prepare<[string]>('DELETE FROM workers WHERE owner = ?'),
    workersOnHost: db.prepare<[string], WorkerRow>('SELECT owner, pid, hostname FROM workers WHERE hostname = ? ORDER BY owner'),
    staleWorkers: db.prepare<[number], { owner: string }>('SELECT owner FROM workers WHERE heartbeat_at < ? ORDER BY heartbeat_at, owner'),
    routeUpsert: db.prepare<[string, string, string, number]>(
      `INSERT INTO worker_routes (owner, url, endpoints, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET url = excluded.url, endpoints = excluded.endpoints, updated_at = excluded.updated_at`,
    ),
    routeDelete: db.prepare<[string]>('DELETE FROM worker_routes WHERE owner = ?'),
    routesSince: db.prepare<[number], { owner: string; url: string; endpoints: string; updated_at: number }>(
      'SELECT owner, url, endpoints, updated_at FROM worker_routes WHERE updated_at >= ? ORDER BY owner',
    ),
    /** A record older than 1 s is replaced; a recent one keeps the larger count. */
    demandUpsert: db.prepare<[string, number, number]>(
      `INSERT INTO endpoint_demand (endpoint, waiting, at) VALUES (?, ?, ?)
       ON CONFLICT (endpoint) DO UPDATE SET waiting = CASE WHEN at >= excluded.at - 1000 THEN max(waiting, excluded.waiting) ELSE excluded.waiting END,
         at = max(at, excluded.at)`,
    ),
    demandSince: db.prepare<[number], { endpoint: string; waiting: number; at: number }>('SELECT endpoint, waiting, at FROM endpoint_demand WHERE at >= ? ORDER BY endpoint'),
  };
}

function prepareStatements(db: Database.Database) {
  return Object.assign(prepareJobStatements(db), prepareWorkerStatements(db));
}

/** The prepared statements of one queue. */
export type Statements = ReturnType<typeof prepareStatements>;

/** Prepares every statement the SQLite queue uses, once per opened database. */
export function createStatements(db: Database.Database): Statements {
  return prepareStatements(db);
}

export { MAX_INLINE_BODY_BYTES, insertedJob, parseJobId, toInsertRow, toJob } from '../rows.js';
export type { InsertRow, JobRow } from '../rows.js';
