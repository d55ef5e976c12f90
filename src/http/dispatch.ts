/**
 * Request dispatch of the one HTTP server: health check, authentication, and routing by
 * credential-scope service (`s3` → S3 front, `sagemaker` → SageMaker Runtime front, `sagemaker`
 * with `X-Amz-Target: SageMaker.*` → the control plane, `application-autoscaling` with
 * `X-Amz-Target: AnyScaleFrontendService.*` → Application Auto Scaling, `sts` GetCallerIdentity; calls to
 * other services or operations are refused in their own protocol, see foreign-errors.ts, and a
 * SageMaker Runtime path under another scope is refused). A request's authentication is parsed
 * once and that one parse is what both routing and verification read. Everything that needs no
 * body (access key, scope, signing time, payload mode) is checked before the body is read and
 * before `100 Continue` is sent; bodies that must be read before their signature can be checked
 * draw on one shared budget. Errors are rendered here, in the shape of the API the request
 * belongs to. An unsigned `GET /metrics` is the Prometheus scrape (metrics-route.ts). Unsigned
 * requests to `/ui` and below go to the dashboard (src/ui), which answers its own JSON errors; a
 * signed one is routed like any other, so `/ui/…` stays S3's path-style space. Every answered
 * request is counted in inferq_http_requests_total by operation (dashboard calls: `Dashboard`).
 */
import { hash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  claimedService, parseRequestCredentials, verifySigV2Presigned, type Claims, type CredentialLookup, type RequestCredentials, type SignableRequest, type SigV4Verifier,
} from '../auth/index.js';
import type { AutoscalingApi } from '../autoscaling/index.js';
import type { ControlPlaneApi } from '../controlplane/index.js';
import { InferqError, toInferqError } from '../errors/index.js';
import type { Metrics } from '../metrics/index.js';
import { routeRuntimeRequest, type RuntimeApi, type RuntimeRoute } from '../runtime/index.js';
import { sendS3Error, type S3Api } from '../s3api/index.js';
import { ownsRequest, type UiApi } from '../ui/index.js';
import { setHeaderList, type Clock, type Logger } from '../util/index.js';
import { readBoundedBody, type UnverifiedBodyBudget } from './body.js';
import { watchBodyProgress } from './body-timeout.js';
import { foreignCall, refuseForeignCall, sendForeignError, type ForeignCall } from './foreign-errors.js';
import { isMetricsScrape, serveMetrics, type MetricsScrape } from './metrics-route.js';
import { serveAwsJson, serveSts, type AwsJsonApi } from './rpc.js';
import { sendSageMakerError } from './sagemaker-errors.js';

/** An over-limit real-time body is still read (and dropped) up to this much beyond the limit, so the client sees the ValidationError. */
const OVERSIZE_DRAIN = 16 * 1024 * 1024;

/** What the server dispatches to. */
export interface HttpServerDeps {
  readonly verifier: SigV4Verifier;
  /** For Signature Version 2 presigned S3 URLs (botocore's default for `aws s3 presign`). */
  readonly credentials: CredentialLookup;
  readonly clock: Clock;
  readonly s3: S3Api;
  readonly runtime: RuntimeApi;
  /** The SageMaker control plane (`X-Amz-Target: SageMaker.*` under scope `sagemaker`); without it those calls are refused as foreign. */
  readonly controlPlane?: ControlPlaneApi;
  /** Application Auto Scaling (`X-Amz-Target: AnyScaleFrontendService.*` under scope `application-autoscaling`); without it those calls are refused as foreign. */
  readonly autoscaling?: AutoscalingApi;
  /** The account STS GetCallerIdentity reports; without it STS calls are refused as foreign. */
  readonly account?: string;
  readonly logger: Logger;
  /** `server.maxUnverifiedBodyBytes`: bytes of bodies held, all requests together, before their signature is checked. */
  readonly maxUnverifiedBodyBytes: number;
  /** `server.bodyTimeoutSeconds` in ms: a body that makes no progress this long gets 408 and its connection is closed. */
  readonly bodyTimeoutMs: number;
  /** Counts every answered request (`inferq_http_requests_total`). */
  readonly metrics: Metrics;
  /** `GET /metrics`; undefined when `server.metrics.enabled` is false (the route answers 404). */
  readonly scrape: MetricsScrape | undefined;
  /** `server.accessLog`: one info line per request. */
  readonly accessLog: boolean;
  /** The dashboard: unsigned requests to `/ui` and below (signed ones stay S3 path-style calls of bucket `ui`). */
  readonly ui?: UiApi;
}

