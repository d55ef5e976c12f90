/**
 * The outbox drain: each worker process claims due outbox entries (with a lease, so processes
 * sharing the queue never deliver one entry at the same time; an entry whose process died is
 * claimed again when its lease ends), delivers them through their topic's Notifier and settles
 * them: delivered; retried after a backoff (initial, doubling, capped); or, once the message is
 * older than maxAge, given up — kept, with its last error, in the request's status — and counted
 * through `onDeliveryFailed`. Deliveries are at least once: a process killed after the target
 * took a message and before its settlement delivers it again (same event id).
 */
import { createHash } from 'node:crypto';
import type { NotificationsConfig } from '../config/index.js';
import { isInferqError } from '../errors/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { JobQueue, NotificationSettlement, OutboxEntry } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';
import { MAX_RESPONSE_BODY_BYTES, withResponseBody } from './message.js';
import type { Notifier } from './port.js';

/** A claimed entry stays leased this much longer than a delivery may take. */
const LEASE_MARGIN_MS = 5_000;

/** Entries one claim takes. */
const CLAIM_BATCH = 32;

/** What the drain needs. */
export interface DrainDeps {
  readonly queue: Pick<JobQueue, 'claimNotifications' | 'settleNotification'>;
  readonly store: Pick<ObjectStore, 'getObject'>;
  /** Targets by topic name. */
  readonly targets: ReadonlyMap<string, Notifier>;
  readonly policy: NotificationsConfig;
  /** The lease owner string of this process. */
  readonly owner: string;
  /** Longest a delivery may take (the claim's lease adds a margin to it). */
  readonly deliveryTimeoutMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called once per given-up delivery (metrics). */
  readonly onDeliveryFailed?: (endpoint: string) => void;
}

/** The X-Inferq-Event-Id of an entry: a UUID-shaped digest, the same on every attempt. */
export function eventIdOf(entry: OutboxEntry): string {
  const hex = createHash('sha256').update(`${entry.endpoint}\n${entry.inferenceId}\n${entry.id}\n${entry.createdAt}\n${entry.topic}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The wait before attempt `attempts + 1` after `attempts` failed ones. */
export function retryDelayMs(policy: NotificationsConfig, attempts: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, Math.min(attempts - 1, 40)));
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Delivers the outbox; see the module header. */
export class OutboxDrain {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly abort = new AbortController();

  constructor(private readonly deps: DrainDeps) {}

  /** Starts polling (every policy.pollIntervalMs) and drains once at once. */
  start(): void {
    this.timer = setInterval(() => this.wake(), this.deps.policy.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Drains now (a finish of this process recorded notifications). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((err: unknown) => this.deps.logger.warn('notification outbox drain failed; retrying', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops claiming and aborts deliveries in flight (their entries are claimed again later). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.abort.abort(new Error('shutdown'));
    await this.running;
  }

  private async drain(): Promise<void> {
    const { queue, owner, clock, deliveryTimeoutMs } = this.deps;
    for (;;) {
      const entries = await queue.claimNotifications(owner, CLAIM_BATCH, deliveryTimeoutMs + LEASE_MARGIN_MS, clock.now());
      await Promise.all(entries.map((entry) => this.deliver(entry)));
      if (entries.length < CLAIM_BATCH || this.stopped) return;
    }
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const { deps } = this;
    let error: string;
    try {
      const target = deps.targets.get(entry.topic);
      if (target === undefined) throw new Error(`topic ${entry.topic} is no longer configured`);
      const body = await this.bodyOf(entry);
      await target.deliver({ body, eventId: eventIdOf(entry), signal: this.abort.signal });
      await this.settle(entry, { state: 'delivered' });
      deps.logger.debug('notification delivered', { endpoint: entry.endpoint, inferenceId: entry.inferenceId, topic: entry.topic });
      return;
    } catch (err) {
      if (this.stopped) return; // claimed again when the lease ends
      error = err instanceof Error ? err.message : String(err);
    }
    const now = deps.clock.now();
    const attempts = entry.attempts + 1;
    const retryAt = now + retryDelayMs(deps.policy, attempts);
    if (retryAt > entry.createdAt + deps.policy.maxAgeMs) {
      if (await this.settle(entry, { state: 'failed', error })) {
        deps.logger.error('notification given up', { endpoint: entry.endpoint, inferenceId: entry.inferenceId, topic: entry.topic, attempts, error });
        deps.onDeliveryFailed?.(entry.endpoint);
      }
      return;
    }
    deps.logger.warn('notification not delivered; will retry', { endpoint: entry.endpoint, inferenceId: entry.inferenceId, topic: entry.topic, attempts, retryInMs: retryAt - now, error });
    await this.settle(entry, { state: 'pending', retryAt, error });
  }

  private settle(entry: OutboxEntry, settlement: NotificationSettlement): Promise<boolean> {
    return this.deps.queue.settleNotification(this.deps.owner, entry.id, settlement, this.deps.clock.now());
  }

  /** The message with its response body when asked for and at most 128 KB. */
  private async bodyOf(entry: OutboxEntry): Promise<string> {
    if (entry.bodyFrom === undefined) return entry.message;
    let object;
    try {
      object = await this.deps.store.getObject(entry.bodyFrom.bucket, entry.bodyFrom.key);
    } catch (err) {
      // The object was removed since (a re-run, a user): the message goes without the body.
      if (isInferqError(err, 'NoSuchKey') || isInferqError(err, 'NoSuchBucket')) return entry.message;
      throw err;
    }
    if (object.info.size > MAX_RESPONSE_BODY_BYTES) {
      object.body.destroy();
      return entry.message;
    }
    return withResponseBody(entry.message, await readAll(object.body));
  }
}
