/**
 * One `POST /invocations` on a pooled keep-alive connection: the request written in one go (a
 * small in-memory body in the same write as the head), or streamed with backpressure
 * (Content-Length or chunked); the response parsed as it arrives and its body handed on as a
 * Readable with backpressure. The connection goes back to the pool only after a clean, complete
 * exchange. Failures without a response become {@link ModelCallError}s (unreachable, stale
 * connection, connection lost, timeout, aborted); after the head they destroy the body stream.
 */
import { Readable } from 'node:stream';
import type { Connection, ConnectionPool, ConnectionUser } from './http1-pool.js';
import { ResponseParser, type ResponseHead, type ResponseSink } from './http1-response.js';
import { ModelCallError, type CallSignal, type ModelInvocation, type ModelResponse } from './port.js';

/** Bodies up to this size are copied behind the head and sent in one write. */
const COALESCE_BYTES = 16 * 1024;
/** Characters node:http refuses in a header value (request splitting). */
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const STALE_CODES = new Set(['ECONNRESET', 'EPIPE']);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** The ModelCallError for an aborted signal: `timeout` when its reason is a TimeoutError. */
export function abortError(signal: CallSignal, url: URL): ModelCallError {
  const reason: unknown = signal.reason;
  const timedOut = typeof reason === 'object' && reason !== null && 'name' in reason && reason.name === 'TimeoutError';
  return timedOut
    ? new ModelCallError('timeout', `model call to ${url.href} timed out`, { cause: reason })
    : new ModelCallError('aborted', `model call to ${url.href} was aborted`, { cause: reason });
}

/** Classifies a socket-level failure before any response arrived. */
function transportError(err: Error, url: URL, reusedSocket: boolean): ModelCallError {
  const code = errorCode(err);
  if (reusedSocket && code !== undefined && STALE_CODES.has(code)) {
    return new ModelCallError('stale-connection', `a kept-alive connection to the model at ${url.origin} was closed before the request was read (${code})`, { cause: err });
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new ModelCallError('unreachable', `model at ${url.origin} is unreachable (${code})`, { cause: err });
  }
  return new ModelCallError('connection-lost', `connection to model at ${url.origin} was lost before a response: ${err.message}`, { cause: err });
}

function header(name: string, value: string): string {
  if (INVALID_HEADER_CHAR.test(value)) throw new TypeError(`Invalid character in header content ["${name}"]`);
  return `${name}: ${value}\r\n`;
}

/**
 * The request head after `prefix` (request line, Host, Connection): the invocation's headers and
 * the framing (`length` as Content-Length, else chunked).
 * @throws TypeError for a header value node:http would refuse.
 */
export function requestHead(prefix: string, call: ModelInvocation, length: number | undefined): string {
  let head = prefix + header('Content-Type', call.contentType ?? 'application/octet-stream') + header('X-Amzn-SageMaker-Inference-Id', call.inferenceId);
  if (call.accept !== undefined) head += header('Accept', call.accept);
  if (call.customAttributes !== undefined) head += header('X-Amzn-SageMaker-Custom-Attributes', call.customAttributes);
  return head + (length !== undefined ? `Content-Length: ${length}\r\n\r\n` : 'Transfer-Encoding: chunked\r\n\r\n');
}

/** The response body: pushes what the exchange parses, resumes the socket when read. */
class ModelBody extends Readable {
  constructor(private readonly exchange: Exchange) {
    super();
  }

  override _read(): void {
    this.exchange.resumeSocket();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.exchange.bodyDestroyed();
    callback(err);
  }
}

/**
 * A response whose body is all in memory: `body` is made on first access. (A class: an object
 * literal with a getter is built through a V8 slow path costing about a microsecond.)
 */
class WholeResponse implements ModelResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly customAttributes: string | undefined;
  private stream: Readable | undefined;

  constructor(head: ResponseHead, readonly whole: Buffer) {
    this.status = head.status;
    this.contentType = head.contentType;
    this.customAttributes = head.customAttributes;
  }

  get body(): Readable {
    const whole = this.whole;
    this.stream ??= new Readable({
      read(): void {
        if (whole.length > 0) this.push(whole);
        this.push(null);
      },
    });
    return this.stream;
  }
}

