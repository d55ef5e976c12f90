/**
 * InvokeEndpointWithResponseStream: the model's answer relayed as AWS event-stream `PayloadPart`
 * frames as its bytes arrive (chunks split into frames of at most 64 KiB, each written at once,
 * with backpressure from the client). Nothing is sent until the model's first byte, so failures
 * before it are ordinary JSON errors (ModelError, …); after it, a model failure ends the stream
 * with a `ModelStreamError` exception frame (`StreamBroken`, or `ModelInvocationTimeExceeded`
 * when the model sent nothing for `realtime.timeoutMs`), anything else with `InternalStreamFailure`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EndpointConfig } from '../config/index.js';
import { ModelCallError, type ModelResponse } from '../models/index.js';
import { exceptionFrame, payloadPartFrames, type StreamException } from './eventstream.js';
import { asModelFailure, modelChunks, runRealtimeCall, type RealtimeContext, type RealtimeTarget } from './realtime.js';
import { DEFAULT_CONTENT_TYPE, parseRealtimeRequest, VARIANT } from './realtime-request.js';

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function streamException(err: unknown): StreamException {
  if (err instanceof ModelCallError && err.failure === 'timeout') {
    return { type: 'ModelStreamError', errorCode: 'ModelInvocationTimeExceeded', message: 'The model sent no data within realtime.timeoutSeconds; the stream was ended.' };
  }
  if (err instanceof ModelCallError) return { type: 'ModelStreamError', errorCode: 'StreamBroken', message: `The model closed the connection before finishing its response (${err.message}).` };
  return { type: 'InternalStreamFailure', message: 'An internal error ended the stream.' };
}

/** Relays the 2xx model body as frames; the 200 (with `base` headers) goes out with the first byte (or at the end of an empty body). */
async function relayFrames(ctx: RealtimeContext, endpoint: EndpointConfig, response: ModelResponse, res: ServerResponse, base: readonly string[], touch: () => void): Promise<void> {
  const commit = (): void => {
    if (res.headersSent) return;
    const headers = [...base, 'Content-Type', 'application/vnd.amazon.eventstream', 'X-Amzn-SageMaker-Content-Type', response.contentType ?? DEFAULT_CONTENT_TYPE, 'x-Amzn-Invoked-Production-Variant', VARIANT];
    if (response.customAttributes !== undefined) headers.push('X-Amzn-SageMaker-Custom-Attributes', response.customAttributes);
    res.writeHead(200, headers);
  };
  try {
    for await (const buf of modelChunks(response.body)) {
      touch();
      if (buf.length === 0) continue;
      commit();
      for (const frame of payloadPartFrames(buf)) {
        if (!res.write(frame)) await drained(res);
      }
    }
  } catch (err) {
    if (!res.headersSent) throw asModelFailure(ctx, endpoint, err);
    const exception = streamException(err);
    if (exception.type === 'InternalStreamFailure') ctx.logger.error('stream failed', { endpoint: endpoint.name, error: err instanceof Error ? err.stack : String(err) });
    res.end(exceptionFrame(exception));
    return;
  }
  commit();
  res.end();
}

/** Handles one InvokeEndpointWithResponseStream call for a known endpoint; `base` headers go with the 200. */
export function invokeEndpointWithResponseStream(ctx: RealtimeContext, endpoint: EndpointConfig, target: RealtimeTarget, req: IncomingMessage, res: ServerResponse, body: Buffer, base: readonly string[]): Promise<void> {
  const request = parseRealtimeRequest(req.headers, endpoint.name, true);
  return runRealtimeCall(ctx, endpoint, target, res, request, body, (response, touch) => relayFrames(ctx, endpoint, response, res, base, touch));
}
