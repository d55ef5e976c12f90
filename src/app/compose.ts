/**
 * The composition root: the only place that wires ports to adapters. Everything else receives its
 * dependencies from here. `startInferq` runs the whole embedded product (API + object store +
 * queue + workers + models); `startWorkers` runs only workers against the same data directory and
 * queue (`queue.backend`: SQLite in the data directory, or a PostgreSQL schema any number of
 * processes share).
 * Start-up order: the data directory is checked, storage opened and (serve) the port bound before
 * any model process is spawned, so a bad environment fails with a StartupError and nothing to undo.
 * Stop order: the HTTP drain and the worker pool share one grace, then models, then storage.
 */
import { SigV4Verifier } from '../auth/index.js';
import { StartupError } from '../errors/index.js';
import { createAutoscalingApi } from '../autoscaling/index.js';
import { createControlPlaneApi, type ConfigManagedEndpoint } from '../controlplane/index.js';
import { createGatewayServer, type GatewayServer } from '../http/index.js';
import type { EndpointConfig, ResolvedConfig } from '../config/index.js';
import { noopMetrics, type Metrics } from '../metrics/index.js';
import type { ManagedModel } from '../models/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { Job, QueueBackend, ResourceStore } from '../queue/index.js';
import { deploymentOf, modelDataOf } from '../deploy/index.js';
import { createRuntimeApi } from '../runtime/index.js';
import { createS3Api } from '../s3api/index.js';
import { systemClock, systemErrorReason, type Clock, type Logger } from '../util/index.js';
import { ActivityHistory, createUiApi } from '../ui/index.js';
import { startWorkerPool, type ExecuteResult, type WorkerPool } from '../worker/index.js';
import { prepareServeDataDir, prepareWorkerDataDir } from './data-dir.js';
import { startApiEndpoints, type ApiEndpoints } from './api-endpoints.js';
import { availableEndpoints, type DisabledEndpoint } from './endpoints.js';
import { ServedEndpoints } from './served.js';
import { forwardingTargets, startForwardListener, type ForwardingTargets, type ForwardListener } from './forwarding.js';
import { createAppMetrics } from './metrics.js';
import type { MetricsScrape } from '../http/index.js';
import { createModelClients } from './models.js';
import { notificationBuilder, setUpNotifications, type NotificationHooks, type RunningNotifications } from './notifications.js';
import { startRetention } from './retention.js';
import { ensureBuckets, fetchUrl, openObjectStore, openQueue, openResources } from './storage.js';
import { endpointStatus, startStatusLog } from './status.js';

/** A started inferq instance. */
export interface RunningInferq {
  /** The base URL (e.g. http://127.0.0.1:8080), empty for a workers-only process. */
  readonly url: string;
  readonly store: ObjectStore;
  readonly queue: QueueBackend;
  readonly models: ReadonlyMap<string, ManagedModel>;
  /** Endpoints served. */
  readonly endpoints: readonly EndpointConfig[];
  /** Configured endpoints that are off (a built-in model's optional dependency is missing). */
  readonly disabled: readonly DisabledEndpoint[];
  /** Graceful stop: stop accepting, drain for the configured grace, stop models, close storage. */
  stop(): Promise<void>;
}

interface Core {
  /** The endpoints served: the file's, then API-created ones as they come and go. */
  served: ServedEndpoints;
  /** Names of the configuration file's endpoints served. */
  configNames: ReadonlySet<string>;
  disabled: DisabledEndpoint[];
  store: ObjectStore;
  queue: QueueBackend;
  pool: WorkerPool | undefined;
  /** What features record through, and the `/metrics` scrape (undefined when off). */
  metrics: Metrics;
  scrape: MetricsScrape | undefined;
  /** Stops the capacity watch, the health subscriptions of the schedulers and the status log. */
  unwatch: () => void;
  /** Stops the retention purge (serve only). */
  stopRetention: () => Promise<void>;
  /** The notification outbox drain of a worker process, when any endpoint notifies. */
  notifications?: RunningNotifications | undefined;
  /** The forwarding listener of a process running workers. */
  forward: ForwardListener | undefined;
  /** The forwarding targets of an API-only process. */
  forwarding: ForwardingTargets | undefined;
  /** Told of every request this process's workers finish (the dashboard's counts). */
  onFinished?: (job: Job, result: ExecuteResult) => void;
  /** Serves the endpoints created through the control plane (started once storage is open). */
  apiEndpoints?: ApiEndpoints;
}

