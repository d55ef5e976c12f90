/**
 * Test helper: HTTP/1.1 over raw `node:net` sockets, for what node's client hides or refuses: any
 * path, header or framing sent as exact bytes (in one write, in parts, pipelined), `100 Continue`,
 * a stalled or aborted body, whether the server closed the connection. One response parser
 * (interim 1xx skipped; Content-Length, chunked, bodiless and read-to-close bodies) serves
 * {@link RawConnection} (one socket, every response in arrival order) and {@link RawClient} (one
 * request at a time on a keep-alive connection, reconnecting after the server closes it).
 */
import { connect, type Socket } from 'node:net';

/** One response read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Lower-case names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** A response with its body as latin1 text (for assertions on text bodies). */
export interface RawTextResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** A request's outcome on a {@link RawClient}: an answer, or the connection closing (or timing out) before one. */
export type RawOutcome = { readonly kind: 'answer'; readonly answer: RawResponse } | { readonly kind: 'closed' | 'timeout'; readonly partial: string };

/** A raw request: the bytes, and whether the answer can carry no body (HEAD). */
export interface RawRequestBytes {
  readonly bytes: Buffer;
  readonly head: boolean;
}

/** Serialises a request (`headers` as given, in order; written as latin1, the body as is). */
export function requestBytes(method: string, rawUrl: string, headers: Readonly<Record<string, string>>, body: Buffer | string = Buffer.alloc(0)): Buffer {
  let head = `${method} ${rawUrl} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]);
}

/** A response with its body as latin1 text. */
export function asText(response: RawResponse): RawTextResponse {
  return { status: response.status, headers: response.headers, body: response.body.toString('latin1') };
}

interface Head {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bodyStart: number;
}

function parseHead(buf: Buffer, from: number): Head | undefined {
  const end = buf.indexOf('\r\n\r\n', from);
  if (end < 0) return undefined;
  const lines = buf.toString('latin1', from, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
  if (Number.isNaN(status)) throw new Error(`not an HTTP status line: ${lines[0]}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, bodyStart: end + 4 };
}

/** A complete chunked body starting at `from` (trailers skipped) and where it ends, or undefined while incomplete. */
function dechunk(buf: Buffer, from: number): { end: number; body: Buffer } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.toString('latin1', at, eol).split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error(`bad chunk size in answer: ${buf.toString('latin1', at, eol)}`);
    at = eol + 2;
    if (size === 0) {
      const trailerEnd = buf.indexOf('\r\n\r\n', at - 2);
      return trailerEnd < 0 ? undefined : { end: trailerEnd + 4, body: Buffer.concat(parts) };
    }
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/**
 * Parses the first final response in `buf` from offset `from`: the response and the offset after
 * it, or undefined while incomplete. `head`: the request was HEAD (no body follows); `closed`: no
 * more bytes will come (a body without framing ends here).
 */
export function parseResponse(buf: Buffer, from: number, head: boolean, closed: boolean): { response: RawResponse; end: number } | undefined {
  let parsed = parseHead(buf, from);
  while (parsed !== undefined && parsed.status >= 100 && parsed.status < 200) parsed = parseHead(buf, parsed.bodyStart);
  if (parsed === undefined) return undefined;
  const { status, headers, bodyStart } = parsed;
  let end: number;
  let body: Buffer;
  if (head || status === 204 || status === 304) {
    end = bodyStart;
    body = Buffer.alloc(0);
  } else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    const chunked = dechunk(buf, bodyStart);
    if (chunked === undefined) return undefined;
    ({ end, body } = chunked);
  } else if (headers['content-length'] !== undefined) {
    end = bodyStart + Number(headers['content-length']);
    if (buf.length < end) return undefined;
    body = buf.subarray(bodyStart, end);
  } else {
    if (!closed) return undefined;
    end = buf.length;
    body = buf.subarray(bodyStart);
  }
  return { response: { status, headers, body: Buffer.from(body) }, end };
}

