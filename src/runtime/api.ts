/**
 * The SageMaker Runtime API front (`/endpoints/{name}/…`): routing, endpoint lookup and dispatch
 * to the operations. Unknown endpoints are a ValidationError, as in SageMaker.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointConfig } from '../config/index.js';
import { InferqError } from '../errors/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { Job, JobQueue } from '../queue/index.js';
import { setHeaderList, type Clock, type Logger } from '../util/index.js';
import { BacklogGauge, invokeEndpointAsync, submitAsync, type AsyncSubmission } from './async-invoke.js';
import { invokeEndpoint } from './invoke.js';
import { createLifecycleOperations, createLifecycleRoutes, type LifecycleDeps, type LifecycleOperations } from './lifecycle.js';
import { ACCOUNT_ID } from './model-errors.js';
import type { RealtimeTarget } from './realtime.js';
import { describeJob, getAsyncInvocation } from './status.js';
import { invokeEndpointWithResponseStream } from './stream.js';
import type { Metrics } from '../metrics/index.js';

/** Operations of the runtime API. */
export type RuntimeOperation = 'InvokeEndpointAsync' | 'InvokeEndpoint' | 'InvokeEndpointWithResponseStream' | 'GetAsyncInvocation' | 'ListEndpointStatus' | 'GetEndpointStatus'
  | 'CancelAsyncInvocation' | 'ListAsyncInvocations' | 'RetryAsyncInvocation';

const POST_OPERATIONS: Readonly<Record<string, RuntimeOperation>> = {
  'async-invocations': 'InvokeEndpointAsync',
  invocations: 'InvokeEndpoint',
  'invocations-response-stream': 'InvokeEndpointWithResponseStream',
};

const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;

export { ACCOUNT_ID };

/** A routed runtime request. */
export interface RuntimeRoute {
  readonly operation: RuntimeOperation;
  readonly endpointName: string;
  /** For GetAsyncInvocation, CancelAsyncInvocation and RetryAsyncInvocation. */
  readonly inferenceId?: string;
  readonly rawQuery: string;
}

function decodeSegment(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InferqError('ValidationError', `${field} is not valid percent-encoding.`);
  }
}

/**
 * Routes a raw URL: split the path on `/` first, then percent-decode the name, then validate it.
 * @throws InferqError ValidationError for bad names, UnknownOperation for unknown routes.
 */
export function routeRuntimeRequest(method: string, rawUrl: string): RuntimeRoute {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
  const segments = path.split('/');
  let operation: RuntimeOperation | undefined;
  let inferenceId: string | undefined;
  if (segments[1] === 'endpoints' && segments.length === 4 && method === 'POST') operation = POST_OPERATIONS[segments[3] ?? ''];
  if (segments[1] === 'endpoints' && segments.length === 5 && segments[3] === 'async-invocations' && (method === 'GET' || method === 'DELETE')) {
    operation = method === 'GET' ? 'GetAsyncInvocation' : 'CancelAsyncInvocation';
    inferenceId = decodeSegment(segments[4] ?? '', 'InferenceId');
  }
  if (segments[1] === 'endpoints' && segments.length === 6 && segments[3] === 'async-invocations' && segments[5] === 'retry' && method === 'POST') {
    operation = 'RetryAsyncInvocation';
    inferenceId = decodeSegment(segments[4] ?? '', 'InferenceId');
  }
  if (segments[1] === 'endpoints' && segments.length === 4 && segments[3] === 'async-invocations' && method === 'GET') operation = 'ListAsyncInvocations';
  if (segments[1] === 'endpoints' && method === 'GET' && segments.length === 2) return { operation: 'ListEndpointStatus', endpointName: '', rawQuery };
  if (segments[1] === 'endpoints' && method === 'GET' && segments.length === 3) operation = 'GetEndpointStatus';
  if (operation === undefined) {
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    throw new InferqError('UnknownOperation', `inferq serves no SageMaker Runtime operation at ${method} ${shown}.`);
  }
  const endpointName = decodeSegment(segments[2] ?? '', 'EndpointName');
  if (endpointName.length < 1 || endpointName.length > 63 || !ENDPOINT_NAME.test(endpointName)) {
    throw new InferqError('ValidationError', `1 validation error detected: Value '${endpointName}' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])* and have length 1 to 63`);
  }
  return { operation, endpointName, rawQuery, ...(inferenceId !== undefined ? { inferenceId } : {}) };
}

