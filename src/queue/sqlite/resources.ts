/**
 * The SQLite ResourceStore: the `resources` table of the job database, on a connection of its own
 * on the calling thread (control-plane calls are rare and small; the job traffic keeps its thread).
 */
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { InferqError } from '../../errors/index.js';
import { RESOURCE_KINDS, type ResourceKind, type ResourceStore, type StoredResource } from '../resources.js';
import { openJobDatabase } from './schema.js';

const Row = z.object({
  kind: z.enum(RESOURCE_KINDS),
  key: z.string(),
  doc: z.string(),
  created_at: z.number(),
  modified_at: z.number(),
});

function toResource(raw: unknown): StoredResource {
  const row = Row.parse(raw);
  return { kind: row.kind, key: row.key, doc: row.doc, createdAt: row.created_at, modifiedAt: row.modified_at };
}

class SqliteResourceStore implements ResourceStore {
  private closed = false;
  private readonly insert: Database.Statement;
  private readonly update: Database.Statement;
  private readonly updateIf: Database.Statement;
  private readonly select: Database.Statement;
  private readonly selectKind: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT INTO resources (kind, key, doc, created_at, modified_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
    this.update = db.prepare('UPDATE resources SET doc = ?, modified_at = ? WHERE kind = ? AND key = ?');
    this.updateIf = db.prepare('UPDATE resources SET doc = ?, modified_at = ? WHERE kind = ? AND key = ? AND doc = ?');
    this.select = db.prepare('SELECT kind, key, doc, created_at, modified_at FROM resources WHERE kind = ? AND key = ?');
    this.selectKind = db.prepare('SELECT kind, key, doc, created_at, modified_at FROM resources WHERE kind = ? ORDER BY key');
    this.remove = db.prepare('DELETE FROM resources WHERE kind = ? AND key = ?');
  }

  private run<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new InferqError('ServiceUnavailable', 'The resource store is closed.'));
    try {
      return Promise.resolve(work());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  create(r: StoredResource): Promise<boolean> {
    return this.run(() => this.insert.run(r.kind, r.key, r.doc, r.createdAt, r.modifiedAt).changes === 1);
  }

  replace(kind: ResourceKind, key: string, doc: string, modifiedAt: number, ifDoc?: string): Promise<boolean> {
    return this.run(() => (ifDoc === undefined ? this.update.run(doc, modifiedAt, kind, key) : this.updateIf.run(doc, modifiedAt, kind, key, ifDoc)).changes === 1);
  }

  get(kind: ResourceKind, key: string): Promise<StoredResource | undefined> {
    return this.run(() => {
      const row: unknown = this.select.get(kind, key);
      return row === undefined ? undefined : toResource(row);
    });
  }

  list(kind: ResourceKind): Promise<StoredResource[]> {
    return this.run(() => this.selectKind.all(kind).map(toResource));
  }

  delete(kind: ResourceKind, key: string): Promise<boolean> {
    return this.run(() => this.remove.run(kind, key).changes === 1);
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.db.close();
    }
    return Promise.resolve();
  }
}

/** Opens the resource store in the job database `file` (created and migrated if needed). */
export function openSqliteResourceStore(file: string): ResourceStore {
  const db = openJobDatabase(file);
  try {
    return new SqliteResourceStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
}
