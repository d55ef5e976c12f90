/**
 * Backend-neutral behaviour suite of the request-lifecycle port methods (issue 13): retryLater,
 * cancel, cancelRequested, rerun and list. Explicit `now` values, no sleeps.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { JobQueue } from '../../src/queue/index.js';
import type { OpenQueue } from './behaviour.js';
import { newJob } from './helpers.js';

const T0 = 1_000;
const LEASE = 10_000;

/** Registers the lifecycle behaviour suite for one backend. */
export function describeLifecycleBehaviour(name: string, open: OpenQueue): void {
  void describe(`JobQueue lifecycle behaviour: ${name}`, () => {
    let opened: Awaited<ReturnType<OpenQueue>>;
    let queue: JobQueue;
    beforeEach(async () => {
      opened = await open();
      queue = opened.queue;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    void it('retryLater queues a leased job again, not claimable before notBefore, attempts kept', async () => {
      await queue.enqueue(newJob('ep', 'r1'));
      const [job] = await queue.claim('ep', 'w1', 1, LEASE, T0);
      assert.ok(job);
      assert.equal(await queue.retryLater('w2', job.id, T0 + 5_000), false, 'another owner cannot');
      assert.equal(await queue.retryLater('w1', job.id, T0 + 5_000), true);
      const waiting = await queue.get('ep', 'r1');
      assert.equal(waiting?.state, 'queued');
      assert.equal(waiting?.notBefore, T0 + 5_000);
      assert.equal(waiting?.attempts, 1);
      assert.deepEqual(await queue.claim('ep', 'w1', 1, LEASE, T0 + 4_999), []);
      const [again] = await queue.claim('ep', 'w1', 1, LEASE, T0 + 5_000);
      assert.equal(again?.inferenceId, 'r1');
      assert.equal(again?.attempts, 2);
      assert.equal(again?.notBefore, undefined);
      assert.equal(await queue.retryLater('w1', job.id, T0), true);
      assert.equal(await queue.finish('w1', job.id, { state: 'failed', failureReason: 'x' }, T0), false, 'no longer leased');
    });

    void it('cancel leases a queued job to the canceller; it is never claimed, and finishes cancelled', async () => {
      await queue.enqueue(newJob('ep', 'c1'));
      await queue.enqueue(newJob('ep', 'c2'));
      const result = await queue.cancel('ep', 'c1', 'api', LEASE, T0);
      assert.equal(result?.outcome, 'leased');
      assert.equal(result?.job.cancelRequested, true);
      const claimed = await queue.claim('ep', 'w1', 10, LEASE, T0);
      assert.deepEqual(claimed.map((j) => j.inferenceId), ['c2']);
      assert.ok(result);
      assert.equal(await queue.finish('api', result.job.id, { state: 'cancelled', failureReason: 'Cancelled: by request' }, T0 + 1), true);
      const done = await queue.get('ep', 'c1');
      assert.equal(done?.state, 'cancelled');
      assert.equal(done?.failureReason, 'Cancelled: by request');
      assert.equal((await queue.cancel('ep', 'c1', 'api', LEASE, T0))?.outcome, 'finished');
      assert.equal(await queue.cancel('ep', 'missing', 'api', LEASE, T0), undefined);
    });

    void it('a canceller that dies leaves the job to the next claimer, flagged', async () => {
      await queue.enqueue(newJob('ep', 'c3'));
      await queue.cancel('ep', 'c3', 'api', LEASE, T0);
      const [job] = await queue.claim('ep', 'w1', 1, LEASE, T0 + LEASE);
      assert.equal(job?.inferenceId, 'c3');
      assert.equal(job?.cancelRequested, true);
    });

    void it('cancel of a running job flags it for its worker (cancelRequested)', async () => {
      await queue.enqueue(newJob('ep', 'c4'));
      await queue.enqueue(newJob('ep', 'c5'));
      const jobs = await queue.claim('ep', 'w1', 2, LEASE, T0);
      assert.deepEqual(await queue.cancelRequested(jobs.map((j) => j.id)), []);
      const result = await queue.cancel('ep', 'c4', 'api', LEASE, T0);
      assert.equal(result?.outcome, 'requested');
      assert.equal(result?.job.state, 'running');
      assert.deepEqual(await queue.cancelRequested([...jobs.map((j) => j.id), 'bogus']), [jobs[0]?.id]);
      assert.deepEqual(await queue.renew('w1', jobs.map((j) => j.id), LEASE, T0 + 1), [], 'the worker keeps its lease');
      assert.equal(await queue.finish('w1', jobs[0]!.id, { state: 'cancelled', failureReason: 'Cancelled' }, T0 + 2), true);
      assert.equal((await queue.get('ep', 'c4'))?.state, 'cancelled');
    });

    void it('rerun resets failed, expired and cancelled jobs and refuses the others', async () => {
      await queue.enqueue(newJob('ep', 'f1'));
      await queue.enqueue(newJob('ep', 'ok'));
      await queue.enqueue(newJob('ep', 'q'));
      const [f1, ok] = await queue.claim('ep', 'w1', 2, LEASE, T0);
      await queue.finishMany('w1', [{ id: f1!.id, outcome: { state: 'failed', failureReason: 'boom' } }, { id: ok!.id, outcome: { state: 'succeeded' } }], T0 + 1);
      assert.equal((await queue.rerun('ep', 'ok', 'api', LEASE, T0, T0 + 99))?.outcome, 'refused');
      assert.equal((await queue.rerun('ep', 'q', 'api', LEASE, T0, T0 + 99))?.outcome, 'refused');
      assert.equal(await queue.rerun('ep', 'missing', 'api', LEASE, T0, T0 + 99), undefined);
      const result = await queue.rerun('ep', 'f1', 'api', LEASE, T0 + 2, T0 + 1_000_000);
      assert.equal(result?.outcome, 'leased');
      assert.equal(result?.job.state, 'running');
      assert.equal(result?.job.failureReason, undefined);
      assert.equal(result?.job.finishedAt, undefined);
      assert.equal(result?.job.expiresAt, T0 + 1_000_000);
      assert.equal(result?.job.id, f1!.id, 'same job, same id');
      await queue.release('api', f1!.id);
      const queued = await queue.get('ep', 'f1');
      assert.equal(queued?.state, 'queued');
      assert.equal(queued?.attempts, 0);
      const [again] = await queue.claim('ep', 'w1', 1, LEASE, T0 + 3);
      assert.equal(again?.inferenceId, 'f1');
      assert.equal(again?.attempts, 1);
    });

    void it('lists newest first, by state, a page at a time, stable under inserts', async () => {
      for (let i = 0; i < 25; i++) await queue.enqueue(newJob('ep', `l${i}`));
      await queue.enqueue(newJob('other', 'x'));
      const claimed = await queue.claim('ep', 'w1', 5, LEASE, T0);
      await queue.finishMany('w1', claimed.map((j) => ({ id: j.id, outcome: { state: 'failed' as const, failureReason: 'x' } })), T0 + 1);
      const seen: string[] = [];
      let before: string | undefined;
      for (let page = 0; ; page++) {
        const result = await queue.list('ep', { limit: 10, ...(before !== undefined ? { before } : {}) });
        seen.push(...result.jobs.map((j) => j.inferenceId));
        if (page === 0) await queue.enqueue(newJob('ep', 'late'));
        if (result.next === undefined) break;
        before = result.next;
      }
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `l${24 - i}`));
      const failed = await queue.list('ep', { state: 'failed', limit: 3 });
      assert.deepEqual(failed.jobs.map((j) => j.inferenceId), ['l4', 'l3', 'l2']);
      assert.ok(failed.next);
      const rest = await queue.list('ep', { state: 'failed', limit: 3, before: failed.next });
      assert.deepEqual(rest.jobs.map((j) => j.inferenceId), ['l1', 'l0']);
      assert.equal(rest.next, undefined);
      assert.deepEqual((await queue.list('ep', { state: 'cancelled', limit: 10 })).jobs, []);
      assert.deepEqual((await queue.list('nothing', { limit: 10 })).jobs, []);
    });
  });
}
