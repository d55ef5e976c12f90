/**
 * Backend-neutral behaviour of the notification outbox (part of the JobQueue behaviour suite):
 * notifications recorded with the terminal state only when the outcome is, claimed with a lease
 * by one owner at a time, settled as delivered / retried / given up, and visible per request.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { JobQueue, NewNotification } from '../../src/queue/index.js';
import { newJob } from './helpers.js';

const T0 = 1_000;

function note(topic: string, text = 'm'): NewNotification {
  return { topic, message: JSON.stringify({ text }), bodyFrom: { bucket: 'out', key: 'k.out' } };
}

async function runningJob(queue: JobQueue, endpoint: string, id: string, owner = 'w1'): Promise<string> {
  await queue.enqueue(newJob(endpoint, id));
  const [job] = await queue.claim(endpoint, owner, 1, 1_000, T0);
  assert.ok(job);
  return job.id;
}

/** Registers the outbox tests on the queue `get` returns. */
export function registerOutboxTests(get: () => JobQueue): void {
  void it('records a notification with the terminal state, in the same call, only when the lease is held', async () => {
    const queue = get();
    const a = await runningJob(queue, 'ep', 'a');
    const b = await runningJob(queue, 'ep', 'b');
    assert.deepEqual(await queue.finishMany('w1', [
      { id: a, outcome: { state: 'succeeded' }, notification: note('hooks', 'a') },
      { id: b, outcome: { state: 'failed', failureReason: 'boom' }, notification: { topic: 'errors', message: '{"b":1}' } },
    ], T0 + 10), [true, true]);
    const c = await runningJob(queue, 'ep', 'c');
    assert.equal(await queue.finish('w-other', c, { state: 'succeeded' }, T0 + 10, note('hooks', 'c')), false);
    assert.equal(await queue.notificationOf('ep', 'c'), undefined);
    const entry = await queue.notificationOf('ep', 'a');
    assert.deepEqual(entry && { ...entry, id: undefined }, {
      id: undefined, endpoint: 'ep', inferenceId: 'a', topic: 'hooks', message: '{"text":"a"}', bodyFrom: { bucket: 'out', key: 'k.out' },
      state: 'pending', attempts: 0, createdAt: T0 + 10,
    });
    const failed = await queue.notificationOf('ep', 'b');
    assert.equal(failed?.topic, 'errors');
    assert.equal(failed?.bodyFrom, undefined);
  });

  void it('leases due entries to one owner; an unsettled lease runs out and the entry is claimed again', async () => {
    const queue = get();
    const a = await runningJob(queue, 'ep', 'a');
    await queue.finish('w1', a, { state: 'succeeded' }, T0, note('hooks'));
    const first = await queue.claimNotifications('d1', 10, 5_000, T0);
    assert.deepEqual(first.map((e) => e.inferenceId), ['a']);
    assert.deepEqual(await queue.claimNotifications('d2', 10, 5_000, T0 + 1), []);
    const again = await queue.claimNotifications('d2', 10, 5_000, T0 + 5_000);
    assert.deepEqual(again.map((e) => e.id), first.map((e) => e.id));
    assert.equal(await queue.settleNotification('d1', first[0]!.id, { state: 'delivered' }, T0 + 5_001), false);
    assert.equal(await queue.settleNotification('d2', first[0]!.id, { state: 'delivered' }, T0 + 5_001), true);
    assert.equal((await queue.notificationOf('ep', 'a'))?.state, 'delivered');
    assert.equal((await queue.notificationOf('ep', 'a'))?.attempts, 1);
    assert.deepEqual(await queue.claimNotifications('d3', 10, 5_000, T0 + 100_000), []);
  });

  void it('a retried entry is due again at retryAt; a given-up one keeps its error and is never claimed', async () => {
    const queue = get();
    const a = await runningJob(queue, 'ep', 'a');
    await queue.finish('w1', a, { state: 'failed', failureReason: 'x' }, T0, note('hooks'));
    const [entry] = await queue.claimNotifications('d1', 1, 60_000, T0);
    assert.ok(entry);
    assert.equal(await queue.settleNotification('d1', entry.id, { state: 'pending', retryAt: T0 + 2_000, error: 'HTTP 500' }, T0 + 1), true);
    assert.deepEqual(await queue.claimNotifications('d1', 1, 60_000, T0 + 1_999), []);
    const [retry] = await queue.claimNotifications('d1', 1, 60_000, T0 + 2_000);
    assert.equal(retry?.attempts, 1);
    assert.equal(retry?.lastError, 'HTTP 500');
    assert.equal(await queue.settleNotification('d1', entry.id, { state: 'failed', error: 'timeout' }, T0 + 2_001), true);
    const stored = await queue.notificationOf('ep', 'a');
    assert.deepEqual([stored?.state, stored?.attempts, stored?.lastError], ['failed', 2, 'timeout']);
    assert.deepEqual(await queue.claimNotifications('d1', 10, 60_000, T0 + 10_000_000), []);
  });

  void it('releaseOwner makes a dead owner\'s deliveries due at once', async () => {
    const queue = get();
    const a = await runningJob(queue, 'ep', 'a');
    await queue.finish('w1', a, { state: 'succeeded' }, T0, note('hooks'));
    assert.equal((await queue.claimNotifications('dead', 1, 60_000, T0)).length, 1);
    assert.deepEqual(await queue.claimNotifications('alive', 1, 60_000, T0 + 1), []);
    await queue.releaseOwner('dead');
    const [taken] = await queue.claimNotifications('alive', 1, 60_000, T0 + 2);
    assert.equal(taken?.inferenceId, 'a');
    assert.equal(taken?.attempts, 0);
  });

  void it('concurrent claimers never take the same entry', async () => {
    const queue = get();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await runningJob(queue, 'ep', `j${i}`));
    await queue.finishMany('w1', ids.map((id) => ({ id, outcome: { state: 'succeeded' as const }, notification: note('hooks') })), T0);
    const batches = await Promise.all(['d1', 'd2', 'd3', 'd4'].map((owner) => queue.claimNotifications(owner, 7, 10_000, T0)));
    const claimed = batches.flat().map((e) => e.id);
    assert.equal(claimed.length, 20);
    assert.equal(new Set(claimed).size, 20);
  });
}
