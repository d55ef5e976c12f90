/**
 * The wire side of the container contract over node:http(s): `POST /invocations` with a streamed
 * body and streamed response, and `GET /ping`. Failures without an HTTP response become
 * {@link ModelCallError}s classified as unreachable, connection-lost, timeout or aborted.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream';
import { ModelCallError, type ModelInvocation, type ModelResponse } from './port.js';

/**
 * Where a model listens, with the keep-alive agent that owns its connections.
 * @internal
 */
export interface ModelTarget {
  readonly invocationsUrl: URL;
  readonly pingUrl: URL;
  readonly agent: http.Agent;
  readonly request: typeof http.request;
}

/**
 * Builds a target for `baseUrl` (http or https) with its own keep-alive agent.
 * @internal
 */
export function createModelTarget(baseUrl: string): ModelTarget {
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`model URL must be http or https, got ${JSON.stringify(baseUrl)}`);
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  return {
    invocationsUrl: new URL('invocations', base),
    pingUrl: new URL('ping', base),
    agent,
    request: secure ? https.request : http.request,
  };
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** The ModelCallError for an aborted signal: `timeout` when its reason is a TimeoutError. */
function abortError(signal: AbortSignal, url: URL): ModelCallError {
  const reason: unknown = signal.reason;
  const timedOut = typeof reason === 'object' && reason !== null && 'name' in reason && reason.name === 'TimeoutError';
  return timedOut
    ? new ModelCallError('timeout', `model call to ${url.href} timed out`, { cause: reason })
    : new ModelCallError('aborted', `model call to ${url.href} was aborted`, { cause: reason });
}

const STALE_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** Classifies a socket-level failure before any response arrived. */
function transportError(err: unknown, url: URL, reusedSocket: boolean): ModelCallError {
  if (err instanceof ModelCallError) return err;
  const code = errorCode(err);
  if (reusedSocket && code !== undefined && STALE_CODES.has(code)) {
    return new ModelCallError('stale-connection', `a kept-alive connection to the model at ${url.origin} was closed before the request was read (${code})`, { cause: err });
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new ModelCallError('unreachable', `model at ${url.origin} is unreachable (${code})`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new ModelCallError('connection-lost', `connection to model at ${url.origin} was lost before a response: ${detail}`, { cause: err });
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function requestHeaders(call: ModelInvocation): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'Content-Type': call.contentType ?? 'application/octet-stream',
    'X-Amzn-SageMaker-Inference-Id': call.inferenceId,
  };
  if (call.accept !== undefined) headers['Accept'] = call.accept;
  if (call.customAttributes !== undefined) headers['X-Amzn-SageMaker-Custom-Attributes'] = call.customAttributes;
  if (call.contentLength !== undefined) headers['Content-Length'] = call.contentLength;
  else headers['Transfer-Encoding'] = 'chunked';
  return headers;
}

function toResponse(res: IncomingMessage): ModelResponse {
  const contentType = headerValue(res.headers['content-type']);
  const customAttributes = headerValue(res.headers['x-amzn-sagemaker-custom-attributes']);
  return {
    status: res.statusCode ?? 0,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    body: res,
  };
}

/**
 * Sends one `POST /invocations`. Resolves when the response headers arrive (any status); the body
 * is streamed. `call.body` is consumed, or destroyed on failure. After the headers, an abort, an
 * input error or a lost connection destroys the response body with the error.
 * @internal
 */
export function invokeModel(target: ModelTarget, call: ModelInvocation): Promise<ModelResponse> {
  const url = target.invocationsUrl;
  return new Promise<ModelResponse>((resolve, reject) => {
    let response: IncomingMessage | undefined;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      call.signal.removeEventListener('abort', onAbort);
      req.destroy(err);
      if (!Buffer.isBuffer(call.body) && !call.body.destroyed) call.body.destroy();
      if (response === undefined) reject(err);
      else if (!response.destroyed) response.destroy(err);
    };
    const onAbort = (): void => fail(abortError(call.signal, url));

    const req = target.request(url, { method: 'POST', agent: target.agent, headers: requestHeaders(call) });
    if (!Buffer.isBuffer(call.body)) call.body.once('error', (err) => fail(err));
    req.on('error', (err) => {
      // A response that already arrived in full stays valid even if sending the rest failed.
      if (response === undefined) fail(transportError(err, url, req.reusedSocket));
      else if (!response.complete) fail(connectionLost(err, url));
    });
    req.once('response', (res) => {
      response = res;
      if (failed) {
        res.destroy();
        return;
      }
      res.once('close', () => call.signal.removeEventListener('abort', onAbort));
      resolve(toResponse(res));
    });
    if (call.signal.aborted) {
      onAbort();
      return;
    }
    call.signal.addEventListener('abort', onAbort, { once: true });
    // Errors are handled by the listeners above; pipeline only wires data and end.
    if (Buffer.isBuffer(call.body)) req.end(call.body);
    else pipeline(call.body, req, () => undefined);
  });
}

function connectionLost(err: Error, url: URL): ModelCallError {
  if (err instanceof ModelCallError) return err;
  return new ModelCallError('connection-lost', `connection to model at ${url.origin} was lost during the response: ${err.message}`, { cause: err });
}

/**
 * One `GET /ping`: `true` for status 200 within `timeoutMs`, `false` for anything else (other
 * status, refused, reset, timeout, or `signal` aborted). Never rejects.
 * @internal
 */
export function pingModel(target: ModelTarget, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = (): void => {
      req.destroy();
      finish(false);
    };
    const req = target.request(target.pingUrl, { method: 'GET', agent: target.agent });
    const timer = setTimeout(() => {
      req.destroy();
      finish(false);
    }, timeoutMs);
    timer.unref();
    req.on('error', () => finish(false));
    req.once('response', (res) => {
      res.on('error', () => finish(false));
      res.once('end', () => finish(res.statusCode === 200));
      res.resume();
    });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
