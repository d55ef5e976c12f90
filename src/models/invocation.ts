/**
 * One `POST /invocations` dispatched on an undici Pool: undici frames the request (Content-Length,
 * or chunked for a stream of unknown length), writes a streamed body with backpressure, parses the
 * response (1xx skipped; Content-Length, chunked or close-delimited bodies) and keeps connections
 * alive. This handler turns undici's callbacks into a {@link ModelResponse}: a response whose body
 * arrived with its head is handed on whole, a longer one as a Readable with backpressure (reading
 * resumes the socket). Failures without a response become {@link ModelCallError}s (unreachable,
 * stale kept-alive connection, connection lost, timeout, aborted); after the head they destroy the
 * body stream.
 */
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { buildConnector, errors, type Dispatcher } from 'undici';
import { ModelCallError, type CallSignal, type ModelInvocation, type ModelResponse } from './port.js';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
/** Socket failures that, on a connection that already carried a response, mean the server closed it idle. */
const STALE_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
/** Time allowed to open a connection to the model. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Errors a socket raised after it had already read bytes (an earlier response): see {@link trackingConnector}. */
const afterEarlierResponse = new WeakSet<Error>();

/**
 * undici's connector, noting which socket errors happen on a connection that had already read a
 * response: a request failing that way before any answer was sent on a kept-alive connection the
 * model server closed (its idle timeout), so it was not processed and may be sent again.
 */
export function trackingConnector(): buildConnector.connector {
  const connect = buildConnector({ timeout: CONNECT_TIMEOUT_MS });
  return (options, callback) => {
    connect(options, (...args) => {
      const socket: Socket | null = args[1];
      socket?.on('error', (err: Error) => {
        if (socket.bytesRead > 0) afterEarlierResponse.add(err);
      });
      callback(...args);
    });
  };
}

