/**
 * Opening a SQLite database the way every inferq store does: WAL mode, a busy timeout for other
 * processes sharing the file, and versioned migrations applied in one IMMEDIATE transaction
 * (re-checked under the write lock, since another process may have migrated meanwhile).
 */
import Database from 'better-sqlite3';
import { InferqError } from '../errors/index.js';

/** How to open one database. */
export interface MigratedDatabaseOptions {
  /** Names the database in errors (e.g. "object index"). */
  readonly name: string;
  /** Migration `i` takes the schema from version i to i + 1 (`PRAGMA user_version`). */
  readonly migrations: readonly string[];
  /** The connection's default durability. */
  readonly synchronous: 'FULL' | 'NORMAL';
}

/** Opens (creating if needed) a database at `file`, migrated to `migrations.length`. */
export function openMigratedDatabase(file: string, options: MigratedDatabaseOptions): Database.Database {
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous}`);
    db.pragma('busy_timeout = 5000');
    migrate(db, options);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Database.Database, { name, migrations }: MigratedDatabaseOptions): void {
  const target = migrations.length;
  const version = (): number => db.pragma('user_version', { simple: true }) as number;
  if (version() === target) return;
  db.transaction(() => {
    const current = version();
    if (current > target) {
      throw new InferqError('InternalError', `The ${name} has schema version ${current}, newer than this inferq supports (${target}).`);
    }
    for (let v = current; v < target; v++) db.exec(migrations[v] ?? '');
    db.pragma(`user_version = ${target}`);
  }).immediate();
}
