/**
 * Backend-neutral behaviour suite for the JobQueue port. Every backend (SQLite now, BullMQ later)
 * must pass it; it uses only the port and the error catalogue, and explicit `now` values (no
 * sleeps, no wall clock).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isInferqError } from '../../src/errors/index.js';
import type { Job, JobOutcome, JobQueue } from '../../src/queue/index.js';
import { inline, newJob, rejectsWith } from './helpers.js';
import { registerOutboxTests } from './outbox-behaviour.js';

/** Opens a fresh, empty queue and returns a way to dispose of it. */
export type OpenQueue = () => Promise<{ queue: JobQueue; cleanup(): Promise<void> }>;

const T0 = 1_000;

function ids(jobs: readonly Job[]): string[] {
  return jobs.map((job) => job.inferenceId);
}

/** Registers the behaviour suite for one backend. */
export function describeJobQueueBehaviour(name: string, open: OpenQueue): void {
  void describe(`JobQueue behaviour: ${name}`, () => {
    let opened: Awaited<ReturnType<OpenQueue>>;
    let queue: JobQueue;
    beforeEach(async () => {
      opened = await open();
      queue = opened.queue;
    });
    afterEach(async () => {
      await opened.cleanup();
    });

    registerEnqueueTests(() => queue);
    registerLeaseTests(() => queue);
    registerLifecycleTests(() => queue);
    registerConcurrencyTests(() => queue);
    registerOutboxTests(() => queue);
  });
}

function registerEnqueueTests(get: () => JobQueue): void {
  void it('claims FIFO per endpoint and isolates endpoints', async () => {
    const queue = get();
    for (const id of ['a1', 'a2']) await queue.enqueue(newJob('ep-a', id));
    await Promise.all([queue.enqueue(newJob('ep-a', 'a3')), queue.enqueue(newJob('ep-b', 'b1')), queue.enqueue(newJob('ep-a', 'a4'))]);
    assert.deepEqual(ids(await queue.claim('ep-a', 'w1', 10, 1_000, T0)), ['a1', 'a2', 'a3', 'a4']);
    assert.deepEqual(await queue.claim('ep-a', 'w1', 10, 1_000, T0), []);
    assert.deepEqual(await queue.claim('ep-c', 'w1', 10, 1_000, T0), []);
    assert.deepEqual(ids(await queue.claim('ep-b', 'w2', 10, 1_000, T0)), ['b1']);
  });

  void it('round-trips every field of a job', async () => {
    const queue = get();
    const full = newJob('ep', 'full', { input: inline('héllo'), contentType: 'text/csv', accept: 'application/json', customAttributes: 'trace=1' });
    const { job, created } = await queue.enqueue(full);
    assert.equal(created, true);
    assert.equal(typeof job.id, 'string');
    assert.deepEqual({ ...job, id: undefined }, { ...full, id: undefined, state: 'queued', attempts: 0 });
    const url = newJob('ep', 'url', { input: { kind: 'url', url: 'https://example.com/in?x=1' } });
    await queue.enqueue(url);
    const empty = newJob('ep', 'empty', { input: inline('') });
    await queue.enqueue(empty);
    assert.deepEqual((await queue.get('ep', 'url'))?.input, url.input);
    assert.deepEqual((await queue.get('ep', 'empty'))?.input, empty.input);
    const stored = await queue.get('ep', 'full');
    assert.deepEqual(stored, job);
    assert.equal(await queue.get('ep', 'missing'), undefined);
    assert.equal(await queue.get('other', 'full'), undefined);
  });

  void it('makes re-enqueue idempotent and rejects a conflicting fingerprint', async () => {
    const queue = get();
    const first = await queue.enqueue(newJob('ep', 'x'));
    const again = await queue.enqueue(newJob('ep', 'x'));
    assert.equal(again.created, false);
    assert.deepEqual(again.job, first.job);
    await rejectsWith(queue.enqueue(newJob('ep', 'x', { fingerprint: 'other' })), 'InferenceIdConflict');
    const elsewhere = await queue.enqueue(newJob('ep-2', 'x', { fingerprint: 'other' }));
    assert.equal(elsewhere.created, true);
    assert.notEqual(elsewhere.job.id, first.job.id);
    assert.equal((await queue.claim('ep', 'w', 10, 1_000, T0)).length, 1);
  });

  void it('decides idempotency and conflicts within one batch without failing the others', async () => {
    const queue = get();
    const settled = await Promise.allSettled([
      queue.enqueue(newJob('ep', 'dup')),
      queue.enqueue(newJob('ep', 'dup')),
      queue.enqueue(newJob('ep', 'dup', { fingerprint: 'different' })),
      queue.enqueue(newJob('ep', 'other')),
    ]);
    const [a, b, c, d] = settled;
    assert.ok(a?.status === 'fulfilled' && a.value.created);
    assert.ok(b?.status === 'fulfilled' && !b.value.created && b.value.job.id === a.value.job.id);
    assert.ok(c?.status === 'rejected' && isInferqError(c.reason, 'InferenceIdConflict'));
    assert.ok(d?.status === 'fulfilled' && d.value.created);
    assert.deepEqual(ids(await queue.claim('ep', 'w', 10, 1_000, T0)), ['dup', 'other']);
  });

  void it('tells availability listeners after an enqueue commits', async () => {
    const queue = get();
    const seen: string[] = [];
    let wake: () => void = () => {};
    const unsubscribe = queue.onAvailable((endpoint) => {
      seen.push(endpoint);
      wake();
    });
    const woken = new Promise<void>((resolve) => (wake = resolve));
    await queue.enqueue(newJob('ep-l', 'one'));
    await woken;
    assert.ok(seen.includes('ep-l'));
    assert.equal((await queue.get('ep-l', 'one'))?.state, 'queued');
    unsubscribe();
    seen.length = 0;
    // A listener that stays subscribed tells when the notification for 'two' was delivered.
    const delivered = new Promise<void>((resolve) => {
      const off = queue.onAvailable(() => {
        off();
        resolve();
      });
    });
    await queue.enqueue(newJob('ep-l', 'two'));
    await delivered;
    assert.deepEqual(seen, []);
  });
}

