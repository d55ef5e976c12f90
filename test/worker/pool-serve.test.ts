/**
 * WorkerPool.serve and retire (src/worker/pool.ts) with real parts: a SQLite queue, a local object
 * store and fixture model processes (one pool of one instance per version, told apart by
 * FIXTURE_TAG, which `mode=inspect` answers with). A new version replaces the one served while
 * jobs are in flight: the old version stops claiming, its jobs finish on it, later jobs go to the
 * new one, and serve() resolves once the old one is done; retire stops claiming (queued jobs stay
 * queued) while jobs in flight finish; an endpoint served after start is claimed for. Jobs are
 * held in the model (`mode=held-<token>-1`) until the test creates the gate file.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type EndpointConfig } from '../../src/config/index.js';
import { createCommandModelClient, createModelPool, waitForHealthy, type ModelPool } from '../../src/models/index.js';
import { openLocalObjectStore, type ObjectStore } from '../../src/objects/index.js';
import { openSqliteJobQueue, type Job, type SqliteJobQueue } from '../../src/queue/index.js';
import { SlotScheduler } from '../../src/scheduling/index.js';
import { silentLogger, systemClock } from '../../src/util/index.js';
import { startWorkerPool, type ExecuteResult, type PoolEndpoint, type WorkerPool } from '../../src/worker/index.js';
import { readAll } from '../helpers/http.js';
import { FIXTURE_COMMAND, ROOT, recordingLogger, type RecordingLogger } from '../models/helpers.js';
import { newJob } from '../queue/helpers.js';

const OUT = 'out-bucket';
const FAIL = 'fail-bucket';
const GRACE_MS = 60_000;

/** One version of an endpoint: its model (a fixture tagged `tag`), slots and the model's log. */
interface Version extends PoolEndpoint {
  readonly model: ModelPool;
  readonly log: RecordingLogger;
}

interface Fixture {
  readonly dir: string;
  readonly gates: string;
  readonly queue: SqliteJobQueue;
  readonly store: ObjectStore;
  readonly config: (name: string) => EndpointConfig;
  readonly versions: Version[];
  /** Terminal outcomes the pool reported, by inference id. */
  readonly finished: Map<string, ExecuteResult>;
  pool?: WorkerPool;
}

let f: Fixture;
const finishWaiters = new Set<() => void>();

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-pool-serve-'));
  const gates = join(dir, 'gates');
  mkdirSync(gates);
  const configFile = join(dir, 'inferq.yaml');
  writeFileSync(configFile, 'endpoints:\n  - { name: ep, model: { url: "http://127.0.0.1:9" } }\n  - { name: late, model: { url: "http://127.0.0.1:9" } }\n');
  const endpoints = resolveConfig({ configFile }, dir).endpoints;
  const store = await openLocalObjectStore({ dataDir: join(dir, 'objects') });
  for (const bucket of [OUT, FAIL]) await store.createBucket(bucket);
  f = {
    dir, gates, store,
    queue: openSqliteJobQueue({ file: join(dir, 'queue.db') }),
    config: (name) => endpoints.find((e) => e.name === name)!,
    versions: [],
    finished: new Map(),
  };
});

afterEach(async () => {
  await f.pool?.stop(1000);
  await Promise.all(f.versions.map((v) => v.model.stop()));
  await f.queue.close();
  await f.store.close();
  rmSync(f.dir, { recursive: true, force: true });
});

/** A started, healthy version of `endpoint` whose model answers inspect calls with FIXTURE_TAG `tag` (2 calls at a time). */
async function version(endpoint: string, tag: string): Promise<Version> {
  const log = recordingLogger();
  const model = createModelPool({
    name: `${endpoint}-${tag}`, perInstanceConcurrency: 2, logger: silentLogger,
    instances: { min: 1, max: 1, targetBacklogPerInstance: 5, idleTimeoutMs: 60_000 },
    createInstance: () => createCommandModelClient({
      name: `${endpoint}-${tag}`, command: FIXTURE_COMMAND, env: { FIXTURE_TAG: tag, FIXTURE_GATE_DIR: f.gates }, baseEnv: process.env, cwd: ROOT, logger: log,
      pingIntervalMs: 100, pingTimeoutMs: 1000, stopGraceMs: 3000,
    }),
  });
  const slots = new SlotScheduler({ capacity: () => model.capacity(), now: () => systemClock.now(), maxWaiting: 10, onDemand: (n) => model.reportDemand(n) });
  model.onHealthChange(() => slots.recheck());
  const v: Version = { endpoint: f.config(endpoint), model, slots, log };
  f.versions.push(v);
  await model.start();
  assert.equal(await waitForHealthy(model, 60_000), true, `${tag} became healthy`);
  return v;
}

