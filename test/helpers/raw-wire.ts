/**
 * Test helper: an HTTP/1.1 client over one raw `node:net` socket that sends requests as exact
 * bytes (any path, header or framing, even ones node's own client refuses) and reads one answer
 * per request on a keep-alive connection, reconnecting after the server closes it.
 */
import { connect, type Socket } from 'node:net';

/** One answer read off the socket. */
export interface RawAnswer {
  readonly status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A request's outcome: an answer, or the connection closing (or timing out) before one. */
export type RawOutcome = { readonly kind: 'answer'; readonly answer: RawAnswer } | { readonly kind: 'closed' | 'timeout'; readonly partial: string };

/** A raw request: the bytes, and whether the answer can carry no body (HEAD). */
export interface RawRequestBytes {
  readonly bytes: Buffer;
  readonly head: boolean;
}

/** Builds request bytes from parts (header values are written as latin1, the body as is). */
export function requestBytes(method: string, rawUrl: string, headers: Readonly<Record<string, string>>, body: Buffer = Buffer.alloc(0)): Buffer {
  let head = `${method} ${rawUrl} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
}

interface Head {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bodyStart: number;
}

function parseHead(buf: Buffer): Head | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, bodyStart: end + 4 };
}

/** The end of a complete chunked body starting at `from` and its payload, or undefined while incomplete. */
function chunkedEnd(buf: Buffer, from: number): { end: number; body: Buffer } | undefined {
  const parts: Buffer[] = [];
  let i = from;
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', i);
    if (lineEnd < 0) return undefined;
    const size = parseInt(buf.toString('latin1', i, lineEnd).split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size in answer: ${buf.toString('latin1', i, lineEnd)}`);
    if (size === 0) {
      const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
      if (trailerEnd >= 0) return { end: trailerEnd + 4, body: Buffer.concat(parts) };
      return buf.length >= lineEnd + 4 && buf.toString('latin1', lineEnd, lineEnd + 4) === '\r\n\r\n' ? { end: lineEnd + 4, body: Buffer.concat(parts) } : undefined;
    }
    if (buf.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    i = lineEnd + 2 + size + 2;
  }
}

/** A keep-alive connection to one server; requests go one at a time. */
export class RawConnection {
  private socket: Socket | undefined;
  private buffered = Buffer.alloc(0);
  private closed = true;
  private wake: (() => void) | undefined;

  constructor(private readonly host: string, private readonly port: number) {}

  private async open(): Promise<Socket> {
    if (this.socket !== undefined && !this.closed) return this.socket;
    const socket = connect(this.port, this.host);
    this.socket = socket;
    this.closed = false;
    this.buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.wake?.();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.closed = true;
      this.wake?.();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return socket;
  }

  /** Sends one request and reads its answer (or notes that the connection closed first). */
  async send(request: RawRequestBytes, timeoutMs = 20_000): Promise<RawOutcome> {
    const socket = await this.open();
    socket.write(request.bytes);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = this.take(request.head);
      if (answer !== undefined) {
        if ((answer.headers['connection'] ?? '').toLowerCase() === 'close') this.reset();
        return { kind: 'answer', answer };
      }
      if (this.closed) {
        const partial = this.buffered.toString('latin1', 0, 300);
        this.reset();
        return { kind: 'closed', partial };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const partial = this.buffered.toString('latin1', 0, 300);
        this.reset();
        return { kind: 'timeout', partial };
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /**
   * Writes a request (typically one whose body is shorter than its Content-Length) and drops the
   * connection as soon as the bytes are out, as a client that gives up mid-upload does.
   */
  async abortAfterWriting(bytes: Buffer): Promise<void> {
    const socket = await this.open();
    await new Promise<void>((resolve) => socket.write(bytes, () => resolve()));
    this.reset();
  }

  /** One complete answer off the buffer, if there is one. */
  private take(head: boolean): RawAnswer | undefined {
    let parsed = parseHead(this.buffered);
    while (parsed !== undefined && parsed.status >= 100 && parsed.status < 200) {
      this.buffered = this.buffered.subarray(parsed.bodyStart); // 100 Continue: not the answer
      parsed = parseHead(this.buffered);
    }
    if (parsed === undefined) return undefined;
    const { status, headers, bodyStart } = parsed;
    let end: number;
    let body: Buffer;
    if (head || status === 204 || status === 304) {
      end = bodyStart;
      body = Buffer.alloc(0);
    } else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
      const chunked = chunkedEnd(this.buffered, bodyStart);
      if (chunked === undefined) return undefined;
      ({ end, body } = chunked);
    } else if (headers['content-length'] !== undefined) {
      end = bodyStart + Number(headers['content-length']);
      if (this.buffered.length < end) return undefined;
      body = this.buffered.subarray(bodyStart, end);
    } else {
      if (!this.closed) return undefined;
      end = this.buffered.length;
      body = this.buffered.subarray(bodyStart);
    }
    const answer: RawAnswer = { status, headers, body: Buffer.from(body) };
    this.buffered = this.buffered.subarray(end);
    return answer;
  }

  /** Drops the current socket; the next request connects anew. */
  reset(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.closed = true;
    this.buffered = Buffer.alloc(0);
  }
}