function registerLeaseTests(get: () => JobQueue): void {
  void it('claims at most max jobs, oldest first', async () => {
    const queue = get();
    for (let i = 0; i < 5; i++) await queue.enqueue(newJob('ep', `j${i}`));
    assert.deepEqual(await queue.claim('ep', 'w', 0, 1_000, T0), []);
    const first = await queue.claim('ep', 'w', 2, 1_000, T0);
    assert.deepEqual(ids(first), ['j0', 'j1']);
    for (const job of first) {
      assert.equal(job.state, 'running');
      assert.equal(job.attempts, 1);
      assert.equal(job.startedAt, T0);
    }
    assert.deepEqual(ids(await queue.claim('ep', 'w', 10, 1_000, T0)), ['j2', 'j3', 'j4']);
  });

  void it('re-leases a job whose lease expired; the old owner then loses renew and finish', async () => {
    const queue = get();
    await queue.enqueue(newJob('ep', 'job'));
    const [claimed] = await queue.claim('ep', 'w1', 1, 100, T0);
    assert.ok(claimed);
    assert.deepEqual(await queue.claim('ep', 'w2', 1, 100, T0 + 99), []);
    const [again] = await queue.claim('ep', 'w2', 1, 100, T0 + 100);
    assert.ok(again);
    assert.equal(again.id, claimed.id);
    assert.equal(again.attempts, 2);
    assert.equal(again.startedAt, T0);
    assert.deepEqual(await queue.renew('w1', [claimed.id], 100, T0 + 101), [claimed.id]);
    assert.equal(await queue.finish('w1', claimed.id, { state: 'succeeded' }, T0 + 102), false);
    assert.equal((await queue.get('ep', 'job'))?.state, 'running');
    assert.equal(await queue.finish('w2', claimed.id, { state: 'succeeded' }, T0 + 103), true);
    assert.equal((await queue.get('ep', 'job'))?.state, 'succeeded');
  });

  void it('keeps a renewed lease', async () => {
    const queue = get();
    await queue.enqueue(newJob('ep', 'a'));
    await queue.enqueue(newJob('ep', 'b'));
    const jobs = await queue.claim('ep', 'w1', 2, 100, T0);
    const idList = jobs.map((job) => job.id);
    assert.deepEqual(await queue.renew('w1', [...idList, 'no-such-id', '999999'], 100, T0 + 90), ['no-such-id', '999999']);
    assert.deepEqual(await queue.renew('w2', idList, 100, T0 + 90), idList);
    assert.deepEqual(await queue.claim('ep', 'w2', 2, 100, T0 + 150), []);
    assert.deepEqual(ids(await queue.claim('ep', 'w2', 2, 100, T0 + 190)), ['a', 'b']);
  });

  void it('release puts a job back at the front without counting the attempt', async () => {
    const queue = get();
    for (const id of ['a', 'b', 'c']) await queue.enqueue(newJob('ep', id));
    const [a] = await queue.claim('ep', 'w1', 1, 1_000, T0);
    assert.ok(a);
    await queue.release('w2', a.id);
    assert.equal((await queue.get('ep', 'a'))?.state, 'running');
    await queue.release('w1', a.id);
    const back = await queue.get('ep', 'a');
    assert.equal(back?.state, 'queued');
    assert.equal(back.attempts, 0);
    assert.equal(await queue.finish('w1', a.id, { state: 'succeeded' }, T0), false);
    const all = await queue.claim('ep', 'w3', 3, 1_000, T0 + 5);
    assert.deepEqual(ids(all), ['a', 'b', 'c']);
    assert.equal(all[0]?.attempts, 1);
  });

  void it('defer refunds the attempt and makes the job claimable again only from the given time', async () => {
    const queue = get();
    await queue.enqueue(newJob('ep', 'a'));
    const [a] = await queue.claim('ep', 'w1', 1, 60_000, T0);
    assert.ok(a);
    assert.equal(a.attempts, 1);
    await queue.defer('w2', a.id, T0 + 10); // not the owner: no effect
    assert.deepEqual(await queue.claim('ep', 'w2', 1, 60_000, T0 + 500), []);
    await queue.defer('w1', a.id, T0 + 1_000);
    const waiting = await queue.get('ep', 'a');
    assert.equal(waiting?.state, 'running', 'a deferred job has started; it is not queued again');
    assert.equal(waiting.attempts, 0);
    assert.equal(waiting.startedAt, T0);
    assert.deepEqual(await queue.claim('ep', 'w2', 1, 60_000, T0 + 999), []);
    const [again] = await queue.claim('ep', 'w2', 1, 60_000, T0 + 1_000);
    assert.equal(again?.id, a.id);
    assert.equal(again.attempts, 1, 'the deferred claim did not count');
    await queue.defer('w2', a.id, T0 + 2_000);
    await queue.defer('w2', a.id, T0 + 2_000); // a second defer refunds nothing more
    assert.equal((await queue.get('ep', 'a'))?.attempts, 0);
    const [third] = await queue.claim('ep', 'w3', 1, 60_000, T0 + 2_000);
    assert.equal(third?.attempts, 1);
    assert.equal(await queue.finish('w3', a.id, { state: 'succeeded' }, T0 + 2_001), true);
    await queue.defer('w3', a.id, T0 + 3_000); // a finished job cannot be deferred
    assert.equal((await queue.get('ep', 'a'))?.state, 'succeeded');
  });

  void it('releaseOwner returns all of an owner’s jobs to the queue, attempts kept', async () => {
    const queue = get();
    for (const id of ['a', 'b', 'c']) await queue.enqueue(newJob('ep', id));
    await queue.claim('ep', 'dead', 2, 60_000, T0);
    await queue.claim('ep', 'alive', 1, 60_000, T0);
    assert.equal(await queue.releaseOwner('dead'), 2);
    assert.equal(await queue.releaseOwner('dead'), 0);
    assert.equal((await queue.get('ep', 'c'))?.state, 'running');
    const again = await queue.claim('ep', 'new', 10, 60_000, T0 + 1);
    assert.deepEqual(ids(again), ['a', 'b']);
    assert.deepEqual(again.map((job) => job.attempts), [2, 2]);
  });
}