/** Opens storage and builds (does not start) the models and schedulers: no process is spawned yet. */
async function openCore(config: ResolvedConfig, logger: Logger, clock: Clock, withWorkers: boolean): Promise<Core> {
  const store = await openObjectStore(config, logger, clock);
  let queue: QueueBackend;
  try {
    queue = await openQueue(config, logger, clock, withWorkers);
  } catch (err) {
    await store.close();
    throw err;
  }
  const { endpoints, disabled } = availableEndpoints(config.endpoints);
  const served = new ServedEndpoints(clock, true);
  if (withWorkers) {
    const models = createModelClients(endpoints, config.modelBaseEnv, logger.child('model'));
    for (const endpoint of endpoints) served.put(endpoint, models.get(endpoint.name)!);
  } else {
    for (const endpoint of endpoints) served.putForwarded(endpoint);
  }
  const core: Core = {
    served, configNames: new Set(endpoints.map((e) => e.name)), disabled, store, queue, pool: undefined, metrics: noopMetrics, scrape: undefined,
    unwatch: () => served.stop(), stopRetention: () => Promise.resolve(), forward: undefined, forwarding: undefined,
  };
  // The gauges read the models this process serves with: an API-only process's forwarding view once set.
  const { metrics, scrape } = createAppMetrics(config, () => servingModels(core), queue, clock);
  core.metrics = metrics;
  core.scrape = scrape;
  return core;
}

/** The models this process serves with: its own, or (API-only) the forwarding view. */
function servingModels(core: Core): ReadonlyMap<string, ManagedModel> {
  return core.forwarding?.models ?? core.served.models;
}

/** Starts what runs: output buckets, the status log, and with `withWorkers` the models and the worker pool. */
async function runCore(core: Core, config: ResolvedConfig, logger: Logger, clock: Clock, withWorkers: boolean, hooks: NotificationHooks = {}): Promise<void> {
  for (const off of core.disabled) logger.warn(`endpoint ${off.name} is off`, { reason: off.reason });
  const { served, queue, store } = core;
  await ensureBuckets(store, served.list(), config.objects);
  const stopStatusLog = startStatusLog(endpointStatus(servingModels(core), core.disabled, queue, clock), logger.child('status'));
  const unwatchServed = core.unwatch;
  core.unwatch = (): void => { unwatchServed(); stopStatusLog(); };
  if (!withWorkers) return;
  await Promise.all([...served.models.values()].map((m) => m.start()));
  const notifications = setUpNotifications(config, served.configs, queue, store, clock, logger.child('notify'), hooks);
  core.notifications = notifications;
  core.pool = await startWorkerPool({
    endpoints: [...served.configs.keys()].map((name) => ({ endpoint: served.configs.get(name)!, model: served.models.get(name)!, slots: served.slots.get(name)! })),
    queue, store, fetchUrl,
    notifications: notifications.finishes,
    leaseMs: config.worker.leaseSeconds * 1000,
    sweepIntervalMs: config.worker.sweepIntervalSeconds * 1000,
    storageRetry: { initialMs: config.worker.storageRetryInitialSeconds * 1000, maxMs: config.worker.storageRetryMaxSeconds * 1000 },
    clock, logger: logger.child('worker'), metrics: core.metrics,
    ...(core.onFinished ? { onFinished: core.onFinished } : {}),
  });
  notifications.start(core.pool.owner);
  core.forward = await startForwardListener(config, served.configs, served.models, served.realtime, queue, clock, logger.child('forward'));
}

/**
 * Stops in order: the API-created endpoints' watch, the worker pool and `drainHttp` (both given
 * `graceMs` at the same time), then the models, then storage.
 */
async function stopCore(core: Core, graceMs: number, drainHttp?: () => Promise<void>): Promise<void> {
  await core.apiEndpoints?.stop();
  await Promise.all([core.pool?.stop(graceMs), drainHttp?.(), core.stopRetention(), core.forward?.stop(graceMs)]);
  await core.notifications?.stop();
  core.unwatch();
  core.forwarding?.stop();
  await Promise.all([...core.served.models.values()].map((m) => m.stop()));
  await core.apiEndpoints?.stopRetired();
  await core.queue.close();
  await core.store.close();
}

/** Undoes {@link openCore} when nothing was started yet (no model process runs). */
async function closeCore(core: Core): Promise<void> {
  core.unwatch();
  core.forwarding?.stop();
  await core.queue.close();
  await core.store.close();
}

