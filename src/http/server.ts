/**
 * The one HTTP server: its lifecycle (listen, graceful close), connection tracking and timeouts;
 * each request is served by {@link handleRequest}. Requests with `Expect: 100-continue` arrive
 * through `checkContinue`, so `100 Continue` is only sent once the checks that need no body passed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UnverifiedBodyBudget } from './body.js';
import { handleRequest, type DispatchContext, type HttpServerDeps } from './dispatch.js';

/**
 * Connection timeouts. Headers must arrive within HEADERS_TIMEOUT_MS of the request's first byte;
 * an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS (longer than the 60 s idle
 * timeout of common load balancers, so they never reuse a connection we are closing). There is no
 * whole-request limit (`requestTimeout: 0`): a large upload may take long; a body that stops
 * arriving is ended by the body watchdog (server.bodyTimeoutSeconds) instead.
 */
const HEADERS_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often node checks the headers timeout. */
const CONNECTIONS_CHECKING_INTERVAL_MS = 5_000;

/** The running gateway server. */
export interface GatewayServer {
  /** Starts listening; resolves with the URL clients use. */
  listen(host: string, port: number): Promise<string>;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes every connection. */
  close(graceMs: number): Promise<void>;
}

/** Creates the server (not yet listening). */
export function createGatewayServer(deps: HttpServerDeps): GatewayServer {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let idle: (() => void) | undefined;

  const ctx: DispatchContext = Object.assign({}, deps, { unverified: new UnverifiedBodyBudget(deps.maxUnverifiedBodyBytes) });
  const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
    void handleRequest(ctx, req, res, expectsContinue);
  };
  const server: Server = createServer({
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: 0,
    connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
  }, (req, res) => serve(req, res, false));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => serve(req, res, true));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket: Socket) => {
    const id = randomUUID();
    if (socket.writable) socket.end(`HTTP/1.1 400 Bad Request\r\nDate: ${new Date().toUTCString()}\r\nx-amz-request-id: ${id}\r\nx-amzn-RequestId: ${id}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve(`http://${shownHost}:${addr.port}`);
        });
      });
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => { idle = resolve; }),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
