/** The choice of a worker for one forwarded call: least loaded among the routes with capacity; the route table's view of the registry. */
import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseRoute, RouteTable, type RouteChoice } from '../../src/forward/index.js';
import { openSqliteJobQueue } from '../../src/queue/index.js';
import { silentLogger } from '../../src/util/index.js';

function route(owner: string, capacity: number, inFlight: number, sent = 0): RouteChoice {
  return { owner, url: `http://${owner}:1`, capacity, inFlight, updatedAt: 0, sent };
}

test('the least-loaded route with capacity is chosen, counting the calls this process sent since', () => {
  assert.equal(chooseRoute([]), undefined);
  assert.equal(chooseRoute([route('a', 0, 0)]), undefined, 'no capacity: nobody serves');
  assert.equal(chooseRoute([route('a', 4, 3), route('b', 4, 1)])?.owner, 'b');
  assert.equal(chooseRoute([route('a', 4, 0, 3), route('b', 4, 1)])?.owner, 'b', 'own calls in flight count');
  assert.equal(chooseRoute([route('a', 8, 4), route('b', 2, 1), route('c', 0, 0)])?.owner, 'a', 'load is relative to capacity (first of equals)');
  assert.equal(chooseRoute([route('a', 1, 5), route('b', 64, 60)])?.owner, 'b');
});

void describe('RouteTable over a real registry (SQLite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-routes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('sums capacity, skips a refused route until it publishes again, and records demand only without capacity', async () => {
    const queue = openSqliteJobQueue({ file: join(dir, 'jobs.db') });
    let now = 10_000;
    const table = new RouteTable({ registry: queue, clock: { now: () => now }, logger: silentLogger, intervalMs: 1_000 });
    try {
      await queue.publishRoute({ owner: 'a', url: 'http://a:1', endpoints: [{ name: 'echo', capacity: 4, inFlight: 3 }], updatedAt: now });
      await queue.publishRoute({ owner: 'b', url: 'http://b:1', endpoints: [{ name: 'echo', capacity: 4, inFlight: 0 }, { name: 'cold', capacity: 0, inFlight: 0 }], updatedAt: now });
      await queue.publishRoute({ owner: 'old', url: 'http://old:1', endpoints: [{ name: 'echo', capacity: 64, inFlight: 0 }], updatedAt: now - 3_001 });
      await table.refresh();
      assert.equal(table.capacity('echo'), 8, 'a route older than 3 intervals is ignored');
      assert.equal(table.choose('echo')?.owner, 'b');
      table.markUnreachable('b');
      assert.equal(table.capacity('echo'), 4);
      assert.equal(table.choose('echo')?.owner, 'a');
      await table.refresh();
      assert.equal(table.choose('echo')?.owner, 'a', 'the same publication does not bring it back');
      now += 500;
      await queue.publishRoute({ owner: 'b', url: 'http://b:1', endpoints: [{ name: 'echo', capacity: 4, inFlight: 0 }], updatedAt: now });
      await table.refresh();
      assert.equal(table.choose('echo')?.owner, 'b', 'a newer publication does');

      table.reportDemand('echo', 2);
      table.reportDemand('cold', 3);
      table.reportDemand('cold', 5);
      await queue.publishRoute({ owner: 'a', url: 'http://a:1', endpoints: [], updatedAt: now });
      const deadline = Date.now() + 10_000;
      while ((await queue.demand(0)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await queue.demand(0), [{ endpoint: 'cold', waiting: 3, at: now }], 'one record per interval, none for an endpoint with capacity');
    } finally {
      table.stop();
      await queue.close();
    }
  });
});
