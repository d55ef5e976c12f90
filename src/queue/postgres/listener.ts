/**
 * The LISTEN side of cross-process wake-ups: one dedicated connection (outside the pool, since a
 * LISTEN belongs to its session) that LISTENs on the schema's channel and hands each notified
 * endpoint to the queue. When the connection drops (PostgreSQL restarted, network cut) it is
 * opened and LISTENed again with a capped backoff; what was notified during the gap is lost with
 * the old session, and the workers' polling (their fallback) claims it.
 */
import pg, { type ClientConfig, type Notification } from 'pg';
import type { Logger } from '../../util/index.js';
import { quoteIdent } from './schema.js';

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

/** What the listener reports. */
export interface ListenerEvents {
  /** An endpoint announced by a backend other than ours (`processId` is the notifying backend's pid). */
  readonly onNotify: (endpoint: string, processId: number) => void;
  /** The LISTEN (re)started: notifications sent before it may have been missed. */
  readonly onListening: () => void;
}

/** A self-healing LISTEN on one channel. */
export class ChannelListener {
  /** The connection being opened or listening; events of any older one are ignored. */
  private current: pg.Client | undefined;
  private ready = false;
  private closed = false;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly events: ListenerEvents,
    private readonly logger: Logger,
  ) {}

  /** Starts listening; resolves once the first LISTEN is in place or failed (a failure is retried in the background). */
  start(): Promise<void> {
    this.connecting ??= this.connect();
    return this.connecting;
  }

  /** Resolves once the LISTEN is in place (at once if it is). */
  whenListening(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    this.current = client;
    this.ready = false;
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the LISTEN connection ended')));
    client.on('notification', (msg: Notification) => {
      if (msg.channel === this.channel && msg.payload !== undefined) this.events.onNotify(msg.payload, msg.processId);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    if (this.current !== client) return;
    this.ready = true;
    this.retryMs = RETRY_MIN_MS;
    this.events.onListening();
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.current !== client) return;
    const wasListening = this.ready;
    this.current = undefined;
    this.ready = false;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    if (this.closed || this.timer !== undefined) return;
    if (wasListening) this.logger.warn('the queue LISTEN connection was lost; reconnecting', { error: err instanceof Error ? err.message : String(err) });
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connecting = this.connect();
    }, delay);
    this.timer.unref();
  }

  /** Stops listening and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.connecting;
    const client = this.current;
    this.current = undefined;
    this.ready = false;
    if (client) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
    }
  }
}
