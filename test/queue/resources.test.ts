/** The ResourceStore behaviour suite on SQLite (a fresh job database per test) and PostgreSQL (a fresh schema per test). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { openPostgresResourceStore, openSqliteResourceStore } from '../../src/queue/index.js';
import { PG_URL, dropSchemas, uniqueSchema } from '../helpers/postgres.js';
import { describeResourceStoreBehaviour } from './resources-behaviour.js';

const schemas = new Set<string>();
after(() => dropSchemas(schemas));

describeResourceStoreBehaviour('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-resources-'));
  const file = join(dir, 'queue.db');
  const store = openSqliteResourceStore(file);
  return Promise.resolve({
    store,
    reopen: () => Promise.resolve(openSqliteResourceStore(file)),
    cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); },
  });
});

describeResourceStoreBehaviour('postgres', async () => {
  const schema = uniqueSchema('t_resources');
  schemas.add(schema);
  const store = await openPostgresResourceStore({ url: PG_URL, schema });
  return { store, reopen: () => openPostgresResourceStore({ url: PG_URL, schema }), cleanup: () => store.close() };
});