/** Creates the error for a response that is not valid HTTP. */
function protocolError(err: unknown, url: URL): ModelCallError {
  return new ModelCallError('connection-lost', `the model at ${url.origin} sent an invalid HTTP response: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** One request/response on a pooled connection; settles `resolve`/`reject` once. */
export class Exchange implements ConnectionUser, ResponseSink {
  private readonly conn: Connection;
  private readonly parser = new ResponseParser(this);
  private readonly input: Readable | undefined;
  private body: ModelBody | undefined;
  /** The parsed head, until the response is handed on (at the end of the buffer that completed it). */
  private head: ResponseHead | undefined;
  /** Body bytes parsed before the response was handed on. */
  private early: Buffer[] = [];
  private ended = false;
  private keepAlive = false;
  private requestSent = false;
  private received = false;
  /** The exchange is over (completed or failed): nothing more is done with the connection. */
  private settled = false;
  private socketError: Error | undefined;
  private chunked = false;

  constructor(
    private readonly pool: ConnectionPool,
    private readonly url: URL,
    private readonly call: ModelInvocation,
    head: string,
    private readonly resolve: (response: ModelResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    this.conn = pool.acquire(this);
    call.signal.addEventListener('abort', this.onAbort, { once: true });
    if (Buffer.isBuffer(call.body)) {
      this.writeWhole(head, call.body);
      this.requestSent = true;
    } else {
      this.input = call.body;
      this.chunked = call.contentLength === undefined;
      this.conn.socket.write(head, 'latin1');
      this.pump(call.body);
    }
  }

  private writeWhole(head: string, body: Buffer): void {
    const socket = this.conn.socket;
    if (body.length <= COALESCE_BYTES) {
      const buf = Buffer.allocUnsafe(head.length + body.length);
      buf.write(head, 0, 'latin1');
      body.copy(buf, head.length);
      socket.write(buf);
      return;
    }
    socket.cork();
    socket.write(head, 'latin1');
    socket.write(body);
    socket.uncork();
  }

  private pump(input: Readable): void {
    input.on('data', this.onInput);
    input.once('end', this.onInputEnd);
    input.once('error', this.onInputError);
  }

  private readonly onInput = (data: Buffer | string): void => {
    if (this.settled) return;
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (chunk.length === 0) return;
    const socket = this.conn.socket;
    let ok: boolean;
    if (this.chunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = socket.write(chunk);
    if (!ok) this.input?.pause();
  };

  private readonly onInputEnd = (): void => {
    if (this.settled) return;
    if (this.chunked) this.conn.socket.write('0\r\n\r\n', 'latin1');
    this.requestSent = true;
    if (this.parser.done) this.complete();
  };

  private readonly onInputError = (err: Error): void => this.fail(err);

  private readonly onAbort = (): void => this.fail(abortError(this.call.signal, this.url));

  onDrain(): void {
    if (!this.settled) this.input?.resume();
  }

  onData(data: Buffer): void {
    this.received = true;
    try {
      this.parser.execute(data);
    } catch (err) {
      this.deliver();
      this.fail(protocolError(err, this.url));
      return;
    }
    this.deliver();
    if (this.parser.done && !this.settled) this.complete();
  }

  onError(err: Error): void {
    this.socketError ??= err;
  }

  onClose(): void {
    if (this.settled) return;
    if (this.socketError === undefined) {
      try {
        this.parser.finish();
      } catch {
        // incomplete: a lost connection, below
      }
      if (this.parser.done) {
        this.complete();
        return;
      }
    }
    const err = this.socketError ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    this.fail(this.body === undefined
      ? transportError(err, this.url, this.conn.reused && !this.received)
      : new ModelCallError('connection-lost', `connection to model at ${this.url.origin} was lost during the response: ${err.message}`, { cause: err }));
  }

  onHead(head: ResponseHead): void {
    this.keepAlive = head.keepAlive;
    this.head = head;
  }

  onBody(chunk: Buffer): void {
    if (this.body === undefined) this.early.push(chunk);
    else if (!this.body.push(chunk) && !this.settled) this.conn.socket.pause();
  }

  onEnd(): void {
    if (this.body === undefined) this.ended = true;
    else this.body.push(null);
  }

  /**
   * Resolves with the response once its head was parsed: with `whole` when the body is complete
   * too (its Readable is then only made if asked for), else with a body stream fed from here on.
   */
  private deliver(): void {
    const head = this.head;
    if (head === undefined) return;
    this.head = undefined;
    const early = this.early;
    this.early = [];
    if (this.ended) {
      this.resolve(new WholeResponse(head, early.length === 1 ? early[0]! : Buffer.concat(early)));
      return;
    }
    const body = new ModelBody(this);
    this.body = body;
    for (const chunk of early) body.push(chunk);
    if (this.ended) body.push(null);
    this.resolve({ status: head.status, contentType: head.contentType, customAttributes: head.customAttributes, body });
  }

  /** The body was read: let more of the response in (unless the connection is no longer ours). */
  resumeSocket(): void {
    if (!this.settled) this.conn.socket.resume();
  }

  /** The consumer destroyed the body: an unfinished response leaves the connection unusable. */
  bodyDestroyed(): void {
    if (!this.parser.done) this.fail(undefined);
  }

  /** The response ended: the connection is reused if the request was sent whole and nothing else came. */
  private complete(): void {
    this.settled = true;
    this.call.signal.removeEventListener('abort', this.onAbort);
    if (this.requestSent && this.keepAlive && !this.parser.trailing) {
      this.pool.release(this.conn);
      return;
    }
    this.pool.discard(this.conn);
    this.stopInput();
  }

  /** Ends the exchange with `err` (rejecting, or destroying the body); `undefined`: quietly. */
  private fail(err: Error | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.call.signal.removeEventListener('abort', this.onAbort);
    this.pool.discard(this.conn);
    this.stopInput();
    if (err === undefined) return;
    if (this.body === undefined) this.reject(err);
    else if (!this.body.destroyed) this.body.destroy(err);
  }

  private stopInput(): void {
    const input = this.input;
    if (input === undefined || this.requestSent) return;
    input.off('data', this.onInput);
    if (!input.destroyed) input.destroy();
  }
}
