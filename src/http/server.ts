/**
 * The one HTTP server: its lifecycle (listen, graceful close) and connection tracking; each
 * request is served by {@link handleRequest}.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleRequest, type HttpServerDeps } from './dispatch.js';

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

/** Creates the server (not yet listening). */
export function createGatewayServer(deps: HttpServerDeps): GatewayServer {
  const sockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let idle: (() => void) | undefined;
  let closing = false;

  const server: Server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
    inFlight.add(res);
    // While draining, every answer closes its connection, so a kept-alive client cannot start more work.
    if (closing) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) idle?.();
    });
    void handleRequest(deps, req, res);
  });
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
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
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