function errorCode(err: Error): string | undefined {
  const code: unknown = 'code' in err ? err.code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The ModelCallError for an aborted signal: `timeout` when its reason is a TimeoutError. */
export function abortError(signal: CallSignal, url: URL): ModelCallError {
  const reason: unknown = signal.reason;
  const timedOut = typeof reason === 'object' && reason !== null && 'name' in reason && reason.name === 'TimeoutError';
  return timedOut
    ? new ModelCallError('timeout', `model call to ${url.href} timed out`, { cause: reason })
    : new ModelCallError('aborted', `model call to ${url.href} was aborted`, { cause: reason });
}

/** Classifies a failure before any response arrived. */
function failureBeforeResponse(err: Error, url: URL, answered: boolean): Error {
  if (err instanceof errors.InvalidArgumentError) return new TypeError(err.message, { cause: err }); // e.g. a header value with CR/LF
  const code = errorCode(err);
  if (err instanceof errors.HTTPParserError || err instanceof errors.ResponseContentLengthMismatchError || err.message === 'bad response') {
    return new ModelCallError('connection-lost', `the model at ${url.origin} sent an invalid HTTP response: ${err.message}`, { cause: err });
  }
  if (!answered && code !== undefined && STALE_CODES.has(code) && afterEarlierResponse.has(err)) {
    return new ModelCallError('stale-connection', `a kept-alive connection to the model at ${url.origin} was closed before the request was read (${code})`, { cause: err });
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new ModelCallError('unreachable', `model at ${url.origin} is unreachable (${code})`, { cause: err });
  }
  return new ModelCallError('connection-lost', `connection to model at ${url.origin} was lost before a response: ${err.message}`, { cause: err });
}

/** The response head as the model client reports it. */
interface Head {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly customAttributes: string | undefined;
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

  constructor(head: Head, readonly whole: Buffer) {
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

/** The streamed response body: fed by the handler, resumes the response when read. */
class ModelBody extends Readable {
  constructor(private readonly handler: InvocationHandler) {
    super();
  }

  override _read(): void {
    this.handler.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.handler.bodyDestroyed();
    callback(err);
  }
}

/**
 * undici dispatch handler of one invocation; settles `resolve`/`reject` once. The head is handed
 * on in a microtask, so that body bytes parsed from the same read (a small answer) come with it.
 * It implements the raw callbacks (onConnect, onHeaders, ...) that undici's own `request()` uses:
 * the newer controller-style ones wrap each call in an adapter that also parses every header into
 * an object, which cost a few µs more per call in a client-only A/B here.
 */
export class InvocationHandler implements Dispatcher.DispatchHandler {
  private abortRequest: ((err: Error) => void) | undefined;
  private resumeResponse: (() => void) | undefined;
  private head: Head | undefined;
  private early: Buffer[] = [];
  private body: ModelBody | undefined;
  private delivered = false;
  private ended = false;
  private answered = false;
  /** Nothing more is done for this call (it completed or failed). */
  private settled = false;
  /** Why the call was ended before undici gave it its abort function. */
  private pendingAbort: Error | undefined;
  private inputError: Error | undefined;

  constructor(
    private readonly url: URL,
    private readonly call: ModelInvocation,
    private readonly resolve: (response: ModelResponse) => void,
    private readonly reject: (err: Error) => void,
  ) {
    call.signal.addEventListener('abort', this.onAbort, { once: true });
    if (!Buffer.isBuffer(call.body)) call.body.once('error', (err) => { this.inputError = err; });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    if (this.pendingAbort !== undefined) abort(this.pendingAbort);
  }

  onResponseStarted(): void {
    this.answered = true;
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    if (status < 200 || this.settled) return true; // interim responses
    this.resumeResponse = resume;
    let contentType: string | undefined;
    let custom: string | undefined;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 12 && contentType === undefined && name.toString('latin1').toLowerCase() === 'content-type') contentType = raw[i + 1]!.toString('latin1');
      else if (name.length === 34 && name.toString('latin1').toLowerCase() === 'x-amzn-sagemaker-custom-attributes') {
        const value = raw[i + 1]!.toString('latin1');
        custom = custom === undefined ? value : `${custom}, ${value}`;
      }
    }
    this.head = { status, contentType, customAttributes: custom };
    queueMicrotask(this.deliver);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.body === undefined) {
      this.early.push(chunk);
      return true;
    }
    return this.body.push(chunk) || this.settled;
  }

  onComplete(): void {
    this.ended = true;
    if (this.body !== undefined) {
      this.finish();
      this.body.push(null);
    }
  }

  onError(err: Error): void {
    if (this.settled) return;
    if (err === this.inputError) this.fail(err);
    else if (this.delivered) this.fail(new ModelCallError('connection-lost', `connection to model at ${this.url.origin} was lost during the response: ${err.message}`, { cause: err }));
    else this.fail(failureBeforeResponse(err, this.url, this.answered));
  }

  /** The body was read: let more of the response in. */
  resume(): void {
    if (!this.settled) this.resumeResponse?.();
  }

  /** The consumer destroyed the body: an unfinished response leaves the connection unusable. */
  bodyDestroyed(): void {
    if (!this.settled) this.fail(new ModelCallError('aborted', 'the model response body was destroyed before its end'));
  }

  /** Hands on the response: whole when its body is complete, else a body stream fed from here on. */
  private readonly deliver = (): void => {
    const head = this.head;
    if (head === undefined || this.delivered || this.settled) return;
    this.delivered = true;
    const early = this.early;
    this.early = [];
    if (this.ended) {
      this.finish();
      this.resolve(new WholeResponse(head, early.length === 1 ? early[0]! : Buffer.concat(early)));
      return;
    }
    const body = new ModelBody(this);
    this.body = body;
    for (const chunk of early) body.push(chunk);
    this.resolve({ status: head.status, contentType: head.contentType, customAttributes: head.customAttributes, body });
  };

  private readonly onAbort = (): void => {
    this.fail(abortError(this.call.signal, this.url));
  };

  /** The response ended: the call is over. */
  private finish(): void {
    this.settled = true;
    this.call.signal.removeEventListener('abort', this.onAbort);
  }

  /** Ends the call with `err`: rejects (or destroys the body), stops the request and its input. */
  private fail(err: Error): void {
    if (this.settled) return;
    this.finish();
    if (this.abortRequest !== undefined) this.abortRequest(err);
    else this.pendingAbort = err;
    const input = this.call.body;
    if (!Buffer.isBuffer(input) && !input.destroyed) input.destroy();
    if (!this.delivered) this.reject(err);
    else if (this.body !== undefined && !this.body.destroyed) this.body.destroy(err);
  }
}
