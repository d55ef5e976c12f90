/**
 * The wire side of the container contract over an undici Pool per model (instance): `POST
 * /invocations` with a streamed body and a streamed response (see invocation.ts), and `GET /ping`.
 * Connections are kept alive and unlimited in number (the slot scheduler bounds the calls in
 * flight); undici's own timeouts are off, since each call's signal carries its deadline.
 */
import { Pool } from 'undici';
import { abortError, InvocationHandler, trackingConnector } from './invocation.js';
import type { ModelInvocation, ModelResponse } from './port.js';

/**
 * Where a model listens, and the connections to it.
 * @internal
 */
export interface ModelTarget {
  readonly invocationsUrl: URL;
  readonly invocationsPath: string;
  readonly pingPath: string;
  readonly pool: Pool;
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
  const invocationsUrl = new URL('invocations', base);
  const pingUrl = new URL('ping', base);
  return {
    invocationsUrl,
    invocationsPath: invocationsUrl.pathname + invocationsUrl.search,
    pingPath: pingUrl.pathname + pingUrl.search,
    pool: new Pool(base.origin, { connect: trackingConnector(), headersTimeout: 0, bodyTimeout: 0 }),
  };
}

/**
 * Closes every connection of `target` (calls in flight fail as connection-lost).
 * @internal
 */
export function closeModelTarget(target: ModelTarget): void {
  target.pool.destroy().catch(() => undefined);
}

/**
 * Sends one `POST /invocations`. Resolves when the response headers arrive (any status); the body
 * is streamed. `call.body` is consumed, or destroyed on failure. After the headers, an abort, an
 * input error or a lost connection destroys the response body with the error.
 * @throws TypeError (as a rejection) for a header value that may not be sent.
 * @internal
 */
export function invokeModel(target: ModelTarget, call: ModelInvocation): Promise<ModelResponse> {
  return new Promise<ModelResponse>((resolve, reject) => {
    if (call.signal.aborted) {
      if (!Buffer.isBuffer(call.body) && !call.body.destroyed) call.body.destroy();
      reject(abortError(call.signal, target.invocationsUrl));
      return;
    }
    const headers = ['content-type', call.contentType ?? 'application/octet-stream', 'x-amzn-sagemaker-inference-id', call.inferenceId];
    if (call.accept !== undefined) headers.push('accept', call.accept);
    if (call.customAttributes !== undefined) headers.push('x-amzn-sagemaker-custom-attributes', call.customAttributes);
    if (!Buffer.isBuffer(call.body)) {
      if (call.contentLength !== undefined) headers.push('content-length', String(call.contentLength));
      call.body.pause(); // undici resumes it once the request is on a connection: nothing flows past it meanwhile
    }
    target.pool.dispatch(
      { method: 'POST', path: target.invocationsPath, headers, body: call.body, headersTimeout: 0, bodyTimeout: 0 },
      new InvocationHandler(target.invocationsUrl, call, resolve, reject),
    );
  });
}

/**
 * One `GET /ping`: `true` for status 200 within `timeoutMs`, `false` for anything else (other
 * status, refused, reset, timeout, or `signal` aborted). Never rejects.
 * @internal
 */
export async function pingModel(target: ModelTarget, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  try {
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
    const res = await target.pool.request({ method: 'GET', path: target.pingPath, signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) });
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}
