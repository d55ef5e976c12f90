/**
 * The API process's ModelClient for an endpoint whose model runs in worker processes: each call
 * goes to the route {@link RouteTable.choose} picks, as `POST /forward/{endpoint}/invocations`
 * signed with the forward key (auth.ts), the model-facing headers of the container contract, and
 * the body (a Buffer with its Content-Length, or streamed). The answer streams back as the
 * ModelResponse; a failure the worker reports (FORWARD_ERROR_HEADER: ModelError, ModelNotReady,
 * ServiceUnavailable…) is raised here as the same InferqError. Failures without an answer are
 * ModelCallErrors like a local model's (a refused connection is `unreachable`, and that route is
 * left out until the registry shows it again, so the retry picks another worker).
 *
 * node:http rather than models/http1-exchange: the hop needs per-call headers (the signature)
 * that lean client does not take, and its cost matters less here than the network hop's.
 */
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { InferqError, isErrorCode } from '../errors/index.js';
import { ModelCallError, type ModelClient, type ModelHealth, type ModelInvocation, type ModelResponse } from '../models/index.js';
import { FORWARD_ERROR_HEADER } from '../runtime/index.js';
import type { Clock } from '../util/index.js';
import { FORWARD_AUTH_HEADER, signForward } from './auth.js';
import type { RouteChoice, RouteTable } from './routes.js';

/** The path a worker serves forwarded calls of `endpoint` on. */
export function forwardPath(endpoint: string): string {
  return `/forward/${encodeURIComponent(endpoint)}/invocations`;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const errorBodySchema = z.object({ message: z.string(), details: z.record(z.string(), z.union([z.string(), z.number()])).default({}) });

/** Options of {@link createForwardClient}. */
export interface ForwardClientOptions {
  readonly endpoint: string;
  readonly routes: RouteTable;
  readonly key: string;
  readonly clock: Clock;
}

function callFailure(err: unknown, call: ModelInvocation, url: string, reusedSocket = false): ModelCallError {
  if (call.signal.aborted) {
    const reason: unknown = call.signal.reason;
    const timedOut = typeof reason === 'object' && reason !== null && 'name' in reason && reason.name === 'TimeoutError';
    return new ModelCallError(timedOut ? 'timeout' : 'aborted', `forwarded call to ${url} ${timedOut ? 'timed out' : 'was aborted'}`, { cause: reason });
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) return new ModelCallError('stale-connection', `a kept-alive connection to the worker at ${url} was closed (${code})`, { cause: err });
  if (code !== undefined && UNREACHABLE.has(code)) return new ModelCallError('unreachable', `worker at ${url} is unreachable (${code})`, { cause: err });
  return new ModelCallError('connection-lost', `forwarded call to ${url} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

async function forwardedError(res: http.IncomingMessage, code: string): Promise<InferqError> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  let parsed: z.infer<typeof errorBodySchema> | undefined;
  try {
    const result = errorBodySchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    if (result.success) parsed = result.data;
  } catch {
    parsed = undefined;
  }
  if (code === 'AccessDenied') {
    // Not the client's fault: this process and the worker disagree on the forward secret.
    return new InferqError('ServiceUnavailable', 'A worker refused this API process\'s forwarding signature (worker.forwardSecret or INFERQ_FORWARD_SECRET differ between the processes); try again later.');
  }
  return new InferqError(isErrorCode(code) ? code : 'InternalError', parsed?.message ?? `the worker answered ${res.statusCode ?? 0} (${code})`, parsed?.details ?? {});
}

/** Sends one call to `route`; resolves with the answer's head (see the module header). */
function send(options: ForwardClientOptions, agents: { http: http.Agent; https: https.Agent }, route: RouteChoice, call: ModelInvocation): Promise<ModelResponse> {
  const path = forwardPath(options.endpoint);
  const url = new URL(path, route.url);
  const secure = url.protocol === 'https:';
  const headers: Record<string, string> = {
    [FORWARD_AUTH_HEADER]: signForward(options.key, 'POST', path, options.endpoint, options.clock.now()),
    'content-type': call.contentType ?? 'application/octet-stream',
    'x-amzn-sagemaker-inference-id': call.inferenceId,
  };
  if (call.accept !== undefined) headers['accept'] = call.accept;
  if (call.customAttributes !== undefined) headers['x-amzn-sagemaker-custom-attributes'] = call.customAttributes;
  const length = Buffer.isBuffer(call.body) ? call.body.length : call.contentLength;
  if (length !== undefined) headers['content-length'] = String(length);
  return new Promise<ModelResponse>((resolve, reject) => {
    const req = (secure ? https : http).request(url, { method: 'POST', headers, agent: secure ? agents.https : agents.http });
    let response: http.IncomingMessage | undefined;
    // After the head, the body carries the failure (a timeout stays a timeout for the relay).
    const onAbort = (): void => {
      const failure = callFailure(undefined, call, route.url);
      if (response !== undefined) response.destroy(failure);
      req.destroy(failure);
    };
    let answered = false;
    req.on('error', (err) => {
      call.signal.removeEventListener('abort', onAbort);
      if (!answered) reject(err instanceof ModelCallError ? err : callFailure(err, call, route.url, req.reusedSocket));
    });
    req.on('response', (res) => {
      answered = true;
      response = res;
      res.on('close', () => call.signal.removeEventListener('abort', onAbort));
      const code = res.headers[FORWARD_ERROR_HEADER];
      if (typeof code === 'string') {
        forwardedError(res, code).then(reject, (err: unknown) => reject(callFailure(err, call, route.url)));
        return;
      }
      const contentType = res.headers['content-type'];
      const custom = res.headers['x-amzn-sagemaker-custom-attributes'];
      resolve({
        status: res.statusCode ?? 0, body: res,
        ...(contentType !== undefined ? { contentType } : {}),
        ...(typeof custom === 'string' ? { customAttributes: custom } : {}),
      });
    });
    if (call.signal.aborted) onAbort();
    else call.signal.addEventListener('abort', onAbort, { once: true });
    if (Buffer.isBuffer(call.body)) req.end(call.body);
    else call.body.pipe(req);
  });
}

/**
 * Creates the forwarding ModelClient of one endpoint. `health()` is healthy while some worker
 * serves the endpoint with capacity; start and stop do nothing (the workers run the models).
 */
export function createForwardClient(options: ForwardClientOptions): ModelClient & { close(): void } {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  const health = (): ModelHealth => (options.routes.capacity(options.endpoint) > 0 ? 'healthy' : 'starting');
  return {
    description: `forwarded to the workers of ${options.endpoint}`,
    async invoke(call: ModelInvocation): Promise<ModelResponse> {
      const route = options.routes.choose(options.endpoint);
      if (route === undefined) throw new ModelCallError('unreachable', `no worker serves endpoint ${options.endpoint} now`);
      route.sent += 1;
      let done = false;
      const finish = (): void => {
        if (!done) route.sent -= 1;
        done = true;
      };
      try {
        const response = await send(options, agents, route, call);
        response.body.once('close', finish);
        return response;
      } catch (err) {
        finish();
        if (err instanceof ModelCallError && err.failure === 'unreachable') options.routes.markUnreachable(route.owner);
        throw err;
      }
    },
    health,
    onHealthChange(listener) {
      let last = health();
      return options.routes.onChange(() => {
        const now = health();
        if (now !== last) listener(now);
        last = now;
      });
    },
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
