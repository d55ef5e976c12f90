/**
 * The per-endpoint slot scheduler: one model's capacity (healthy instances × per-instance
 * concurrency) shared by real-time calls and asynchronous jobs. Real-time calls go first; while
 * async work waits, at least one grant in every `asyncEvery` goes to it, and async work passed
 * over for longer than `asyncMaxWaitMs` gets the next free slot, so it is never starved. No timers:
 * every decision is taken on an event (acquire, release, capacity re-check), with an injected clock.
 */

/** A real-time slot; `release()` gives it back (idempotent). */
export interface SlotLease {
  release(): void;
}

/** Thrown (as a rejection) by {@link SlotScheduler.acquire} when `maxWaiting` calls already wait. */
export class SlotsSaturatedError extends Error {
  override readonly name = 'SlotsSaturatedError';
  constructor(readonly waiting: number) {
    super(`${waiting} calls are already waiting for a slot`);
  }
}

/** Options of {@link SlotScheduler}. */
export interface SlotSchedulerOptions {
  /** The model's current capacity; read on every decision (it changes with health and scaling). */
  readonly capacity: () => number;
  /** Milliseconds (any monotonic-enough clock). */
  readonly now: () => number;
  /** Real-time calls that may wait for a slot; one more is refused with {@link SlotsSaturatedError}. */
  readonly maxWaiting: number;
  /**
   * While async work waits, at least one of every `asyncEvery` grants goes to it.
   * @default 4
   */
  readonly asyncEvery?: number;
  /**
   * Async work passed over by real-time calls for this long gets the next free slot.
   * @default 5000
   */
  readonly asyncMaxWaitMs?: number;
  /** Receives queued async work + waiting real-time calls whenever either changes (wakes a scaled-to-zero model). */
  readonly onDemand?: (waiting: number) => void;
}

/** The reason `signal` was aborted with, as an Error. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason), { cause: reason });
}

interface Waiter {
  readonly resolve: (lease: SlotLease) => void;
  readonly reject: (err: Error) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/** A snapshot of the scheduler, for tests, logs and status. */
export interface SlotStats {
  readonly capacity: number;
  readonly inUse: number;
  readonly realtimeInUse: number;
  readonly asyncInUse: number;
  /** Slots set aside for async work that the dispatcher has not picked up yet. */
  readonly asyncReserved: number;
  readonly realtimeWaiting: number;
  readonly asyncWaiting: boolean;
  readonly asyncBacklog: number;
}

/** Shares one model's slots between real-time calls (priority) and async jobs (never starved). */
export class SlotScheduler {
  private readonly waiters: Waiter[] = [];
  private readonly asyncListeners = new Set<() => void>();
  private readonly asyncEvery: number;
  private readonly asyncMaxWaitMs: number;
  private realtimeInUse = 0;
  private asyncInUse = 0;
  private asyncReserved = 0;
  /** Async work wants a slot (its last request got none). */
  private asyncWaiting = false;
  /** When a real-time call first overtook waiting async work (cleared when async gets a slot). */
  private passedOverSince: number | undefined;
  private passedOverCount = 0;
  private asyncBacklog = 0;
  private lastDemand = -1;

  constructor(private readonly options: SlotSchedulerOptions) {
    this.asyncEvery = Math.max(1, options.asyncEvery ?? 4);
    this.asyncMaxWaitMs = options.asyncMaxWaitMs ?? 5000;
  }

  /** Current capacity as the model reports it. */
  capacity(): number {
    return Math.max(0, this.options.capacity());
  }

  /** A real-time slot now if one is free and nobody is ahead (no timers, no promise), else undefined. */
  tryAcquire(): SlotLease | undefined {
    this.drain();
    return this.waiters.length === 0 && this.hasFreeSlot() && !this.asyncTurn() ? this.grantRealtime() : undefined;
  }

  /**
   * Waits for a real-time slot. Rejects with {@link SlotsSaturatedError} when `maxWaiting` calls
   * already wait, or with `signal.reason` when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<SlotLease> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    this.drain();
    if (this.waiters.length === 0 && this.hasFreeSlot() && !this.asyncTurn()) return Promise.resolve(this.grantRealtime());
    if (this.waiters.length >= this.options.maxWaiting) return Promise.reject(new SlotsSaturatedError(this.waiters.length));
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: () => this.abandon(waiter) };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.reportDemand();
      this.drain();
    });
  }

  /**
   * Takes up to `max` slots for async jobs; returns how many it got (slots set aside for async
   * first, then free ones unless real-time calls wait). Getting none marks async work as waiting:
   * listeners of {@link onAsyncSlots} are called when a slot is set aside for it.
   */
  tryAcquireAsync(max: number): number {
    if (max <= 0) return 0;
    this.drain();
    let got = Math.min(this.asyncReserved, max);
    this.asyncReserved -= got;
    while (got < max && this.hasFreeSlot() && (this.waiters.length === 0 || this.asyncTurn())) {
      got++;
      this.asyncInUse++;
      this.asyncGranted();
    }
    if (got === 0) this.asyncWaiting = true;
    else this.asyncGranted();
    return got;
  }

