/**
 * InvokeEndpoint: validate, wait for a slot (real-time calls go before queued async work), call
 * the model within `realtime.timeoutMs`, and answer 200 with the model's body, content type and
 * custom attributes. The answer is buffered up to {@link RESPONSE_BUFFER_BYTES} so that a model
 * failing mid-body still becomes a clean ModelError; a larger answer streams through (a failure
 * after that point can only cut the connection).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EndpointConfig } from '../config/index.js';
import type { ModelResponse } from '../models/index.js';
import { asCutOff, asModelFailure, modelChunks, runRealtimeCall, type RealtimeContext, type RealtimeTarget } from './realtime.js';
import { DEFAULT_CONTENT_TYPE, parseRealtimeRequest, VARIANT } from './realtime-request.js';

/** Model answers up to this size are buffered before the 200 is sent. */
export const RESPONSE_BUFFER_BYTES = 6 * 1024 * 1024;

interface Buffered {
  readonly chunks: Buffer[];
  readonly size: number;
  /** True when the whole body fit. */
  readonly complete: boolean;
}

/**
 * Reads the model's body until it ends or more than `limit` bytes arrived (then it is paused with
 * the rest unread). A failure while reading is a ModelCallError, as with {@link modelChunks}.
 */
function bufferUpTo(body: Readable, limit: number): Promise<Buffered> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      body.pause();
      settle();
      resolve({ chunks, size, complete: false });
    };
    const onEnd = (): void => {
      settle();
      resolve({ chunks, size, complete: true });
    };
    const onError = (err: unknown): void => {
      if (settled) return; // the relay's pipeline reports it
      settle();
      reject(asCutOff(err));
    };
    // The error listener stays: after an incomplete read it covers the gap until the pipeline takes over.
    const settle = (): void => {
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

async function* rest(first: readonly Buffer[], body: Readable): AsyncGenerator<Buffer> {
  yield* first;
  yield* modelChunks(body);
}

/** Handles one InvokeEndpoint call for a known endpoint; `base` headers go with the 200. */
export function invokeEndpoint(ctx: RealtimeContext, endpoint: EndpointConfig, target: RealtimeTarget, req: IncomingMessage, res: ServerResponse, body: Buffer, base: readonly string[]): Promise<void> {
  const request = parseRealtimeRequest(req.headers, endpoint.name, false);
  return runRealtimeCall(ctx, endpoint, target, res, request, body, (response) => relay(ctx, endpoint, response, res, base));
}

/** The 200's headers (a flat name/value list: node writes it without building a header map). */
function responseHeaders(base: readonly string[], response: ModelResponse, length: number | undefined): string[] {
  const headers = [...base, 'Content-Type', response.contentType ?? DEFAULT_CONTENT_TYPE, 'x-Amzn-Invoked-Production-Variant', VARIANT];
  if (response.customAttributes !== undefined) headers.push('X-Amzn-SageMaker-Custom-Attributes', response.customAttributes);
  if (length !== undefined) headers.push('Content-Length', String(length));
  return headers;
}

async function relay(ctx: RealtimeContext, endpoint: EndpointConfig, response: ModelResponse, res: ServerResponse, base: readonly string[]): Promise<void> {
  if (response.whole !== undefined) {
    res.writeHead(200, responseHeaders(base, response, response.whole.length));
    res.end(response.whole);
    return;
  }
  let buffered: Buffered;
  try {
    buffered = await bufferUpTo(response.body, RESPONSE_BUFFER_BYTES);
  } catch (err) {
    throw asModelFailure(ctx, endpoint, err);
  }
  if (buffered.complete) {
    const payload = buffered.chunks.length === 1 ? buffered.chunks[0]! : Buffer.concat(buffered.chunks, buffered.size);
    res.writeHead(200, responseHeaders(base, response, payload.length));
    res.end(payload);
    return;
  }
  res.writeHead(200, responseHeaders(base, response, undefined));
  try {
    await pipeline(rest(buffered.chunks, response.body), res);
  } catch (err) {
    ctx.logger.warn('model response failed after the first 6 MiB were sent; cutting the connection', { endpoint: endpoint.name, error: err instanceof Error ? err.message : String(err) });
    res.destroy();
  }
}
