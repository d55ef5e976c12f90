/**
 * The worker process's side of the registry: every route interval it publishes its forwarding
 * route (advertised URL, each endpoint's capacity and calls in flight), and reads the real-time
 * demand API processes recorded: demand for an endpoint whose model has no capacity here is
 * reported to the model, which starts an instance of a scaled-to-zero pool. Withdraws the route
 * on stop.
 */
import type { ManagedModel } from '../models/index.js';
import type { RouteRegistry } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';

/** Options of {@link startRoutePublisher}. */
export interface RoutePublisherOptions {
  readonly registry: RouteRegistry;
  /** This process's route owner string. */
  readonly owner: string;
  readonly url: string;
  readonly models: ReadonlyMap<string, ManagedModel>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs: number;
}

/** A running publisher. */
export interface RoutePublisher {
  /** Publishes now (e.g. right after a health change). */
  publishNow(): Promise<void>;
  /** Stops publishing and withdraws the route. */
  stop(): Promise<void>;
}

/** Publishes at once, then every interval; see the module header. */
export async function startRoutePublisher(options: RoutePublisherOptions): Promise<RoutePublisher> {
  const { registry, models, clock, logger, intervalMs } = options;
  let failing = false;
  let stopped = false;
  const publish = async (): Promise<void> => {
    const now = clock.now();
    const endpoints = [...models].map(([name, model]) => ({ name, capacity: model.capacity(), inFlight: model.snapshot().inFlight }));
    await registry.publishRoute({ owner: options.owner, url: options.url, endpoints, updatedAt: now });
    for (const demand of await registry.demand(now - 3 * intervalMs)) {
      const model = models.get(demand.endpoint);
      if (model !== undefined && model.capacity() === 0 && demand.waiting > 0) model.reportDemand(demand.waiting);
    }
  };
  const tick = async (): Promise<void> => {
    try {
      await publish();
      if (failing) logger.info('forwarding route published again');
      failing = false;
    } catch (err) {
      if (!failing) logger.warn('cannot publish the forwarding route', { error: err instanceof Error ? err.message : String(err) });
      failing = true;
    }
  };
  await publish();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  const offs = [...models.values()].map((model) => model.onHealthChange(() => { if (!stopped) void tick(); }));
  return {
    publishNow: tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const off of offs) off();
      await registry.withdrawRoute(options.owner).catch(() => undefined);
    },
  };
}