/** A listen failure as a StartupError naming the address and the OS reason. */
function listenError(err: unknown, host: string, port: number): unknown {
  const reason = systemErrorReason(err);
  if (reason === undefined) return err;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const hint = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (another process uses the port: choose another with --port or server.port)' : '';
  return new StartupError('listen', address, `cannot listen on ${address}: ${reason}${hint}`, { cause: err });
}

/** The configuration file's endpoints as the control plane lists them. */
function configManagedEndpoints(core: Core, since: number): () => ConfigManagedEndpoint[] {
  return () => [
    ...[...servingModels(core)].filter(([name]) => core.configNames.has(name)).map(([name, model]) => ({ name, status: 'InService' as const, instances: model.snapshot().instances, since })),
    ...core.disabled.map((off) => ({ name: off.name, status: 'OutOfService' as const, failureReason: off.reason, instances: 0, since })),
  ];
}

/** The dashboard's history of backlog and throughput: sampled while the server runs, counting what this process's workers finish. */
function startHistory(core: Core, logger: Logger, clock: Clock): ActivityHistory {
  const history = new ActivityHistory(endpointStatus(servingModels(core), core.disabled, core.queue, clock), clock, logger.child('ui'));
  core.onFinished = (job, result) => {
    if (result.state === 'succeeded') history.finished(job.endpoint, true);
    else if (result.state === 'failed' || result.state === 'expired') history.finished(job.endpoint, false);
  };
  const unwatch = core.unwatch;
  core.unwatch = (): void => { unwatch(); history.stop(); };
  history.start();
  return history;
}

