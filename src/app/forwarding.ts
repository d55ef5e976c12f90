/**
 * Wiring of real-time forwarding (src/forward) for the two process roles. A process running
 * workers binds `worker.listen`, serves forwarded calls on its own models and publishes its route;
 * an API-only process (`worker.enabled: false`) reads the routes and gives each endpoint a
 * RealtimeTarget whose model is the forwarding client and whose slots count the capacity of every
 * worker serving it (none: the call waits, recording demand, up to `realtime.startTimeoutSeconds`
 * — scale from zero across hosts — then ModelNotReadyException, as for a local cold start).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { EndpointConfig, ResolvedConfig } from '../config/index.js';
import { StartupError } from '../errors/index.js';
import { createForwardClient, RouteTable, startForwardServer, startRoutePublisher } from '../forward/index.js';
import type { InstanceSnapshot, ManagedModel, ModelClient } from '../models/index.js';
import type { QueueBackend } from '../queue/index.js';
import type { RealtimeTarget } from '../runtime/index.js';
import { SlotScheduler } from '../scheduling/index.js';
import { systemErrorReason, type Clock, type Logger } from '../util/index.js';

/** While calls wait for a route, capacity is re-read this often (between route refreshes). */
const WAITING_RECHECK_MS = 100;

/** Forwarding of an API-only process: the targets to give the runtime API, the models as the status API shows them, and how to stop. */
export interface ForwardingTargets {
  /** Live: {@link add} and {@link remove} change them. */
  readonly targets: Map<string, RealtimeTarget>;
  /** Each endpoint's forwarding client as a ManagedModel: instances are the workers publishing it. */
  readonly models: Map<string, ManagedModel>;
  /** Forwards `endpoint` too (an API-created endpoint; a new version replaces the old one's target). */
  add(endpoint: EndpointConfig): void;
  /** Stops forwarding endpoint `name`. */
  remove(name: string): void;
  stop(): void;
}

/** The forwarding client of `endpoint` as a ManagedModel (capacity and snapshot from the route table). */
function forwardedModel(endpoint: EndpointConfig, client: ModelClient, table: RouteTable): ManagedModel {
  let waiting = 0;
  return Object.assign({}, client, {
    capacity: () => table.capacity(endpoint.name),
    reportDemand(count: number): void {
      waiting = count;
      table.reportDemand(endpoint.name, count);
    },
    snapshot(): InstanceSnapshot {
      const view = table.view(endpoint.name);
      return { instances: view.workers, healthy: view.healthy, starting: view.workers - view.healthy, inFlight: view.inFlight, waiting, min: endpoint.instances.min, max: endpoint.instances.max };
    },
  });
}

/** Reads the routes once, then builds one forwarding target per endpoint. */
export async function forwardingTargets(config: ResolvedConfig, endpoints: readonly EndpointConfig[], queue: QueueBackend, clock: Clock, logger: Logger): Promise<ForwardingTargets> {
  const table = new RouteTable({ registry: queue, clock, logger, intervalMs: config.worker.routeIntervalSeconds * 1000 });
  await table.start();
  const targets = new Map<string, RealtimeTarget>();
  const models = new Map<string, ManagedModel>();
  const closers = new Map<string, () => void>();
  const schedulers = new Map<string, SlotScheduler>();
  const remove = (name: string): void => {
    closers.get(name)?.();
    closers.delete(name);
    schedulers.delete(name);
    targets.delete(name);
    models.delete(name);
  };
  const add = (endpoint: EndpointConfig): void => {
    remove(endpoint.name);
    const client = createForwardClient({ endpoint: endpoint.name, routes: table, key: config.worker.forwardKey, clock });
    const model = forwardedModel(endpoint, client, table);
    const slots = new SlotScheduler({
      capacity: () => model.capacity(),
      now: () => clock.now(),
      maxWaiting: endpoint.realtime.maxWaiting,
      onDemand: (waiting) => model.reportDemand(waiting),
    });
    schedulers.set(endpoint.name, slots);
    const off = table.onChange(() => slots.recheck());
    closers.set(endpoint.name, () => { off(); client.close(); });
    targets.set(endpoint.name, { model, slots, ensureStarted: () => undefined });
    models.set(endpoint.name, model);
  };
  for (const endpoint of endpoints) add(endpoint);
  const timer = setInterval(() => {
    for (const s of schedulers.values()) {
      if (!s.hasWaiters()) continue;
      s.recheck();
      void table.refresh();
    }
  }, WAITING_RECHECK_MS);
  timer.unref();
  return {
    targets,
    models,
    add,
    remove,
    stop() {
      clearInterval(timer);
      table.stop();
      for (const close of closers.values()) close();
    },
  };
}

/** The forwarding side of a process running workers. */
export interface ForwardListener {
  readonly url: string;
  stop(graceMs: number): Promise<void>;
}

/**
 * Binds `worker.listen`, serves forwarded calls of `targets` and publishes the route (at
 * `worker.advertiseUrl`, else the bound address).
 * @throws StartupError when the address cannot be bound.
 */
export async function startForwardListener(
  config: ResolvedConfig, endpoints: ReadonlyMap<string, EndpointConfig>, models: ReadonlyMap<string, ManagedModel>, targets: ReadonlyMap<string, RealtimeTarget>,
  queue: QueueBackend, clock: Clock, logger: Logger,
): Promise<ForwardListener> {
  const { host, port } = config.worker.listen;
  let server;
  try {
    server = await startForwardServer({ host, port, key: config.worker.forwardKey, endpoints, targets, ctx: { region: config.server.region, account: config.server.account, logger }, clock });
  } catch (err) {
    const reason = systemErrorReason(err);
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (reason === undefined) throw err;
    throw new StartupError('listen', address, `cannot listen on ${address} (worker.listen): ${reason}`, { cause: err });
  }
  const url = config.worker.advertiseUrl ?? server.url;
  const publisher = await startRoutePublisher({
    registry: queue, owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, url, models, clock, logger,
    intervalMs: config.worker.routeIntervalSeconds * 1000,
  });
  logger.info('forwarding listener ready', { listen: server.url, advertised: url });
  return {
    url,
    async stop(graceMs) {
      await publisher.stop();
      await server.close(graceMs);
    },
  };
}
