/**
 * Serving the endpoints created through the SageMaker control plane. Every process watches the
 * ResourceStore (every {@link RECONCILE_INTERVAL_MS}, and at once after a change made through its
 * own API) and brings what it serves in line with each endpoint's stored status:
 * - a process running workers starts the model of a `Creating` or `Updating` endpoint's config and,
 *   once it is healthy, serves it (new real-time calls and claims go to it; the version it replaces
 *   finishes its calls in flight) and records `InService`; a model that exits or stays unhealthy
 *   first is stopped and recorded as `Failed` with the reason (an update rolls back). An endpoint
 *   already `InService` (after a restart, or on another host) is served at once;
 * - an API-only process serves the config in force (`InService`, or the previous one while
 *   `Updating`), forwarding its real-time calls to the workers;
 * - a `Deleting` endpoint stops being served; a process with the API fails its queued requests
 *   (failure object: the endpoint was deleted), removes it and deregisters its scalable targets
 *   (as Application Auto Scaling does when SageMaker deletes an endpoint).
 * Several processes may act at once (PostgreSQL): every status write is a compare-and-set.
 */
import { createHash } from 'node:crypto';
import { deregisterEndpointTargets, scalingOf, type EndpointScaling } from '../autoscaling/index.js';
import type { EndpointConfig, ResolvedConfig } from '../config/index.js';
import { listEndpointRecords, modelRequestOf, recordStartOutcome, removeDeletedEndpoint, type EndpointRecord } from '../controlplane/index.js';
import { deploymentOf, fetchModelData, modelDataOf, modelDirFor, type Deployment } from '../deploy/index.js';
import type { ManagedModel } from '../models/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { ResourceStore } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';
import type { WorkerPool } from '../worker/index.js';
import type { ForwardingTargets } from './forwarding.js';
import { createModelClient } from './models.js';
import type { RunningNotifications } from './notifications.js';
import type { ServedEndpoints } from './served.js';
import { ExitRelay, RecentLines, recordingLogger, watchStart } from './start-watch.js';
import { ensureBuckets } from './storage.js';

/** How often the stored endpoints are read (a change through another process is served within this). */
export const RECONCILE_INTERVAL_MS = 500;
/** A config whose start failed is tried again after this long (an InService endpoint after a restart). */
const FAILED_RETRY_MS = 30_000;
/** How long a url model may take to answer its first /ping while its endpoint is Creating. */
const URL_START_TIMEOUT_MS = 60_000;