function createServer(core: Core, resources: ResourceStore, config: ResolvedConfig, logger: Logger, clock: Clock): { gateway: GatewayServer; failQueued: (endpoint: string, reason: string) => Promise<number> } {
  const { server: cfg } = config;
  const secrets = new Map(cfg.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  const credentials = { secretFor: (id: string) => secrets.get(id) };
  const runtime = createRuntimeApi({
    endpoints: core.served.configs, queue: core.queue, store: core.store, status: endpointStatus(servingModels(core), core.disabled, core.queue, clock), clock, inputUrlAllowList: cfg.inputUrlAllowList, maxBacklogPerEndpoint: cfg.maxBacklogPerEndpoint,
    realtime: core.forwarding?.targets ?? core.served.realtime, region: cfg.region, account: cfg.account, logger: logger.child('runtime'), metrics: core.metrics,
    cancelNotification: notificationBuilder(config, core.served.configs),
    onCancelled: (job) => {
      const now = clock.now();
      core.metrics.recordFailure({ endpoint: job.endpoint, receivedAt: job.receivedAt, startedAt: now, finishedAt: now }, 'cancelled');
      core.notifications?.finishes.recorded();
    },
  });
  const dev = cfg.usingDevCredentials ? cfg.credentials[0] : undefined;
  const ui = createUiApi({
    runtime, credentials, region: cfg.region, history: startHistory(core, logger, clock), clock,
    control: {
      list: async (endpoint, status, limit) => (await runtime.lifecycle.list(endpoint, new URLSearchParams({ maxResults: String(limit), ...(status !== undefined ? { status } : {}) }).toString())).Invocations,
      cancel: (endpoint, id) => runtime.lifecycle.cancel(endpoint, id),
      retry: (endpoint, id) => runtime.lifecycle.rerun(endpoint, id),
    }, logger: logger.child('ui'),
    ...(dev ? { devCredentials: { accessKeyId: dev.accessKeyId, secretAccessKey: dev.secretAccessKey } } : {}),
  });
  const gateway = createGatewayServer({
    verifier: new SigV4Verifier(credentials, clock, { maxClockSkewSeconds: cfg.maxClockSkewSeconds }),
    credentials,
    clock,
    s3: createS3Api({ store: core.store, region: cfg.region, virtualHostDomain: cfg.s3VirtualHostDomain, logger: logger.child('s3') }),
    runtime,
    ui,
    account: cfg.account,
    controlPlane: createControlPlaneApi({ store: resources, clock, scope: { region: cfg.region, account: cfg.account }, configEndpoints: configManagedEndpoints(core, clock.now()),
      knownImage: (image) => Object.hasOwn(config.images, image),
      onChange: () => core.apiEndpoints?.wake(),
      checkDeployment: (configName, endpointConfig, model) => {
        modelDataOf(model);
        deploymentOf({ endpointName: configName, endpointConfig, model, images: config.images, topics: config.topics, region: cfg.region });
      },
      liveInstances: (name) => (core.configNames.has(name) ? undefined : servingModels(core).get(name)?.snapshot().instances),
    }),
    autoscaling: createAutoscalingApi({ store: resources, clock, scope: { region: cfg.region, account: cfg.account } }),
    logger,
    maxUnverifiedBodyBytes: cfg.maxUnverifiedBodyBytes,
    bodyTimeoutMs: cfg.bodyTimeoutSeconds * 1000,
    metrics: core.metrics,
    scrape: core.scrape,
    accessLog: cfg.accessLog,
  });
  return { gateway, failQueued: (endpoint, reason) => runtime.lifecycle.failQueued(endpoint, reason) };
}

/** Starts serving the endpoints created through the control plane (see api-endpoints.ts). */
async function serveApiEndpoints(core: Core, resources: ResourceStore, config: ResolvedConfig, logger: Logger, clock: Clock, failQueued?: (endpoint: string, reason: string) => Promise<number>): Promise<void> {
  core.apiEndpoints = await startApiEndpoints({
    config, resources, store: core.store, served: core.served, configNames: core.configNames,
    ...(core.pool !== undefined && core.notifications !== undefined ? { workers: { pool: core.pool, notifications: core.notifications } } : {}),
    ...(core.forwarding !== undefined ? { forwarding: core.forwarding } : {}),
    ...(failQueued !== undefined ? { failQueued } : {}),
    graceMs: config.server.shutdownGraceSeconds * 1000, clock, logger: logger.child('endpoints'),
  });
}

/**
 * Starts the whole embedded product from a resolved configuration. The data directory is checked
 * and the port bound before any model process is started.
 * @throws StartupError when the data directory cannot be created, written or opened, or the address cannot be bound.
 */
export async function startInferq(config: ResolvedConfig, logger: Logger, clock: Clock = systemClock, hooks: NotificationHooks = {}): Promise<RunningInferq> {
  const { server: cfg } = config;
  prepareServeDataDir(cfg.dataDir);
  const core = await openCore(config, logger, clock, config.worker.enabled);
  let resources: ResourceStore;
  try {
    if (!config.worker.enabled) core.forwarding = await forwardingTargets(config, core.served.list(), core.queue, clock, logger.child('forward'));
    resources = await openResources(config, logger);
  } catch (err) {
    await closeCore(core);
    throw err;
  }
  const { gateway: server, failQueued } = createServer(core, resources, config, logger, clock);
  let url: string;
  try {
    url = await server.listen(cfg.host, cfg.port);
  } catch (err) {
    await resources.close();
    await closeCore(core);
    throw listenError(err, cfg.host, cfg.port);
  }
  const graceMs = cfg.shutdownGraceSeconds * 1000;
  try {
    await runCore(core, config, logger, clock, config.worker.enabled, hooks);
    core.stopRetention = startRetention(core.queue, cfg.requestRetentionSeconds * 1000, clock, logger.child('retention'));
    await serveApiEndpoints(core, resources, config, logger, clock, failQueued);
  } catch (err) {
    await stopCore(core, 0, () => server.close(0).then(() => resources.close()));
    throw err;
  }
  return running(core, url, () => stopCore(core, graceMs, () => server.close(graceMs).then(() => resources.close())));
}

/** The public view of a started core; `stop` runs once however often it is called. */
function running(core: Core, url: string, stopOnce: () => Promise<void>): RunningInferq {
  let stopping: Promise<void> | undefined;
  return {
    url,
    store: core.store,
    queue: core.queue,
    models: core.served.models,
    get endpoints() {
      return core.served.list();
    },
    disabled: core.disabled,
    stop() {
      stopping ??= stopOnce();
      return stopping;
    },
  };
}

/** Starts workers only (`inferq worker`), against the same data directory as a `serve` process. */
export async function startWorkers(config: ResolvedConfig, logger: Logger, clock: Clock = systemClock, hooks: NotificationHooks = {}): Promise<RunningInferq> {
  prepareWorkerDataDir(config.server.dataDir, config.queue.backend === 'sqlite');
  const core = await openCore(config, logger, clock, true);
  let resources: ResourceStore;
  try {
    resources = await openResources(config, logger);
  } catch (err) {
    await closeCore(core);
    throw err;
  }
  const closeResources = (): Promise<void> => resources.close();
  try {
    await runCore(core, config, logger, clock, true, hooks);
    await serveApiEndpoints(core, resources, config, logger, clock);
  } catch (err) {
    await stopCore(core, 0, closeResources);
    throw err;
  }
  return running(core, '', () => stopCore(core, config.server.shutdownGraceSeconds * 1000, closeResources));
}
