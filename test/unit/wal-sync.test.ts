/**
 * WalSync on a real SQLite database in WAL mode: callers that arrive while an fdatasync runs share
 * the next one, close() syncs what is still waiting, and a log that cannot be opened rejects.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openMigratedDatabase, WalSync } from '../../src/util/index.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freshDatabase(): { file: string; close: () => void; write: (n: number) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-wal-'));
  dirs.push(dir);
  const file = join(dir, 'test.db');
  const db = openMigratedDatabase(file, { name: 'test', migrations: ['CREATE TABLE t (n INTEGER NOT NULL) STRICT;'], synchronous: 'NORMAL' });
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  return { file, close: () => db.close(), write: (n) => void insert.run(n) };
}

void describe('WalSync', () => {
  void it('groups the callers that arrive during a running sync into one more sync', async () => {
    const db = freshDatabase();
    const wal = new WalSync(db.file);
    db.write(1);
    const first = wal.sync();
    db.write(2);
    const rest = [wal.sync(), wal.sync(), wal.sync()];
    assert.equal(wal.syncCount, 1, 'the later callers wait for the running sync to end');
    await Promise.all([first, ...rest]);
    assert.equal(wal.syncCount, 2);
    await wal.close();
    db.close();
  });

  void it('close() waits for the running sync and syncs the waiting callers itself', async () => {
    const db = freshDatabase();
    const wal = new WalSync(db.file);
    db.write(1);
    const settled: string[] = [];
    const first = wal.sync().then(() => settled.push('first'));
    const second = wal.sync().then(() => settled.push('second'));
    await wal.close();
    await Promise.all([first, second]);
    assert.deepEqual(settled.sort(), ['first', 'second']);
    await assert.rejects(wal.sync(), /closed/);
    db.close();
  });

  void it('rejects when the log file cannot be opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferq-wal-'));
    dirs.push(dir);
    const wal = new WalSync(join(dir, 'missing.db'));
    await assert.rejects(wal.sync(), { code: 'ENOENT' });
    await wal.close();
  });
});