/** What the runtime API serves. */
export interface RuntimeApiDeps {
  /** The endpoints served, by name: a live view (the composition root adds and removes API-created endpoints while it runs). */
  readonly endpoints: ReadonlyMap<string, EndpointConfig>;
  readonly queue: JobQueue;
  /** The object store, for the failure objects of cancelled and re-run requests. */
  readonly store: ObjectStore;
  /** The error notification of a request cancelled through the API, and the hook told once it was recorded (see lifecycle.ts). */
  readonly cancelNotification?: LifecycleDeps['cancelNotification'];
  readonly onCancelled?: (job: Job) => void;
  readonly clock: Clock;
  readonly inputUrlAllowList: readonly string[];
  readonly maxBacklogPerEndpoint: number;
  /** The model and slot scheduler of each endpoint, for the real-time operations. */
  readonly realtime: ReadonlyMap<string, RealtimeTarget>;
  /** Region named in ModelError messages and log ARNs. */
  readonly region: string;
  /** Account named in messages and ARNs (`server.account`); {@link ACCOUNT_ID} when absent. */
  readonly account?: string;
  /** Instances and backlog of every endpoint (`GET /endpoints`), including endpoints that are off. */
  readonly status: () => Promise<readonly EndpointStatusDoc[]>;
  readonly logger: Logger;
  /** Real-time model latency. */
  readonly metrics?: Pick<Metrics, 'observeModelLatency'>;
}

/** One endpoint's status document (`GET /endpoints[/{name}]`). */
export interface EndpointStatusDoc {
  readonly EndpointName: string;
  readonly EndpointStatus: 'InService' | 'OutOfService';
  readonly [field: string]: unknown;
}

function sendJson(res: ServerResponse, doc: unknown): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

/** The runtime API. */
export interface RuntimeApi {
  /**
   * Largest body a request of `route` may carry: the endpoint's `realtime.maxBodyBytes` for the
   * real-time operations of a known endpoint, otherwise (also for an address that is no route)
   * {@link DEFAULT_RUNTIME_BODY_LIMIT}.
   */
  bodyLimit(route: RuntimeRoute | InferqError): { readonly bytes: number; readonly realtime: boolean };
  /**
   * Serves a routed, authenticated request. `baseHeaders` (flat name/value list) go on every
   * answer: the real-time operations send them with their one `writeHead`, the others set them first.
   */
  handle(req: IncomingMessage, res: ServerResponse, route: RuntimeRoute, body: RequestBody, baseHeaders: readonly string[]): Promise<void>;
  /**
   * InvokeEndpointAsync without HTTP (the dashboard's Invoke form): `headers` are the operation's
   * `x-amzn-sagemaker-*` headers (lower-case). Same validation, backlog limit and idempotency.
   */
  submitAsync(endpointName: string, headers: IncomingHttpHeaders, body: RequestBody): Promise<AsyncSubmission>;
  /** The GetAsyncInvocation document of one request; undefined when there is none. */
  describeAsync(endpointName: string, inferenceId: string): Promise<Record<string, unknown> | undefined>;
  /** Every endpoint's status document, as `GET /endpoints` answers it. */
  status(): Promise<readonly EndpointStatusDoc[]>;
  /** List, cancel and re-run without HTTP (the dashboard), for a known endpoint; same rules as the routes. */
  readonly lifecycle: LifecycleOperations;
}

/** A request body as read and hashed for authentication. */
export interface RequestBody {
  readonly bytes: Buffer;
  /** Hex SHA-256 of `bytes`. */
  readonly sha256Hex: string;
}

/** Body limit of every other runtime request (InvokeEndpointAsync allows 128,000 inline bytes; the rest is headroom). */
export const DEFAULT_RUNTIME_BODY_LIMIT = 6 * 1024 * 1024 + 64 * 1024;

