/**
 * The worker side of a forwarded real-time call (an API-only process sent it over the forwarding
 * hop, see src/forward): the same slot, idle-timeout and client-gone watch as a local real-time
 * call, against this process's model. A 2xx model answer is relayed as it streams (status 200,
 * Content-Type, custom attributes); every failure, a non-2xx model answer included (ModelError
 * with its OriginalStatusCode…), goes back as its catalogue code in {@link FORWARD_ERROR_HEADER}
 * with message and details as JSON, so the API process raises the very same InferqError. A body
 * up to {@link BUFFERED_BODY_BYTES} is read first (the model call may then be retried on a stale
 * connection); a larger one streams into the model with backpressure.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EndpointConfig } from '../config/index.js';
import { toInferqError } from '../errors/index.js';
import type { ModelResponse } from '../models/index.js';
import type { SlotLease } from '../scheduling/index.js';
import { modelError } from './model-errors.js';
import { acquireSlot, asModelFailure, CallWatch, MAX_ORIGINAL_MESSAGE_BYTES, modelChunks, readText, runRealtimeCall, type RealtimeContext, type RealtimeTarget } from './realtime.js';
import { parseRealtimeRequest, type RealtimeRequest } from './realtime-request.js';

/** The response header naming the catalogue code of a forwarded call that failed. */
export const FORWARD_ERROR_HEADER = 'x-inferq-forward-error';

/**
 * The worker's idle timeout is the endpoint's plus this, so that the API process's own timer
 * (which knows the client's operation: ModelError status 0, or ModelInvocationTimeExceeded mid-stream)
 * fires first; the worker's only frees a slot whose API process went away unnoticed.
 */
export const FORWARD_TIMEOUT_SLACK_MS = 2_000;

/** Forwarded bodies up to this size are read before the model call. */
export const BUFFERED_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* touching(body: Readable, touch: () => void): AsyncGenerator<Buffer> {
  for await (const chunk of modelChunks(body)) {
    touch();
    yield chunk;
  }
}

/** Relays a 2xx model answer; a failure after the head cuts the connection (the API process reports it as a lost connection). */
async function relayRaw(response: ModelResponse, res: ServerResponse, touch: () => void): Promise<void> {
  const headers: Record<string, string> = { 'content-type': response.contentType ?? 'application/octet-stream' };
  if (response.customAttributes !== undefined) headers['x-amzn-sagemaker-custom-attributes'] = response.customAttributes;
  if (response.whole !== undefined) {
    headers['content-length'] = String(response.whole.length);
    res.writeHead(200, headers);
    res.end(response.whole);
    return;
  }
  res.writeHead(200, headers);
  try {
    await pipeline(touching(response.body, touch), res);
  } catch {
    res.destroy();
  }
}

/** A streamed body: one model call (no retry, the body cannot be replayed), then as {@link runRealtimeCall}. */
async function runStreamedCall(ctx: RealtimeContext, endpoint: EndpointConfig, target: RealtimeTarget, req: IncomingMessage, res: ServerResponse, request: RealtimeRequest, length: number): Promise<void> {
  const watch = new CallWatch(res);
  let lease: SlotLease | undefined;
  try {
    const slot = acquireSlot(endpoint, target, watch);
    lease = slot instanceof Promise ? await slot : slot;
    watch.startIdleTimer(endpoint.realtime.timeoutMs);
    let response: ModelResponse;
    try {
      response = await target.model.invoke({
        body: req, contentLength: length, contentType: request.contentType, accept: request.accept, customAttributes: request.customAttributes,
        inferenceId: request.inferenceId ?? randomUUID(), signal: watch,
      });
    } catch (err) {
      if (watch.gone) throw watch.gone;
      throw asModelFailure(ctx, endpoint, err);
    }
    if (response.status < 200 || response.status >= 300) {
      throw modelError({ endpointName: endpoint.name, region: ctx.region, ...(ctx.account !== undefined ? { account: ctx.account } : {}) }, response.status, await readText(response.body, MAX_ORIGINAL_MESSAGE_BYTES));
    }
    await relayRaw(response, res, watch.touch);
  } catch (err) {
    if (watch.gone) return;
    throw err;
  } finally {
    watch.dispose();
    lease?.release();
  }
}

/** Answers a failed forwarded call with its code, message and details (or cuts the connection once the head was sent). */
export function sendForwardError(res: ServerResponse, err: unknown, closeConnection: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error = toInferqError(err);
  const body = JSON.stringify({ message: error.message, details: error.details });
  res.writeHead(error.httpStatus, {
    'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), [FORWARD_ERROR_HEADER]: error.code,
    ...(closeConnection ? { connection: 'close' } : {}),
  });
  res.end(body);
}

/**
 * Runs one authenticated forwarded call of `endpoint` on this process's model and answers it
 * (never rejects: failures are answered with {@link sendForwardError}).
 */
export async function serveForwardedCall(ctx: RealtimeContext, configured: EndpointConfig, target: RealtimeTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const endpoint = Object.assign({}, configured, { realtime: Object.assign({}, configured.realtime, { timeoutMs: configured.realtime.timeoutMs + FORWARD_TIMEOUT_SLACK_MS }) });
  try {
    const request = parseRealtimeRequest(req.headers, endpoint.name, false);
    const length = Number(req.headers['content-length'] ?? NaN);
    if (Number.isInteger(length) && length > BUFFERED_BODY_BYTES) {
      await runStreamedCall(ctx, endpoint, target, req, res, request, length);
      return;
    }
    const body = await readBody(req);
    await runRealtimeCall(ctx, endpoint, target, res, request, body, (response, touch) => relayRaw(response, res, touch));
  } catch (err) {
    if (toInferqError(err).code === 'InternalError') ctx.logger.error('forwarded call failed', { endpoint: endpoint.name, error: err instanceof Error ? err.stack : String(err) });
    sendForwardError(res, err, !req.complete);
  }
}