function registerLifecycleTests(get: () => JobQueue): void {
  void it('does not claim expired jobs; claimExpired returns each exactly once', async () => {
    const queue = get();
    await queue.enqueue(newJob('ep', 'old', { expiresAt: 2_000 }));
    await queue.enqueue(newJob('ep', 'fresh', { expiresAt: 10_000 }));
    await queue.enqueue(newJob('ep-2', 'old-2', { expiresAt: 1_500 }));
    assert.deepEqual(await queue.claimExpired('sweeper', 10, 1_000, 1_499), []);
    assert.deepEqual(ids(await queue.claim('ep', 'w', 10, 1_000, 2_000)), ['fresh']);
    const expired = await queue.claimExpired('sweeper', 10, 1_000, 2_000);
    assert.deepEqual(ids(expired).sort(), ['old', 'old-2']);
    for (const job of expired) assert.equal(job.attempts, 0);
    assert.deepEqual(await queue.claimExpired('sweeper', 10, 1_000, 2_000), []);
    assert.deepEqual(await queue.claim('ep', 'w', 10, 1_000, 2_000), []);
    const old = expired.find((job) => job.inferenceId === 'old');
    assert.ok(old);
    assert.equal(await queue.finish('sweeper', old.id, { state: 'expired', failureReason: 'Request expired in queue.' }, 2_001), true);
    const stored = await queue.get('ep', 'old');
    assert.equal(stored?.state, 'expired');
    assert.equal(stored.failureReason, 'Request expired in queue.');
    assert.equal(stored.finishedAt, 2_001);
    assert.equal(stored.attempts, 0);
  });

  void it('records terminal states and get() reflects them', async () => {
    const queue = get();
    for (const id of ['ok', 'bad']) await queue.enqueue(newJob('ep', id));
    const [ok, bad] = await queue.claim('ep', 'w', 2, 1_000, 5_000);
    assert.ok(ok && bad);
    assert.equal(await queue.finish('w', ok.id, { state: 'succeeded' }, 5_100), true);
    const reason = 'ClientError: Received server error (500) from model.';
    assert.equal(await queue.finish('w', bad.id, { state: 'failed', failureReason: reason }, 5_200), true);
    assert.equal(await queue.finish('w', ok.id, { state: 'failed' }, 5_300), false);
    const storedOk = await queue.get('ep', 'ok');
    assert.equal(storedOk?.state, 'succeeded');
    assert.equal(storedOk.startedAt, 5_000);
    assert.equal(storedOk.finishedAt, 5_100);
    assert.equal(storedOk.failureReason, undefined);
    assert.equal(storedOk.attempts, 1);
    const storedBad = await queue.get('ep', 'bad');
    assert.equal(storedBad?.state, 'failed');
    assert.equal(storedBad.failureReason, reason);
    assert.equal(storedBad.finishedAt, 5_200);
    assert.deepEqual(await queue.renew('w', [ok.id], 1_000, 5_400), [ok.id]);
    assert.deepEqual(await queue.claim('ep', 'w', 10, 1_000, 100_000), []);
    const replay = await queue.enqueue(newJob('ep', 'ok'));
    assert.equal(replay.created, false);
    assert.equal(replay.job.state, 'succeeded');
  });

  void it('finishMany records several outcomes at once, each only where the owner still holds the lease', async () => {
    const queue = get();
    for (const id of ['m1', 'm2', 'm3', 'm4']) await queue.enqueue(newJob('ep', id));
    const [m1, m2, m3] = await queue.claim('ep', 'w', 3, 1_000, 5_000);
    const [m4] = await queue.claim('ep', 'other', 1, 1_000, 5_000);
    assert.ok(m1 && m2 && m3 && m4);
    assert.equal(await queue.finish('w', m3.id, { state: 'succeeded' }, 5_050), true);
    const reason = 'ClientError: Received client error (400) from model.';
    const kept = await queue.finishMany('w', [
      { id: m1.id, outcome: { state: 'succeeded' } },
      { id: m2.id, outcome: { state: 'failed', failureReason: reason } },
      { id: m3.id, outcome: { state: 'failed' } }, // already finished
      { id: m4.id, outcome: { state: 'succeeded' } }, // leased by another owner
      { id: 'no-such-job', outcome: { state: 'succeeded' } },
    ], 5_100);
    assert.deepEqual(kept, [true, true, false, false, false]);
    const [s1, s2, s3, s4] = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((id) => queue.get('ep', id)));
    assert.equal(s1?.state, 'succeeded');
    assert.equal(s1.finishedAt, 5_100);
    assert.equal(s2?.state, 'failed');
    assert.equal(s2.failureReason, reason);
    assert.equal(s3?.state, 'succeeded');
    assert.equal(s3.finishedAt, 5_050);
    assert.equal(s4?.state, 'running');
    assert.deepEqual(await queue.stats('ep', 5_100), { queued: 0, running: 1, oldestQueuedAgeMs: 0 });
    assert.deepEqual(await queue.finishMany('w', [], 5_200), []);
  });

  void it('finishMany with a non-terminal outcome rejects InvalidArgument and records none of the batch', async () => {
    const queue = get();
    for (const id of ['n1', 'n2']) await queue.enqueue(newJob('ep', id));
    const [n1, n2] = await queue.claim('ep', 'w', 2, 1_000, 5_000);
    assert.ok(n1 && n2);
    const bad = { state: 'queued' } as unknown as JobOutcome;
    await rejectsWith(queue.finishMany('w', [{ id: n1.id, outcome: { state: 'succeeded' } }, { id: n2.id, outcome: bad }], 5_100), 'InvalidArgument');
    assert.equal((await queue.get('ep', 'n1'))?.state, 'running');
    assert.equal((await queue.get('ep', 'n2'))?.state, 'running');
    assert.deepEqual(await queue.finishMany('w', [{ id: n2.id, outcome: { state: 'succeeded' } }, { id: n1.id, outcome: { state: 'succeeded' } }], 5_200), [true, true]);
  });

  void it('reports backlog stats per endpoint', async () => {
    const queue = get();
    assert.deepEqual(await queue.stats('ep', 5_000), { queued: 0, running: 0, oldestQueuedAgeMs: 0 });
    for (let i = 0; i < 3; i++) await queue.enqueue(newJob('ep', `j${i}`, { receivedAt: 1_000 + i }));
    await queue.enqueue(newJob('ep-other', 'x', { receivedAt: 10 }));
    assert.deepEqual(await queue.stats('ep', 5_000), { queued: 3, running: 0, oldestQueuedAgeMs: 4_000 });
    const [first] = await queue.claim('ep', 'w', 1, 1_000, 5_000);
    assert.ok(first);
    assert.deepEqual(await queue.stats('ep', 5_000), { queued: 2, running: 1, oldestQueuedAgeMs: 3_999 });
    await queue.finish('w', first.id, { state: 'succeeded' }, 5_001);
    assert.deepEqual(await queue.stats('ep', 5_001), { queued: 2, running: 0, oldestQueuedAgeMs: 4_000 });
    assert.deepEqual(await queue.stats('ep-other', 5_000), { queued: 1, running: 0, oldestQueuedAgeMs: 4_990 });
  });

  void it('tells availability listeners when jobs are released', async () => {
    const queue = get();
    await queue.enqueue(newJob('ep-r', 'a'));
    await queue.enqueue(newJob('ep-r', 'b'));
    const [a, b] = await queue.claim('ep-r', 'w', 2, 1_000, T0);
    assert.ok(a && b);
    const next = (): Promise<string> => new Promise((resolve) => {
      const off = queue.onAvailable((endpoint) => {
        off();
        resolve(endpoint);
      });
    });
    const afterRelease = next();
    await queue.release('w', a.id);
    assert.equal(await afterRelease, 'ep-r');
    const afterReleaseOwner = next();
    await queue.releaseOwner('w');
    assert.equal(await afterReleaseOwner, 'ep-r');
  });

  void it('commits enqueues pending at close, then rejects every call', async () => {
    const queue = get();
    const pending = queue.enqueue(newJob('ep', 'last'));
    await queue.close();
    assert.equal((await pending).created, true);
    await rejectsWith(queue.enqueue(newJob('ep', 'after')), 'ServiceUnavailable');
    await rejectsWith(queue.claim('ep', 'w', 1, 1_000, T0), 'ServiceUnavailable');
    await rejectsWith(queue.get('ep', 'last'), 'ServiceUnavailable');
    await rejectsWith(queue.stats('ep', T0), 'ServiceUnavailable');
    await rejectsWith(queue.renew('w', ['1'], 1_000, T0), 'ServiceUnavailable');
    await rejectsWith(queue.finish('w', '1', { state: 'succeeded' }, T0), 'ServiceUnavailable');
    await rejectsWith(queue.finishMany('w', [{ id: '1', outcome: { state: 'succeeded' } }], T0), 'ServiceUnavailable');
    await rejectsWith(queue.release('w', '1'), 'ServiceUnavailable');
    await rejectsWith(queue.claimExpired('w', 1, 1_000, T0), 'ServiceUnavailable');
    await rejectsWith(queue.releaseOwner('w'), 'ServiceUnavailable');
    await queue.close();
  });
}

function registerConcurrencyTests(get: () => JobQueue): void {
  void it('accepts 2,000 enqueues in one tick and leases each exactly once across concurrent owners', async () => {
    const queue = get();
    const total = 2_000;
    const results = await Promise.all(Array.from({ length: total }, (_, i) => queue.enqueue(newJob(i % 2 ? 'odd' : 'even', `c${i}`))));
    assert.ok(results.every((r) => r.created));
    assert.equal(new Set(results.map((r) => r.job.id)).size, total);
    const leased = new Map<string, string>();
    const worker = async (owner: string, endpoint: string): Promise<void> => {
      for (;;) {
        const jobs = await queue.claim(endpoint, owner, 37, 60_000, T0);
        if (jobs.length === 0) return;
        for (const job of jobs) {
          assert.equal(leased.has(job.id), false, `job ${job.id} leased twice`);
          leased.set(job.id, owner);
        }
      }
    };
    await Promise.all(['w1', 'w2', 'w3', 'w4'].flatMap((owner) => [worker(owner, 'even'), worker(owner, 'odd')]));
    assert.equal(leased.size, total);
    assert.deepEqual(await queue.stats('even', T0), { queued: 0, running: total / 2, oldestQueuedAgeMs: 0 });
  });
}