async function startPool(endpoints: PoolEndpoint[]): Promise<WorkerPool> {
  f.pool = await startWorkerPool({
    endpoints, queue: f.queue, store: f.store,
    fetchUrl: () => Promise.reject(new Error('no url inputs here')),
    leaseMs: 30_000, sweepIntervalMs: 60_000, storageRetry: { initialMs: 100, maxMs: 1000 },
    clock: systemClock, logger: silentLogger,
    onFinished: (job: Job, result: ExecuteResult) => {
      f.finished.set(job.inferenceId, result);
      for (const wake of [...finishWaiters]) wake();
    },
  });
  return f.pool;
}

/** Enqueues `id` on `endpoint` with custom attributes `attributes` (the fixture's mode). */
async function enqueue(endpoint: string, id: string, attributes: string): Promise<void> {
  const now = systemClock.now();
  await f.queue.enqueue(newJob(endpoint, id, {
    input: { kind: 'inline', body: Buffer.from(id) },
    customAttributes: attributes,
    output: { bucket: OUT, key: `${endpoint}/${id}.out` },
    failure: { bucket: FAIL, key: `${endpoint}/${id}-error.out` },
    receivedAt: now, expiresAt: now + 3_600_000,
  }));
}

/** Resolves once every id in `ids` has a terminal outcome. */
function finishedAll(ids: readonly string[], timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!ids.every((id) => f.finished.has(id))) return;
      finishWaiters.delete(check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      finishWaiters.delete(check);
      reject(new Error(`not finished within ${timeoutMs} ms: ${ids.filter((id) => !f.finished.has(id)).join(', ')}`));
    }, timeoutMs);
    finishWaiters.add(check);
    check();
  });
}

/** Resolves once `v`'s model has read the held request `id`. */
function held(v: Version, id: string): Promise<string> {
  return v.log.waitFor(new RegExp(`fixture held inference-id=${id}\\b`), 60_000);
}

async function output(endpoint: string, id: string): Promise<string> {
  return (await readAll((await f.store.getObject(OUT, `${endpoint}/${id}.out`)).body)).toString();
}

/** The FIXTURE_TAG of the model that answered the inspect request `id`. */
async function answeredBy(endpoint: string, id: string): Promise<string> {
  return (JSON.parse(await output(endpoint, id)) as { env: { FIXTURE_TAG: string } }).env.FIXTURE_TAG;
}

/** Opens gate `token` (the held requests waiting on it answer). */
function open(token: string): void {
  writeFileSync(join(f.gates, token), '');
}

test('serve: a new version replaces the one served while jobs are in flight; those finish on the old model, later jobs go to the new one', async () => {
  const v1 = await version('ep', 'v1');
  const pool = await startPool([v1]);
  await enqueue('ep', 'a1', 'mode=held-g1-1');
  await enqueue('ep', 'a2', 'mode=held-g1-1');
  await Promise.all([held(v1, 'a1'), held(v1, 'a2')]);

  const v2 = await version('ep', 'v2');
  let replacedDone = false;
  const replaced = pool.serve(v2, GRACE_MS).then(() => { replacedDone = true; });
  for (const id of ['b1', 'b2', 'b3']) await enqueue('ep', id, 'mode=inspect');
  await finishedAll(['b1', 'b2', 'b3']);
  for (const id of ['b1', 'b2', 'b3']) {
    assert.equal(f.finished.get(id)?.state, 'succeeded', id);
    assert.equal(await answeredBy('ep', id), 'v2', `${id} was claimed for the new version`);
  }
  assert.equal(replacedDone, false, 'serve() waits for the old version\'s calls in flight');
  assert.equal((await f.queue.get('ep', 'a1'))?.state, 'running');
  assert.equal(v1.model.snapshot().inFlight, 2, 'the old model still has its two calls');

  open('g1');
  await replaced;
  await finishedAll(['a1', 'a2']);
  for (const id of ['a1', 'a2']) {
    assert.equal((await f.queue.get('ep', id))?.state, 'succeeded', `${id} finished on the old version`);
    assert.equal(await output('ep', id), 'y'.repeat(1024), `${id}'s output was written`);
  }
  assert.equal(v1.model.snapshot().inFlight, 0);

  await enqueue('ep', 'c1', 'mode=inspect');
  await finishedAll(['c1']);
  assert.equal(await answeredBy('ep', 'c1'), 'v2');
  assert.equal(v1.log.lines.filter((l) => /inference-id=(b|c)\d/.test(l)).length, 0, 'the old model never saw a later job');
});

