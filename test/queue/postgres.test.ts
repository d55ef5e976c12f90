/**
 * The JobQueue and WorkerRegistry behaviour suites on PostgreSQL (one schema for this file, its
 * tables emptied before each test, dropped at the end), plus what only several queue instances
 * (each its own pool, as in separate processes) show: concurrent claims never share a job,
 * idempotent enqueues racing, migrations applied once by openers starting together, NOTIFY
 * wake-ups, heartbeat-based recovery, group commit, and connection loss answered with
 * ServiceUnavailable and recovered from without reopening the queue.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isInferqError } from '../../src/errors/index.js';
import { openPostgresJobQueue, type PostgresJobQueue } from '../../src/queue/index.js';
import { SCHEMA_VERSION } from '../../src/queue/postgres/index.js';
import { PG_URL, Relay, dropSchemas, uniqueSchema, withPg } from '../helpers/postgres.js';
import { describeJobQueueBehaviour } from './behaviour.js';
import { describeLifecycleBehaviour } from './lifecycle-behaviour.js';
import { newJob, rejectsWith } from './helpers.js';
import { describeWorkerRegistryBehaviour } from './registry-behaviour.js';

const SCHEMA = uniqueSchema('t_pgqueue');
const schemas = new Set<string>([SCHEMA]);

after(() => dropSchemas(schemas));

/** A queue on this file's schema with its tables emptied (the previous test's queue is closed). */
async function openEmpty(): Promise<PostgresJobQueue> {
  const queue = await openPostgresJobQueue({ url: PG_URL, schema: SCHEMA });
  await withPg((client) => client.query(`TRUNCATE "${SCHEMA}".jobs, "${SCHEMA}".job_counts, "${SCHEMA}".workers RESTART IDENTITY`));
  return queue;
}

describeJobQueueBehaviour('postgres', async () => {
  const queue = await openEmpty();
  return { queue, cleanup: () => queue.close() };
});

describeLifecycleBehaviour('postgres', async () => {
  const queue = await openEmpty();
  return { queue, cleanup: () => queue.close() };
});

describeWorkerRegistryBehaviour('postgres', async () => {
  const queue = await openEmpty();
  return { queue, cleanup: () => queue.close() };
});