  /** Returns `count` async slots (jobs finished, or fewer jobs were claimed than slots taken). */
  releaseAsync(count = 1): void {
    this.asyncInUse = Math.max(0, this.asyncInUse - count);
    this.drain();
  }

  /** Async work has nothing more to run for now: stop reserving slots for it and return any set aside. */
  asyncIdle(): void {
    this.asyncWaiting = false;
    this.passedOverSince = undefined;
    this.passedOverCount = 0;
    if (this.asyncReserved > 0) {
      this.asyncInUse -= this.asyncReserved;
      this.asyncReserved = 0;
    }
    this.drain();
  }

  /** Records the queued async backlog (reported with waiting real-time calls to `onDemand`). */
  setAsyncBacklog(queued: number): void {
    this.asyncBacklog = Math.max(0, queued);
    this.reportDemand(true);
  }

  /** Calls `listener` whenever a slot is set aside for waiting async work. Returns an unsubscribe function. */
  onAsyncSlots(listener: () => void): () => void {
    this.asyncListeners.add(listener);
    return () => void this.asyncListeners.delete(listener);
  }

  /** Re-reads the capacity and grants what it allows (call on health changes and periodically while work waits). */
  recheck(): void {
    this.drain();
  }

  /** Whether anything waits for a slot (real-time calls, or async work). */
  hasWaiters(): boolean {
    return this.waiters.length > 0 || this.asyncWaiting;
  }

  /** Counters, for tests and status. */
  stats(): SlotStats {
    return {
      capacity: this.capacity(),
      inUse: this.inUse(),
      realtimeInUse: this.realtimeInUse,
      asyncInUse: this.asyncInUse - this.asyncReserved,
      asyncReserved: this.asyncReserved,
      realtimeWaiting: this.waiters.length,
      asyncWaiting: this.asyncWaiting,
      asyncBacklog: this.asyncBacklog,
    };
  }

  private inUse(): number {
    return this.realtimeInUse + this.asyncInUse;
  }

  private hasFreeSlot(): boolean {
    return this.inUse() < this.capacity();
  }

  /** Whether the next free slot belongs to waiting async work. */
  private asyncTurn(): boolean {
    if (!this.asyncWaiting) return false;
    if (this.waiters.length === 0) return true;
    if (this.passedOverCount >= this.asyncEvery - 1) return true;
    return this.passedOverSince !== undefined && this.options.now() - this.passedOverSince >= this.asyncMaxWaitMs;
  }

  private asyncGranted(): void {
    this.asyncWaiting = false;
    this.passedOverSince = undefined;
    this.passedOverCount = 0;
  }

  /** Grants free slots: to async when it is its turn, otherwise to the oldest real-time waiter. */
  private drain(): void {
    while (this.hasFreeSlot()) {
      if (this.asyncTurn()) {
        this.asyncInUse++;
        this.asyncReserved++;
        this.asyncGranted();
        // Deferred: a listener typically calls tryAcquireAsync, which must not re-enter this loop.
        queueMicrotask(() => { for (const listener of [...this.asyncListeners]) listener(); });
        continue;
      }
      const waiter = this.waiters.shift();
      if (waiter === undefined) return;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grantRealtime());
      this.reportDemand();
    }
  }

  private grantRealtime(): SlotLease {
    this.realtimeInUse++;
    if (this.asyncWaiting) {
      this.passedOverSince ??= this.options.now();
      this.passedOverCount++;
    }
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.realtimeInUse--;
        this.drain();
      },
    };
  }

  private abandon(waiter: Waiter): void {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    waiter.reject(waiter.signal ? abortReason(waiter.signal) : new Error('abandoned'));
    this.reportDemand();
    this.drain();
  }

  private reportDemand(force = false): void {
    const demand = this.asyncBacklog + this.waiters.length;
    if (!force && demand === this.lastDemand) return;
    this.lastDemand = demand;
    this.options.onDemand?.(demand);
  }
}
