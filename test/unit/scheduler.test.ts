/**
 * The slot scheduler without timers: real-time priority, the 1-in-4 and age anti-starvation
 * rules for async work, saturation, aborts, capacity changes and demand reports — driven by a fake
 * clock and settled with microtask flushes only.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotScheduler, SlotsSaturatedError, type SlotLease } from '../../src/scheduling/index.js';

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function setup(options: { capacity?: number; maxWaiting?: number; asyncEvery?: number; asyncMaxWaitMs?: number } = {}) {
  const state = { capacity: options.capacity ?? 1, now: 1000, demand: [] as number[], asyncWakeups: 0 };
  const slots = new SlotScheduler({
    capacity: () => state.capacity,
    now: () => state.now,
    maxWaiting: options.maxWaiting ?? 100,
    ...(options.asyncEvery !== undefined ? { asyncEvery: options.asyncEvery } : {}),
    ...(options.asyncMaxWaitMs !== undefined ? { asyncMaxWaitMs: options.asyncMaxWaitMs } : {}),
    onDemand: (n) => state.demand.push(n),
  });
  slots.onAsyncSlots(() => { state.asyncWakeups++; });
  return { slots, state };
}

/** Starts a real-time acquire and records its grant in `log` under `name`. */
function waitFor(slots: SlotScheduler, log: string[], name: string, signal?: AbortSignal): { lease: Promise<SlotLease> } {
  const lease = slots.acquire(signal);
  lease.then(() => log.push(name), () => log.push(`${name}:rejected`));
  return { lease };
}

describe('real-time slots', () => {
  test('grants up to capacity at once, queues the rest FIFO, and a release hands the slot to the oldest waiter', async () => {
    const { slots } = setup({ capacity: 2 });
    const log: string[] = [];
    const a = waitFor(slots, log, 'a');
    const b = waitFor(slots, log, 'b');
    waitFor(slots, log, 'c');
    waitFor(slots, log, 'd');
    await flush();
    assert.deepEqual(log, ['a', 'b']);
    assert.equal(slots.stats().realtimeWaiting, 2);
    (await b.lease).release();
    await flush();
    assert.deepEqual(log, ['a', 'b', 'c']);
    const lease = await a.lease;
    lease.release();
    lease.release();
    await flush();
    assert.deepEqual(log, ['a', 'b', 'c', 'd']);
    assert.equal(slots.stats().inUse, 2, 'a double release frees one slot only');
  });

  test('more than maxWaiting waiting calls: the next is refused with SlotsSaturatedError', async () => {
    const { slots } = setup({ capacity: 0, maxWaiting: 2 });
    const log: string[] = [];
    waitFor(slots, log, 'a');
    waitFor(slots, log, 'b');
    await assert.rejects(slots.acquire(), (err: unknown) => err instanceof SlotsSaturatedError && err.waiting === 2);
  });

  test('an aborted waiter leaves the queue with the abort reason and the next waiter moves up', async () => {
    const { slots, state } = setup({ capacity: 1 });
    const log: string[] = [];
    const held = await slots.acquire();
    const controller = new AbortController();
    const a = waitFor(slots, log, 'a', controller.signal);
    waitFor(slots, log, 'b');
    assert.deepEqual(state.demand.slice(-1), [2]);
    controller.abort(new Error('deadline'));
    await assert.rejects(a.lease, /deadline/);
    assert.deepEqual(state.demand.slice(-1), [1], 'demand drops with the waiter');
    held.release();
    await flush();
    assert.deepEqual(log, ['a:rejected', 'b']);
  });
});