/** Creates the runtime API over the endpoints served. */
export function createRuntimeApi(deps: RuntimeApiDeps): RuntimeApi {
  const byName = deps.endpoints;
  const asyncDeps = Object.assign({}, deps, { backlog: new BacklogGauge(deps.queue) });
  const account = deps.account ?? ACCOUNT_ID;
  const ctx = { region: deps.region, account, logger: deps.logger, ...(deps.metrics !== undefined ? { metrics: deps.metrics } : {}) };
  const lifecycleDeps = {
    queue: deps.queue, store: deps.store, clock: deps.clock, logger: deps.logger, ...(deps.onCancelled ? { onCancelled: deps.onCancelled } : {}),
    ...(deps.cancelNotification ? { cancelNotification: deps.cancelNotification } : {}),
  };
  const operations = createLifecycleOperations(lifecycleDeps);
  const lifecycle = createLifecycleRoutes(lifecycleDeps, operations);
  const endpointOf = (name: string): EndpointConfig => {
    const endpoint = byName.get(name);
    if (!endpoint) throw new InferqError('ValidationError', `Endpoint ${name} of account ${account} not found.`);
    return endpoint;
  };
  const targetOf = (name: string): RealtimeTarget => {
    const target = deps.realtime.get(name);
    if (!target) throw new InferqError('InternalError', `endpoint ${name} has no model`);
    return target;
  };
  return {
    submitAsync: (endpointName, headers, body) => submitAsync(asyncDeps, endpointOf(endpointName), headers, body),
    async describeAsync(endpointName, inferenceId) {
      const job = await deps.queue.get(endpointOf(endpointName).name, inferenceId);
      return job === undefined ? undefined : describeJob(job);
    },
    status: () => deps.status(),
    lifecycle: {
      cancel: (endpoint, id) => operations.cancel(endpointOf(endpoint).name, id),
      list: (endpoint, rawQuery) => operations.list(endpointOf(endpoint).name, rawQuery),
      rerun: (endpoint, id) => operations.rerun(endpointOf(endpoint).name, id),
      failQueued: (endpoint, reason) => operations.failQueued(endpoint, reason),
    },
    bodyLimit(route) {
      if (!(route instanceof InferqError) && (route.operation === 'InvokeEndpoint' || route.operation === 'InvokeEndpointWithResponseStream')) {
        const endpoint = byName.get(route.endpointName);
        if (endpoint) return { bytes: endpoint.realtime.maxBodyBytes, realtime: true };
      }
      return { bytes: DEFAULT_RUNTIME_BODY_LIMIT, realtime: false };
    },
    async handle(req, res, route, body, baseHeaders) {
      if (route.operation === 'InvokeEndpoint' || route.operation === 'InvokeEndpointWithResponseStream') {
        const endpoint = endpointOf(route.endpointName);
        const invoke = route.operation === 'InvokeEndpoint' ? invokeEndpoint : invokeEndpointWithResponseStream;
        return invoke(ctx, endpoint, targetOf(endpoint.name), req, res, body.bytes, baseHeaders);
      }
      if (route.operation === 'InvokeEndpointAsync') return invokeEndpointAsync(asyncDeps, endpointOf(route.endpointName), req, res, body, baseHeaders);
      setHeaderList(res, baseHeaders);
      if (route.operation === 'ListEndpointStatus') return sendJson(res, { Endpoints: await deps.status() });
      if (route.operation === 'GetEndpointStatus') {
        const doc = (await deps.status()).find((e) => e.EndpointName === route.endpointName);
        if (!doc) throw new InferqError('ValidationError', `Endpoint ${route.endpointName} of account ${account} not found.`);
        return sendJson(res, doc);
      }
      const endpoint = endpointOf(route.endpointName);
      switch (route.operation) {
        case 'GetAsyncInvocation':
          return getAsyncInvocation(deps.queue, deps.clock, endpoint.name, route.inferenceId ?? '', route.rawQuery, res);
        case 'CancelAsyncInvocation':
          return lifecycle.cancel(endpoint.name, route.inferenceId ?? '', res);
        case 'ListAsyncInvocations':
          return lifecycle.list(endpoint.name, route.rawQuery, res);
        case 'RetryAsyncInvocation':
          return lifecycle.rerun(endpoint.name, route.inferenceId ?? '', res);
      }
    },
  };
}
