/**
 * Endpoint status: instances and backlog per endpoint, for `GET /endpoints`, `inferq status` and
 * the `serve` log (a line per endpoint whenever its counts change).
 */
import type { ManagedModel } from '../models/index.js';
import type { JobQueue } from '../queue/index.js';
import type { EndpointStatusDoc } from '../runtime/index.js';
import type { Clock, Logger } from '../util/index.js';
import type { DisabledEndpoint } from './endpoints.js';

/** Builds the status documents of every endpoint. */
export function endpointStatus(models: ReadonlyMap<string, ManagedModel>, disabled: readonly DisabledEndpoint[], queue: JobQueue, clock: Clock): () => Promise<EndpointStatusDoc[]> {
  return async () => {
    const docs: EndpointStatusDoc[] = [];
    for (const [name, model] of models) {
      const snap = model.snapshot();
      const stats = await queue.stats(name, clock.now());
      docs.push({
        EndpointName: name,
        EndpointStatus: 'InService',
        Model: model.description,
        Health: model.health(),
        Instances: { Current: snap.instances, Healthy: snap.healthy, Starting: snap.starting, Min: snap.min, Max: snap.max },
        InFlight: snap.inFlight,
        Backlog: { Queued: stats.queued, Running: stats.running, OldestQueuedAgeSeconds: Math.round(stats.oldestQueuedAgeMs / 1000) },
        BacklogPerInstance: snap.instances > 0 ? (stats.queued + stats.running) / snap.instances : stats.queued + stats.running,
      });
    }
    for (const off of disabled) docs.push({ EndpointName: off.name, EndpointStatus: 'OutOfService', FailureReason: off.reason });
    return docs;
  };
}

/** Logs each endpoint's instances and backlog when they change (checked every `intervalMs`). */
export function startStatusLog(status: () => Promise<EndpointStatusDoc[]>, logger: Logger, intervalMs = 5000): () => void {
  const last = new Map<string, string>();
  const timer = setInterval(() => {
    status().then((docs) => {
      for (const doc of docs) {
        if (doc.EndpointStatus !== 'InService') continue;
        const i = doc['Instances'] as { Current: number; Healthy: number };
        const b = doc['Backlog'] as { Queued: number; Running: number };
        const line = `instances=${i.Current} healthy=${i.Healthy} inFlight=${String(doc['InFlight'])} queued=${b.Queued} running=${b.Running}`;
        if (last.get(doc.EndpointName) === line) continue;
        last.set(doc.EndpointName, line);
        logger.info('endpoint status', { endpoint: doc.EndpointName, instances: i.Current, healthy: i.Healthy, inFlight: doc['InFlight'], queued: b.Queued, running: b.Running });
      }
    }, (err: unknown) => logger.warn('status check failed', { error: err instanceof Error ? err.message : String(err) }));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
