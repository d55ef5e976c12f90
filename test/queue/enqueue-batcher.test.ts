/**
 * When an enqueue batch settles, on a real job database and a real WalSync: at `power-loss`
 * durability only after an fdatasync of the write-ahead log; at `process-crash` right after the
 * commit, with the log synced in the background shortly after.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BACKGROUND_SYNC_MS, EnqueueBatcher } from '../../src/queue/sqlite/enqueue.js';
import { openJobDatabase } from '../../src/queue/sqlite/schema.js';
import { createStatements, toInsertRow } from '../../src/queue/sqlite/statements.js';
import type { QueueDurability } from '../../src/queue/index.js';
import { silentLogger, WalSync } from '../../src/util/index.js';
import { tempDirs } from '../helpers/fs.js';
import { newJob } from './helpers.js';

/** A WalSync that also reports each sync() call as it is made. */
class ReportingWalSync extends WalSync {
  readonly calls: number[] = [];
  private waiter: (() => void) | undefined;

  override sync(): Promise<void> {
    this.calls.push(performance.now());
    this.waiter?.();
    return super.sync();
  }

  /** Resolves at the next sync() call (at once if one was made since `since` calls). */
  nextCall(since: number): Promise<void> {
    if (this.calls.length > since) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = resolve));
  }
}

const freshDir = tempDirs('inferq-batcher-');

function open(durability: QueueDurability): { batcher: EnqueueBatcher; wal: ReportingWalSync; close: () => Promise<void> } {
  const db = openJobDatabase(join(freshDir(), 'jobs.db'));
  const wal = new ReportingWalSync(db.name);
  const ctx = { db, stmts: createStatements(db), logger: silentLogger, notify: () => undefined };
  const batcher = new EnqueueBatcher(ctx, 0, wal, durability);
  return { batcher, wal, close: async () => { batcher.flushAll(); await wal.close(); db.close(); } };
}

void describe('EnqueueBatcher durability', () => {
  void it('power-loss: a batch settles only after the log was synced', async () => {
    const { batcher, wal, close } = open('power-loss');
    const outcomes = await batcher.addMany([toInsertRow(newJob('ep', 'a')), toInsertRow(newJob('ep', 'b'))]);
    assert.equal(outcomes.length, 2);
    assert.ok(outcomes.every((o) => typeof o === 'number'));
    assert.equal(wal.calls.length, 1);
    assert.equal(wal.syncCount, 1, 'the fdatasync ran before the batch settled');
    await close();
  });

  void it('process-crash: a batch settles at commit; the log is synced in the background soon after', async () => {
    const { batcher, wal, close } = open('process-crash');
    const settled = performance.now();
    await batcher.addMany([toInsertRow(newJob('ep', 'a'))]);
    assert.equal(wal.calls.length, 0, 'no sync before the batch settled');
    await Promise.all([batcher.addMany([toInsertRow(newJob('ep', 'b'))]), batcher.addMany([toInsertRow(newJob('ep', 'c'))])]);
    await wal.nextCall(0);
    assert.equal(wal.calls.length, 1, 'commits in one interval share one background sync');
    assert.ok((wal.calls[0] ?? 0) - settled >= BACKGROUND_SYNC_MS - 5, 'the sync waited for more commits');
    await close();
  });
});