/** What all requests of one server share: its dependencies and the budget of unverified body bytes. */
export interface DispatchContext extends HttpServerDeps {
  readonly unverified: UnverifiedBodyBudget;
}

type Family = 's3' | 'sagemaker' | ForeignCall;

/** Whether the client still waits for `100 Continue` before it sends the body. */
interface ContinueState {
  pending: boolean;
}

/** Sends `100 Continue` when the client waits for it: called once the checks that need no body passed. */
function proceed(res: ServerResponse, expect: ContinueState): void {
  if (!expect.pending) return;
  expect.pending = false;
  res.writeContinue();
}

/**
 * The API the credential scope names. Any other service is IncompleteSignature, rendered in the
 * shape the path suggests (the caller keeps `byPath`).
 */
function familyOf(service: string, byPath: Family): Family {
  if (service === 's3' || service === 'sagemaker') return service;
  throw new InferqError('IncompleteSignature', byPath === 's3'
    ? `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`
    : "Credential should be scoped to correct service: 'sagemaker'.");
}

/** Whether the connection is gone (client abort, or closed after a body timeout): nothing more can be answered. */
function connectionGone(req: IncomingMessage, res: ServerResponse): boolean {
  return res.destroyed || req.socket.destroyed;
}

/** The family of an unsigned request, from its shape: `/endpoints` and below are SageMaker's. */
function familyWithoutAuth(req: IncomingMessage): Family {
  const foreign = foreignCall(req, undefined);
  if (foreign !== undefined) return foreign;
  const url = req.url ?? '';
  const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
  return path === '/endpoints' || path.startsWith('/endpoints/') ? 'sagemaker' : 's3';
}

/**
 * The request as the verifiers see it. node builds `headersDistinct` on first access (an array per
 * header); it is only needed when a header name repeats, which the raw header count reveals.
 */
function signable(req: IncomingMessage): SignableRequest {
  const { headers } = req;
  const repeated = req.rawHeaders.length !== 2 * Object.keys(headers).length;
  return { method: req.method ?? 'GET', rawUrl: req.url ?? '/', headers, ...(repeated ? { headersDistinct: req.headersDistinct } : {}) };
}

/**
 * The headers of every response, as a flat name/value list: the request id under the names S3
 * and SageMaker clients read, and Server. Handed to the runtime API, whose real-time answers send
 * them in their one `writeHead` (node's fast path: no header map); set on `res` for the rest.
 */
function baseHeaders(requestId: string): string[] {
  return ['x-amz-request-id', requestId, 'x-amzn-RequestId', requestId, 'Server', 'inferq'];
}

/** Bodies up to this size are read and discarded after an error so the connection can be reused. */
const DRAIN_LIMIT = 1024 * 1024;

/**
 * After an early error the request body may be unread. Small bodies are drained (keep-alive
 * survives); larger ones get `Connection: close` and are cut off past the drain limit, so a
 * rejected 1 GB upload is not read to the end.
 */