describe('sharing with async work', () => {
  test('async takes free slots only while no real-time call waits', async () => {
    const { slots } = setup({ capacity: 3 });
    assert.equal(slots.tryAcquireAsync(2), 2);
    const log: string[] = [];
    waitFor(slots, log, 'rt1');
    waitFor(slots, log, 'rt2');
    await flush();
    assert.deepEqual(log, ['rt1'], 'the third slot went to real-time');
    assert.equal(slots.tryAcquireAsync(5), 0, 'a real-time call waits: async gets nothing');
    assert.equal(slots.stats().asyncWaiting, true);
    slots.releaseAsync();
    await flush();
    assert.deepEqual(log, ['rt1', 'rt2'], 'a freed async slot goes to the waiting real-time call');
  });

  test('while async waits, one grant in every four goes to it (anti-starvation by count)', async () => {
    const { slots, state } = setup({ capacity: 1 });
    const order: string[] = [];
    const leases: SlotLease[] = [];
    // Async holds the only slot; ten real-time calls queue up behind it.
    assert.equal(slots.tryAcquireAsync(1), 1);
    for (let i = 0; i < 10; i++) void slots.acquire().then((l) => { order.push(`rt${i}`); leases.push(l); });
    // More async work is waiting too.
    assert.equal(slots.tryAcquireAsync(1), 0);
    slots.releaseAsync();
    for (let round = 0; round < 9; round++) {
      await flush();
      const lease = leases.shift();
      if (lease) { lease.release(); continue; }
      // The slot was set aside for async (and the dispatcher woken): it takes it, runs a job, asks again, then frees it.
      assert.equal(slots.stats().asyncReserved, 1);
      assert.ok(state.asyncWakeups > 0);
      assert.equal(slots.tryAcquireAsync(1), 1);
      order.push('async');
      assert.equal(slots.tryAcquireAsync(1), 0, 'more async work waits');
      slots.releaseAsync();
    }
    assert.deepEqual(order.slice(0, 9), ['rt0', 'rt1', 'rt2', 'async', 'rt3', 'rt4', 'rt5', 'async', 'rt6']);
  });

  test('async work passed over for longer than asyncMaxWaitMs gets the next slot (anti-starvation by age)', async () => {
    const { slots, state } = setup({ capacity: 1, asyncEvery: 100, asyncMaxWaitMs: 5000 });
    const log: string[] = [];
    const first = await slots.acquire();
    const second = waitFor(slots, log, 'rt-second');
    waitFor(slots, log, 'rt-third');
    assert.equal(slots.tryAcquireAsync(1), 0);
    first.release();
    await flush();
    assert.deepEqual(log, ['rt-second'], 'a young async waiter yields to real-time');
    state.now += 5000;
    (await second.lease).release();
    await flush();
    assert.deepEqual(log, ['rt-second'], 'the slot was set aside for async, not given to rt-third');
    assert.equal(slots.stats().asyncReserved, 1);
    assert.equal(slots.tryAcquireAsync(4), 1);
    slots.releaseAsync();
    await flush();
    assert.deepEqual(log, ['rt-second', 'rt-third']);
  });

  test('a slot set aside for async work that has nothing to run goes back (asyncIdle)', async () => {
    const { slots } = setup({ capacity: 1, asyncEvery: 1 });
    const held = await slots.acquire();
    assert.equal(slots.tryAcquireAsync(1), 0);
    const log: string[] = [];
    waitFor(slots, log, 'rt');
    held.release();
    await flush();
    assert.equal(slots.stats().asyncReserved, 1, 'asyncEvery 1: the freed slot is async\'s');
    slots.asyncIdle();
    await flush();
    assert.deepEqual(log, ['rt']);
    assert.deepEqual({ ...slots.stats(), capacity: 0 }, { capacity: 0, inUse: 1, realtimeInUse: 1, asyncInUse: 0, asyncReserved: 0, realtimeWaiting: 0, asyncWaiting: false, asyncBacklog: 0 });
  });
});

describe('capacity changes and demand', () => {
  test('capacity 0 (stopped): nothing is granted, demand is reported; capacity growth grants on recheck', async () => {
    const { slots, state } = setup({ capacity: 0 });
    slots.setAsyncBacklog(3);
    assert.deepEqual(state.demand, [3]);
    assert.equal(slots.tryAcquireAsync(4), 0, 'no claims while scaled to zero');
    const log: string[] = [];
    waitFor(slots, log, 'rt1');
    waitFor(slots, log, 'rt2');
    assert.deepEqual(state.demand, [3, 4, 5], 'each waiting real-time call adds to the demand');
    state.capacity = 2;
    slots.recheck();
    await flush();
    assert.deepEqual(log, ['rt1', 'rt2']);
    assert.deepEqual(state.demand.slice(-1), [3]);
    state.capacity = 4;
    slots.recheck();
    await flush();
    assert.equal(slots.stats().asyncReserved, 1, 'the waiting async work is woken');
    assert.ok(state.asyncWakeups >= 1);
    assert.equal(slots.tryAcquireAsync(4), 2, 'it takes every free slot');
  });

  test('shrinking capacity: no grants until enough slots are released', async () => {
    const { slots, state } = setup({ capacity: 3 });
    const leases = await Promise.all([slots.acquire(), slots.acquire(), slots.acquire()]);
    state.capacity = 1;
    const log: string[] = [];
    waitFor(slots, log, 'rt');
    leases[0].release();
    leases[1].release();
    await flush();
    assert.deepEqual(log, []);
    leases[2].release();
    await flush();
    assert.deepEqual(log, ['rt']);
  });
});

describe('tryAcquire (the real-time fast path)', () => {
  test('grants a free slot at once, nothing when full or when a waiter is ahead, and never jumps async work whose turn it is', async () => {
    const { slots } = setup({ capacity: 1 });
    const first = slots.tryAcquire();
    assert.ok(first);
    assert.equal(slots.tryAcquire(), undefined, 'full');
    const log: string[] = [];
    waitFor(slots, log, 'waiter');
    first.release();
    await flush();
    assert.deepEqual(log, ['waiter'], 'the waiter got the freed slot, not a later tryAcquire');
    assert.equal(slots.tryAcquire(), undefined);
    const fresh = setup({ capacity: 1 });
    assert.equal(fresh.slots.tryAcquireAsync(1), 1);
    assert.equal(fresh.slots.tryAcquireAsync(1), 0, 'async work now waits');
    fresh.slots.releaseAsync(1);
    await flush();
    assert.equal(fresh.slots.tryAcquire(), undefined, 'the freed slot is set aside for the waiting async work');
  });
});
