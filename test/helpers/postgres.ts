/**
 * Test helper for the PostgreSQL queue: the test database (127.0.0.1:5432, user root, trust auth,
 * database `test`), a fresh schema name per test file (or per test), and dropping them afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The test database. */
export const PG_URL = 'postgres://root@127.0.0.1:5432/test';

/** A schema name no other test uses: `<prefix>_<pid>_<random>`. */
export function uniqueSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** Runs `use` with a plain client on the test database (not through inferq). */
export async function withPg<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Drops every schema in `schemas` (and what is in it). */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const list = [...schemas];
  if (list.length === 0) return;
  await withPg(async (client) => {
    for (const schema of list) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}
