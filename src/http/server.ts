/**
 * The one HTTP server: its lifecycle (listen, graceful close), connection tracking and timeouts;
 * each request is served by {@link handleRequest}. Requests with `Expect: 100-continue` arrive
 * through `checkContinue`, so `100 Continue` is only sent once the checks that need no body passed.
 *
 * Requests of one connection are served in order (HTTP/1.1 pipelining): node parses a pipelined
 * request while the one before it is still being answered and only orders the responses, so
 * without care a `PUT k` and the `GET k` sent after it on the same connection would run at the
 * same time. Each connection therefore has a {@link Lane}: a request is started only once the
 * previous request of its connection has been answered (its response finished or the connection
 * closed). A request arriving meanwhile waits in the lane, unread: once its body fills the
 * stream's buffer node stops reading the socket, so a large pipelined upload waits with the
 * ordinary TCP backpressure. The common case (one request at a time) costs a field check.
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
  /**
   * Stops accepting, lets in-flight requests finish for up to `graceMs` (their answers, and any
   * other answer sent meanwhile, carry `Connection: close`), then closes every connection.
   */
  close(graceMs: number): Promise<void>;
}

/** One connection's order of service. */
interface Lane {
  readonly socket: Socket;
  /** The response of the request being served, if any. */
  active: ServerResponse | undefined;
  /** Pipelined requests waiting for `active` to be answered, oldest first (made on first need). */
  waiting: (readonly [IncomingMessage, ServerResponse, boolean])[] | undefined;
  /**
   * Set when bytes after the requests already parsed were not a valid request: what to send
   * (maybe nothing) before ending the connection, once every request before them is answered.
   */
  afterLast: string | undefined;
}

const LANE = Symbol('inferq.lane');

/** A connection with its lane (a property on the socket: no lookup per request). */
type LaneSocket = Socket & { [LANE]?: Lane };

function laneOf(socket: Socket): Lane {
  const s = socket as LaneSocket;
  return s[LANE] ?? (s[LANE] = { socket, active: undefined, waiting: undefined, afterLast: undefined });
}

/** The raw 400 sent for bytes that are not an HTTP request. */
function badRequest(): string {
  const id = randomUUID();
  return `HTTP/1.1 400 Bad Request\r\nDate: ${new Date().toUTCString()}\r\nx-amz-request-id: ${id}\r\nx-amzn-RequestId: ${id}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}

/**
 * A parse error on a connection. When it follows complete requests still being answered or
 * waiting, its answer waits for theirs: data after a request with `Connection: close` is ignored
 * (that request's answer closes the connection), anything else gets its 400 after them. Otherwise
 * (nothing in flight, or the error is in the body of a request) the 400 goes out at once.
 */
function onClientError(err: Error & { code?: string }, socket: Socket): void {
  const lane = (socket as LaneSocket)[LANE];
  const last = lane?.waiting?.at(-1)?.[0] ?? lane?.active?.req;
  if (lane?.active !== undefined && last?.complete === true) {
    lane.afterLast ??= err.code === 'HPE_CLOSED_CONNECTION' ? '' : badRequest();
    return;
  }
  if (socket.writable) socket.end(badRequest());
  else socket.destroy();
}

/**
 * While the server drains, the last answer of each connection closes it, so a kept-alive client
 * cannot start new work; requests already pipelined behind it are still answered first.
 */
function closeAfterLast(lane: Lane): void {
  const res = lane.active;
  if (res !== undefined && !res.headersSent && (lane.waiting?.length ?? 0) === 0) res.setHeader('Connection', 'close');
}

/** Creates the server (not yet listening). */
export function createGatewayServer(deps: HttpServerDeps): GatewayServer {
  const sockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let idle: (() => void) | undefined;
  let closing = false;

  const ctx: DispatchContext = Object.assign({}, deps, { unverified: new UnverifiedBodyBudget(deps.maxUnverifiedBodyBytes) });
  const settled = (res: ServerResponse): void => {
    inFlight.delete(res);
    if (inFlight.size === 0) idle?.();
  };
  const start = (lane: Lane, req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    lane.active = res;
    if (closing) closeAfterLast(lane);
    res.on('close', onResponseClose);
    void handleRequest(ctx, req, res, expectsContinue);
  };
  /** The next waiting request whose response node has handed the connection; the rest are dropped (the connection is closing). */
  const startNext = (lane: Lane): void => {
    lane.active = undefined;
    const waiting = lane.waiting;
    while (waiting !== undefined && waiting.length > 0) {
      const [req, res, expectsContinue] = waiting.shift()!;
      if (res.socket !== null && !res.socket.destroyed) {
        start(lane, req, res, expectsContinue);
        return;
      }
      settled(res);
    }
    if (lane.afterLast !== undefined && lane.socket.writable) lane.socket.end(lane.afterLast);
  };
  /** `close` of a served request's response: it was answered (or its connection is gone). */
  function onResponseClose(this: ServerResponse): void {
    const lane = laneOf(this.req.socket);
    if (lane.active !== this) return;
    settled(this);
    startNext(lane);
  }
  const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    inFlight.add(res);
    const lane = laneOf(req.socket);
    if (lane.active === undefined) start(lane, req, res, expectsContinue);
    else (lane.waiting ??= []).push([req, res, expectsContinue]);
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
  server.on('clientError', onClientError);

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
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const res of inFlight) closeAfterLast(laneOf(res.req.socket));
      deps.logger.info('the port is closed; draining the requests in flight', { requests: inFlight.size, graceSeconds: graceMs / 1000 });
      if (inFlight.size > 0) {
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
