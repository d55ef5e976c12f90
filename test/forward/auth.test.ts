/**
 * The forwarding hop's signature: what it covers (method, path, endpoint, timestamp, key), the
 * timestamp window, and malformed headers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FORWARD_AUTH_WINDOW_MS, signForward, verifyForward } from '../../src/forward/index.js';

const KEY = 'a-shared-forward-secret';
const PATH = '/forward/echo/invocations';

test('a signature verifies for exactly what it signed', () => {
  const now = 1_700_000_000_000;
  const header = signForward(KEY, 'POST', PATH, 'echo', now);
  assert.match(header, /^t=1700000000000,s=[0-9a-f]{64}$/);
  assert.equal(verifyForward(KEY, header, 'POST', PATH, 'echo', now), true);
  assert.equal(verifyForward(KEY, header, 'POST', PATH, 'echo', now + FORWARD_AUTH_WINDOW_MS), true, 'at the edge of the window');
  assert.equal(verifyForward('another-secret-entirely', header, 'POST', PATH, 'echo', now), false, 'other key');
  assert.equal(verifyForward(KEY, header, 'GET', PATH, 'echo', now), false, 'other method');
  assert.equal(verifyForward(KEY, header, 'POST', '/forward/vad/invocations', 'echo', now), false, 'other path');
  assert.equal(verifyForward(KEY, header, 'POST', PATH, 'vad', now), false, 'other endpoint');
  assert.equal(verifyForward(KEY, header.replace('t=1700000000000', 't=1700000000001'), 'POST', PATH, 'echo', now), false, 'other timestamp');
});

test('old, future and malformed headers are refused', () => {
  const now = 1_700_000_000_000;
  assert.equal(verifyForward(KEY, signForward(KEY, 'POST', PATH, 'echo', now - FORWARD_AUTH_WINDOW_MS - 1), 'POST', PATH, 'echo', now), false);
  assert.equal(verifyForward(KEY, signForward(KEY, 'POST', PATH, 'echo', now + FORWARD_AUTH_WINDOW_MS + 1), 'POST', PATH, 'echo', now), false);
  for (const bad of [undefined, '', 't=1,s=zz', `t=${now},s=${'0'.repeat(63)}`, `s=${'0'.repeat(64)},t=${now}`, `t=${now},s=${'0'.repeat(64)} `]) {
    assert.equal(verifyForward(KEY, bad, 'POST', PATH, 'echo', now), false, String(bad));
  }
});