/** What the watch needs. */
export interface ApiEndpointsDeps {
  readonly config: ResolvedConfig;
  readonly resources: ResourceStore;
  readonly store: ObjectStore;
  readonly served: ServedEndpoints;
  /** Names of the configuration file's endpoints (never touched here). */
  readonly configNames: ReadonlySet<string>;
  /** A process running workers: its pool and notifications. */
  readonly workers?: { readonly pool: WorkerPool; readonly notifications: RunningNotifications };
  /** An API-only process: its forwarding targets. */
  readonly forwarding?: ForwardingTargets;
  /** A process with the API: fails the queued requests of a deleted endpoint (see LifecycleOperations.failQueued). */
  readonly failQueued?: (endpoint: string, reason: string) => Promise<number>;
  readonly graceMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The running watch. */
export interface ApiEndpoints {
  /** Reads the store now (a change was made through this process's API). */
  wake(): void;
  /** Stops watching, and abandons (stops) the models still starting. */
  stop(): Promise<void>;
  /** Stops the models of replaced or retired versions still finishing their calls (after the worker pool has stopped). */
  stopRetired(): Promise<void>;
}

/** What an endpoint should run: the stored documents it derives from, and their digests. */
interface Desired {
  /** Of the config and model: a change starts a new version. */
  readonly key: string;
  /** Of the scaling: a change is applied to the running version in place. */
  readonly scalingKey: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly modelName: string;
  readonly model: Readonly<Record<string, unknown>>;
  readonly scaling: EndpointScaling | undefined;
}

interface Starting {
  readonly key: string;
  readonly abort: AbortController;
  readonly done: Promise<void>;
}

function variantOf(config: Readonly<Record<string, unknown>>): { modelName: string; variantName: string } {
  const variants = config['ProductionVariants'];
  const first: unknown = Array.isArray(variants) ? variants[0] : undefined;
  const v = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
  return { modelName: typeof v['ModelName'] === 'string' ? v['ModelName'] : '', variantName: typeof v['VariantName'] === 'string' ? v['VariantName'] : 'AllTraffic' };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Starts watching; the first pass (which starts the models of endpoints already InService) is done when this resolves. */
export async function startApiEndpoints(deps: ApiEndpointsDeps): Promise<ApiEndpoints> {
  const watch = new EndpointWatch(deps);
  await watch.pass(true);
  watch.start();
  return watch;
}

class EndpointWatch implements ApiEndpoints {
  /** The keys of the version served, by endpoint name. */
  private readonly running = new Map<string, { readonly key: string; scalingKey: string }>();
  private readonly starting = new Map<string, Starting>();
  private readonly failed = new Map<string, { key: string; at: number }>();
  /** The last error of each endpoint that could not be brought in line (logged once). */
  private readonly warned = new Map<string, string>();
  /** Models of replaced or retired versions, until they are stopped. */
  private readonly retired = new Set<ManagedModel>();
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: ApiEndpointsDeps) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = this.pass(false)
      .catch((err: unknown) => this.deps.logger.warn('could not read the control-plane endpoints', { error: errorText(err) }))
      .finally(() => {
        this.busy = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.busy;
    const starts = [...this.starting.values()];
    for (const s of starts) s.abort.abort();
    await Promise.all(starts.map((s) => s.done));
  }

  async stopRetired(): Promise<void> {
    await Promise.all([...this.retired].map((m) => m.stop()));
  }

  /** Once the pool is done with `model`'s version (`drained`), waits for its real-time calls, then stops it. */
  private stopWhenDrained(model: ManagedModel | undefined, drained: Promise<void>, endpoint: string): void {
    if (model === undefined) return;
    this.retired.add(model);
    void drained
      .then(() => drainAndStop(model, this.deps.graceMs))
      .catch((err: unknown) => this.deps.logger.warn('could not stop the model of a replaced or retired version', { endpoint, error: errorText(err) }))
      .finally(() => this.retired.delete(model));
  }

  /** One pass over the stored endpoints; with `waitForStarts`, resolves once the InService ones have started. */
  async pass(waitForStarts: boolean): Promise<void> {
    const records = await listEndpointRecords(this.deps.resources);
    const live = new Set<string>();
    const starts: Promise<void>[] = [];
    for (const record of records) {
      if (this.deps.configNames.has(record.name)) continue;
      live.add(record.name);
      try {
        const started = await this.reconcile(record);
        if (started !== undefined && record.status === 'InService') starts.push(started);
        this.warned.delete(record.name);
      } catch (err) {
        // Said once per distinct error, not on every pass.
        if (this.warned.get(record.name) === errorText(err)) continue;
        this.warned.set(record.name, errorText(err));
        this.deps.logger.warn('could not bring an endpoint in line with the control plane', { endpoint: record.name, error: errorText(err) });
      }
    }
    for (const name of [...this.running.keys(), ...this.starting.keys()]) if (!live.has(name)) this.retire(name);
    if (waitForStarts) await Promise.all(starts);
  }

  /** Brings one endpoint in line; resolves to the start it began, if any. */
  private async reconcile(record: EndpointRecord): Promise<Promise<void> | undefined> {
    if (record.status === 'Deleting') return void (await this.delete(record));
    if (record.status === 'Failed') return void this.retire(record.name);
    if (this.deps.workers === undefined) return void (await this.serveForwarded(record));
    const desired = await this.desiredOf(record, record.config);
    const running = this.running.get(record.name);
    if (running?.key === desired.key) {
      if (running.scalingKey !== desired.scalingKey) await this.rescale(record.name, desired);
      if (record.status !== 'InService') await recordStartOutcome(this.deps.resources, this.deps.clock, record, { kind: 'in-service' });
      return undefined;
    }
    if (this.starting.get(record.name)?.key === desired.key) return undefined;
    const failed = this.failed.get(record.name);
    if (failed?.key === desired.key && this.deps.clock.now() - failed.at < FAILED_RETRY_MS) return undefined;
    this.starting.get(record.name)?.abort.abort();
    const abort = new AbortController();
    const done = this.startVersion(record, desired, abort.signal).finally(() => {
      if (this.starting.get(record.name)?.abort === abort) this.starting.delete(record.name);
    });
    this.starting.set(record.name, { key: desired.key, abort, done });
    return done;
  }

  private async desiredOf(record: EndpointRecord, config: Readonly<Record<string, unknown>>): Promise<Desired> {
    const { modelName, variantName } = variantOf(config);
    const model = await modelRequestOf(this.deps.resources, modelName);
    const scaling = await scalingOf(this.deps.resources, record.name, variantName);
    const digest = (value: unknown): string => createHash('sha256').update(JSON.stringify(value)).digest('hex');
    return { key: digest([record.name, config, model]), scalingKey: digest(scaling ?? null), config, modelName, model, scaling };
  }

  /** The EndpointConfig of `desired`, its model data fetched first when `fetch` (a process that runs the model). */
  private async deploymentOf(name: string, desired: Desired, fetch: boolean, signal?: AbortSignal): Promise<Deployment> {
    const { config } = this.deps;
    const data = modelDataOf(desired.model);
    const modelDir = data === undefined ? undefined : modelDirFor(config.server.dataDir, desired.modelName, data.url);
    if (data !== undefined && modelDir !== undefined && fetch) await fetchModelData(this.deps.store, data, modelDir, signal);
    return deploymentOf({
      endpointName: name, endpointConfig: desired.config, model: desired.model, images: config.images, topics: config.topics, region: config.server.region,
      ...(desired.scaling !== undefined ? { scaling: desired.scaling } : {}),
      ...(modelDir !== undefined ? { modelDir } : {}),
    });
  }

  /** Starts `desired`'s model and, once it is healthy (at once for an endpoint already InService), serves it. */
  private async startVersion(record: EndpointRecord, desired: Desired, signal: AbortSignal): Promise<void> {
    const { name } = record;
    const workers = this.deps.workers!;
    let model: ManagedModel | undefined;
    try {
      const { endpoint, extraTopics } = await this.deploymentOf(name, desired, true, signal);
      workers.notifications.addTopics(extraTopics);
      await ensureBuckets(this.deps.store, [endpoint], this.deps.config.objects);
      const recent = new RecentLines();
      const exits = new ExitRelay();
      model = createModelClient(endpoint, this.deps.config.modelBaseEnv, recordingLogger(this.deps.logger.child('model'), recent), exits.emit);
      await model.start();
      const immediate = record.status === 'InService' || endpoint.instances.min === 0;
      const result = immediate ? { healthy: true as const } : await watchStart({ model, timeoutMs: startTimeoutOf(endpoint), exits, recent, signal });
      if (signal.aborted) throw new Error('superseded');
      if (!result.healthy) {
        await this.startFailed(record, desired, result.reason);
        return;
      }
      this.serveVersion(endpoint, model, desired);
      model = undefined;
      await recordStartOutcome(this.deps.resources, this.deps.clock, record, { kind: 'in-service' });
      this.deps.logger.info('endpoint in service', { endpoint: name });
    } catch (err) {
      if (!signal.aborted) await this.startFailed(record, desired, errorText(err));
    } finally {
      await model?.stop();
    }
  }

  private async startFailed(record: EndpointRecord, desired: Desired, reason: string): Promise<void> {
    this.failed.set(record.name, { key: desired.key, at: this.deps.clock.now() });
    this.deps.logger.error('endpoint failed to start', { endpoint: record.name, reason });
    await recordStartOutcome(this.deps.resources, this.deps.clock, record, { kind: 'failed', reason });
  }

  /** Applies changed scaling (Application Auto Scaling) to the version served, without restarting it. */
  private async rescale(name: string, desired: Desired): Promise<void> {
    const { endpoint } = await this.deploymentOf(name, desired, false);
    this.deps.served.models.get(name)?.setLimits?.(endpoint.instances);
    if (this.deps.served.configs.has(name)) this.deps.served.configs.set(name, endpoint);
    this.running.set(name, { key: desired.key, scalingKey: desired.scalingKey });
    this.deps.logger.info('endpoint instances changed', { endpoint: name, min: endpoint.instances.min, max: endpoint.instances.max });
  }

  /** Serves a started version; the one it replaces finishes its calls in flight, then stops. */
  private serveVersion(endpoint: EndpointConfig, model: ManagedModel, desired: Desired): void {
    const { pooled, replaced } = this.deps.served.put(endpoint, model);
    this.running.set(endpoint.name, { key: desired.key, scalingKey: desired.scalingKey });
    this.failed.delete(endpoint.name);
    this.stopWhenDrained(replaced, this.deps.workers!.pool.serve(pooled, this.deps.graceMs), endpoint.name);
  }

  /** An API-only process: serves the config in force, forwarding its real-time calls. */
  private async serveForwarded(record: EndpointRecord): Promise<void> {
    const config = record.status === 'InService' ? record.config : record.status === 'Updating' ? record.previous?.config : undefined;
    if (config === undefined) return;
    const desired = await this.desiredOf(record, config);
    const running = this.running.get(record.name);
    if (running?.key === desired.key && running.scalingKey === desired.scalingKey) return;
    const { endpoint } = await this.deploymentOf(record.name, desired, false);
    await ensureBuckets(this.deps.store, [endpoint], this.deps.config.objects);
    this.deps.served.putForwarded(endpoint);
    this.deps.forwarding?.add(endpoint);
    this.running.set(record.name, { key: desired.key, scalingKey: desired.scalingKey });
  }

  /** Stops serving `name` (its start, if one runs, is abandoned); calls in flight get the grace. */
  private retire(name: string): void {
    this.starting.get(name)?.abort.abort();
    this.starting.delete(name);
    if (!this.running.delete(name)) return;
    const model = this.deps.served.remove(name);
    this.deps.forwarding?.remove(name);
    const pool = this.deps.workers?.pool;
    this.stopWhenDrained(model, pool ? pool.retire(name, this.deps.graceMs) : Promise.resolve(), name);
    this.deps.logger.info('endpoint no longer served', { endpoint: name });
  }

  private async delete(record: EndpointRecord): Promise<void> {
    this.retire(record.name);
    if (this.deps.failQueued === undefined) return;
    const failed = await this.deps.failQueued(record.name, `Endpoint ${record.name} was deleted before this request ran.`);
    await removeDeletedEndpoint(this.deps.resources, record);
    const targets = await deregisterEndpointTargets(this.deps.resources, record.name);
    this.deps.logger.info('endpoint deleted', { endpoint: record.name, failedQueued: failed, scalableTargets: targets });
  }
}

/** How long a new version may take to become healthy. */
function startTimeoutOf(endpoint: EndpointConfig): number {
  return endpoint.model.kind === 'url' ? URL_START_TIMEOUT_MS : endpoint.model.startTimeoutMs;
}

/** Waits (up to `graceMs`) for the real-time calls still on a replaced model, then stops it. */
async function drainAndStop(model: ManagedModel, graceMs: number): Promise<void> {
  const deadline = Date.now() + graceMs;
  while (model.snapshot().inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await model.stop();
}
