/**
 * Test helper: HTTP/1.1 over a raw `node:net` socket, for what node's client hides (a request
 * sent in parts, `100 Continue`, a stalled or aborted body, whether the server closed the
 * connection).
 */
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';

/** One response read off the wire. */
export interface RawReply {
  readonly status: number;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A client connection whose bytes the test writes itself. */
export class RawConnection {
  private received = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  /** Whether the server closed (or reset) the connection. */
  closed = false;
  /** The first socket error, if any (a reset after the server stopped reading). */
  error: Error | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', (err) => {
      this.error ??= err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Opens a connection to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawConnection(socket);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Everything received so far, as latin1 text. */
  text(): string {
    return this.received.toString('latin1');
  }

  /** Writes bytes; resolves once they are handed to the kernel (never rejects: a reset shows in `error`). */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      this.socket.write(data, () => resolve());
    });
  }

  /** Resolves when `predicate` holds (checked on every arrival and on close). */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) {
      if (this.closed) throw new Error(`connection closed; received: ${JSON.stringify(this.text().slice(0, 500))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once the server has closed the connection. */
  async untilClosed(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** The first complete final (non-1xx) response, waiting for it. */
  async reply(): Promise<RawReply> {
    let parsed: RawReply | undefined;
    await this.until(() => (parsed = parseFinalReply(this.text())) !== undefined);
    return parsed!;
  }

  /** The first complete final response received so far, if any. */
  peekReply(): RawReply | undefined {
    return parseFinalReply(this.text());
  }

  /** Whether any interim `100 Continue` arrived. */
  sawContinue(): boolean {
    return /^HTTP\/1\.1 100 /m.test(this.text());
  }

  /** Destroys the connection from the client side (an abort). */
  destroy(): void {
    this.socket.destroy();
  }
}

/** Parses the first final response in `text` once its head and Content-Length body are complete. */
function parseFinalReply(text: string): RawReply | undefined {
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    rest = rest.slice(end + 4);
    if (status >= 100 && status < 200) continue;
    const length = Number(headers['content-length'] ?? 0);
    if (Buffer.byteLength(rest, 'latin1') < length) return undefined;
    return { status, headers, body: rest.slice(0, length) };
  }
}

/** Serialises a request head (`headers` as given, in order). */
export function requestHead(method: string, path: string, headers: Readonly<Record<string, string>>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

/** VmRSS and VmHWM (peak) of a process, in bytes, from /proc/<pid>/status. */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}
