/**
 * Test helper: HTTP/1.1 pipelining over a raw `node:net` socket. Builds SigV4-signed requests as
 * bytes (the development key pair, the product's own signer), writes several of them in one
 * write (or in any chosen pieces) on one connection, and parses the responses in the order they
 * come back (Content-Length and chunked bodies; 1xx interim responses are skipped).
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { signRequest } from '../../src/auth/index.js';
import { DEV, REGION } from './clients.js';

/** One parsed response. */
export interface PipelinedResponse {
  status: number;
  /** Lower-case names; a repeated header is joined with `, `. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The bytes of one signed request to `path` of the server at `base` (Content-Length framing). */
export function signedRequestBytes(base: string, service: 's3' | 'sagemaker', method: string, path: string, headers: Record<string, string> = {}, body: Buffer = Buffer.alloc(0)): Buffer {
  const url = new URL(path, `${base}/`);
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const all = signRequest({ method, url, headers: { ...lower, 'content-length': String(body.length) }, payloadHash, service, region: REGION, ...DEV });
  const head = [`${method} ${url.pathname}${url.search} HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Incremental parser of a stream of HTTP/1.1 responses. */
class ResponseParser {
  private buf: Buffer = Buffer.alloc(0);
  readonly done: PipelinedResponse[] = [];

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.parseOne());
  }

  /** Parses one whole response off the front of the buffer; false when more bytes are needed. */
  private parseOne(): boolean {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? NaN);
    if (Number.isNaN(status)) throw new Error(`not an HTTP status line: ${lines[0]}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const rest = this.buf.subarray(end + 4);
    if (status >= 100 && status < 200) {
      this.buf = rest;
      return true;
    }
    const body = headers['transfer-encoding']?.toLowerCase().includes('chunked') ? dechunk(rest) : fixedLength(rest, Number(headers['content-length'] ?? 0));
    if (body === undefined) return false;
    this.done.push({ status, headers, body: body.body });
    this.buf = rest.subarray(body.used);
    return true;
  }
}

function fixedLength(data: Buffer, length: number): { body: Buffer; used: number } | undefined {
  if (data.length < length) return undefined;
  return { body: Buffer.from(data.subarray(0, length)), used: length };
}

/** A complete chunked body at the front of `data` (trailers skipped), or undefined when incomplete. */
function dechunk(data: Buffer): { body: Buffer; used: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(data.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size line');
    at = eol + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n\r\n', at - 2);
      if (trailerEnd < 0) return undefined;
      return { body: Buffer.concat(parts), used: trailerEnd + 4 };
    }
    if (data.length < at + size + 2) return undefined;
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}

/** A raw connection to a server, reading responses as they arrive. */
export class RawConnection {
  private readonly parser = new ResponseParser();
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.failure = err as Error;
      }
      this.waiter?.();
    });
    socket.on('error', (err) => {
      this.failure = err;
      this.waiter?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  /** Connects to the server at `base`. */
  static async open(base: string): Promise<RawConnection> {
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new RawConnection(socket);
  }

  /** Writes bytes as they are (several requests in one call are one write). */
  write(...requests: Buffer[]): void {
    this.socket.write(Buffer.concat(requests));
  }

  /** Responses parsed so far. */
  get responses(): readonly PipelinedResponse[] {
    return this.parser.done;
  }

  /** Resolves once `n` responses arrived; rejects if the connection fails or closes first. */
  async responsesUpTo(n: number): Promise<PipelinedResponse[]> {
    while (this.parser.done.length < n) {
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error(`connection closed after ${this.parser.done.length} of ${n} responses`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
    return this.parser.done.slice(0, n);
  }

  /** Resolves once the server closed the connection (with the responses read until then). */
  async closed(): Promise<readonly PipelinedResponse[]> {
    while (!this.ended) await new Promise<void>((resolve) => (this.waiter = resolve));
    return this.parser.done;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Sends `requests` in ONE write on a fresh connection and returns their responses (in arrival order). */
export async function pipelined(base: string, requests: readonly Buffer[]): Promise<PipelinedResponse[]> {
  const conn = await RawConnection.open(base);
  try {
    conn.write(...requests);
    return await conn.responsesUpTo(requests.length);
  } finally {
    conn.destroy();
  }
}
