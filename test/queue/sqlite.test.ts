/**
 * The JobQueue and WorkerRegistry behaviour suites on SQLite, plus SQLite-only guarantees: durability across reopen and
 * SIGKILL, group commit, retention, schema versioning and a 1,000,000-row
 * backlog (correctness only; latencies belong in benchmarks).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteJobQueue, type SqliteJobQueue } from '../../src/queue/index.js';
import { SCHEMA_VERSION } from '../../src/queue/sqlite/index.js';
import { describeJobQueueBehaviour } from './behaviour.js';
import { describeLifecycleBehaviour } from './lifecycle-behaviour.js';
import { describeWorkerRegistryBehaviour } from './registry-behaviour.js';
import { inline, newJob, rejectsWith } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];

function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-queue-'));
  dirs.push(dir);
  return join(dir, 'jobs.db');
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describeJobQueueBehaviour('sqlite on its own thread', () => {
  const queue = openSqliteJobQueue({ file: freshFile() });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

describeJobQueueBehaviour('sqlite on the calling thread', () => {
  const queue = openSqliteJobQueue({ file: freshFile(), thread: false });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

describeLifecycleBehaviour('sqlite on its own thread', () => {
  const queue = openSqliteJobQueue({ file: freshFile() });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

describeLifecycleBehaviour('sqlite on the calling thread', () => {
  const queue = openSqliteJobQueue({ file: freshFile(), thread: false });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

describeWorkerRegistryBehaviour('sqlite', () => {
  const queue = openSqliteJobQueue({ file: freshFile() });
  return Promise.resolve({ queue, cleanup: () => queue.close() });
});

async function withQueue<T>(file: string, use: (queue: SqliteJobQueue) => Promise<T>, maxBatchDelayMs?: number, maxEnqueuesPerMessage = Infinity): Promise<T> {
  const queue = openSqliteJobQueue({ file, maxEnqueuesPerMessage, ...(maxBatchDelayMs === undefined ? {} : { maxBatchDelayMs }) });
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

void describe('sqlite job queue: durability', () => {
  void it('keeps queued, leased and finished jobs across close and reopen', async () => {
    const file = freshFile();
    await withQueue(file, async (queue) => {
      for (const id of ['a', 'b', 'c']) await queue.enqueue(newJob('ep', id, { input: inline(`body-${id}`) }));
      const [a, b] = await queue.claim('ep', 'w1', 2, 1_000, 5_000);
      assert.ok(a && b);
      assert.equal(await queue.finish('w1', b.id, { state: 'failed', failureReason: 'boom' }, 5_500), true);
    });
    await withQueue(file, async (queue) => {
      const a = await queue.get('ep', 'a');
      assert.equal(a?.state, 'running');
      assert.equal(a.attempts, 1);
      assert.deepEqual(a.input, inline('body-a'));
      assert.deepEqual(await queue.renew('w1', [a.id], 1_000, 5_900), []);
      const b = await queue.get('ep', 'b');
      assert.equal(b?.state, 'failed');
      assert.equal(b.failureReason, 'boom');
      assert.equal(b.finishedAt, 5_500);
      assert.deepEqual(await queue.stats('ep', 6_000), { queued: 1, running: 1, oldestQueuedAgeMs: 5_000 });
      const claimed = await queue.claim('ep', 'w2', 10, 1_000, 6_000);
      assert.deepEqual(claimed.map((job) => job.inferenceId), ['c']);
      const stolen = await queue.claim('ep', 'w2', 10, 1_000, 6_900);
      assert.deepEqual(stolen.map((job) => [job.inferenceId, job.attempts]), [['a', 2]]);
      assert.equal((await queue.enqueue(newJob('ep', 'a'))).created, false);
    });
  });

  for (const durability of ['power-loss', 'process-crash'] as const) {
    void it(`has every acknowledged enqueue after a SIGKILL right after the ack (durability ${durability})`, async () => {
      const file = freshFile();
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/enqueue-until-killed.ts'), file, '100000', durability], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      const acked: string[] = [];
      const target = 300;
      for await (const line of createInterface({ input: child.stdout })) {
        if (!line.startsWith('acked ')) continue;
        acked.push(line.slice('acked '.length));
        if (acked.length === target) child.kill('SIGKILL');
      }
      assert.equal(await exited, 'SIGKILL');
      assert.ok(acked.length >= target, `only ${acked.length} acks before exit`);
      await withQueue(file, async (queue) => {
        const missing: string[] = [];
        for (const id of acked) if ((await queue.get('crash', id)) === undefined) missing.push(id);
        assert.deepEqual(missing, []);
        const stats = await queue.stats('crash', 0);
        assert.ok(stats.queued >= acked.length && stats.queued < 100_000, `queued ${stats.queued}, acked ${acked.length}`);
      });
    });
  }

  void it('refuses a database written by a newer schema version', async () => {
    const file = freshFile();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openSqliteJobQueue({ file }), (err: unknown) => err instanceof Error && 'code' in err && err.code === 'InternalError');
    const fresh = freshFile();
    await openSqliteJobQueue({ file: fresh }).close();
    const check = new Database(fresh, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(check.pragma('journal_mode', { simple: true }), 'wal');
    check.close();
  });
});

void describe('sqlite job queue: schema upgrade', () => {
  void it('brings a version-1 database (counting trigger per insert) to the current version with exact counts', async () => {
    const file = freshFile();
    await withQueue(file, async (queue) => {
      await Promise.all(['a', 'b'].map((id) => queue.enqueue(newJob('ep', id))));
    });
    // Turn the file back into what version 1 wrote: the insert trigger that counted every row, and no routing tables (version 3).
    const db = new Database(file);
    db.exec('DROP TABLE worker_routes; DROP TABLE endpoint_demand;');
    db.exec(`CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
      INSERT INTO job_counts (endpoint, state, n) VALUES (new.endpoint, new.state, 1)
        ON CONFLICT (endpoint, state) DO UPDATE SET n = n + 1;
    END;`);
    db.pragma('user_version = 1');
    db.close();
    await withQueue(file, async (queue) => {
      assert.equal((await queue.stats('ep', 2_000)).queued, 2);
      await Promise.all(['c', 'd', 'e'].map((id) => queue.enqueue(newJob('ep', id))));
      await queue.enqueue(newJob('other', 'x'));
      assert.equal((await queue.stats('ep', 2_000)).queued, 5, 'each new job counted once');
      assert.equal((await queue.stats('other', 2_000)).queued, 1);
      await queue.seedForBenchmark(10, { endpoint: 'ep' });
      assert.equal((await queue.stats('ep', 2_000)).queued, 15);
    });
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(check.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name = 'jobs_count_insert'").get()?.n ?? -1, 0);
    check.close();
  });
});

void describe('sqlite job queue: schema upgrade to version 4 (cancel and retry)', () => {
  void it('rebuilds a version-2 database with rows (through version 3): jobs, states, counts and the id counter survive', async () => {
    const file = freshFile();
    const db = new Database(file);
    db.exec(readFileSync(join(import.meta.dirname, 'fixtures/schema-v2.sql'), 'utf8'));
    const insert = db.prepare(`INSERT INTO jobs (endpoint, inference_id, state, attempts, received_at, expires_at, fingerprint, input,
      output_bucket, output_key, failure_bucket, failure_key, invocation_timeout_seconds, lease_owner, lease_until, finished_at, failure_reason)
      VALUES (?, ?, ?, ?, 1000, 999999999, 'fp', '{"kind":"inline"}', 'o', ?, 'f', ?, 60, ?, ?, ?, ?)`);
    insert.run('ep', 'old-queued', 'queued', 0, 'k1', 'e1', null, null, null, null);
    insert.run('ep', 'old-running', 'running', 1, 'k2', 'e2', 'w1', 5000, null, null);
    insert.run('ep', 'old-failed', 'failed', 1, 'k3', 'e3', null, null, 2000, 'boom');
    insert.run('ep', 'old-last', 'succeeded', 1, 'k4', 'e4', null, null, 2000, null);
    db.exec(`INSERT INTO job_counts (endpoint, state, n) VALUES ('ep', 'queued', 1), ('ep', 'running', 1), ('ep', 'failed', 1), ('ep', 'succeeded', 1)`);
    db.prepare("DELETE FROM jobs WHERE inference_id = 'old-last'").run();
    db.pragma('user_version = 2');
    db.close();
    await withQueue(file, async (queue) => {
      assert.deepEqual(await queue.stats('ep', 3_000), { queued: 1, running: 1, oldestQueuedAgeMs: 2_000 });
      const failed = await queue.get('ep', 'old-failed');
      assert.equal(failed?.state, 'failed');
      assert.equal(failed?.failureReason, 'boom');
      assert.equal(failed?.cancelRequested, undefined);
      const { job } = await queue.enqueue(newJob('ep', 'new'));
      assert.equal(job.id, '5', 'ids are never reused, not even of a purged job');
      assert.equal((await queue.cancel('ep', 'old-running', 'api', 1_000, 3_000))?.outcome, 'requested');
      assert.equal((await queue.rerun('ep', 'old-failed', 'api', 1_000, 3_000, 9_999_999))?.outcome, 'leased');
      assert.deepEqual((await queue.list('ep', { limit: 10 })).jobs.map((j) => j.inferenceId), ['new', 'old-failed', 'old-running', 'old-queued']);
    });
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });
});

void describe('sqlite job queue: its thread', () => {
  void it('answers ServiceUnavailable once the thread cannot run, and still closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferq-queue-'));
    const queue = openSqliteJobQueue({ file: join(dir, 'jobs.db') });
    rmSync(dir, { recursive: true }); // the thread, still loading its modules, will find no database directory
    await rejectsWith(queue.stats('ep', 0), 'ServiceUnavailable');
    await rejectsWith(queue.enqueue(newJob('ep', 'lost')), 'ServiceUnavailable');
    await queue.close();
    await rejectsWith(queue.get('ep', 'lost'), 'ServiceUnavailable');
  });
});

void describe('sqlite job queue: group commit', () => {
  void it('writes 1,000 enqueues of one tick in far fewer transactions than jobs', async () => {
    await withQueue(freshFile(), async (queue) => {
      const before = queue.commitCount();
      const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => queue.enqueue(newJob('ep', `j${i}`))));
      assert.equal(results.filter((r) => r.created).length, 1_000);
      const commits = queue.commitCount() - before;
      assert.ok(commits >= 1 && commits <= 2, `${commits} commits`);
      await queue.enqueue(newJob('ep', 'alone'));
      assert.equal(queue.commitCount() - before, commits + 1);
    });
  });

  void it('sends a busy turn to the thread in parts, which commit while the turn still runs', async () => {
    const file = freshFile();
    await withQueue(
      file,
      async (queue) => {
        const reader = new Database(file, { readonly: true });
        try {
          const stored = reader.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM jobs');
          const first = Array.from({ length: 10 }, (_, i) => queue.enqueue(newJob('ep', `part1-${i}`)));
          // Still in the same turn: the thread must have received and committed the first ten by itself.
          const deadline = Date.now() + 10_000;
          while (stored.get()?.n !== 10 && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          assert.equal(stored.get()?.n, 10, 'the first part was not committed during the turn');
          const rest = Array.from({ length: 15 }, (_, i) => queue.enqueue(newJob('ep', `part2-${i}`)));
          const results = await Promise.all([...first, ...rest]);
          assert.ok(results.every((r) => r.created));
          const ids = results.map((r) => Number(r.job.id));
          assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids follow the order of the enqueues');
          assert.equal(stored.get()?.n, 25);
        } finally {
          reader.close();
        }
      },
      undefined,
      10,
    );
  });

  void it('waits up to maxBatchDelayMs to batch enqueues of later ticks', async () => {
    await withQueue(
      freshFile(),
      async (queue) => {
        const first = queue.enqueue(newJob('ep', 'a'));
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(queue.commitCount(), 0);
        const second = queue.enqueue(newJob('ep', 'b'));
        await Promise.all([first, second]);
        assert.equal(queue.commitCount(), 1);
      },
      200,
    );
  });

  void it('rejects an inline body over 128,000 bytes without failing its batch', async () => {
    await withQueue(freshFile(), async (queue) => {
      const [big, limit] = await Promise.allSettled([
        queue.enqueue(newJob('ep', 'big', { input: { kind: 'inline', body: Buffer.alloc(128_001) } })),
        queue.enqueue(newJob('ep', 'limit', { input: { kind: 'inline', body: Buffer.alloc(128_000, 7) } })),
      ]);
      assert.equal(big?.status, 'rejected');
      await rejectsWith(queue.enqueue(newJob('ep', 'big', { input: { kind: 'inline', body: Buffer.alloc(200_000) } })), 'EntityTooLarge');
      assert.ok(limit?.status === 'fulfilled' && limit.value.created);
      const stored = await queue.get('ep', 'limit');
      assert.ok(stored?.input.kind === 'inline' && stored.input.body.equals(Buffer.alloc(128_000, 7)));
    });
  });
});

void describe('sqlite job queue: leases, retention', () => {
  void it('does not refund an attempt when releasing a job leased by claimExpired', async () => {
    await withQueue(freshFile(), async (queue) => {
      await queue.enqueue(newJob('ep', 'x', { expiresAt: 5_000 }));
      const [first] = await queue.claim('ep', 'w', 1, 1_000, 2_000);
      assert.ok(first);
      await queue.releaseOwner('w');
      const [expired] = await queue.claimExpired('sweeper', 10, 1_000, 6_000);
      assert.equal(expired?.attempts, 1);
      await queue.release('sweeper', expired.id);
      assert.equal((await queue.get('ep', 'x'))?.attempts, 1);
      assert.equal((await queue.get('ep', 'x'))?.startedAt, 2_000);
    });
  });

  void it('purges finished jobs older than a cutoff and keeps the rest', async () => {
    await withQueue(freshFile(), async (queue) => {
      for (const id of ['old', 'new', 'open']) await queue.enqueue(newJob('ep', id));
      const [oldJob, newJob_] = await queue.claim('ep', 'w', 2, 1_000, 100);
      assert.ok(oldJob && newJob_);
      await queue.finish('w', oldJob.id, { state: 'succeeded' }, 150);
      await queue.finish('w', newJob_.id, { state: 'failed', failureReason: 'x' }, 250);
      assert.equal(await queue.purgeFinished(200), 1);
      assert.equal(await queue.purgeFinished(200), 0);
      assert.equal(await queue.get('ep', 'old'), undefined);
      assert.equal((await queue.get('ep', 'new'))?.state, 'failed');
      assert.deepEqual(await queue.stats('ep', 300), { queued: 1, running: 0, oldestQueuedAgeMs: 0 });
      const again = await queue.enqueue(newJob('ep', 'old'));
      assert.equal(again.created, true);
      assert.ok(Number(again.job.id) > Number(newJob_.id));
    });
  });

  void it('rejects a non-terminal finish state and unknown ids quietly', async () => {
    await withQueue(freshFile(), async (queue) => {
      await queue.enqueue(newJob('ep', 'x'));
      const [job] = await queue.claim('ep', 'w', 1, 1_000, 100);
      assert.ok(job);
      const notTerminal = JSON.parse('{"state":"queued"}') as { state: 'failed' };
      await rejectsWith(queue.finish('w', job.id, notTerminal, 200), 'InvalidArgument');
      assert.equal(await queue.finish('w', 'abc', { state: 'succeeded' }, 200), false);
      await queue.release('w', '0');
      assert.deepEqual(await queue.renew('w', ['-1'], 1_000, 200), ['-1']);
    });
  });
});

void describe('sqlite job queue: 1,000,000 queued rows', () => {
  void it('claims the oldest and reports exact stats over a million-row backlog', async () => {
    await withQueue(freshFile(), async (queue) => {
      await queue.enqueue(newJob('small', 's1', { receivedAt: 50 }));
      const seeded = await queue.seedForBenchmark(1_000_000, { endpoint: 'big', receivedAt: 100, expiresAt: 1e12 });
      assert.ok(seeded);
      await queue.enqueue(newJob('big', 'tail', { receivedAt: 200 }));
      assert.deepEqual(await queue.stats('big', 1_100), { queued: 1_000_001, running: 0, oldestQueuedAgeMs: 1_000 });
      assert.deepEqual(await queue.stats('small', 1_100), { queued: 1, running: 0, oldestQueuedAgeMs: 1_050 });
      const [head] = await queue.claim('big', 'w', 1, 1_000, 1_000);
      assert.equal(head?.id, seeded.first);
      const next = await queue.claim('big', 'w', 3, 1_000, 1_000);
      assert.deepEqual(next.map((job) => Number(job.id)), [1, 2, 3].map((i) => Number(seeded.first) + i));
      assert.deepEqual(await queue.claimExpired('sweeper', 10, 1_000, 1_000), []);
      assert.deepEqual(await queue.stats('big', 1_100), { queued: 999_997, running: 4, oldestQueuedAgeMs: 1_000 });
      assert.equal((await queue.get('big', 'tail'))?.state, 'queued');
    });
  });
});
