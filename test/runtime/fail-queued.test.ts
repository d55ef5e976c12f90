/**
 * LifecycleOperations.failQueued (what a deleted endpoint's queued requests get), on a real SQLite
 * queue and on PostgreSQL (a schema of this file), with a local object store: every queued
 * request ends `failed` with the reason and a failure object holding it, across more than one
 * page of the queue's list (500); running and finished requests, and other endpoints', are left
 * alone; the count is returned; the cancel notification is recorded for each.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalObjectStore, type ObjectStore } from '../../src/objects/index.js';
import { openPostgresJobQueue, openSqliteJobQueue, type Job, type JobQueue, type NewJob } from '../../src/queue/index.js';
import { createLifecycleOperations } from '../../src/runtime/lifecycle.js';
import { silentLogger } from '../../src/util/index.js';
import { readAll } from '../helpers/http.js';
import { PG_URL, dropSchemas, uniqueSchema } from '../helpers/postgres.js';
import { newJob } from '../queue/helpers.js';

const REASON = 'Endpoint ep was deleted before this request ran.';
const T0 = 1_000;
const LEASE_MS = 60_000;
const IN = 'in-bucket';
const OUT = 'out-bucket';
const FAIL = 'fail-bucket';

/** A job of queue/helpers.ts' newJob with buckets the local store accepts. */
function job(endpoint: string, inferenceId: string): NewJob {
  return newJob(endpoint, inferenceId, {
    input: { kind: 'inline', body: Buffer.from(inferenceId) },
    output: { bucket: OUT, key: `${endpoint}/${inferenceId}.out` },
    failure: { bucket: FAIL, key: `${endpoint}/${inferenceId}-error.out` },
  });
}

interface Opened {
  readonly queue: JobQueue;
  close(): Promise<void>;
}

const schemas = new Set<string>();
after(() => dropSchemas(schemas));

const backends: Record<string, (dir: string) => Promise<Opened>> = {
  sqlite: (dir) => {
    const queue = openSqliteJobQueue({ file: join(dir, 'queue.db') });
    return Promise.resolve({ queue, close: () => queue.close() });
  },
  postgres: async () => {
    const schema = uniqueSchema('t_failqueued');
    schemas.add(schema);
    const queue = await openPostgresJobQueue({ url: PG_URL, schema });
    return { queue, close: () => queue.close() };
  },
};

async function text(store: ObjectStore, bucket: string, key: string): Promise<string> {
  return (await readAll((await store.getObject(bucket, key)).body)).toString();
}

/** Runs `use` with a fresh queue of `backend` and a local object store that has the test's buckets. */
async function withParts(backend: string, use: (queue: JobQueue, store: ObjectStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-failqueued-'));
  const opened = await backends[backend]!(dir);
  const store = await openLocalObjectStore({ dataDir: join(dir, 'objects') });
  try {
    for (const bucket of [IN, OUT, FAIL]) await store.createBucket(bucket);
    await use(opened.queue, store);
  } finally {
    await opened.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const backend of Object.keys(backends)) {
  void describe(`failQueued on ${backend}`, () => {
    void it(`${backend}: fails every queued request (more than a page) with the reason and a failure object; running, finished and other endpoints' are untouched`, async () => {
      await withParts(backend, async (queue, store) => {
        const QUEUED = 520;
        await queue.enqueue(job('ep', 'running'));
        await queue.enqueue(job('ep', 'done'));
        const claimed = await queue.claim('ep', 'w1', 2, LEASE_MS, T0);
        assert.deepEqual(claimed.map((j) => j.inferenceId).sort(), ['done', 'running']);
        const done = claimed.find((j) => j.inferenceId === 'done')!;
        assert.equal(await queue.finish('w1', done.id, { state: 'succeeded' }, T0 + 1), true);
        await Promise.all(Array.from({ length: QUEUED }, (_, i) => queue.enqueue(job('ep', `q${i}`))));
        await queue.enqueue(job('other', 'q-other'));

        const notified: string[] = [];
        const cancelled: string[] = [];
        const ops = createLifecycleOperations({
          queue, store, clock: { now: () => T0 + 10 }, logger: silentLogger,
          cancelNotification: (job: Job, outcome) => { notified.push(`${job.inferenceId}:${outcome.state}`); return undefined; },
          onCancelled: (job) => cancelled.push(job.inferenceId),
        });
        assert.equal(await ops.failQueued('ep', REASON), QUEUED);

        const stats = await queue.stats('ep', T0 + 10);
        assert.equal(stats.queued, 0);
        for (const id of ['q0', 'q1', 'q499', 'q500', `q${QUEUED - 1}`]) {
          const failed = await queue.get('ep', id);
          assert.equal(failed?.state, 'failed', id);
          assert.equal(failed?.failureReason, REASON, id);
          assert.equal(await text(store, FAIL, `ep/${id}-error.out`), `${REASON}\n`, `${id}'s failure object holds the reason`);
        }
        const page = await queue.list('ep', { state: 'failed', limit: 1000 });
        assert.equal(page.jobs.length, QUEUED);
        assert.ok(page.jobs.every((j) => j.failureReason === REASON));
        assert.equal(notified.length, QUEUED);
        assert.ok(notified.every((n) => n.endsWith(':failed')));
        assert.equal(new Set(cancelled).size, QUEUED);

        assert.equal((await queue.get('ep', 'running'))?.state, 'running', 'a running request is left to finish');
        assert.equal((await queue.get('ep', 'running'))?.cancelRequested ?? false, false, 'and not asked to cancel');
        assert.equal((await queue.get('ep', 'done'))?.state, 'succeeded');
        assert.equal((await queue.get('other', 'q-other'))?.state, 'queued', 'another endpoint is untouched');
        const running = claimed.find((j) => j.inferenceId === 'running')!;
        assert.equal(await queue.finish('w1', running.id, { state: 'succeeded' }, T0 + 20), true, 'its worker still owns it');

        assert.equal(await ops.failQueued('ep', REASON), 0, 'nothing queued: 0');
      });
    });
  });
}
