/**
 * Test helper: a loopback port held by the test for as long as it needs it, so no other process
 * can take it in the meantime (a port merely found free and released can be reused by anyone).
 * The listener first refuses every connection (reset), and can later forward connections to
 * another port, e.g. to a model started afterwards on a port of its own choosing.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A held port: refusing connections, or forwarding them to `target`. */
export interface HeldPort {
  readonly port: number;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** From now on, new connections are piped to `127.0.0.1:target`. */
  forwardTo(target: number): void;
  /** From now on, new connections are reset at once (the default). */
  refuse(): void;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

function pipeTo(socket: Socket, target: number, open: Set<Socket>): void {
  const upstream = connect(target, '127.0.0.1');
  open.add(upstream);
  upstream.on('close', () => open.delete(upstream));
  const drop = (): void => {
    socket.destroy();
    upstream.destroy();
  };
  socket.on('error', drop);
  upstream.on('error', drop);
  socket.pipe(upstream).pipe(socket);
}

/** Listens on a fresh loopback port and holds it until `close()`. */
export async function holdPort(): Promise<HeldPort> {
  let target: number | undefined;
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    if (target === undefined) socket.resetAndDestroy();
    else pipeTo(socket, target, open);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    forwardTo(port) {
      target = port;
    },
    refuse() {
      target = undefined;
    },
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const s of open) s.destroy();
      await closed;
    },
  };
}
