/**
 * Test helper for the PostgreSQL queue: the test database (127.0.0.1:5432, user root, trust auth,
 * database `test`), a fresh schema name per test file (or per test), dropping them afterwards, and
 * a TCP relay to the database that a test cuts and restores to play a database that went away.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
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

/** A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones refused) and restore with open() on the same port. */
export class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** The relay's port (chosen by the first open(), kept by later ones). */
  port = 0;

  /** Listens (again) on 127.0.0.1:{@link port}, relaying each connection to PostgreSQL. */
  async open(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = connect(5432, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => { inbound.destroy(); outbound.destroy(); });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  /** Drops every relayed connection and stops listening (connections are then refused). */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
