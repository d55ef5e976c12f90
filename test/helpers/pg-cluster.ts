/**
 * Test helper: a throwaway PostgreSQL 15 cluster of its own (`pg_createcluster` on a free port,
 * trust auth, a `root` superuser and a `test` database), so a test may restart or stop its
 * database without touching the machine's shared cluster at 5432 that other tests use.
 * `drop()` stops and removes it.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
const VERSION = '15';

/** A running throwaway cluster. */
export interface PgCluster {
  readonly name: string;
  readonly port: number;
  /** `postgres://root@127.0.0.1:<port>/test`. */
  readonly url: string;
  /** `pg_ctlcluster 15 <name> restart` (fast shutdown: every connection is dropped). */
  restart(): Promise<void>;
  /** Runs `use` with a plain client on the cluster's `test` database. */
  withClient<T>(use: (client: pg.Client) => Promise<T>): Promise<T>;
  /** `pg_dropcluster --stop`. */
  drop(): Promise<void>;
}

/** Why a cluster cannot be made here, or undefined when it can. */
export async function pgClusterUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'pg_createcluster needs root';
  try {
    await exec('pg_lsclusters', []);
    return undefined;
  } catch (err) {
    return `pg_createcluster is unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  server.close();
  await once(server, 'close');
  return address.port;
}

/** Creates and starts cluster `inferq_<tag>_<pid>`, then makes role root (superuser) and database test. */
export async function createPgCluster(tag: string): Promise<PgCluster> {
  const name = `inferq_${tag}_${process.pid}`;
  const port = await freePort();
  const ctl = (action: string): Promise<unknown> => exec('pg_ctlcluster', [VERSION, name, action]);
  await exec('pg_createcluster', [VERSION, name, '-p', String(port), '--', '--auth=trust']);
  const drop = async (): Promise<void> => {
    await exec('pg_dropcluster', ['--stop', VERSION, name]).catch(() => undefined);
  };
  try {
    await ctl('start');
    await exec('su', ['postgres', '-c', `psql -p ${port} -h 127.0.0.1 -c "CREATE ROLE root SUPERUSER LOGIN" -c "CREATE DATABASE test OWNER root"`]);
  } catch (err) {
    await drop();
    throw err;
  }
  const url = `postgres://root@127.0.0.1:${port}/test`;
  return {
    name,
    port,
    url,
    async restart() {
      await ctl('restart');
    },
    async withClient(use) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await use(client);
      } finally {
        await client.end();
      }
    },
    drop,
  };
}
