/**
 * An enqueue batch whose transaction fails, on a real job database: every job of the batch is
 * rejected and nothing of it is written (no job row, no backlog count, no listener notified, no
 * InferenceId taken), the jobs stored before are untouched, and the queue keeps working once the
 * cause is gone. Causes: the disk filling up in the middle of the batch (SQLite's page limit), a
 * read-only database, and a failure of the batch's backlog update (a trigger added by another
 * connection) on the public, threaded queue.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteJobQueue } from '../../src/queue/index.js';
import { EnqueueBatcher } from '../../src/queue/sqlite/enqueue.js';
import { openJobDatabase } from '../../src/queue/sqlite/schema.js';
import { createStatements, MAX_INLINE_BODY_BYTES } from '../../src/queue/sqlite/statements.js';
import type { EnqueueResult, NewJob } from '../../src/queue/index.js';
import { silentLogger, WalSync } from '../../src/util/index.js';
import { isInferqError } from '../../src/errors/index.js';
import { inline, newJob } from './helpers.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-enqueue-fail-'));
  dirs.push(dir);
  return join(dir, 'jobs.db');
}

/** A batcher on a real database and WalSync, recording the endpoints it notifies. */
function open() {
  const db = openJobDatabase(freshFile());
  const wal = new WalSync(db.name);
  const notified: string[] = [];
  const ctx = { db, stmts: createStatements(db), logger: silentLogger, notify: (endpoints: Iterable<string>) => void notified.push(...endpoints) };
  const batcher = new EnqueueBatcher(ctx, 0, wal, 'power-loss');
  return { db, batcher, notified, close: async () => { batcher.flushAll(); await wal.close(); db.close(); } };
}

/** Rows and backlog counts as stored. */
function stored(db: Database.Database): { ids: string[]; queued: number } {
  const ids = db.prepare<[], { inference_id: string }>('SELECT inference_id FROM jobs ORDER BY seq').all().map((r) => r.inference_id);
  const queued = db.prepare<[], { n: number }>("SELECT coalesce(sum(n), 0) AS n FROM job_counts WHERE state = 'queued'").get()?.n ?? 0;
  return { ids, queued };
}

/** Enqueues `jobs` in one tick (so they form one batch) and waits for every outcome. */
function addTogether(batcher: EnqueueBatcher, jobs: readonly NewJob[]): Promise<PromiseSettledResult<EnqueueResult>[]> {
  return Promise.allSettled(jobs.map((job) => batcher.add(job)));
}

function allRejectedWith(results: readonly PromiseSettledResult<EnqueueResult>[], code: 'StorageFull' | 'StorageReadOnly' | 'InternalError'): void {
  assert.ok(results.length > 0);
  for (const result of results) {
    assert.equal(result.status, 'rejected', 'every job of the failed batch is rejected');
    const reason: unknown = result.reason;
    assert.ok(isInferqError(reason), `an InferqError, not ${String(reason)}`);
    assert.equal(reason.code, code, reason.message);
  }
}

void describe('an enqueue batch whose transaction fails', () => {
  void it('the disk fills up mid-batch: every job rejected (StorageFull, a 503), none written; the same ids enqueue afterwards as new', async () => {
    const { db, batcher, notified, close } = open();
    await batcher.add(newJob('ep', 'before'));
    notified.length = 0;
    const small = ['s1', 's2', 's3'].map((id) => newJob('ep', id, { input: inline(`small ${id}`) }));
    const big = newJob('ep', 'big', { input: { kind: 'inline', body: Buffer.alloc(MAX_INLINE_BODY_BYTES, 1) } });
    // Room for the small jobs but not for the big one, which comes last: the batch fails after its first inserts.
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 8}`);
    allRejectedWith(await addTogether(batcher, [...small, big]), 'StorageFull');
    assert.deepEqual(stored(db), { ids: ['before'], queued: 1 }, 'nothing of the batch is stored, the earlier job is');
    assert.deepEqual(notified, [], 'no listener was told about jobs that do not exist');

    const again = await addTogether(batcher, small);
    assert.deepEqual(again.map((r) => r.status === 'fulfilled' && r.value.created), [true, true, true], 'the small jobs alone fit: they had been inserted, then rolled back');
    db.pragma('max_page_count = 1073741823');
    const last = await batcher.add(big);
    assert.equal(last.created, true, 'the InferenceId of the failed job was not taken');
    assert.deepEqual(stored(db), { ids: ['before', 's1', 's2', 's3', 'big'], queued: 5 });
    await close();
  });

  void it('the database is read-only: every job rejected (StorageReadOnly, a 503), none written; writable again, the queue works', async () => {
    const { db, batcher, notified, close } = open();
    await batcher.add(newJob('ep', 'before'));
    notified.length = 0;
    db.pragma('query_only = ON');
    allRejectedWith(await addTogether(batcher, ['a', 'b', 'c'].map((id) => newJob('ep', id))), 'StorageReadOnly');
    db.pragma('query_only = OFF');
    assert.deepEqual(stored(db), { ids: ['before'], queued: 1 });
    assert.deepEqual(notified, []);
    assert.equal((await batcher.add(newJob('ep', 'a'))).created, true);
    await close();
  });

  void it('threaded queue: the backlog update of the batch fails: jobs of every endpoint in it are rejected, none is stored', async () => {
    const file = freshFile();
    const queue = openSqliteJobQueue({ file, maxEnqueuesPerMessage: Infinity });
    const other = new Database(file);
    try {
      await queue.enqueue(newJob('ep', 'before'));
      other.exec(`CREATE TRIGGER inject_failure BEFORE INSERT ON job_counts WHEN new.endpoint = 'poison'
        BEGIN SELECT RAISE(ABORT, 'injected failure'); END;`);
      const batch = [newJob('ep', 'e1'), newJob('ep', 'e2'), newJob('poison', 'p1'), newJob('ep', 'e3')];
      const results = await Promise.allSettled(batch.map((job) => queue.enqueue(job)));
      allRejectedWith(results, 'InternalError');
      for (const job of batch) assert.equal(await queue.get(job.endpoint, job.inferenceId), undefined, `${job.endpoint}/${job.inferenceId} is not stored`);
      assert.equal((await queue.stats('ep', 2_000)).queued, 1, 'the backlog counts only the earlier job');
      assert.equal((await queue.stats('poison', 2_000)).queued, 0);

      other.exec('DROP TRIGGER inject_failure');
      const again = await Promise.all(batch.map((job) => queue.enqueue(job)));
      assert.deepEqual(again.map((r) => r.created), [true, true, true, true], 'no InferenceId of the failed batch was taken');
      assert.equal((await queue.stats('ep', 2_000)).queued, 4);
    } finally {
      other.close();
      await queue.close();
    }
  });
});
