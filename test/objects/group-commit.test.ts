/**
 * The object index's group commit on a real database file: writes of one tick share one
 * transaction, a failing write rejects alone, a write that makes SQLite roll back the whole
 * transaction (a full database) fails the whole batch with nothing committed, the connection keeps
 * `synchronous = FULL` for its other writes, and close() waits for the log sync of what was committed.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { tempDirs } from '../helpers/fs.js';
import { GroupCommitter } from '../../src/objects/local/group-commit.js';

const freshDir = tempDirs('inferq-group-commit-');

function openDb(): Database.Database {
  const db = new Database(join(freshDir(), 'index.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  return db;
}

void describe('GroupCommitter', () => {
  void it('commits the writes of one tick in one transaction and resolves each with its own value', async () => {
    const db = openDb();
    const commits = new GroupCommitter(db);
    // A second connection sees only what has been committed.
    const reader = new Database(db.name, { readonly: true });
    const committedRows = (): number => (reader.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    const ownRows = (): number => (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const seen: { inTransaction: boolean; own: number; committed: number }[] = [];
    const values = await Promise.all(['a', 'b', 'c'].map((k) => commits.run(() => {
      const changes = insert.run(k).changes;
      seen.push({ inTransaction: db.inTransaction, own: ownRows(), committed: committedRows() });
      return changes;
    })));
    assert.deepEqual(values, [1, 1, 1]);
    // Each write runs inside the transaction and sees the earlier writes of the batch, while the other
    // connection sees none of them: nothing was committed between the writes of the tick.
    assert.deepEqual(seen, [
      { inTransaction: true, own: 1, committed: 0 },
      { inTransaction: true, own: 2, committed: 0 },
      { inTransaction: true, own: 3, committed: 0 },
    ]);
    assert.equal(committedRows(), 3, 'the three writes became visible together');
    assert.deepEqual(db.prepare('SELECT k FROM t ORDER BY k').all(), [{ k: 'a' }, { k: 'b' }, { k: 'c' }]);
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'the connection is back to FULL');
    reader.close();
    await commits.close();
    db.close();
  });

  void it('rolls back and rejects only the write that throws', async () => {
    const db = openDb();
    const commits = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const results = await Promise.allSettled([
      commits.run(() => insert.run('x')),
      commits.run(() => {
        insert.run('y');
        insert.run('x'); // primary key conflict: this write's savepoint rolls back, 'y' with it
      }),
      commits.run(() => insert.run('z')),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(db.prepare('SELECT k FROM t ORDER BY k').all(), [{ k: 'x' }, { k: 'z' }]);
    await commits.close();
    db.close();
  });

  void it('close() commits what is pending and settles it before the database closes', async () => {
    const db = openDb();
    const commits = new GroupCommitter(db);
    const write = commits.run(() => db.prepare('INSERT INTO t (k) VALUES (?)').run('late').changes);
    await commits.close();
    assert.equal(await write, 1);
    db.close();
    const reopened = new Database(db.name, { readonly: true });
    assert.deepEqual(reopened.prepare('SELECT k FROM t').all(), [{ k: 'late' }]);
    reopened.close();
  });

  void it('a write that fills the database (SQLITE_FULL) fails its whole batch: nothing of it is committed, later batches work', async () => {
    const db = openDb();
    db.exec('CREATE TABLE b (k TEXT PRIMARY KEY, v BLOB)');
    const commits = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO b (k, v) VALUES (?, ?)');
    // SQLite reports SQLITE_FULL when the database would grow past max_page_count, as on a full disk,
    // and then rolls back the whole transaction, not only the savepoint of the write.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 2}`);
    const results = await Promise.allSettled([
      commits.run(() => insert.run('before', Buffer.alloc(10))),
      commits.run(() => insert.run('huge', Buffer.alloc(200_000))),
      commits.run(() => insert.run('after', Buffer.alloc(10))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    for (const r of results) assert.equal(r.status === 'rejected' ? (r.reason as { code?: string }).code : undefined, 'SQLITE_FULL');
    assert.deepEqual(db.prepare('SELECT k FROM b').all(), [], 'no write of the batch is visible (none ran outside the transaction)');
    assert.equal(db.inTransaction, false);
    db.pragma('max_page_count = 1073741823');
    assert.equal(await commits.run(() => insert.run('later', Buffer.alloc(10)).changes), 1);
    assert.deepEqual(db.prepare('SELECT k FROM b').all(), [{ k: 'later' }]);
    await commits.close();
    db.close();
  });

  void it('rejects the writes of a batch whose database was closed before it ran, throwing nothing', async () => {
    const db = openDb();
    const commits = new GroupCommitter(db);
    const write = commits.run(() => db.prepare('INSERT INTO t (k) VALUES (?)').run('never'));
    db.close();
    await assert.rejects(write, TypeError);
  });
});