/** Two instances on a fresh schema of their own, closed after `use`. */
async function withTwo(use: (a: PostgresJobQueue, b: PostgresJobQueue) => Promise<void>): Promise<void> {
  const schema = uniqueSchema('t_pgqueue2');
  schemas.add(schema);
  const [a, b] = await Promise.all([openPostgresJobQueue({ url: PG_URL, schema }), openPostgresJobQueue({ url: PG_URL, schema })]);
  try {
    await use(a, b);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

void describe('postgres job queue: several instances on one schema', () => {
  void it('never leases one job twice across instances claiming concurrently', async () => {
    await withTwo(async (a, b) => {
      const total = 2_000;
      const results = await Promise.all(Array.from({ length: total }, (_, i) => (i % 2 ? a : b).enqueue(newJob('ep', `c${i}`))));
      assert.ok(results.every((r) => r.created));
      const leased = new Map<string, string>();
      const claimer = async (queue: PostgresJobQueue, owner: string): Promise<void> => {
        for (;;) {
          const jobs = await queue.claim('ep', owner, 25, 60_000, 5_000);
          if (jobs.length === 0) return;
          for (const job of jobs) {
            assert.equal(leased.get(job.id), undefined, `job ${job.id} leased to ${leased.get(job.id)} and ${owner}`);
            leased.set(job.id, owner);
          }
        }
      };
      await Promise.all([a, b].flatMap((queue, q) => [1, 2, 3, 4].map((w) => claimer(queue, `q${q}-w${w}`))));
      assert.equal(leased.size, total);
      assert.ok(new Set(leased.values()).size > 2, 'the claims were spread over the claimers');
      assert.deepEqual(await b.stats('ep', 5_000), { queued: 0, running: total, oldestQueuedAgeMs: 0 });
    });
  });

  void it('decides a racing InferenceId once: one job, the same answer on both instances, conflicts rejected', async () => {
    await withTwo(async (a, b) => {
      const n = 300;
      const same = await Promise.all(Array.from({ length: n }, (_, i) => [a.enqueue(newJob('ep', `r${i}`)), b.enqueue(newJob('ep', `r${i}`))]).flat());
      for (let i = 0; i < n; i++) {
        const [x, y] = [same[2 * i]!, same[2 * i + 1]!];
        assert.equal(Number(x.created) + Number(y.created), 1, `r${i} created ${Number(x.created) + Number(y.created)} times`);
        assert.deepEqual(x.job, y.job);
      }
      const conflicting = await Promise.allSettled(Array.from({ length: n }, (_, i) => [
        a.enqueue(newJob('ep', `k${i}`, { fingerprint: 'from-a' })),
        b.enqueue(newJob('ep', `k${i}`, { fingerprint: 'from-b' })),
      ]).flat());
      for (let i = 0; i < n; i++) {
        const pair = [conflicting[2 * i]!, conflicting[2 * i + 1]!];
        assert.equal(pair.filter((s) => s.status === 'fulfilled').length, 1);
        const lost = pair.find((s) => s.status === 'rejected');
        assert.ok(lost && isInferqError(lost.reason, 'InferenceIdConflict'));
      }
      assert.equal((await a.stats('ep', 2_000)).queued, 2 * n);
    });
  });

  void it('applies the migrations once when four instances open a new schema at the same moment', async () => {
    const schema = uniqueSchema('t_pgmigrate');
    schemas.add(schema);
    const queues = await Promise.all(Array.from({ length: 4 }, () => openPostgresJobQueue({ url: PG_URL, schema })));
    try {
      const rows = await withPg(async (client) => (await client.query<{ version: number; applied_by: string }>(`SELECT version, applied_by FROM "${schema}".schema_migrations ORDER BY version`)).rows);
      assert.deepEqual(rows.map((row) => row.version), Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
      assert.equal(new Set(rows.map((row) => row.applied_by)).size, 1, 'one opener applied them all');
      await Promise.all(queues.map((queue, i) => queue.enqueue(newJob('ep', `m${i}`))));
      assert.equal((await queues[0]!.stats('ep', 2_000)).queued, 4);
    } finally {
      await Promise.all(queues.map((queue) => queue.close()));
    }
    const again = await openPostgresJobQueue({ url: PG_URL, schema });
    await again.close();
    const count = await withPg(async (client) => (await client.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".schema_migrations`)).rows[0]?.n);
    assert.equal(Number(count), SCHEMA_VERSION);
  });

  void it('refuses a schema written by a newer version', async () => {
    const schema = uniqueSchema('t_pgnewer');
    schemas.add(schema);
    await (await openPostgresJobQueue({ url: PG_URL, schema })).close();
    await withPg((client) => client.query(`INSERT INTO "${schema}".schema_migrations (version, applied_by) VALUES ($1, 'future')`, [SCHEMA_VERSION + 1]));
    await rejectsWith(openPostgresJobQueue({ url: PG_URL, schema }), 'InternalError');
  });

  void it('wakes a listener of another instance by NOTIFY when a job is enqueued or released', async () => {
    await withTwo(async (a, b) => {
      const seen: string[] = [];
      let wake = (): void => {};
      const off = b.onAvailable((endpoint) => {
        seen.push(endpoint);
        wake();
      });
      await b.whenListening();
      const next = (): Promise<void> => new Promise<void>((resolve) => (wake = resolve));
      let woken = next();
      const started = process.hrtime.bigint();
      await a.enqueue(newJob('ep-n', 'one'));
      await woken;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      assert.deepEqual(seen, ['ep-n']);
      assert.equal((await b.claim('ep-n', 'w', 1, 60_000, 2_000))[0]?.inferenceId, 'one');
      const [claimed] = await b.claim('ep-n', 'w', 1, 60_000, 2_000);
      assert.equal(claimed, undefined);
      const [mine] = await a.claim('ep-n', 'w', 1, 60_000, 2_000);
      assert.equal(mine, undefined);
      woken = next();
      await a.enqueue(newJob('ep-n', 'two'));
      await woken;
      const [two] = await a.claim('ep-n', 'wa', 1, 60_000, 2_000);
      assert.ok(two);
      woken = next();
      await a.release('wa', two.id);
      await woken;
      assert.deepEqual(seen, ['ep-n', 'ep-n', 'ep-n'], 'one wake-up per event, none for own-process commits twice');
      off();
      process.stdout.write(`# NOTIFY wake-up across instances: ${ms.toFixed(1)} ms from enqueue call\n`);
    });
  });

  void it('lets a survivor on another instance release the leases of a worker whose heartbeat stopped', async () => {
    await withTwo(async (a, b) => {
      await a.registerWorker('host-a:1:dead', 1, 'host-a', 1_000);
      await b.registerWorker('host-b:1:live', 1, 'host-b', 1_000);
      for (const id of ['h1', 'h2', 'h3']) await a.enqueue(newJob('ep', id));
      assert.equal((await a.claim('ep', 'host-a:1:dead', 2, 600_000, 1_000)).length, 2);
      await b.heartbeatWorker('host-b:1:live', 30_000);
      const stale = await b.staleWorkers(30_000 - 20_000);
      assert.deepEqual(stale, ['host-a:1:dead']);
      await b.unregisterWorker('host-a:1:dead');
      assert.equal(await b.releaseOwner('host-a:1:dead'), 2);
      assert.equal(await a.heartbeatWorker('host-a:1:dead', 30_001), false);
      const taken = await b.claim('ep', 'host-b:1:live', 10, 600_000, 30_002);
      assert.deepEqual(taken.map((job) => job.inferenceId), ['h1', 'h2', 'h3']);
    });
  });
});

void describe('postgres job queue: group commit', () => {
  void it('writes 1,000 enqueues of one tick in a few statements', async () => {
    const queue = await openEmpty();
    try {
      const before = queue.commitCount();
      const results = await Promise.all(Array.from({ length: 1_000 }, (_, i) => queue.enqueue(newJob('ep', `g${i}`))));
      assert.equal(results.filter((r) => r.created).length, 1_000);
      const ids = results.map((r) => Number(r.job.id));
      assert.deepEqual(ids, [...ids].sort((x, y) => x - y), 'ids follow the order of the enqueues');
      const commits = queue.commitCount() - before;
      assert.ok(commits >= 1 && commits <= 2, `${commits} statements`);
      const [bad, good] = await Promise.allSettled([
        queue.enqueue(newJob('ep', 'nul\u0000id')),
        queue.enqueue(newJob('ep', 'fine')),
      ]);
      assert.ok(bad?.status === 'rejected' && isInferqError(bad.reason, 'InvalidArgument'));
      assert.ok(good?.status === 'fulfilled' && good.value.created);
    } finally {
      await queue.close();
    }
  });
});

void describe('postgres job queue: connection loss', () => {
  void it('answers ServiceUnavailable while the database is unreachable and recovers without reopening, LISTEN included', async () => {
    const schema = uniqueSchema('t_pgloss');
    schemas.add(schema);
    const relay = new Relay();
    await relay.open();
    const url = `postgres://root@127.0.0.1:${relay.port}/test`;
    const [queue, other] = await Promise.all([openPostgresJobQueue({ url, schema }), openPostgresJobQueue({ url: PG_URL, schema })]);
    try {
      let wake = (): void => {};
      queue.onAvailable(() => wake());
      await queue.whenListening();
      await queue.enqueue(newJob('ep', 'before'));
      await relay.cut();
      await rejectsWith(queue.enqueue(newJob('ep', 'during')), 'ServiceUnavailable');
      await rejectsWith(queue.claim('ep', 'w', 1, 60_000, 2_000), 'ServiceUnavailable');
      await rejectsWith(queue.stats('ep', 2_000), 'ServiceUnavailable');
      await relay.open();
      const relistened = queue.whenListening();
      assert.equal((await queue.enqueue(newJob('ep', 'after'))).created, true);
      assert.deepEqual((await queue.claim('ep', 'w', 10, 60_000, 2_000)).map((job) => job.inferenceId), ['before', 'after']);
      assert.equal(await queue.get('ep', 'during'), undefined);
      await relistened;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      await other.enqueue(newJob('ep', 'notified'));
      await woken;
    } finally {
      await Promise.all([queue.close(), other.close()]);
      await relay.cut();
    }
  });

  void it('fails to open with ServiceUnavailable when nothing listens at the URL', async () => {
    const relay = new Relay();
    await relay.open();
    await relay.cut();
    await rejectsWith(openPostgresJobQueue({ url: `postgres://root@127.0.0.1:${relay.port}/test`, schema: 'unused' }), 'ServiceUnavailable');
  });
});
