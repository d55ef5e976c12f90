/**
 * Backend-neutral behaviour suite for the WorkerRegistry port (with the JobQueue it lives beside):
 * registration and heartbeats, dead workers of one host found by pid, and stale workers of any
 * host found by heartbeat age, whose leases a survivor releases. Explicit `now` values only.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { JobQueue, RouteRegistry, WorkerRegistry } from '../../src/queue/index.js';
import { newJob } from './helpers.js';

/** Opens a fresh, empty queue with its registry and returns a way to dispose of it. */
export type OpenRegistry = () => Promise<{ queue: JobQueue & WorkerRegistry & RouteRegistry; cleanup(): Promise<void> }>;

/** Registers the registry behaviour suite for one backend. */
export function describeWorkerRegistryBehaviour(name: string, open: OpenRegistry): void {
  void describe(`WorkerRegistry behaviour: ${name}`, () => {
    let opened: Awaited<ReturnType<OpenRegistry>>;
    let queue: JobQueue & WorkerRegistry & RouteRegistry;
    beforeEach(async () => {
      opened = await open();
      queue = opened.queue;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    void it('finds dead workers on this host and recovers their leases', async () => {
      await queue.registerWorker('alive', 100, 'host-a', 1_000);
      await queue.registerWorker('dead', 200, 'host-a', 1_000);
      await queue.registerWorker('elsewhere', 200, 'host-b', 1_000);
      for (const id of ['a', 'b', 'c']) await queue.enqueue(newJob('ep', id));
      await queue.claim('ep', 'dead', 2, 600_000, 2_000);
      await queue.claim('ep', 'alive', 1, 600_000, 2_000);
      const dead = await queue.deadWorkers('host-a', (pid) => pid === 100);
      assert.deepEqual(dead, ['dead']);
      for (const owner of dead) {
        assert.equal(await queue.releaseOwner(owner), 2);
        await queue.unregisterWorker(owner);
      }
      assert.deepEqual(await queue.deadWorkers('host-a', (pid) => pid === 100), []);
      assert.deepEqual(await queue.deadWorkers('host-b', () => false), ['elsewhere']);
      assert.equal(await queue.heartbeatWorker('alive', 3_000), true);
      assert.equal(await queue.heartbeatWorker('dead', 3_000), false);
      const reclaimed = await queue.claim('ep', 'new', 10, 600_000, 3_000);
      assert.deepEqual(reclaimed.map((job) => [job.inferenceId, job.attempts]), [['a', 2], ['b', 2]]);
    });

    void it('finds workers of any host whose heartbeat stopped, oldest first', async () => {
      await queue.registerWorker('w-old', 1, 'host-a', 1_000);
      await queue.registerWorker('w-older', 1, 'host-b', 500);
      await queue.registerWorker('w-live', 2, 'host-b', 1_000);
      assert.deepEqual(await queue.staleWorkers(500), []);
      assert.deepEqual(await queue.staleWorkers(1_001), ['w-older', 'w-live', 'w-old'], 'by heartbeat, then owner');
      assert.equal(await queue.heartbeatWorker('w-live', 5_000), true);
      assert.deepEqual(await queue.staleWorkers(4_000), ['w-older', 'w-old']);
      await queue.registerWorker('w-old', 3, 'host-c', 6_000); // re-registration refreshes the heartbeat
      assert.deepEqual(await queue.staleWorkers(5_500), ['w-older', 'w-live']);
      await queue.unregisterWorker('w-older');
      assert.deepEqual(await queue.staleWorkers(5_500), ['w-live']);
    });

    void it('lets a survivor release the leases of a worker whose heartbeat stopped', async () => {
      for (const id of ['x', 'y', 'z']) await queue.enqueue(newJob('ep', id));
      await queue.registerWorker('gone', 7, 'host-a', 1_000);
      await queue.registerWorker('survivor', 8, 'host-b', 1_000);
      assert.equal((await queue.claim('ep', 'gone', 2, 60_000, 1_500)).length, 2);
      await queue.heartbeatWorker('survivor', 20_000);
      for (const owner of await queue.staleWorkers(20_000 - 15_000)) {
        await queue.unregisterWorker(owner);
        assert.equal(await queue.releaseOwner(owner), 2);
      }
      assert.equal(await queue.heartbeatWorker('gone', 21_000), false, 'the reaped worker learns it was reaped');
      const taken = await queue.claim('ep', 'survivor', 10, 60_000, 20_001);
      assert.deepEqual(taken.map((job) => [job.inferenceId, job.attempts]), [['x', 2], ['y', 2], ['z', 1]]);
      assert.deepEqual(await queue.staleWorkers(20_000), []);
    });

    void it('publishes, refreshes and withdraws forwarding routes; only fresh ones are read', async () => {
      await queue.publishRoute({ owner: 'w1', url: 'http://10.0.0.1:9001', endpoints: [{ name: 'echo', capacity: 4, inFlight: 1 }], updatedAt: 1_000 });
      await queue.publishRoute({ owner: 'w2', url: 'http://10.0.0.2:9001', endpoints: [], updatedAt: 2_000 });
      assert.deepEqual(await queue.routes(0), [
        { owner: 'w1', url: 'http://10.0.0.1:9001', endpoints: [{ name: 'echo', capacity: 4, inFlight: 1 }], updatedAt: 1_000 },
        { owner: 'w2', url: 'http://10.0.0.2:9001', endpoints: [], updatedAt: 2_000 },
      ]);
      assert.deepEqual((await queue.routes(1_500)).map((r) => r.owner), ['w2'], 'a route not refreshed is stale');
      await queue.publishRoute({ owner: 'w1', url: 'http://10.0.0.9:9002', endpoints: [{ name: 'echo', capacity: 8, inFlight: 0 }, { name: 'vad', capacity: 0, inFlight: 0 }], updatedAt: 3_000 });
      const [w1] = await queue.routes(2_500);
      assert.deepEqual(w1, { owner: 'w1', url: 'http://10.0.0.9:9002', endpoints: [{ name: 'echo', capacity: 8, inFlight: 0 }, { name: 'vad', capacity: 0, inFlight: 0 }], updatedAt: 3_000 });
      await queue.withdrawRoute('w1');
      await queue.withdrawRoute('never-published');
      assert.deepEqual((await queue.routes(0)).map((r) => r.owner), ['w2']);
    });

    void it('records real-time demand per endpoint, keeping the largest recent count', async () => {
      assert.deepEqual(await queue.demand(0), []);
      await queue.recordDemand('echo', 3, 10_000);
      await queue.recordDemand('echo', 1, 10_500);
      await queue.recordDemand('vad', 2, 10_100);
      assert.deepEqual(await queue.demand(0), [{ endpoint: 'echo', waiting: 3, at: 10_500 }, { endpoint: 'vad', waiting: 2, at: 10_100 }]);
      assert.deepEqual(await queue.demand(10_200), [{ endpoint: 'echo', waiting: 3, at: 10_500 }]);
      await queue.recordDemand('echo', 1, 20_000);
      assert.deepEqual(await queue.demand(15_000), [{ endpoint: 'echo', waiting: 1, at: 20_000 }], 'an old count is replaced');
    });
  });
}
