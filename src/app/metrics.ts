/**
 * The metrics of one inferq process: the Prometheus registry (created here, once, and passed down
 * as the Metrics port), its scrape-time gauges read from the queue (the global backlog on a shared
 * PostgreSQL queue) and this process's models, and what the `/metrics` route needs.
 */
import { isLoopbackHost, type ResolvedConfig } from '../config/index.js';
import type { MetricsScrape } from '../http/index.js';
import { createPrometheusMetrics, noopMetrics, type EndpointGauges, type Metrics } from '../metrics/index.js';
import type { ManagedModel } from '../models/index.js';
import type { JobQueue } from '../queue/index.js';
import type { Clock } from '../util/index.js';

/** The metrics port features record through, and the scrape (undefined when `server.metrics.enabled` is false). */
export interface AppMetrics {
  readonly metrics: Metrics;
  readonly scrape: MetricsScrape | undefined;
}

/** Reads each endpoint's backlog and instances. */
function gaugesOf(models: () => ReadonlyMap<string, ManagedModel>, queue: JobQueue, clock: Clock): () => Promise<EndpointGauges[]> {
  return () => Promise.all([...models()].map(async ([endpoint, model]) => {
    const stats = await queue.stats(endpoint, clock.now());
    const snap = model.snapshot();
    return {
      endpoint,
      queued: stats.queued,
      running: stats.running,
      oldestQueuedAgeSeconds: stats.oldestQueuedAgeMs / 1000,
      instances: { current: snap.instances, healthy: snap.healthy, starting: snap.starting, min: snap.min, max: snap.max },
    };
  }));
}

/**
 * Creates the metrics `config.server.metrics` asks for. `models` is read at each scrape: the
 * models this process serves with (an API-only process's forwarding view of the workers' models).
 */
export function createAppMetrics(config: ResolvedConfig, models: () => ReadonlyMap<string, ManagedModel>, queue: JobQueue, clock: Clock): AppMetrics {
  const { metrics: cfg, host } = config.server;
  if (!cfg.enabled) return { metrics: noopMetrics, scrape: undefined };
  const prom = createPrometheusMetrics([...models().keys()], gaugesOf(models, queue, clock));
  return {
    metrics: prom,
    scrape: { render: () => prom.render(), open: isLoopbackHost(host) && cfg.bearerToken === undefined, ...(cfg.bearerToken !== undefined ? { bearerToken: cfg.bearerToken } : {}) },
  };
}
