/**
 * The SQLite job database: versioned schema (PRAGMA user_version) with an ordered migrations list
 * applied in one transaction at open. `jobs.seq` is the FIFO order and the job id. Partial indexes
 * keep each hot lookup (claim, stale leases, expiry, an owner's leases, retention) a B-tree range
 * over only the rows in the matching state, so their cost does not grow with the backlog.
 * `job_counts` is kept exact (state changes and deletes by triggers, inserts by their batch), so
 * backlog stats never count rows.
 */
import type Database from 'better-sqlite3';
import { openMigratedDatabase } from '../../util/index.js';

/** Migration N (index N-1) brings the schema from version N-1 to N. Append only; never edit. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint                   TEXT NOT NULL,
    inference_id               TEXT NOT NULL,
    state                      TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'expired')),
    attempts                   INTEGER NOT NULL DEFAULT 0,
    lease_owner                TEXT,
    lease_until                INTEGER,
    lease_counted              INTEGER NOT NULL DEFAULT 0,
    received_at                INTEGER NOT NULL,
    expires_at                 INTEGER NOT NULL,
    started_at                 INTEGER,
    finished_at                INTEGER,
    failure_reason             TEXT,
    fingerprint                TEXT NOT NULL,
    input                      TEXT NOT NULL,
    input_body                 BLOB,
    content_type               TEXT,
    accept                     TEXT,
    custom_attributes          TEXT,
    output_bucket              TEXT NOT NULL,
    output_key                 TEXT NOT NULL,
    failure_bucket             TEXT NOT NULL,
    failure_key                TEXT NOT NULL,
    invocation_timeout_seconds INTEGER NOT NULL,
    UNIQUE (endpoint, inference_id)
  ) STRICT;
  CREATE INDEX jobs_queued ON jobs (endpoint, seq, expires_at) WHERE state = 'queued';
  CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE state = 'queued';
  CREATE INDEX jobs_stale ON jobs (endpoint, lease_until) WHERE state = 'running';
  CREATE INDEX jobs_owner ON jobs (lease_owner) WHERE state = 'running';
  CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

  CREATE TABLE job_counts (
    endpoint TEXT NOT NULL,
    state    TEXT NOT NULL,
    n        INTEGER NOT NULL,
    PRIMARY KEY (endpoint, state)
  ) STRICT, WITHOUT ROWID;
  CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts (endpoint, state, n) VALUES (new.endpoint, new.state, 1)
      ON CONFLICT (endpoint, state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER jobs_count_update AFTER UPDATE OF state ON jobs WHEN old.state IS NOT new.state BEGIN
    UPDATE job_counts SET n = n - 1 WHERE endpoint = old.endpoint AND state = old.state;
    INSERT INTO job_counts (endpoint, state, n) VALUES (new.endpoint, new.state, 1)
      ON CONFLICT (endpoint, state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE endpoint = old.endpoint AND state = old.state;
  END;

  CREATE TABLE workers (
    owner         TEXT PRIMARY KEY,
    pid           INTEGER NOT NULL,
    hostname      TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX workers_host ON workers (hostname);
  `,
  // 2: enqueues count their new jobs once per batch and endpoint (statements.ts countQueued)
  // instead of a trigger per inserted row.
  `
  DROP TRIGGER jobs_count_insert;
  `,
  // 3: real-time forwarding: the routes worker processes publish, and the demand API processes record.
  `
  CREATE TABLE worker_routes (
    owner      TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    endpoints  TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE endpoint_demand (
    endpoint TEXT PRIMARY KEY,
    waiting  INTEGER NOT NULL,
    at       INTEGER NOT NULL
  ) STRICT, WITHOUT ROWID;
  `,
  // 4: cancel and retry (issue 13). SQLite cannot alter a CHECK, so `jobs` is rebuilt with the
  // 'cancelled' state, `not_before` (a retry's wait) and `cancel_requested`, its AUTOINCREMENT
  // counter kept (ids are never reused), and indexes for listing an endpoint's jobs newest first.
  `
  CREATE TABLE jobs_new (
    seq                        INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint                   TEXT NOT NULL,
    inference_id               TEXT NOT NULL,
    state                      TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'expired', 'cancelled')),
    attempts                   INTEGER NOT NULL DEFAULT 0,
    lease_owner                TEXT,
    lease_until                INTEGER,
    lease_counted              INTEGER NOT NULL DEFAULT 0,
    received_at                INTEGER NOT NULL,
    expires_at                 INTEGER NOT NULL,
    started_at                 INTEGER,
    finished_at                INTEGER,
    failure_reason             TEXT,
    fingerprint                TEXT NOT NULL,
    input                      TEXT NOT NULL,
    input_body                 BLOB,
    content_type               TEXT,
    accept                     TEXT,
    custom_attributes          TEXT,
    output_bucket              TEXT NOT NULL,
    output_key                 TEXT NOT NULL,
    failure_bucket             TEXT NOT NULL,
    failure_key                TEXT NOT NULL,
    invocation_timeout_seconds INTEGER NOT NULL,
    not_before                 INTEGER,
    cancel_requested           INTEGER NOT NULL DEFAULT 0,
    UNIQUE (endpoint, inference_id)
  ) STRICT;
  INSERT INTO jobs_new (seq, endpoint, inference_id, state, attempts, lease_owner, lease_until, lease_counted, received_at,
      expires_at, started_at, finished_at, failure_reason, fingerprint, input, input_body, content_type, accept,
      custom_attributes, output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds)
    SELECT seq, endpoint, inference_id, state, attempts, lease_owner, lease_until, lease_counted, received_at,
      expires_at, started_at, finished_at, failure_reason, fingerprint, input, input_body, content_type, accept,
      custom_attributes, output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds FROM jobs ORDER BY seq;
  DELETE FROM sqlite_sequence WHERE name = 'jobs_new';
  INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs_new', seq FROM sqlite_sequence WHERE name = 'jobs';
  DROP TABLE jobs;
  ALTER TABLE jobs_new RENAME TO jobs;
  CREATE INDEX jobs_queued ON jobs (endpoint, seq, expires_at, not_before) WHERE state = 'queued';
  CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE state = 'queued';
  CREATE INDEX jobs_stale ON jobs (endpoint, lease_until) WHERE state = 'running';
  CREATE INDEX jobs_owner ON jobs (lease_owner) WHERE state = 'running';
  CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
  CREATE INDEX jobs_list ON jobs (endpoint, seq);
  CREATE INDEX jobs_list_state ON jobs (endpoint, state, seq);
  CREATE INDEX jobs_cancel ON jobs (seq) WHERE cancel_requested = 1;
  CREATE TRIGGER jobs_count_update AFTER UPDATE OF state ON jobs WHEN old.state IS NOT new.state BEGIN
    UPDATE job_counts SET n = n - 1 WHERE endpoint = old.endpoint AND state = old.state;
    INSERT INTO job_counts (endpoint, state, n) VALUES (new.endpoint, new.state, 1)
      ON CONFLICT (endpoint, state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE endpoint = old.endpoint AND state = old.state;
  END;
  `,
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the job database at `file` in WAL mode, migrated to
 * {@link SCHEMA_VERSION}. The connection runs with `synchronous = NORMAL` (every commit survives a
 * crash of the process); an enqueue batch is acknowledged only after a group fdatasync of the
 * write-ahead log (WalSync), so an acknowledged request also survives power loss. Lease bookkeeping
 * (claim, renew, finish) lost to a power cut only makes a job run again, which overwrites its
 * deterministic output.
 */
export function openJobDatabase(file: string): Database.Database {
  return openMigratedDatabase(file, { name: 'job database', migrations: MIGRATIONS, synchronous: 'NORMAL' });
}
