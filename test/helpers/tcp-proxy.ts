/**
 * A loopback TCP proxy that a test can cut: while cut, it accepts connections and closes them at
 * once (counting them, so a test can await an attempt made during the outage); open connections
 * are destroyed when it is cut. Used to make a backend (moto_server, PostgreSQL) unreachable for
 * a while without losing its state.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `<listenHost>:<port>` of the proxy. */
  readonly host: string;
  readonly port: number;
  /** Connections refused since the last {@link cut}. */
  readonly refused: number;
  /** Resolves once at least `n` connections were refused since the last cut. */
  awaitRefused(n: number, timeoutMs?: number): Promise<void>;
  /** Refuses connections from now on; with `budget`, only the next `budget` ones (a brief outage). */
  cut(budget?: number): void;
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free port of `listenHost` (default loopback) to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number, listenHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let isCut = false;
  let refused = 0;
  let budget = Infinity;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server: Server = createServer((client) => {
    if (isCut) {
      refused++;
      if (refused >= budget) isCut = false;
      client.destroy();
      for (const w of waiters.splice(0)) if (refused >= w.n) w.resolve(); else waiters.push(w);
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, listenHost);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    host: `${listenHost}:${port}`,
    port,
    get refused() {
      return refused;
    },
    awaitRefused(n, timeoutMs = 60_000) {
      if (refused >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`proxy: fewer than ${n} connections refused within ${timeoutMs} ms (${refused})`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    cut(limit = Infinity) {
      isCut = true;
      refused = 0;
      budget = limit;
      for (const s of open) s.destroy();
    },
    restore() {
      isCut = false;
    },
    async close() {
      for (const s of open) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
