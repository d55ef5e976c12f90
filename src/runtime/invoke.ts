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
import { asModelFailure, modelChunks, runRealtimeCall, type RealtimeContext, type RealtimeTarget } from './realtime.js';
import { DEFAULT_CONTENT_TYPE, parseRealtimeRequest, VARIANT } from './realtime-request.js';

/** Model answers up to this size are buffered before the 200 is sent. */
export const RESPONSE_BUFFER_BYTES = 6 * 1024 * 1024;

interface Buffered {
  readonly chunks: Buffer[];
  readonly size: number;
  /** True when the whole body fit. */
  readonly complete: boolean;
}

/** Reads the body until it ends or more than `limit` bytes arrived (then the rest stays unread in `iterator`). */
async function bufferUpTo(iterator: AsyncIterator<Buffer>, limit: number): Promise<Buffered> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return { chunks, size, complete: true };
    const buf = next.value;
    chunks.push(buf);
    size += buf.length;
    if (size > limit) return { chunks, size, complete: false };
  }
}

async function* rest(first: readonly Buffer[], iterator: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* first;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/** Handles one InvokeEndpoint call for a known endpoint. */
export function invokeEndpoint(ctx: RealtimeContext, endpoint: EndpointConfig, target: RealtimeTarget, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const request = parseRealtimeRequest(req.headers, endpoint.name, false);
  return runRealtimeCall(ctx, endpoint, target, res, request, body, (response) => relay(ctx, endpoint, response.body, res, {
    'Content-Type': response.contentType ?? DEFAULT_CONTENT_TYPE,
    'x-Amzn-Invoked-Production-Variant': VARIANT,
    ...(response.customAttributes !== undefined ? { 'X-Amzn-SageMaker-Custom-Attributes': response.customAttributes } : {}),
  }));
}

async function relay(ctx: RealtimeContext, endpoint: EndpointConfig, body: Readable, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const iterator = modelChunks(body);
  let buffered: Buffered;
  try {
    buffered = await bufferUpTo(iterator, RESPONSE_BUFFER_BYTES);
  } catch (err) {
    throw asModelFailure(ctx, endpoint, err);
  }
  if (buffered.complete) {
    const payload = buffered.chunks.length === 1 ? buffered.chunks[0]! : Buffer.concat(buffered.chunks, buffered.size);
    res.writeHead(200, { ...headers, 'Content-Length': payload.length });
    res.end(payload);
    return;
  }
  res.writeHead(200, headers);
  try {
    await pipeline(rest(buffered.chunks, iterator), res);
  } catch (err) {
    ctx.logger.warn('model response failed after the first 6 MiB were sent; cutting the connection', { endpoint: endpoint.name, error: err instanceof Error ? err.message : String(err) });
    res.destroy();
  }
}
