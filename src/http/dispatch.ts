/**
 * Request dispatch of the one HTTP server: health check, SigV4 verification, and routing by
 * credential-scope service (`s3` → S3 front, `sagemaker` → SageMaker Runtime front). Errors are
 * rendered here, in the shape of the API the request belongs to.
 */
import { hash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isSigV2Presigned, verifySigV2Presigned, type CredentialLookup, type SignableRequest, type SigV4Verifier } from '../auth/index.js';
import { InferqError, toInferqError } from '../errors/index.js';
import { routeRuntimeRequest, type RuntimeApi, type RuntimeRoute } from '../runtime/index.js';
import { sendS3Error, type S3Api } from '../s3api/index.js';
import { setHeaderList, type Clock, type Logger } from '../util/index.js';
import { readBoundedBody } from './body.js';
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
  readonly logger: Logger;
}

type Family = 's3' | 'sagemaker';

function familyWithoutAuth(req: IncomingMessage): Family {
  return (req.url ?? '').startsWith('/endpoints/') ? 'sagemaker' : 's3';
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
function settleUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (!(declared <= DRAIN_LIMIT) && !res.headersSent) res.setHeader('Connection', 'close');
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

function sendError(req: IncomingMessage, res: ServerResponse, family: Family, err: InferqError, requestId: string): void {
  if (family === 's3') sendS3Error(res, err, (req.url ?? '/').split('?', 1)[0] ?? '/', requestId, req.method === 'HEAD');
  else sendSageMakerError(res, err);
}

async function serveS3(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse, request: SignableRequest, sigV2: boolean): Promise<string> {
  const auth = sigV2 ? verifySigV2Presigned(request, deps.credentials, deps.clock, deps.s3.address(req).bucketFromHost) : deps.verifier.verify(request);
  return deps.s3.handle(req, res, auth);
}

async function serveRuntime(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse, request: SignableRequest, base: readonly string[]): Promise<string> {
  const hasHash = req.headers['x-amz-content-sha256'] !== undefined;
  const route = routeOrError(req.method ?? 'GET', req.url ?? '/');
  const limit = deps.runtime.bodyLimit(route);
  const tooLarge = (): InferqError => limit.realtime
    ? new InferqError('ValidationError', `The request body is larger than this endpoint's limit of ${limit.bytes} bytes (realtime.maxBodyBytes).`)
    : new InferqError('InvalidArgument', `Request body is larger than ${limit.bytes} bytes.`);
  const body = await readBoundedBody(req, limit.bytes, tooLarge, limit.realtime ? limit.bytes + OVERSIZE_DRAIN : limit.bytes);
  const bodySha256Hex = hash('sha256', body, 'hex');
  deps.verifier.verify(request, hasHash ? {} : { bodySha256Hex });
  const declared = req.headers['x-amz-content-sha256'];
  if (hasHash && declared !== 'UNSIGNED-PAYLOAD' && declared !== bodySha256Hex) {
    throw new InferqError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  if (route instanceof InferqError) throw route; // reported only to an authenticated caller
  await deps.runtime.handle(req, res, route, { bytes: body, sha256Hex: bodySha256Hex }, base);
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

/**
 * Serves one request: health check, authentication, dispatch by credential-scope service, and
 * the error in the shape of the API the request belongs to.
 */
export async function handleRequest(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { verifier, logger } = deps;
  const requestId = randomUUID();
  const base = baseHeaders(requestId);
  const started = performance.now();
  let family: Family = familyWithoutAuth(req);
  let operation = 'unknown';
  try {
    if (req.method === 'GET' && req.url === '/ping' && req.headers.authorization === undefined) {
      res.writeHead(200, [...base, 'Content-Type', 'text/plain', 'Content-Length', '2']).end('ok');
      operation = 'Ping';
      return;
    }
    const request = signable(req);
    const sigV2 = isSigV2Presigned(request);
    const service = sigV2 ? 's3' : verifier.claimedService(request);
    if (service === undefined && req.headers.authorization !== undefined) throw new InferqError('IncompleteSignature', 'The Authorization header is not a valid AWS Signature Version 4 header.');
    if (service === undefined) throw new InferqError('MissingAuthentication', 'Request is missing Authentication Token');
    family = service === 's3' ? 's3' : 'sagemaker';
    if (family === 's3') setHeaderList(res, base);
    operation = family === 's3' ? await serveS3(deps, req, res, request, sigV2) : await serveRuntime(deps, req, res, request, base);
  } catch (raw) {
    const err = toInferqError(raw);
    if (!res.headersSent) setHeaderList(res, base);
    if (err.code === 'InternalError') logger.error('request failed', { requestId, method: req.method, url: req.url, error: raw instanceof Error ? raw.stack : String(raw) });
    settleUnreadBody(req, res);
    sendError(req, res, family, err, requestId);
    operation = `${operation}!${err.code}`;
  } finally {
    logger.debug('request', { requestId, method: req.method, url: req.url, operation, status: res.statusCode, ms: Math.round(performance.now() - started) });
  }
}

