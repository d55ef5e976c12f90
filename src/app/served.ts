/**
 * The endpoints one process serves, as live maps the features read on every call: the runtime
 * API, the forwarding server, notifications, status and metrics hold these very maps, so an
 * endpoint created, updated or deleted through the control plane is served, re-pointed or gone
 * without restarting anything. Each endpoint served with a local model has one slot scheduler,
 * shared by the real-time API and the async dispatcher: it reads the model's capacity, reports
 * waiting work to it (this starts scaled-to-zero models), and re-checks on health changes and,
 * while anything waits, every {@link CAPACITY_RECHECK_MS}.
 */
import type { EndpointConfig } from '../config/index.js';
import type { ManagedModel } from '../models/index.js';
import type { RealtimeTarget } from '../runtime/index.js';
import { SlotScheduler } from '../scheduling/index.js';
import type { Clock } from '../util/index.js';
import type { PoolEndpoint } from '../worker/index.js';

/** While work waits for a slot, capacity is re-read this often (a pool scaling out adds capacity without a health change). */
const CAPACITY_RECHECK_MS = 100;

/** The live view of the endpoints served. */
export class ServedEndpoints {
  /** Each endpoint's configuration (also endpoints served by forwarding, whose models live elsewhere). */
  readonly configs = new Map<string, EndpointConfig>();
  /** The local model of each endpoint that has one. */
  readonly models = new Map<string, ManagedModel>();
  readonly slots = new Map<string, SlotScheduler>();
  readonly realtime = new Map<string, RealtimeTarget>();
  private readonly offs = new Map<string, () => void>();
  private readonly timer: NodeJS.Timeout;

  /** `modelsStarted` false: a real-time call starts a model (a process without workers). */
  constructor(private readonly clock: Clock, private readonly modelsStarted: boolean) {
    this.timer = setInterval(() => {
      for (const s of this.slots.values()) if (s.hasWaiters()) s.recheck();
    }, CAPACITY_RECHECK_MS);
    this.timer.unref();
  }

  /** Every configuration served. */
  list(): EndpointConfig[] {
    return [...this.configs.values()];
  }

  /**
   * Serves `endpoint` with `model` from now on (replacing the model of an earlier version, which is
   * returned for the caller to drain and stop): new real-time calls and claims go to the new one.
   */
  put(endpoint: EndpointConfig, model: ManagedModel): { readonly pooled: PoolEndpoint; readonly replaced?: ManagedModel } {
    const replaced = this.models.get(endpoint.name);
    this.offs.get(endpoint.name)?.();
    const slots = new SlotScheduler({
      capacity: () => model.capacity(),
      now: () => this.clock.now(),
      maxWaiting: endpoint.realtime.maxWaiting,
      onDemand: (waiting) => model.reportDemand(waiting),
    });
    this.offs.set(endpoint.name, model.onHealthChange(() => slots.recheck()));
    let started = this.modelsStarted;
    this.configs.set(endpoint.name, endpoint);
    this.models.set(endpoint.name, model);
    this.slots.set(endpoint.name, slots);
    this.realtime.set(endpoint.name, {
      model,
      slots,
      ensureStarted: () => {
        if (started) return;
        started = true;
        void model.start();
      },
    });
    return { pooled: { endpoint, model, slots }, ...(replaced !== undefined && replaced !== model ? { replaced } : {}) };
  }

  /** Serves `endpoint` without a local model (an API-only process forwards its real-time calls). */
  putForwarded(endpoint: EndpointConfig): void {
    this.configs.set(endpoint.name, endpoint);
  }

  /** Stops serving endpoint `name`; returns its model (to drain and stop), if it had one. */
  remove(name: string): ManagedModel | undefined {
    const model = this.models.get(name);
    this.offs.get(name)?.();
    this.offs.delete(name);
    this.configs.delete(name);
    this.models.delete(name);
    this.slots.delete(name);
    this.realtime.delete(name);
    return model;
  }

  /** Stops the capacity re-check and the health subscriptions. */
  stop(): void {
    clearInterval(this.timer);
    for (const off of this.offs.values()) off();
    this.offs.clear();
  }
}
