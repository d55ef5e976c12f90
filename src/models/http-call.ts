/**
 * The wire side of the container contract: `POST /invocations` with a streamed body and streamed
 * response over inferq's own keep-alive HTTP/1.1 connections, and `GET /ping` over node:http(s).
 * Failures without an HTTP response become {@link ModelCallError}s classified as unreachable,
 * stale-connection, connection-lost, timeout or aborted.
 *
 * Why hand-written (measured, issue 11): the per-call cost of node:http's client dominated a
 * proxied small call, and undici 7.30.2 (a Pool per model instance, driven through its raw
 * dispatch handler, the cheapest way in) was A/B-tested against this client in the bench's
 * real-time echo row (`npm run bench -- --only=realtime --compare=DIR`, DIR a built checkout): it cost 1.25-1.6x the
 * server CPU per call in every run (about +11 µs of client CPU per call on its own, 39 vs 27 µs),
 * against an allowed 5 %; it also refuses an unsolicited 100 Continue and opens a second connection
 * for a call made within an event-loop turn of the previous response. Re-run that A/B before
 * replacing this (the undici client and its test changes are in this file's git history).
 */
import http from 'node:http';
import https from 'node:https';
import { abortError, Exchange, requestHead } from './http1-exchange.js';
import { ConnectionPool } from './http1-pool.js';
import type { ModelInvocation, ModelResponse } from './port.js';

/**
 * Where a model listens: the invocation connections (a lean HTTP/1.1 client, see
 * http1-exchange.ts) and the keep-alive agent for pings.
 * @internal
 */
export interface ModelTarget {
  readonly invocationsUrl: URL;
  readonly pingUrl: URL;
  /** Request line, Host and Connection of every invocation. */
  readonly invocationPrefix: string;
  readonly pool: ConnectionPool;
  readonly agent: http.Agent;
  readonly request: typeof http.request;
}

/**
 * Builds a target for `baseUrl` (http or https) with its own connections.
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
  const invocationsUrl = new URL('invocations', base);
  const host = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  return {
    invocationsUrl,
    pingUrl: new URL('ping', base),
    invocationPrefix: `POST ${invocationsUrl.pathname}${invocationsUrl.search} HTTP/1.1\r\nHost: ${base.host}\r\nConnection: keep-alive\r\n`,
    pool: new ConnectionPool({ host, port: Number(base.port) || (secure ? 443 : 80), secure }),
    agent,
    request: secure ? https.request : http.request,
  };
}

/**
 * Closes every connection of `target` (calls in flight fail as connection-lost).
 * @internal
 */
export function closeModelTarget(target: ModelTarget): void {
  target.pool.destroy();
  target.agent.destroy();
}

/**
 * Sends one `POST /invocations`. Resolves when the response headers arrive (any status); the body
 * is streamed. `call.body` is consumed, or destroyed on failure. After the headers, an abort, an
 * input error or a lost connection destroys the response body with the error.
 * @internal
 */
export function invokeModel(target: ModelTarget, call: ModelInvocation): Promise<ModelResponse> {
  return new Promise<ModelResponse>((resolve, reject) => {
    const url = target.invocationsUrl;
    if (call.signal.aborted) {
      if (!Buffer.isBuffer(call.body) && !call.body.destroyed) call.body.destroy();
      reject(abortError(call.signal, url));
      return;
    }
    const length = Buffer.isBuffer(call.body) ? call.body.length : call.contentLength;
    new Exchange(target.pool, url, call, requestHead(target.invocationPrefix, call, length), resolve, reject);
  });
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
