/**
 * A pool of `command` model instances behind one {@link ManagedModel}: calls go to the least-loaded
 * healthy instance; demand reports start an instance at once from zero, add instances one at a
 * time while the backlog per instance is above the target, and instances above `min` that stay
 * idle for the idle timeout are stopped (least recently used first).
 */
import { systemClock, type Clock, type Logger } from '../util/index.js';
import { invokeCounted } from './call-tracking.js';
import { HealthState } from './health.js';
import { ModelCallError, type InstanceSnapshot, type ManagedModel, type ModelClient, type ModelHealth, type ModelInvocation, type ModelResponse } from './port.js';

/** One instance as the pool sees it: a ModelClient, optionally exposing its process id. */
export interface PoolInstanceClient extends ModelClient {
  /** The current process id, if a process is running (a `CommandModelClient` has it). */
  pid?(): number | undefined;
}

/** Scaling limits of a pool (an endpoint's `instances:`). */
export interface PoolInstanceLimits {
  /** Instances kept running; 0 = scale to zero when idle. */
  readonly min: number;
  /** Most instances under backlog (at least 1). */
  readonly max: number;
  /** Instances are added while `(waiting + inFlight) / instances` is above this. */
  readonly targetBacklogPerInstance: number;
  /** An instance above `min` with no call in flight for this long (and nothing waiting) is stopped. */
  readonly idleTimeoutMs: number;
}

/** Options of {@link createModelPool}. */
export interface ModelPoolOptions {
  /** Endpoint name, for logs and errors. */
  readonly name: string;
  /** What the instances run (e.g. the command line), for logs. @default the name */
  readonly description?: string;
  /** Calls one instance may have in flight (the endpoint's maxConcurrentInvocations). */
  readonly perInstanceConcurrency: number;
  readonly instances: PoolInstanceLimits;
  /** Builds (does not start) instance number `index`; indexes are reused after an instance stops. */
  readonly createInstance: (index: number) => PoolInstanceClient;
  /** Receives scaling decisions and the pool's health changes. */
  readonly logger: Logger;
  /** Time source for idle tracking. @default systemClock */
  readonly clock?: Clock;
  /** How often scaling is re-evaluated besides events (demand, call ends, health). @default 1000 */
  readonly scaleCheckIntervalMs?: number;
}

/** One instance's state, for status output and tests. */
export interface PoolInstanceView {
  readonly index: number;
  readonly pid: number | undefined;
  readonly health: ModelHealth;
  readonly inFlight: number;
}

/** A {@link ManagedModel} that also exposes its instances. */
export interface ModelPool extends ManagedModel {
  /** The instances running or starting, in creation order. */
  instances(): PoolInstanceView[];
  /**
   * Called after anything in {@link ManagedModel.snapshot} or {@link instances} may have changed
   * (instance added or removed, instance health, call started or ended, demand reported).
   * Returns an unsubscribe function.
   */
  onChange(listener: () => void): () => void;
}

interface Instance {
  readonly index: number;
  readonly client: PoolInstanceClient;
  inFlight: number;
  /** Clock time of the last call start or end, of creation, or of becoming healthy. */
  lastActive: number;
  /** Whether it has been healthy at least once (a fresh instance blocks further scale-out). */
  everHealthy: boolean;
  unsubscribe: () => void;
}

function validate(options: Pick<ModelPoolOptions, 'name' | 'instances' | 'perInstanceConcurrency'>): void {
  const { min, max, targetBacklogPerInstance, idleTimeoutMs } = options.instances;
  const ok = Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= 1 && min <= max
    && targetBacklogPerInstance > 0 && idleTimeoutMs >= 0
    && Number.isInteger(options.perInstanceConcurrency) && options.perInstanceConcurrency >= 1;
  if (!ok) throw new RangeError(`model ${options.name}: invalid pool settings ${JSON.stringify(Object.assign({}, options.instances, { perInstanceConcurrency: options.perInstanceConcurrency }))}`);
}

class Pool {
  readonly health: HealthState;
  private readonly list: Instance[] = [];
  /** Instances being stopped after scale-in, by index (their indexes are not reused meanwhile). */
  private readonly retiring = new Map<number, Promise<void>>();
  private readonly listeners = new Set<() => void>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private waiting = 0;
  private limits: PoolInstanceLimits;

  constructor(private readonly options: ModelPoolOptions) {
    validate(options);
    this.limits = options.instances;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
    this.health = new HealthState(options.logger, options.instances.min > 0 ? 'starting' : 'stopped');
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.timer = setInterval(() => this.evaluate(), this.options.scaleCheckIntervalMs ?? 1000);
    this.timer.unref();
    for (let i = 0; i < this.limits.min; i++) this.add();
    this.refresh();
    this.evaluate();
  }

