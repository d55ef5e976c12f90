/**
 * The model instance pool with real fixture processes: cold start from zero and scale to zero,
 * scale-out one instance at a time and scale-in to min, least-loaded routing with in-flight
 * counting, a killed instance, stop(), and the single-instance wrapper for url models. Waits on
 * the pool's change and health events, not sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import {
  createCommandModelClient, createHttpModelClient, createModelPool, createSingleModel, waitForHealthy,
  type ModelHealth, type ModelPool, type PoolInstanceLimits,
} from '../../src/models/index.js';
import { silentLogger } from '../../src/util/index.js';
import { FIXTURE_COMMAND, ROOT, call, readAll, recordingLogger, startFixture, type RecordingLogger } from './helpers.js';
import { alive } from '../helpers/process.js';

const IDLE_MS = 300;

function fixturePool(limits: Partial<PoolInstanceLimits>, logger: RecordingLogger = recordingLogger(), perInstanceConcurrency = 2): ModelPool {
  return createModelPool({
    name: 'fixture',
    perInstanceConcurrency,
    instances: { min: 1, max: 1, targetBacklogPerInstance: 5, idleTimeoutMs: IDLE_MS, ...limits },
    logger,
    scaleCheckIntervalMs: 50,
    createInstance: (index) => createCommandModelClient({
      name: `fixture#${index}`,
      command: FIXTURE_COMMAND,
      env: {},
      baseEnv: process.env,
      cwd: ROOT,
      logger: silentLogger,
      pingIntervalMs: 100,
      pingTimeoutMs: 500,
      stopGraceMs: 3000,
      restartBackoffMs: { initial: 50, max: 500 },
    }),
  });
}

/** Resolves once `predicate()` holds, re-checking on every pool change and health event. */
function waitFor(pool: ModelPool, predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      offChange();
      offHealth();
    };
    const check = (): void => {
      if (predicate()) {
        cleanup();
        resolve();
      }
    };
    const offChange = pool.onChange(check);
    const offHealth = pool.onHealthChange(check);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(pool.snapshot())} ${JSON.stringify(pool.instances())}`));
    }, timeoutMs);
  });
}


function pids(pool: ModelPool): number[] {
  return pool.instances().map((i) => i.pid).filter((p): p is number => p !== undefined);
}

async function inspectPid(pool: ModelPool): Promise<number> {
  const res = await pool.invoke(call('', { customAttributes: 'mode=inspect' }));
  assert.equal(res.status, 200);
  return (JSON.parse((await readAll(res.body)).toString()) as { pid: number }).pid;
}

test('min 0: no process until demand, cold start at once, then scale to zero after the idle timeout', async (t) => {
  const logger = recordingLogger();
  const pool = fixturePool({ min: 0, max: 1, idleTimeoutMs: IDLE_MS }, logger);
  const seen: ModelHealth[] = [];
  pool.onHealthChange((h) => seen.push(h));
  await pool.start();
  const started: number[] = [];
  try {
    assert.equal(pool.health(), 'stopped');
    assert.equal(pool.capacity(), 0);
    assert.deepEqual(pool.instances(), []);
    await assert.rejects(pool.invoke(call('x')), { name: 'ModelCallError', failure: 'unreachable' });

    const coldStart = performance.now();
    pool.reportDemand(1);
    assert.equal(pool.snapshot().instances, 1, 'the first instance starts synchronously on demand');
    assert.equal(pool.health(), 'starting');
    await waitFor(pool, () => pool.health() === 'healthy', 'cold start');
    t.diagnostic(`cold start from zero to healthy: ${Math.round(performance.now() - coldStart)} ms`);
    assert.match(logger.lines.join('\n'), /info cold start from zero \{"instances":1,"backlog":1\}/);
    assert.equal(pool.capacity(), 2);
    const pid = await inspectPid(pool);
    started.push(pid);
    assert.deepEqual(pids(pool), [pid]);

    const lastCallEnded = performance.now();
    pool.reportDemand(0);
    await waitFor(pool, () => pool.health() === 'stopped', 'scale to zero');
    assert.ok(performance.now() - lastCallEnded >= IDLE_MS - 10, 'not stopped before the idle timeout');
    assert.equal(pool.capacity(), 0);
    assert.deepEqual(pool.snapshot(), { instances: 0, healthy: 0, starting: 0, inFlight: 0, waiting: 0, min: 0, max: 1 });
    assert.match(logger.lines.join('\n'), /info scaled to zero \{"instances":0,"backlog":0/);
    assert.deepEqual(seen, ['starting', 'healthy', 'stopped']);
  } finally {
    await pool.stop();
  }
  assert.equal(alive(started[0]!), false);
});

test('scales out one instance at a time up to max under backlog, then back to min when idle; stop() ends every process', async () => {
  const logger = recordingLogger();
  const pool = fixturePool({ min: 1, max: 3, targetBacklogPerInstance: 2 }, logger);
  await pool.start();
  const all = new Set<number>();
  try {
    await waitFor(pool, () => pool.snapshot().healthy === 1, 'min instance healthy');
    let mostStarting = 0;
    const counts: number[] = [];
    const off = pool.onChange(() => {
      const s = pool.snapshot();
      mostStarting = Math.max(mostStarting, s.instances - s.healthy);
      if (counts.at(-1) !== s.instances) counts.push(s.instances);
      for (const pid of pids(pool)) all.add(pid);
    });
    pool.reportDemand(10);
    await waitFor(pool, () => pool.snapshot().healthy === 3, 'three healthy instances');
    off();
    assert.equal(mostStarting, 1, 'never more than one instance starting at a time');
    assert.deepEqual(counts, [1, 2, 3]);
    assert.equal(pool.capacity(), 6);
    const out = logger.lines.filter((l) => l.includes('scaled out'));
    assert.deepEqual(out, ['info scaled out {"instances":2,"backlog":10}', 'info scaled out {"instances":3,"backlog":10}']);

    pool.reportDemand(10); // at max: nothing more
    assert.equal(pool.snapshot().instances, 3);
    pool.reportDemand(0);
    await waitFor(pool, () => pool.snapshot().instances === 1, 'back to min');
    assert.equal(logger.lines.filter((l) => l.includes('scaled in')).length, 2);
    assert.equal(pool.instances()[0]?.index, 2, 'the least recently used instances went first');
    assert.equal(pool.health(), 'healthy');
    assert.equal(pool.capacity(), 2);
  } finally {
    await pool.stop();
  }
  assert.equal(all.size, 3);
  for (const pid of all) assert.equal(alive(pid), false, `pid ${pid} still running`);
  assert.equal(pool.health(), 'stopped');
  assert.equal(pool.capacity(), 0);
  pool.reportDemand(5);
  assert.deepEqual(pool.instances(), [], 'nothing starts after stop()');
  await assert.rejects(pool.invoke(call('x')), { name: 'ModelCallError', failure: 'unreachable' });
});

test('routes to the least-loaded healthy instance and counts a call until its body ends (or it arrived whole)', async () => {
  const pool = fixturePool({ min: 2, max: 2 });
  await pool.start();
  try {
    await waitFor(pool, () => pool.snapshot().healthy === 2, 'two healthy instances');
    assert.equal(pool.capacity(), 4);
    const both = await Promise.all([inspectPid(pool), inspectPid(pool)]);
    assert.notEqual(both[0], both[1]);
    assert.deepEqual([...both].sort(), [...pids(pool)].sort());

    // Streamed answers (the second part follows 300 ms after the head) stay in flight until their bodies end.
    const slow = [pool.invoke(call('', { customAttributes: 'mode=stream-2-300' })), pool.invoke(call('', { customAttributes: 'mode=stream-2-300' }))];
    assert.deepEqual(pool.instances().map((i) => i.inFlight), [1, 1]);
    assert.equal(pool.snapshot().inFlight, 2);
    const responses = await Promise.all(slow);
    assert.equal(pool.snapshot().inFlight, 2, 'still in flight until the bodies are read');
    const third = pool.invoke(call('', { customAttributes: 'mode=sleep-10' }));
    assert.equal(Math.max(...pool.instances().map((i) => i.inFlight)), 2);
    for (const res of responses) assert.equal((await readAll(res.body)).toString(), 'part-1\npart-2\n');
    // A small answer arrives whole with its head: the call is over as soon as it resolves.
    const whole = await third;
    assert.deepEqual(JSON.parse(whole.whole?.toString() ?? ''), { slept: 10 });
    assert.equal(pool.snapshot().inFlight, 0);
    whole.body.destroy();
  } finally {
    await pool.stop();
  }
});

test('a killed instance is restarted by its client while calls go to the healthy one', async () => {
  const pool = fixturePool({ min: 2, max: 2 });
  const seen: ModelHealth[] = [];
  await pool.start();
  try {
    await waitFor(pool, () => pool.snapshot().healthy === 2, 'two healthy instances');
    pool.onHealthChange((h) => seen.push(h));
    const [victim, survivor] = pool.instances();
    process.kill(victim!.pid!, 'SIGKILL');
    await waitFor(pool, () => pool.instances()[0]?.health !== 'healthy', 'killed instance not healthy');
    assert.equal(pool.health(), 'healthy');
    assert.equal(pool.capacity(), 2);
    assert.notEqual(pool.instances()[0]?.health, 'healthy');
    // All three are routed synchronously now, before the killed instance can come back.
    assert.deepEqual(await Promise.all([inspectPid(pool), inspectPid(pool), inspectPid(pool)]), [survivor!.pid, survivor!.pid, survivor!.pid]);
    await waitFor(pool, () => pool.snapshot().healthy === 2, 'killed instance back');
    const restarted = pool.instances()[0]!;
    assert.equal(restarted.index, victim!.index);
    assert.notEqual(restarted.pid, victim!.pid);
    assert.equal(pool.capacity(), 4);
    assert.deepEqual(seen, [], 'the pool stayed healthy');
  } finally {
    await pool.stop();
  }
});

test('with a single instance, the pool goes unhealthy while it restarts, then healthy', async () => {
  const pool = fixturePool({ min: 1, max: 1 });
  const seen: ModelHealth[] = [];
  await pool.start();
  try {
    await waitFor(pool, () => pool.health() === 'healthy', 'healthy');
    pool.onHealthChange((h) => seen.push(h));
    const first = pids(pool)[0]!;
    process.kill(first, 'SIGKILL');
    await waitFor(pool, () => pool.health() === 'unhealthy', 'unhealthy');
    assert.equal(pool.capacity(), 0);
    await assert.rejects(pool.invoke(call('x')), { name: 'ModelCallError', failure: 'unreachable' });
    await waitFor(pool, () => pool.health() === 'healthy', 'healthy again');
    assert.deepEqual(seen, ['unhealthy', 'starting', 'healthy']);
    assert.notEqual(await inspectPid(pool), first);
  } finally {
    await pool.stop();
  }
});

test('createModelPool rejects invalid settings', () => {
  assert.throws(() => fixturePool({ min: 2, max: 1 }), RangeError);
  assert.throws(() => fixturePool({ max: 0, min: 0 }), RangeError);
  assert.throws(() => fixturePool({}, recordingLogger(), 0), RangeError);
});

test('createSingleModel: one url model with capacity while healthy and in-flight counting', async () => {
  const fixture = await startFixture();
  const model = createSingleModel(createHttpModelClient({ baseUrl: fixture.url, logger: silentLogger, pingIntervalMs: 100 }), 3);
  try {
    assert.equal(model.capacity(), 0);
    await model.start();
    assert.equal(await waitForHealthy(model, 10_000), true);
    assert.equal(model.capacity(), 3);
    model.reportDemand(7);
    const res = await model.invoke(call('hi', { customAttributes: 'mode=chunked' }));
    assert.deepEqual(model.snapshot(), { instances: 1, healthy: 1, starting: 0, inFlight: 1, waiting: 7, min: 1, max: 1 });
    assert.equal((await readAll(res.body)).toString(), 'chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n');
    assert.equal(model.snapshot().inFlight, 0);
    const small = await model.invoke(call('hi'));
    assert.equal(small.whole?.toString(), 'hi', 'a small answer arrives whole');
    assert.equal(model.snapshot().inFlight, 0);
    assert.equal((await readAll(small.body)).toString(), 'hi');
    await assert.rejects(model.invoke(call('', { customAttributes: 'mode=crash' })), { name: 'ModelCallError' });
    assert.equal(model.snapshot().inFlight, 0);
  } finally {
    await model.stop();
    await fixture.kill();
  }
  assert.equal(model.health(), 'stopped');
  assert.equal(model.capacity(), 0);
  assert.equal(model.snapshot().instances, 0);
});

/** Resolves once `predicate()` holds, checked every 20 ms (for facts no pool event announces, such as a process gone). */
async function eventually(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const LIMITS: PoolInstanceLimits = { min: 1, max: 1, targetBacklogPerInstance: 5, idleTimeoutMs: 60_000 };

test('setLimits before start only records the limits; start() then starts the new min', async () => {
  const pool = fixturePool({ min: 0, max: 1 });
  try {
    pool.setLimits?.({ ...LIMITS, min: 2, max: 3 });
    assert.deepEqual(pool.instances(), [], 'nothing starts before start()');
    assert.deepEqual([pool.snapshot().min, pool.snapshot().max], [2, 3]);
    await pool.start();
    assert.equal(pool.instances().length, 2, 'start() starts the recorded min at once');
    await waitFor(pool, () => pool.snapshot().healthy === 2, 'two healthy instances');
  } finally {
    await pool.stop();
  }
});

test('setLimits raising min starts the missing instances at once', async () => {
  const logger = recordingLogger();
  const pool = fixturePool({ min: 1, max: 3, idleTimeoutMs: 60_000 }, logger);
  await pool.start();
  try {
    await waitFor(pool, () => pool.snapshot().healthy === 1, 'min instance healthy');
    const first = pids(pool)[0];
    pool.setLimits?.({ ...LIMITS, min: 3, max: 3 });
    assert.equal(pool.instances().length, 3, 'added synchronously, not one at a time under backlog');
    assert.deepEqual([pool.snapshot().min, pool.snapshot().max], [3, 3]);
    assert.match(logger.lines.join('\n'), /info scaling limits changed \{"min":3,"max":3,"instances":3\}/);
    await waitFor(pool, () => pool.snapshot().healthy === 3, 'three healthy instances');
    assert.equal(pids(pool)[0], first, 'the running instance is kept');
    assert.equal(pool.capacity(), 6);
  } finally {
    await pool.stop();
  }
});

test('setLimits lowering max stops the idle instances above it at once; a busy one keeps its call', async () => {
  const pool = fixturePool({ min: 3, max: 3, idleTimeoutMs: 60_000 });
  await pool.start();
  try {
    await waitFor(pool, () => pool.snapshot().healthy === 3, 'three healthy instances');
    const before = pool.instances();
    const busy = pool.invoke(call('', { customAttributes: 'mode=sleep-500' }));
    const busyIndex = pool.instances().find((i) => i.inFlight === 1)?.index;
    assert.notEqual(busyIndex, undefined);
    pool.setLimits?.({ ...LIMITS, min: 1, max: 1 });
    assert.deepEqual(pool.instances().map((i) => i.index), [busyIndex], 'the idle ones are out of routing at once');
    const res = await busy;
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse((await readAll(res.body)).toString()), { slept: 500 });
    const stopped = before.filter((i) => i.index !== busyIndex).map((i) => i.pid!);
    await eventually(() => stopped.every((pid) => !alive(pid)), 'the idle instances above max to exit');
    assert.equal(pool.snapshot().instances, 1);
    assert.equal(pool.capacity(), 2);
  } finally {
    await pool.stop();
  }
});

test('setLimits refuses invalid limits with a RangeError and keeps the old ones', async () => {
  const pool = fixturePool({ min: 0, max: 2 });
  await pool.start();
  try {
    for (const bad of [{ min: 2, max: 1 }, { min: 0, max: 0 }, { min: -1, max: 1 }, { min: 0.5, max: 1 }, { targetBacklogPerInstance: 0 }, { idleTimeoutMs: -1 }]) {
      assert.throws(() => pool.setLimits?.({ ...LIMITS, ...bad }), RangeError, JSON.stringify(bad));
    }
    assert.deepEqual([pool.snapshot().min, pool.snapshot().max], [0, 2]);
    assert.deepEqual(pool.instances(), [], 'nothing was started');
  } finally {
    await pool.stop();
  }
});