test('retire: stops claiming (queued jobs stay queued) while the jobs in flight finish', async () => {
  const v1 = await version('ep', 'v1');
  const pool = await startPool([v1]);
  await enqueue('ep', 'a1', 'mode=held-g2-1');
  await held(v1, 'a1');
  let retiredDone = false;
  const retired = pool.retire('ep', GRACE_MS).then(() => { retiredDone = true; });
  await enqueue('ep', 'q1', 'mode=inspect');
  await enqueue('ep', 'q2', 'mode=inspect');
  assert.equal(retiredDone, false);
  assert.equal((await f.queue.get('ep', 'q1'))?.state, 'queued');
  open('g2');
  await retired;
  await finishedAll(['a1']);
  assert.equal((await f.queue.get('ep', 'a1'))?.state, 'succeeded');
  assert.equal(await output('ep', 'a1'), 'y'.repeat(1024));
  assert.deepEqual([(await f.queue.get('ep', 'q1'))?.state, (await f.queue.get('ep', 'q2'))?.state], ['queued', 'queued']);
  assert.equal((await f.queue.stats('ep', systemClock.now())).queued, 2);
  await pool.retire('ep', GRACE_MS); // retiring again (or an endpoint not served) resolves at once
  await pool.retire('never-served', GRACE_MS);
});

test('serve: an endpoint added after start is claimed for; serving it again with nothing in flight resolves at once', async () => {
  const ep = await version('ep', 'v1');
  const pool = await startPool([ep]);
  await enqueue('late', 'l1', 'mode=inspect');
  const late = await version('late', 'late-v1');
  await pool.serve(late, GRACE_MS);
  await enqueue('late', 'l2', 'mode=inspect');
  await finishedAll(['l1', 'l2']);
  assert.equal(await answeredBy('late', 'l1'), 'late-v1', 'a job queued before the endpoint was served');
  assert.equal(await answeredBy('late', 'l2'), 'late-v1');
  const again = await version('late', 'late-v2');
  await pool.serve(again, GRACE_MS);
  await enqueue('late', 'l3', 'mode=inspect');
  await finishedAll(['l3']);
  assert.equal(await answeredBy('late', 'l3'), 'late-v2');
});

test('retire while a claim is in flight: the claimed job is not run by the retired version after retire() resolved', async () => {
  const v1 = await version('ep', 'v1');
  const pool = await startPool([v1]);
  let retiredAt: number | undefined;
  // Registered after the dispatcher's listener, so it runs just after that one sent its claim.
  const retiring = new Promise<void>((resolve) => {
    const off = f.queue.onAvailable((endpoint) => {
      if (endpoint !== 'ep') return;
      off();
      resolve(pool.retire('ep', GRACE_MS).then(() => { retiredAt = f.finished.size; }));
    });
  });
  await enqueue('ep', 'r1', 'mode=inspect');
  await retiring;
  const state = (await f.queue.get('ep', 'r1'))?.state;
  assert.equal(v1.model.snapshot().inFlight, 0, 'nothing runs on the retired model once retire() resolved');
  assert.ok(state === 'queued' || (state === 'succeeded' && retiredAt === 1), `r1 is ${state} after retire() resolved: either never claimed, or claimed and finished before`);
});