  /** New limits from now on: instances are added up to the new `min` at once; idle ones above the new `max` stop at once. */
  setLimits(limits: PoolInstanceLimits): void {
    validate({ name: this.options.name, instances: limits, perInstanceConcurrency: this.options.perInstanceConcurrency });
    this.limits = limits;
    if (!this.started || this.stopped) return;
    while (this.list.length < limits.min) this.add();
    for (const instance of this.list.filter((i) => i.inFlight === 0).slice(0, Math.max(0, this.list.length - limits.max))) this.retire(instance);
    this.log.info('scaling limits changed', { min: limits.min, max: limits.max, instances: this.list.length });
    this.changed();
    this.evaluate();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      clearInterval(this.timer);
      const all = this.list.splice(0);
      for (const instance of all) instance.unsubscribe();
      await Promise.all([...all.map((i) => this.stopClient(i)), ...this.retiring.values()]);
      this.refresh();
      this.changed();
    })();
    return this.stopping;
  }

  invoke(call: ModelInvocation): Promise<ModelResponse> {
    const target = this.stopped ? undefined : this.leastLoaded();
    if (target === undefined) {
      return Promise.reject(new ModelCallError('unreachable', `model ${this.options.name} has no healthy instance`));
    }
    target.inFlight += 1;
    target.lastActive = this.clock.now();
    this.changed();
    return invokeCounted(target.client, call, () => {
      target.inFlight -= 1;
      target.lastActive = this.clock.now();
      this.changed();
      this.evaluate();
    });
  }

  capacity(): number {
    if (this.stopped) return 0;
    return this.list.filter((i) => i.client.health() === 'healthy').length * this.options.perInstanceConcurrency;
  }

  reportDemand(waiting: number): void {
    this.waiting = Number.isFinite(waiting) ? Math.max(0, waiting) : 0;
    this.changed();
    this.evaluate();
  }

  snapshot(): InstanceSnapshot {
    let healthy = 0;
    let starting = 0;
    for (const instance of this.list) {
      const health = instance.client.health();
      if (health === 'healthy') healthy += 1;
      else if (health === 'starting') starting += 1;
    }
    const { min, max } = this.limits;
    return { instances: this.list.length, healthy, starting, inFlight: this.inFlight(), waiting: this.waiting, min, max };
  }

  instances(): PoolInstanceView[] {
    return this.list.map((i) => ({ index: i.index, pid: i.client.pid?.(), health: i.client.health(), inFlight: i.inFlight }));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Applies the scaling rules once. Runs on every event and on the timer; never throws. */
  private evaluate(): void {
    if (!this.started || this.stopped) return;
    try {
      if (this.list.length === 0) {
        if (this.waiting > 0) {
          this.add();
          this.log.info('cold start from zero', { instances: this.list.length, backlog: this.waiting });
        }
        return;
      }
      if (!this.scaleOut()) this.scaleIn();
    } catch (err) {
      this.log.error('scaling failed', { err });
    }
  }

  /** Adds one instance when the backlog per instance is above target. True while scale-out is wanted. */
  private scaleOut(): boolean {
    const { max, targetBacklogPerInstance } = this.limits;
    const backlog = this.waiting + this.inFlight();
    const count = this.list.length;
    if (count >= max || backlog / count <= targetBacklogPerInstance) return false;
    if (this.list.some((i) => !i.everHealthy)) return true; // one at a time: wait for the fresh one
    this.add();
    this.log.info('scaled out', { instances: this.list.length, backlog });
    return true;
  }

  /** Stops idle instances above `min`, least recently used first, while nothing waits. */
  private scaleIn(): void {
    const { min, idleTimeoutMs } = this.limits;
    if (this.waiting > 0 || this.list.length <= min) return;
    const now = this.clock.now();
    const idle = this.list
      .filter((i) => i.inFlight === 0 && now - i.lastActive >= idleTimeoutMs)
      .sort((a, b) => a.lastActive - b.lastActive);
    for (const instance of idle) {
      if (this.list.length <= min) break;
      this.retire(instance);
      const message = this.list.length === 0 ? 'scaled to zero' : 'scaled in';
      this.log.info(message, { instances: this.list.length, backlog: this.inFlight(), instance: instance.index, idleMs: now - instance.lastActive });
    }
  }

  private add(): void {
    const index = this.freeIndex();
    const client = this.options.createInstance(index);
    const instance: Instance = { index, client, inFlight: 0, lastActive: this.clock.now(), everHealthy: false, unsubscribe: () => undefined };
    instance.unsubscribe = client.onHealthChange((health) => this.instanceHealthChanged(instance, health));
    this.list.push(instance);
    client.start().catch((err: unknown) => this.log.error('model instance failed to start', { instance: index, err }));
    this.refresh();
    this.changed();
  }

  /** Removes an idle instance from routing and stops it in the background. */
  private retire(instance: Instance): void {
    const at = this.list.indexOf(instance);
    if (at >= 0) this.list.splice(at, 1);
    instance.unsubscribe();
    const stopped = this.stopClient(instance).finally(() => this.retiring.delete(instance.index));
    this.retiring.set(instance.index, stopped);
    this.refresh();
    this.changed();
  }

  private stopClient(instance: Instance): Promise<void> {
    return instance.client.stop().catch((err: unknown) => this.log.error('model instance failed to stop', { instance: instance.index, err }));
  }

  private instanceHealthChanged(instance: Instance, health: ModelHealth): void {
    if (health === 'healthy') {
      instance.everHealthy = true;
      instance.lastActive = Math.max(instance.lastActive, this.clock.now());
    }
    this.refresh();
    this.changed();
    this.evaluate();
  }

  /** Recomputes the aggregate health (listeners run on change). */
  private refresh(): void {
    this.health.set(this.aggregate());
  }

  private aggregate(): ModelHealth {
    if (this.stopped) return 'stopped';
    if (!this.started) return this.limits.min > 0 ? 'starting' : 'stopped';
    if (this.list.length === 0) return 'stopped';
    const states = this.list.map((i) => i.client.health());
    if (states.includes('healthy')) return 'healthy';
    if (states.includes('starting')) return 'starting';
    return 'unhealthy';
  }

  private leastLoaded(): Instance | undefined {
    let best: Instance | undefined;
    for (const instance of this.list) {
      if (instance.client.health() !== 'healthy') continue;
      if (best === undefined || instance.inFlight < best.inFlight) best = instance;
    }
    return best;
  }

  private freeIndex(): number {
    const used = new Set([...this.list.map((i) => i.index), ...this.retiring.keys()]);
    let index = 0;
    while (used.has(index)) index += 1;
    return index;
  }

  private inFlight(): number {
    return this.list.reduce((sum, i) => sum + i.inFlight, 0);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.log.error('model pool listener threw', { err });
      }
    }
  }
}

