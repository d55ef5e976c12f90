/**
 * InvokeEndpointAsync: validate, compute the result locations, durably enqueue, and only then
 * answer 202 with the InferenceId and the locations.
 */
import { hash, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointConfig } from '../config/index.js';
import { InferqError } from '../errors/index.js';
import type { Job, JobInput, JobQueue, NewJob } from '../queue/index.js';
import type { Clock } from '../util/index.js';
import { parseAsyncInvokeRequest, type AsyncInvokeRequest } from './async-request.js';
import type { RequestBody } from './api.js';
import { resolveInputLocation, resultLocations, s3Uri } from './locations.js';

/**
 * Backlog sizes, read at most every {@link BACKLOG_REFRESH_MS} per endpoint and counted up by this
 * process's own enqueues in between, so requests sent one after another are refused from the
 * first one past the limit (concurrent ones may pass it by a few: the limit is a guard).
 */
export class BacklogGauge {
  private readonly cache = new Map<string, { queued: number; at: number }>();
  /** The reading in progress per endpoint: the requests that find the last one stale share it. */
  private readonly reading = new Map<string, Promise<number>>();
  constructor(private readonly queue: JobQueue) {}

  /** Counts a job this process just enqueued into the current reading. */
  added(endpoint: string): void {
    const hit = this.cache.get(endpoint);
    if (hit) hit.queued++;
  }

  /** Approximate queued count of `endpoint`: a number while the last reading is fresh, else a promise of a new reading. */
  queued(endpoint: string, now: number): number | Promise<number> {
    const hit = this.cache.get(endpoint);
    if (hit && now - hit.at < BACKLOG_REFRESH_MS) return hit.queued;
    const pending = this.reading.get(endpoint);
    if (pending) return pending;
    const reading = this.queue.stats(endpoint, now).then(({ queued }) => {
      this.cache.set(endpoint, { queued, at: now });
      return queued;
    }).finally(() => this.reading.delete(endpoint));
    this.reading.set(endpoint, reading);
    return reading;
  }
}

/** How stale a backlog reading may be. */
export const BACKLOG_REFRESH_MS = 100;

/** What InvokeEndpointAsync needs. */
export interface AsyncInvokeDeps {
  readonly queue: JobQueue;
  readonly backlog: BacklogGauge;
  readonly clock: Clock;
  readonly inputUrlAllowList: readonly string[];
  readonly maxBacklogPerEndpoint: number;
}

/** What makes two requests with one InferenceId "the same request" (see the idempotency rule). */
function fingerprint(req: AsyncInvokeRequest, bodySha256Hex: string): string {
  const fields = [req.inputLocation, req.body ? bodySha256Hex : undefined, req.contentType, req.accept, req.customAttributes, req.outputPathExtension, req.filename, req.invocationTimeoutSeconds];
  let text = '';
  for (const f of fields) text += f === undefined ? '\u0000' : `\u0001${String(f)}\u0000`;
  return hash('sha256', text, 'base64url');
}

function buildJob(endpoint: EndpointConfig, req: AsyncInvokeRequest, bodySha256Hex: string, input: JobInput, now: number): NewJob {
  const inferenceId = req.inferenceId ?? randomUUID();
  const { output, failure } = resultLocations(endpoint.async.output, endpoint.async.failure, inferenceId, req.outputPathExtension, req.filename);
  return {
    inferenceId,
    endpoint: endpoint.name,
    input,
    ...(req.contentType !== undefined ? { contentType: req.contentType } : {}),
    ...(req.accept !== undefined ? { accept: req.accept } : {}),
    ...(req.customAttributes !== undefined ? { customAttributes: req.customAttributes } : {}),
    output,
    failure,
    invocationTimeoutSeconds: req.invocationTimeoutSeconds,
    receivedAt: now,
    expiresAt: now + req.requestTtlSeconds * 1000,
    fingerprint: fingerprint(req, bodySha256Hex),
  };
}

/** An accepted InvokeEndpointAsync request. */
export interface AsyncSubmission {
  readonly job: Job;
  /** False for an idempotent replay of an earlier identical request. */
  readonly created: boolean;
}

/**
 * Validates and durably enqueues one InvokeEndpointAsync request for a known endpoint: the part
 * the HTTP operation and the dashboard's Invoke form share.
 * @throws InferqError ValidationError for bad headers or body, ServiceUnavailable past the backlog limit.
 */
export async function submitAsync(deps: AsyncInvokeDeps, endpoint: EndpointConfig, headers: IncomingHttpHeaders, body: RequestBody): Promise<AsyncSubmission> {
  const request = parseAsyncInvokeRequest(headers, body.bytes);
  const input: JobInput = request.inputLocation !== undefined ? resolveInputLocation(request.inputLocation, deps.inputUrlAllowList) : { kind: 'inline', body: request.body ?? Buffer.alloc(0) };
  const now = deps.clock.now();
  const reading = deps.backlog.queued(endpoint.name, now);
  const queued = typeof reading === 'number' ? reading : await reading;
  if (queued >= deps.maxBacklogPerEndpoint) {
    throw new InferqError('ServiceUnavailable', `Endpoint ${endpoint.name} has ${queued} queued requests (the limit is ${deps.maxBacklogPerEndpoint}); try again later.`);
  }
  const { job, created } = await deps.queue.enqueue(buildJob(endpoint, request, body.sha256Hex, input, now));
  if (created) deps.backlog.added(endpoint.name);
  return { job, created };
}

/** Handles one InvokeEndpointAsync call for a known endpoint. */
export async function invokeEndpointAsync(deps: AsyncInvokeDeps, endpoint: EndpointConfig, req: IncomingMessage, res: ServerResponse, body: RequestBody, baseHeaders: readonly string[]): Promise<void> {
  const { job } = await submitAsync(deps, endpoint, req.headers, body);
  // A string body goes out in one write together with the head (a Buffer would be a second chunk).
  const payload = JSON.stringify({ InferenceId: job.inferenceId });
  res.writeHead(202, [
    ...baseHeaders,
    'Content-Type', 'application/json',
    'Content-Length', String(Buffer.byteLength(payload)),
    'X-Amzn-SageMaker-OutputLocation', s3Uri(job.output),
    'X-Amzn-SageMaker-FailureLocation', s3Uri(job.failure),
  ]);
  res.end(payload);
}
