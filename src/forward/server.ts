/**
 * The worker process's forwarding listener (`worker.listen`): `POST /forward/{endpoint}/invocations`
 * from API processes, authenticated (auth.ts) before any of the body is read — a call without a
 * valid signature gets 403 AccessDenied and its connection closed, and no model is called — then
 * run on this process's model by the runtime's {@link serveForwardedCall}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EndpointConfig } from '../config/index.js';
import { InferqError } from '../errors/index.js';
import { sendForwardError, serveForwardedCall, type RealtimeContext, type RealtimeTarget } from '../runtime/index.js';
import type { Clock } from '../util/index.js';
import { FORWARD_AUTH_HEADER, verifyForward } from './auth.js';

/** Options of {@link startForwardServer}. */
export interface ForwardServerOptions {
  readonly host: string;
  readonly port: number;
  readonly key: string;
  /** The endpoints served, by name (a live view, as `targets`). */
  readonly endpoints: ReadonlyMap<string, EndpointConfig>;
  readonly targets: ReadonlyMap<string, RealtimeTarget>;
  readonly ctx: RealtimeContext;
  readonly clock: Clock;
}

/** A listening forward server. */
export interface ForwardServer {
  /** `http://host:port` of the bound address. */
  readonly url: string;
  /** Stops accepting; calls in flight get `graceMs` to finish, then their connections are cut. */
  close(graceMs: number): Promise<void>;
}

const PATH = /^\/forward\/([^/?]+)\/invocations$/;

function handler(options: ForwardServerOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const byName = options.endpoints;
  return (req, res) => {
    const path = req.url ?? '';
    const match = PATH.exec(path);
    let name = '';
    try {
      name = match === null ? '' : decodeURIComponent(match[1]!);
    } catch {
      name = '';
    }
    const auth = req.headers[FORWARD_AUTH_HEADER];
    if (req.method !== 'POST' || match === null || !verifyForward(options.key, typeof auth === 'string' ? auth : undefined, 'POST', path, name, options.clock.now())) {
      sendForwardError(res, new InferqError('AccessDenied', 'This is the forwarding listener of an inferq worker: the call must carry a valid x-inferq-forward-auth signature made with the shared worker.forwardSecret.'), true);
      return;
    }
    const endpoint = byName.get(name);
    const target = options.targets.get(name);
    if (endpoint === undefined || target === undefined) {
      sendForwardError(res, new InferqError('ValidationError', `Endpoint ${name} is not served by this worker.`), !req.complete);
      return;
    }
    void serveForwardedCall(options.ctx, endpoint, target, req, res);
  };
}

function urlOf(address: AddressInfo): string {
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/** Binds the listener; rejects with the listen error (EADDRINUSE…). */
export function startForwardServer(options: ForwardServerOptions): Promise<ForwardServer> {
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler(options));
  return new Promise<ForwardServer>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve({
        url: urlOf(server.address() as AddressInfo),
        close(graceMs) {
          return new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          });
        },
      });
    });
  });
}