/**
 * Creates a pool of model instances (not started). `start()` starts `min` instances without
 * waiting for health; `stop()` stops them all (SIGTERM, then SIGKILL for command instances) and
 * nothing restarts afterwards. `invoke` goes to the healthy instance with the fewest calls in
 * flight (rejects `ModelCallError('unreachable')` when none is healthy). `capacity()` is healthy
 * instances × `perInstanceConcurrency`; `health()` is `healthy` if any instance is, else
 * `starting` if any is, `stopped` with zero instances, else `unhealthy`. Feed the total waiting
 * work to `reportDemand`: from zero instances it starts one at once; it adds one instance at a
 * time while `(waiting + inFlight) / instances > targetBacklogPerInstance` (up to `max`); idle
 * instances above `min` stop after `idleTimeoutMs` while nothing waits.
 * @example
 * const pool = createModelPool({ name: 'asr', perInstanceConcurrency: 4,
 *   instances: { min: 0, max: 3, targetBacklogPerInstance: 5, idleTimeoutMs: 300_000 },
 *   createInstance: (i) => createCommandModelClient({ ...opts, logger: logger.child(`asr#${i}`) }), logger });
 * await pool.start();
 * pool.reportDemand(queued); // cold start from zero
 */
export function createModelPool(options: ModelPoolOptions): ModelPool {
  const pool = new Pool(options);
  return {
    description: options.description ?? options.name,
    invoke: (call) => pool.invoke(call),
    health: () => pool.health.get(),
    onHealthChange: (listener) => pool.health.subscribe(listener),
    start(): Promise<void> {
      pool.start();
      return Promise.resolve();
    },
    stop: () => pool.stop(),
    capacity: () => pool.capacity(),
    reportDemand: (waiting) => pool.reportDemand(waiting),
    snapshot: () => pool.snapshot(),
    instances: () => pool.instances(),
    onChange: (listener) => pool.onChange(listener),
    setLimits: (limits) => pool.setLimits(limits),
  };
}
