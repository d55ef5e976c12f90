/**
 * Wires notifications into a worker process: the outbox drain over the configured topics, and the
 * hooks through which the worker pool records each finished request's message with its terminal
 * state (and wakes the drain once it is committed).
 */
import type { EndpointConfig, ResolvedConfig, TopicConfig } from '../config/index.js';
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
  /** Delivers to these topics too (those of API-created endpoints that the `topics:` section lacks); known names are kept. */
  addTopics(topics: readonly TopicConfig[]): void;
  stop(): Promise<void>;
}

/**
 * The outbox entry of a finished request (undefined: its endpoint has no topic for the outcome), for
 * every process that records terminal states: workers, and the API when it cancels a queued request.
 * `endpoints` is the live view of the endpoints served (API-created ones come and go).
 */
export function notificationBuilder(config: ResolvedConfig, endpoints: ReadonlyMap<string, EndpointConfig>): FinishNotifications['build'] {
  return (job, outcome, now) => {
    const endpoint = endpoints.get(job.endpoint);
    return endpoint?.async.notification !== undefined ? notificationFor(endpoint, job, outcome, config.server.region, now) : undefined;
  };
}

/** Sets up notifications over the live view of the endpoints served (see {@link notificationBuilder}). */
export function setUpNotifications(config: ResolvedConfig, endpoints: ReadonlyMap<string, EndpointConfig>, queue: QueueBackend, store: ObjectStore, clock: Clock, logger: Logger, hooks: NotificationHooks = {}): RunningNotifications {
  const build = notificationBuilder(config, endpoints);
  const targets = notifiersFor(config.topics);
  const timeouts = Object.values(config.topics).map((t) => (t.target.kind === 'webhook' ? t.target.timeoutMs : SNS_TIMEOUT_MS));
  const deliveryTimeoutMs = timeouts.length > 0 ? Math.max(...timeouts) : SNS_TIMEOUT_MS;
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
    addTopics(topics) {
      const added = notifiersFor(Object.fromEntries(topics.filter((t) => !targets.has(t.name)).map((t) => [t.name, t])));
      for (const [name, notifier] of added) targets.set(name, notifier);
    },
    async stop(): Promise<void> {
      await drain?.stop();
      for (const target of targets.values()) target.close();
    },
  };
}
