/**
 * Wires notifications into a worker process: the outbox drain over the configured topics, and the
 * hooks through which the worker pool records each finished request's message with its terminal
 * state (and wakes the drain once it is committed).
 */
import type { EndpointConfig, ResolvedConfig } from '../config/index.js';
import { OutboxDrain, notificationFor, notifiersFor } from '../notify/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { QueueBackend } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';
import type { FinishNotifications } from '../worker/index.js';

/** How long an SNS Publish may take (see sns/). */
const SNS_TIMEOUT_MS = 10_000;

/** Callbacks of the composition root (metrics). */
export interface NotificationHooks {
  /** A delivery was given up (after notifications.maxAgeSeconds of retries). */
  readonly onDeliveryFailed?: (endpoint: string) => void;
}

/** The running notifications of a worker process. */
export interface RunningNotifications {
  /** For the worker pool. */
  readonly finishes: FinishNotifications;
  /** Starts the drain, with `owner` as its lease owner. */
  start(owner: string): void;
  stop(): Promise<void>;
}

/**
 * The outbox entry of a finished request (undefined: its endpoint has no topic for the outcome), for
 * every process that records terminal states: workers, and the API when it cancels a queued request.
 * Undefined when no endpoint is configured to notify.
 */
export function notificationBuilder(config: ResolvedConfig, endpoints: readonly EndpointConfig[]): FinishNotifications['build'] | undefined {
  const byName = new Map(endpoints.filter((e) => e.async.notification !== undefined).map((e) => [e.name, e]));
  if (byName.size === 0) return undefined;
  return (job, outcome, now) => {
    const endpoint = byName.get(job.endpoint);
    return endpoint ? notificationFor(endpoint, job, outcome, config.server.region, now) : undefined;
  };
}

/** Sets up notifications; undefined when no endpoint is configured to notify. */
export function setUpNotifications(config: ResolvedConfig, endpoints: readonly EndpointConfig[], queue: QueueBackend, store: ObjectStore, clock: Clock, logger: Logger, hooks: NotificationHooks = {}): RunningNotifications | undefined {
  const build = notificationBuilder(config, endpoints);
  if (build === undefined) return undefined;
  const targets = notifiersFor(config.topics);
  const deliveryTimeoutMs = Math.max(...Object.values(config.topics).map((t) => (t.target.kind === 'webhook' ? t.target.timeoutMs : SNS_TIMEOUT_MS)));
  let drain: OutboxDrain | undefined;
  return {
    finishes: {
      build,
      recorded: () => drain?.wake(),
    },
    start(owner: string): void {
      drain = new OutboxDrain({
        queue, store, targets, owner, deliveryTimeoutMs, clock, logger,
        policy: config.notifications,
        ...(hooks.onDeliveryFailed ? { onDeliveryFailed: hooks.onDeliveryFailed } : {}),
      });
      drain.start();
    },
    async stop(): Promise<void> {
      await drain?.stop();
      for (const target of targets.values()) target.close();
    },
  };
}
