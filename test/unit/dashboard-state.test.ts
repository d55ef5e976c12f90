/**
 * The dashboard's in-memory state with a settable clock: sessions expire after 12 hours and are
 * found only by their cookie; the failed-sign-in limit opens again after a minute; the activity
 * history keeps 15 minutes of samples (oldest dropped first) and counts the last minute only.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { ActivityHistory, HISTORY_WINDOW_MS, SAMPLE_INTERVAL_MS, SESSION_TTL_MS, SessionStore } from '../../src/ui/index.js';
import { silentLogger } from '../../src/util/index.js';

function clock(start = 1_700_000_000_000): { now: () => number; t: number } {
  const c = { t: start, now: () => c.t };
  return c;
}

function withCookie(cookie: string, csrf?: string): IncomingMessage {
  return { headers: { cookie, ...(csrf !== undefined ? { 'x-csrf-token': csrf } : {}) } } as unknown as IncomingMessage;
}

const credentials = { secretFor: (id: string) => (id === 'AKID' ? 'SECRET' : undefined) };

test('a session is found by its cookie until it expires 12 hours later; CSRF is checked for state changes', () => {
  const c = clock();
  const store = new SessionStore(credentials, c);
  const s = store.signIn('AKID', 'SECRET', '127.0.0.1');
  const cookie = SessionStore.cookieFor(s).split(';')[0]!;
  assert.equal(store.find(withCookie(`other=1; ${cookie}`))?.id, s.id);
  assert.equal(store.require(withCookie(cookie, s.csrfToken), true).id, s.id);
  assert.throws(() => store.require(withCookie(cookie), true), { code: 'CsrfTokenInvalid' });
  assert.throws(() => store.require(withCookie(cookie, 'nope'), true), { code: 'CsrfTokenInvalid' });
  c.t += SESSION_TTL_MS - 1;
  assert.ok(store.find(withCookie(cookie)));
  c.t += 1;
  assert.equal(store.find(withCookie(cookie)), undefined);
  assert.throws(() => store.require(withCookie(cookie), false), { code: 'SessionRequired' });
});

test('unknown key ids and wrong secrets fail alike; ten failures lock the address for a minute, others are unaffected', () => {
  const c = clock();
  const store = new SessionStore(credentials, c);
  assert.throws(() => store.signIn('NOPE', 'SECRET', 'a'), { code: 'SessionRequired' });
  for (let i = 0; i < 9; i++) assert.throws(() => store.signIn('AKID', 'wrong', 'a'), { code: 'SessionRequired' });
  assert.throws(() => store.signIn('AKID', 'SECRET', 'a'), { code: 'TooManySignIns' });
  assert.ok(store.signIn('AKID', 'SECRET', 'b'));
  c.t += 60_000;
  assert.ok(store.signIn('AKID', 'SECRET', 'a'));
});

test('the history keeps 15 minutes of samples, oldest first, and counts finished requests of the last minute', async () => {
  const c = clock();
  let queued = 0;
  const status = () => Promise.resolve([{ EndpointName: 'e', EndpointStatus: 'InService' as const, Backlog: { Queued: queued, Running: 1 } }]);
  const history = new ActivityHistory(status, c, silentLogger);
  const capacity = HISTORY_WINDOW_MS / SAMPLE_INTERVAL_MS;
  for (let i = 0; i < capacity + 5; i++) {
    queued = i;
    if (i % 2 === 0) history.finished('e', true);
    else history.finished('e', false);
    await history.sample();
    c.t += SAMPLE_INTERVAL_MS;
  }
  const series = history.series()['e']!;
  assert.equal(series.t.length, capacity);
  assert.equal(series.backlog[0], 5 + 1, 'the five oldest samples were dropped');
  assert.equal(series.backlog[capacity - 1], capacity + 4 + 1);
  assert.ok(series.t.every((t, i) => i === 0 || t > series.t[i - 1]!), 'oldest first');
  assert.equal(series.completed.reduce((a, b) => a + b, 0) + series.failed.reduce((a, b) => a + b, 0), capacity);
  // The last 60 s hold 20 samples' worth of finishes (one per sample, alternating).
  const perMinute = history.perMinute('e');
  assert.equal(perMinute.completed + perMinute.failed, 60_000 / SAMPLE_INTERVAL_MS);
  assert.deepEqual(history.perMinute('unknown'), { completed: 0, failed: 0 });
});
