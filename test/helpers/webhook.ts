/**
 * Test helpers of notifications: a webhook receiver (a node http server on loopback) whose
 * answer each test decides per delivery (a status code, or `hang`: no answer until closed), with
 * awaitable deliveries; a minimal url model (200 with the body upper-cased as text/csv, or 500 for
 * the body `fail`); the webhook signature as a receiver computes it; and a poll of a request's
 * `Notification` status.
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signed } from './async.js';

/** One delivery the receiver got. */
export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the receiver answers delivery `index` (0-based). */
export type Answer = (received: Received, index: number) => number | 'hang';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A webhook receiver; see the module header. */
export class WebhookReceiver {
  readonly received: Received[] = [];
  answer: Answer = () => 200;
  url = '';
  private readonly server: Server;
  private readonly hung: ServerResponse[] = [];
  private readonly waiters: { test: (all: readonly Received[]) => boolean; resolve: () => void }[] = [];

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const index = this.received.push(received) - 1;
        const answer = this.answer(received, index);
        if (answer === 'hang') this.hung.push(res);
        else res.writeHead(answer, { 'Content-Type': 'text/plain' }).end('ok');
        for (const w of [...this.waiters]) {
          if (w.test(this.received)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
    });
  }

  async start(): Promise<this> {
    this.url = `${await listen(this.server)}/hook`;
    return this;
  }

  /** Resolves once `test` holds for the deliveries so far (checked on each delivery); rejects after `timeoutMs`. */
  waitFor(test: (all: readonly Received[]) => boolean, what: string, timeoutMs = 60_000): Promise<readonly Received[]> {
    if (test(this.received)) return Promise.resolve(this.received);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms; got ${this.received.length} deliveries`)), timeoutMs);
      this.waiters.push({ test, resolve: () => { clearTimeout(timer); resolve(this.received); } });
    });
  }

  /** Deliveries whose message names `inferenceId`. */
  of(inferenceId: string): Received[] {
    return this.received.filter((r) => (JSON.parse(r.body) as { inferenceId?: string }).inferenceId === inferenceId);
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, as the README tells receivers to check. */
export function expectedSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** A SageMaker-contract model on loopback: /ping 200; /invocations 200 (body upper-cased, text/csv) or 500 for `fail`. */
export async function startUrlModel(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.url === '/ping') {
      res.writeHead(200).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (body === 'fail') res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"error":"model says no"}');
      else res.writeHead(200, { 'Content-Type': 'text/csv' }).end(body.toUpperCase());
    });
  });
  const url = await listen(server);
  return {
    url,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The `Notification` member of a status document. */
export interface NotificationStatus {
  readonly Topic: string;
  readonly State: 'Pending' | 'Delivered' | 'Failed';
  readonly Attempts: number;
  readonly LastError?: string;
}

/** Polls a request's status (every 50 ms: the status API has no notification events) until its Notification is `state`. */
export async function awaitNotification(base: string, endpoint: string, id: string, state: NotificationStatus['State'], timeoutMs = 60_000): Promise<NotificationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await signed(base, 'sagemaker', 'GET', `/endpoints/${encodeURIComponent(endpoint)}/async-invocations/${encodeURIComponent(id)}`);
    const doc = JSON.parse(res.body.toString('utf8')) as { Notification?: NotificationStatus };
    if (doc.Notification?.State === state) return doc.Notification;
    if (Date.now() > deadline) throw new Error(`notification of ${endpoint}/${id} not ${state} within ${timeoutMs} ms: ${JSON.stringify(doc.Notification)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