function settleUnreadBody(req: IncomingMessage, res: ServerResponse, expect: ContinueState): void {
  if (req.complete) return;
  if (expect.pending) {
    // The client sends no body before `100 Continue`, or sends it later anyway: not reusable.
    if (!res.headersSent) res.setHeader('Connection', 'close');
    return;
  }
  const framed = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  const declared = framed ? Number(req.headers['content-length'] ?? NaN) : 0; // neither header: no body
  if (!(declared <= DRAIN_LIMIT) && !res.headersSent) res.setHeader('Connection', 'close');
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

function sendError(req: IncomingMessage, res: ServerResponse, family: Family, err: InferqError, requestId: string): void {
  if (typeof family === 'object') sendForeignError(req, res, family, err, requestId);
  else if (family === 's3') sendS3Error(res, err, (req.url ?? '/').split('?', 1)[0] ?? '/', requestId, req.method === 'HEAD');
  else sendSageMakerError(res, err);
}

/** What a served request was, for the request counter and the access log. */
interface Served {
  operation: string;
  endpoint?: string;
  /** The `operation` label of inferq_http_requests_total when it is not `operation` (dashboard calls: `Dashboard`). */
  metricsOperation?: string;
}

async function serveS3(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, request: SignableRequest, credentials: RequestCredentials, expect: ContinueState, served: Served): Promise<string> {
  const auth = credentials.kind === 'sigv2'
    ? verifySigV2Presigned(request, credentials.claims, ctx.credentials, ctx.clock, ctx.s3.address(req).bucketFromHost)
    : ctx.verifier.verifyChecked(request, ctx.verifier.check(request, credentials.claims));
  proceed(res, expect);
  return ctx.s3.handle(req, res, auth, (operation) => { served.operation = operation; });
}

async function serveRuntime(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, request: SignableRequest, claims: Claims, base: readonly string[], expect: ContinueState, served: Served): Promise<string> {
  const checked = ctx.verifier.check(request, claims);
  const route = routeOrError(req.method ?? 'GET', req.url ?? '/');
  const limit = ctx.runtime.bodyLimit(route);
  const tooLarge = (): InferqError => limit.realtime
    ? new InferqError('ValidationError', `The request body is larger than this endpoint's limit of ${limit.bytes} bytes (realtime.maxBodyBytes).`)
    : new InferqError('InvalidArgument', `Request body is larger than ${limit.bytes} bytes.`);
  const body = await readBoundedBody(req, limit.bytes, tooLarge, {
    discardUpTo: limit.realtime ? limit.bytes + OVERSIZE_DRAIN : limit.bytes,
    budget: ctx.unverified,
    beforeRead: () => proceed(res, expect),
  });
  let bodySha256Hex: string;
  try {
    bodySha256Hex = hash('sha256', body.bytes, 'hex');
    const auth = ctx.verifier.verifyChecked(request, checked, { bodySha256Hex });
    if (auth.payload.kind === 'sha256' && auth.payload.hash !== bodySha256Hex) {
      throw new InferqError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
  } finally {
    body.release();
  }
  if (route instanceof InferqError) throw route; // reported only to an authenticated caller
  served.endpoint = route.endpointName;
  served.operation = route.operation;
  await ctx.runtime.handle(req, res, route, { bytes: body.bytes, sha256Hex: bodySha256Hex }, base);
  return route.operation;
}

/** The route of a runtime request, or the error that its address is not one. */
function routeOrError(method: string, rawUrl: string): RuntimeRoute | InferqError {
  try {
    return routeRuntimeRequest(method, rawUrl);
  } catch (err) {
    return toInferqError(err);
  }
}

/** Answers a request whose body stopped arriving: 408 (when nothing was answered yet) and the connection closes. */
function answerBodyTimeout(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, family: Family, requestId: string): void {
  ctx.logger.debug('request body stalled', { requestId, method: req.method, url: req.url, timeoutMs: ctx.bodyTimeoutMs });
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  setHeaderList(res, baseHeaders(requestId));
  res.setHeader('Connection', 'close');
  sendError(req, res, family, new InferqError('RequestTimeout', `No part of the request body arrived for ${ctx.bodyTimeoutMs / 1000} seconds (server.bodyTimeoutSeconds).`), requestId);
}

/**
 * The awsJson API and X-Amz-Target of a call inferq serves: the control plane (scope `sagemaker`)
 * or Application Auto Scaling (scope `application-autoscaling`), for a target that API serves;
 * else undefined.
 */
function awsJsonTarget(ctx: DispatchContext, req: IncomingMessage, service: string, foreign: ForeignCall | undefined): { api: AwsJsonApi; target: string } | undefined {
  if (foreign?.protocol !== 'json') return undefined;
  const api = service === 'sagemaker' ? ctx.controlPlane : service === 'application-autoscaling' ? ctx.autoscaling : undefined;
  const raw = req.headers['x-amz-target'];
  const target = Array.isArray(raw) ? raw[0] : raw;
  return api !== undefined && target !== undefined && api.serves(target) ? { api, target } : undefined;
}

/**
 * Serves one request: health check, authentication, dispatch by credential-scope service, and
 * the error in the shape of the API the request belongs to. `expectsContinue`: the client sent
 * `Expect: 100-continue` and node left the `100 Continue` to us (the server's `checkContinue`).
 */
export async function handleRequest(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, expectsContinue = false): Promise<void> {
  const { logger } = ctx;
  const requestId = randomUUID();
  const base = baseHeaders(requestId);
  const started = performance.now();
  const expect: ContinueState = { pending: expectsContinue };
  let family: Family = familyWithoutAuth(req);
  const served: Served = { operation: 'unknown' };
  let failed: string | undefined;
  if (ctx.accessLog) logWhenClosed(ctx, req, res, requestId, started, served, () => failed);
  watchBodyProgress(req, ctx.bodyTimeoutMs, () => answerBodyTimeout(ctx, req, res, family, requestId));
  try {
    if (req.method === 'GET' && req.url === '/ping' && req.headers.authorization === undefined) {
      res.writeHead(200, [...base, 'Content-Type', 'text/plain', 'Content-Length', '2']).end('ok');
      served.operation = 'Ping';
      return;
    }
    if (isMetricsScrape(req)) {
      served.operation = 'Metrics';
      await serveMetrics(ctx.scrape, req, res, base);
      return;
    }
    if (ctx.ui !== undefined && ownsRequest(req)) {
      served.metricsOperation = 'Dashboard';
      served.operation = await ctx.ui.handle(req, res);
      return;
    }
    const request = signable(req);
    const credentials = parseRequestCredentials(request);
    const service = claimedService(credentials);
    const foreign = family === 'sagemaker' || credentials.kind !== 'sigv4' ? undefined : foreignCall(req, service);
    const rpc = awsJsonTarget(ctx, req, service, foreign);
    if (rpc !== undefined && foreign !== undefined && credentials.kind === 'sigv4') {
      family = foreign;
      served.operation = await serveAwsJson(rpc.api, ctx.verifier, req, res, request, credentials.claims, rpc.target, { budget: ctx.unverified, beforeRead: () => proceed(res, expect) });
      return;
    }
    if (foreign?.protocol === 'query' && service === 'sts' && ctx.account !== undefined && credentials.kind === 'sigv4') {
      family = foreign;
      served.metricsOperation = 'GetCallerIdentity';
      served.operation = await serveSts(ctx.verifier, req, res, request, credentials.claims, ctx.account, requestId, { budget: ctx.unverified, beforeRead: () => proceed(res, expect) });
      return;
    }
    if (foreign !== undefined && credentials.kind === 'sigv4') {
      family = foreign;
      served.operation = `${service}:foreign`;
      await refuseForeignCall(ctx.verifier, req, request, credentials.claims, foreign, { budget: ctx.unverified, beforeRead: () => proceed(res, expect) });
    }
    family = familyOf(service, family);
    if (family === 's3') setHeaderList(res, base);
    served.operation = credentials.kind === 'sigv4' && family === 'sagemaker'
      ? await serveRuntime(ctx, req, res, request, credentials.claims, base, expect, served)
      : await serveS3(ctx, req, res, request, credentials, expect, served);
  } catch (raw) {
    const err = toInferqError(raw);
    failed = err.code;
    const gone = connectionGone(req, res);
    if (gone) logger.debug('connection closed before the request was served', { requestId, method: req.method, url: req.url, error: raw instanceof Error ? raw.message : String(raw) });
    else if (err.code === 'InternalError') logger.error('request failed', { requestId, method: req.method, url: req.url, error: raw instanceof Error ? raw.stack : String(raw) });
    if (gone || res.writableEnded) return;
    if (!res.headersSent) setHeaderList(res, base);
    settleUnreadBody(req, res, expect);
    sendError(req, res, family, err, requestId);
  } finally {
    ctx.metrics.recordHttpRequest(served.metricsOperation ?? (served.operation.includes(':') ? 'Foreign' : served.operation), res.statusCode); // the service name is the client's: not a label
    logger.debug('request', { requestId, method: req.method, url: req.url, operation: failed === undefined ? served.operation : `${served.operation}!${failed}`, status: res.statusCode, ms: Math.round(performance.now() - started) });
  }
}

/** Bytes of a connection already counted in access-log lines. */
const accounted = new WeakMap<Socket, { read: number; written: number }>();

/**
 * Writes the access-log line of a request once its response is done (`close`). Bytes are counted
 * on the connection: in, what it read since the previous request's line (request line, headers
 * and body); out, what it wrote meanwhile (headers included). A pipelined request already read
 * while the one before it was answered counts toward that one.
 */
function logWhenClosed(ctx: DispatchContext, req: IncomingMessage, res: ServerResponse, requestId: string, started: number, served: Served, error: () => string | undefined): void {
  const socket = req.socket;
  res.once('close', () => {
    const before = accounted.get(socket) ?? { read: 0, written: 0 };
    const now = { read: socket.bytesRead, written: socket.bytesWritten };
    accounted.set(socket, now);
    ctx.logger.info('access', {
      requestId, method: req.method, operation: served.operation, endpoint: served.endpoint, status: res.statusCode, error: error(),
      ms: Math.round((performance.now() - started) * 10) / 10, bytesIn: now.read - before.read, bytesOut: now.written - before.written,
    });
  });
}
