/** The choice of a worker for one forwarded call: least loaded among the routes with capacity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRoute, type RouteChoice } from '../../src/forward/index.js';

function route(owner: string, capacity: number, inFlight: number, sent = 0): RouteChoice {
  return { owner, url: `http://${owner}:1`, capacity, inFlight, sent };
}

test('the least-loaded route with capacity is chosen, counting the calls this process sent since', () => {
  assert.equal(chooseRoute([]), undefined);
  assert.equal(chooseRoute([route('a', 0, 0)]), undefined, 'no capacity: nobody serves');
  assert.equal(chooseRoute([route('a', 4, 3), route('b', 4, 1)])?.owner, 'b');
  assert.equal(chooseRoute([route('a', 4, 0, 3), route('b', 4, 1)])?.owner, 'b', 'own calls in flight count');
  assert.equal(chooseRoute([route('a', 8, 4), route('b', 2, 1), route('c', 0, 0)])?.owner, 'a', 'load is relative to capacity (first of equals)');
  assert.equal(chooseRoute([route('a', 1, 5), route('b', 64, 60)])?.owner, 'b');
});
