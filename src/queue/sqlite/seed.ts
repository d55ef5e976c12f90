/**
 * Bulk seeding of queued jobs for tests and benchmarks (a million-row backlog in seconds): rows are
 * generated inside SQLite by a recursive CTE, in large transactions, bypassing group commit and
 * availability notifications. The counters stay exact: each transaction adds its rows to them.
 */
import type Database from 'better-sqlite3';
import { COUNT_QUEUED_SQL } from './statements.js';

/** Options of {@link seedQueuedJobs}. */
export interface SeedOptions {
  /** @default 'bench' */
  readonly endpoint?: string;
  /** receivedAt of every seeded job. @default 0 */
  readonly receivedAt?: number;
  /** expiresAt of every seeded job. @default Number.MAX_SAFE_INTEGER */
  readonly expiresAt?: number;
}

const ROWS_PER_TRANSACTION = 50_000;

const SEED_SQL = `
  WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < @rows)
  INSERT INTO jobs (endpoint, inference_id, state, received_at, expires_at, fingerprint, input, output_bucket, output_key,
    failure_bucket, failure_key, invocation_timeout_seconds)
  SELECT @endpoint, @prefix || i, 'queued', @receivedAt, @expiresAt, 'seed', @input, 'bench', @prefix || i || '.out',
    'bench', @prefix || i || '-error.out', 900
  FROM s`;

/**
 * Appends `n` queued jobs (object input, inference ids `seed-<base>-<chunk>-<i>`) after every existing
 * job, yielding to the event loop between transactions. Resolves to the ids of the first and last.
 */
export async function seedQueuedJobs(db: Database.Database, n: number, options: SeedOptions = {}): Promise<{ first: string; last: string } | undefined> {
  if (!(n > 0)) return undefined;
  const base = (db.prepare<[], { m: number }>('SELECT COALESCE(MAX(seq), 0) AS m FROM jobs').get()?.m ?? 0) + 1;
  const insert = db.prepare(SEED_SQL);
  const count = db.prepare<[string, number]>(COUNT_QUEUED_SQL);
  const fixed = {
    endpoint: options.endpoint ?? 'bench',
    receivedAt: Math.trunc(options.receivedAt ?? 0),
    expiresAt: Math.trunc(options.expiresAt ?? Number.MAX_SAFE_INTEGER),
    input: JSON.stringify({ kind: 'object', location: { bucket: 'bench', key: 'input' } }),
  };
  let first: number | undefined;
  let last = 0;
  for (let done = 0, chunk = 0; done < n; chunk++) {
    const rows = Math.min(ROWS_PER_TRANSACTION, n - done);
    db.transaction(() => {
      last = Number(insert.run(Object.assign({}, fixed, { rows, prefix: `seed-${base}-${chunk}-` })).lastInsertRowid);
      count.run(fixed.endpoint, rows);
      first ??= last - rows + 1;
    }).immediate();
    done += rows;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return first === undefined ? undefined : { first: String(first), last: String(last) };
}