/** One client socket whose bytes the test writes itself; responses are parsed in arrival order. */
export class RawConnection {
  private received = Buffer.alloc(0);
  private parsedTo = 0;
  private readonly parsed: RawResponse[] = [];
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
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Opens a connection to 127.0.0.1:`target`, or to the host and port of the base URL `target`. */
  static async open(target: number | string): Promise<RawConnection> {
    const url = typeof target === 'number' ? undefined : new URL(target);
    const socket = url === undefined ? connect(target as number, '127.0.0.1') : connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawConnection(socket);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves on the next arrival, close or error, or after `timeoutMs`. */
  changed(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Everything received so far, as latin1 text. */
  text(): string {
    return this.received.toString('latin1');
  }

  /** Received bytes not yet parsed as a response, as latin1 text (at most `max` characters). */
  unparsed(max = 300): string {
    return this.received.toString('latin1', this.parsedTo, Math.min(this.received.length, this.parsedTo + max));
  }

  /** Writes bytes (several in one call are one write); resolves once handed to the kernel (never rejects: a reset shows in `error`). */
  write(...data: (string | Buffer)[]): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) {
        resolve();
        return;
      }
      this.socket.write(Buffer.concat(data.map((d) => (typeof d === 'string' ? Buffer.from(d) : d))), () => resolve());
    });
  }

  /** Parses the next response (HEAD: bodiless), if it is complete. */
  take(head = false): RawResponse | undefined {
    const next = parseResponse(this.received, this.parsedTo, head, this.closed);
    if (next === undefined) return undefined;
    this.parsedTo = next.end;
    this.parsed.push(next.response);
    return next.response;
  }

  /** Responses complete so far, in arrival order. */
  get responses(): readonly RawResponse[] {
    while (this.take() !== undefined);
    return this.parsed;
  }

  /** Resolves when `predicate` holds (checked on every arrival); rejects if the connection closes or fails first. */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) {
      if (this.closed || this.error) throw new Error(`connection ${this.closed ? 'closed' : `failed (${this.error?.message})`}; received: ${JSON.stringify(this.text().slice(0, 500))}`);
      await this.changed();
    }
  }

  /** Resolves once `n` responses arrived; rejects if the connection fails or closes first. */
  async responsesUpTo(n: number): Promise<RawResponse[]> {
    await this.until(() => this.responses.length >= n);
    return this.parsed.slice(0, n);
  }

  /** Resolves once the server has closed the connection, with the responses read until then. */
  async untilClosed(): Promise<readonly RawResponse[]> {
    while (!this.closed) await this.changed();
    return this.responses;
  }

  /** The first final (non-1xx) response, waiting for it. */
  async reply(): Promise<RawResponse> {
    return (await this.responsesUpTo(1))[0]!;
  }

  /** The first final response received so far, if any. */
  peekReply(): RawResponse | undefined {
    return this.responses[0];
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

/** Sends `requests` in ONE write on a fresh connection and returns their responses (in arrival order). */
export async function pipelined(base: string, requests: readonly Buffer[]): Promise<RawResponse[]> {
  const conn = await RawConnection.open(base);
  try {
    void conn.write(...requests);
    return await conn.responsesUpTo(requests.length);
  } finally {
    conn.destroy();
  }
}

/** A keep-alive client to one server: requests go one at a time; after the server closes, the next one connects anew. */
export class RawClient {
  private conn: RawConnection | undefined;

  constructor(private readonly host: string, private readonly port: number) {}

  private async open(): Promise<RawConnection> {
    if (this.conn !== undefined && !this.conn.closed) return this.conn;
    this.conn = await RawConnection.open(`http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`);
    return this.conn;
  }

  /** Sends one request and reads its answer (or notes that the connection closed first). */
  async send(request: RawRequestBytes, timeoutMs = 20_000): Promise<RawOutcome> {
    const conn = await this.open();
    void conn.write(request.bytes); // not awaited: a server that stops reading still answers
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = conn.take(request.head);
      if (answer !== undefined) {
        if ((answer.headers['connection'] ?? '').toLowerCase() === 'close') this.reset();
        return { kind: 'answer', answer };
      }
      const left = deadline - Date.now();
      if (conn.closed || left <= 0) {
        const partial = conn.unparsed();
        this.reset();
        return { kind: conn.closed ? 'closed' : 'timeout', partial };
      }
      await conn.changed(left);
    }
  }

  /**
   * Writes a request (typically one whose body is shorter than its Content-Length) and drops the
   * connection as soon as the bytes are out, as a client that gives up mid-upload does.
   */
  async abortAfterWriting(bytes: Buffer): Promise<void> {
    const conn = await this.open();
    await conn.write(bytes);
    this.reset();
  }

  /** Drops the current connection; the next request connects anew. */
  reset(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}
