/**
 * The API process's view of the forwarding routes: the fresh routes of the registry, re-read every
 * route interval, and the choice of a worker for one call — the healthy route (capacity > 0, not
 * just refused) with the lowest load, counting the published in-flight calls plus the calls this
 * process sent it since. Demand for an endpoint without a route is recorded in the registry (at
 * most once per interval per endpoint) so that a worker with `instances.min: 0` starts its model.
 */
import type { RouteRegistry } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';

/** One worker serving one endpoint, as this process sees it. */
export interface RouteChoice {
  readonly owner: string;
  readonly url: string;
  readonly capacity: number;
  /** In flight there as published. */
  readonly inFlight: number;
  /** Epoch ms of the publication this choice comes from. */
  readonly updatedAt: number;
  /** Calls this process has in flight there now. */
  sent: number;
}

/** Options of {@link RouteTable}. */
export interface RouteTableOptions {
  readonly registry: RouteRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often routes are re-read; a route older than 3× this is stale. */
  readonly intervalMs: number;
}

/** Picks the least-loaded of `routes` (load = (published in flight + sent) / capacity), or undefined when none has capacity. */
export function chooseRoute(routes: readonly RouteChoice[]): RouteChoice | undefined {
  let best: RouteChoice | undefined;
  let bestLoad = Infinity;
  for (const route of routes) {
    if (route.capacity <= 0) continue;
    const load = (route.inFlight + route.sent) / route.capacity;
    if (load < bestLoad) {
      best = route;
      bestLoad = load;
    }
  }
  return best;
}

/** Routes by endpoint, refreshed from the registry; see the module header. */
export class RouteTable {
  private byEndpoint = new Map<string, RouteChoice[]>();
  /** Owners that refused a connection → the publication time of the route they refused on. */
  private readonly refused = new Map<string, number>();
  private readonly demandAt = new Map<string, number>();
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: RouteTableOptions) {}

  /** Reads the routes now and then every interval. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Calls `listener` after every refresh (capacity may have changed). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls the healthy routes of `endpoint` can take now, all workers together. */
  capacity(endpoint: string): number {
    let total = 0;
    for (const route of this.byEndpoint.get(endpoint) ?? []) if (!this.refused.has(route.owner)) total += route.capacity;
    return total;
  }

  /** The workers publishing `endpoint` (healthy: with capacity, not refused) and their calls in flight, for the status API. */
  view(endpoint: string): { readonly workers: number; readonly healthy: number; readonly inFlight: number } {
    const routes = this.byEndpoint.get(endpoint) ?? [];
    let healthy = 0;
    let inFlight = 0;
    for (const route of routes) {
      if (route.capacity > 0 && !this.refused.has(route.owner)) healthy += 1;
      inFlight += route.inFlight;
    }
    return { workers: routes.length, healthy, inFlight };
  }

  /** The route for the next call of `endpoint`, or undefined when no worker serves it now. */
  choose(endpoint: string): RouteChoice | undefined {
    return chooseRoute((this.byEndpoint.get(endpoint) ?? []).filter((r) => !this.refused.has(r.owner)));
  }

  /** A route that refused a connection is left out until its worker publishes it again (a newer publication). */
  markUnreachable(owner: string): void {
    let updatedAt = 0;
    for (const list of this.byEndpoint.values()) for (const r of list) if (r.owner === owner) updatedAt = Math.max(updatedAt, r.updatedAt);
    this.refused.set(owner, updatedAt);
  }

  /** `waiting` real-time calls of `endpoint` wait for capacity: records the demand while no worker has capacity for it. */
  reportDemand(endpoint: string, waiting: number): void {
    if (waiting <= 0 || this.capacity(endpoint) > 0) return;
    const now = this.options.clock.now();
    if (now - (this.demandAt.get(endpoint) ?? -Infinity) < this.options.intervalMs) return;
    this.demandAt.set(endpoint, now);
    this.options.registry.recordDemand(endpoint, waiting, now).catch((err: unknown) => {
      this.options.logger.warn('cannot record real-time demand', { endpoint, error: err instanceof Error ? err.message : String(err) });
    });
  }

  /** Re-reads the routes (one read at a time). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => { this.refreshing = undefined; });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    const now = this.options.clock.now();
    try {
      const routes = await this.options.registry.routes(now - 3 * this.options.intervalMs);
      const next = new Map<string, RouteChoice[]>();
      for (const route of routes) {
        const refusedAt = this.refused.get(route.owner);
        if (refusedAt !== undefined && route.updatedAt > refusedAt) this.refused.delete(route.owner);
        for (const e of route.endpoints) {
          const sent = this.byEndpoint.get(e.name)?.find((r) => r.owner === route.owner)?.sent ?? 0;
          const list = next.get(e.name) ?? [];
          list.push({ owner: route.owner, url: route.url, capacity: e.capacity, inFlight: e.inFlight, updatedAt: route.updatedAt, sent });
          next.set(e.name, list);
        }
      }
      this.byEndpoint = next;
      for (const owner of this.refused.keys()) if (!routes.some((r) => r.owner === owner)) this.refused.delete(owner);
      if (this.failing) this.options.logger.info('forwarding routes readable again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.options.logger.warn('cannot read forwarding routes; keeping the last ones', { error: err instanceof Error ? err.message : String(err) });
      this.failing = true;
    }
    for (const listener of this.listeners) listener();
  }
}
