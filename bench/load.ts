/**
 * A lean HTTP/1.1 load generator for the benchmarks: pre-serialised requests written on raw
 * keep-alive sockets, one request in flight per connection, minimal response parsing. Keeps the
 * client's own CPU cost far below node:http's so the server is what gets measured.
 */
import { connect, type Socket } from 'node:net';

/** Outcome of a load run. */
export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  /** Count per HTTP status. */
  readonly statuses: ReadonlyMap<number, number>;
}

/** Serialises a request (headers must include content-length when there is a body). */
export function serialize(method: string, path: string, headers: Record<string, string>, body?: Buffer): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
  const head = Buffer.from(lines.join('\r\n'), 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}

/** Reads responses (Content-Length framed) off one socket and calls `onResponse` with each one's status. */
export function responseReader(socket: Socket, onResponse: (status: number) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      const total = end + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < total) return;
      onResponse(Number(head.slice(9, 12)));
      buf = buf.subarray(total);
    }
  });
}

/** Sends every request once over `connections` sockets to host:port; resolves when all answered. */
export function runLoad(port: number, requests: readonly Buffer[], connections: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const statuses = new Map<number, number>();
    let next = 0;
    let done = 0;
    const started = performance.now();
    const sockets: Socket[] = [];
    const sendNext = (socket: Socket): void => {
      if (next < requests.length) socket.write(requests[next++]!);
    };
    for (let i = 0; i < Math.min(connections, requests.length); i++) {
      const socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      sockets.push(socket);
      socket.on('error', reject);
      responseReader(socket, (status) => {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (++done === requests.length) {
          const seconds = (performance.now() - started) / 1000;
          for (const s of sockets) s.destroy();
          resolve({ requests: done, seconds, perSecond: done / seconds, statuses });
        } else sendNext(socket);
      });
      socket.on('connect', () => sendNext(socket));
    }
  });
}
