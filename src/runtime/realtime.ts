/**
 * What InvokeEndpoint and InvokeEndpointWithResponseStream share: waiting for a slot of the
 * endpoint's scheduler within the real-time deadlines (ModelNotReadyException / ServiceUnavailable),
 * noticing a client that went away, and calling the model (one retry on a stale keep-alive
 * connection), with model failures mapped to SageMaker's errors.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EndpointConfig } from '../config/index.js';
import { InferqError } from '../errors/index.js';
import { ModelCallError, type ModelClient, type ModelResponse } from '../models/index.js';
import { modelError } from './model-errors.js';
import { SlotsSaturatedError, type SlotLease, type SlotScheduler } from '../scheduling/index.js';
import type { Logger } from '../util/index.js';
import { noResponseError } from './model-errors.js';
import type { RealtimeRequest } from './realtime-request.js';

/** One endpoint's model as the real-time operations see it. */
export interface RealtimeTarget {
  readonly model: ModelClient;
  /** The endpoint's slots, shared with the async dispatcher. */
  readonly slots: SlotScheduler;
  /** Starts the model if this process has not (a `serve` without workers starts models on first use). */
  readonly ensureStarted: () => void;
}

/** What a real-time call needs besides its endpoint. */
export interface RealtimeContext {
  readonly region: string;
  readonly logger: Logger;
}

/** An AbortSignal that fires when the client disconnects before the response finished. */
export function clientGone(res: ServerResponse): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort(new ModelCallError('aborted', 'the client disconnected'));
  };
  res.once('close', onClose);
  return { signal: controller.signal, dispose: () => void res.off('close', onClose) };
}

/**
 * An abort signal that fires with a TimeoutError when `touch()` was not called for `ms` (without
 * `touch`, a plain deadline). A timer and controller, not `AbortSignal.timeout`: combined through
 * `AbortSignal.any`, a timeout signal nobody references may be garbage-collected and never fire.
 */
export function idleTimeout(ms: number): { readonly signal: AbortSignal; readonly touch: () => void; readonly dispose: () => void } {
  const controller = new AbortController();
  const fire = (): void => controller.abort(new DOMException(`no answer from the model within ${ms} ms`, 'TimeoutError'));
  let timer = setTimeout(fire, ms);
  return {
    signal: controller.signal,
    touch: () => {
      clearTimeout(timer);
      timer = setTimeout(fire, ms);
    },
    dispose: () => clearTimeout(timer),
  };
}

function notReady(endpoint: EndpointConfig): InferqError {
  return new InferqError('ModelNotReady', `The model for endpoint ${endpoint.name} has no healthy instance after ${endpoint.realtime.startTimeoutMs / 1000} s (realtime.startTimeoutSeconds); retry later.`);
}

function busy(endpoint: EndpointConfig, slots: SlotScheduler, waitedMs: number): InferqError {
  return new InferqError('ServiceUnavailable', `All ${slots.capacity()} slots of endpoint ${endpoint.name} stayed busy for ${Math.round(waitedMs / 1000)} s; try again later.`);
}

/**
 * Waits for a real-time slot. While the model has no healthy instance the call waits up to
 * `realtime.startTimeoutMs` (then ModelNotReadyException); while it is healthy but busy, up to
 * the larger of that and `realtime.timeoutMs` (then ServiceUnavailable). More than
 * `realtime.maxWaiting` waiting calls: ServiceUnavailable at once.
 * @throws InferqError ModelNotReady or ServiceUnavailable; the client-gone reason when `gone` aborts.
 */
export async function acquireSlot(endpoint: EndpointConfig, target: RealtimeTarget, gone: AbortSignal): Promise<SlotLease> {
  target.ensureStarted();
  const free = target.slots.tryAcquire();
  if (free) return free;
  const { startTimeoutMs, timeoutMs } = endpoint.realtime;
  const deadline = new AbortController();
  const started = performance.now();
  const check = (): void => {
    if (target.slots.capacity() === 0) deadline.abort(notReady(endpoint));
    else if (performance.now() - started >= Math.max(startTimeoutMs, timeoutMs) - 1) deadline.abort(busy(endpoint, target.slots, performance.now() - started));
    else timer = setTimeout(check, Math.max(startTimeoutMs, timeoutMs) - (performance.now() - started));
  };
  let timer = setTimeout(check, startTimeoutMs);
  try {
    return await target.slots.acquire(AbortSignal.any([deadline.signal, gone]));
  } catch (err) {
    if (err instanceof SlotsSaturatedError) {
      throw new InferqError('ServiceUnavailable', `Endpoint ${endpoint.name} already has ${err.waiting} calls waiting for the model (realtime.maxWaiting is ${endpoint.realtime.maxWaiting}); try again later.`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Pause between attempts while the model is unreachable (e.g. its process is being restarted). */
const UNREACHABLE_RETRY_MS = 200;

/**
 * Sends the request to the model; resolves with its response (any status). A stale keep-alive
 * connection is retried once (the model may not have read the request). An unreachable model
 * (connection refused: the request was not delivered, e.g. its process is being restarted) is
 * retried until `realtime.startTimeoutMs` has passed. (A model that dies on a request arriving on
 * a kept-alive connection therefore sees it once more after its restart.)
 * @throws InferqError ModelError (status 0) or ModelNotReady when no response came; the abort reason when `gone` fired.
 */
export async function callModel(ctx: RealtimeContext, endpoint: EndpointConfig, model: ModelClient, request: RealtimeRequest, body: Buffer, signal: AbortSignal, gone: AbortSignal): Promise<ModelResponse> {
  const inferenceId = request.inferenceId ?? randomUUID();
  const started = performance.now();
  let stale: ModelCallError | undefined;
  for (;;) {
    try {
      return await model.invoke({
        body,
        contentLength: body.length,
        contentType: request.contentType,
        ...(request.accept !== undefined ? { accept: request.accept } : {}),
        ...(request.customAttributes !== undefined ? { customAttributes: request.customAttributes } : {}),
        inferenceId,
        signal,
      });
    } catch (err) {
      if (gone.aborted) throw gone.reason;
      if (!(err instanceof ModelCallError)) throw err;
      if (err.failure === 'stale-connection' && stale === undefined) {
        stale = err;
        continue;
      }
      if (err.failure !== 'unreachable' || performance.now() - started + UNREACHABLE_RETRY_MS >= endpoint.realtime.startTimeoutMs) throw asModelFailure(ctx, endpoint, err);
      await pause(ctx, endpoint, signal, gone);
    }
  }
}

async function pause(ctx: RealtimeContext, endpoint: EndpointConfig, signal: AbortSignal, gone: AbortSignal): Promise<void> {
  try {
    await sleep(UNREACHABLE_RETRY_MS, undefined, { signal: AbortSignal.any([signal, gone]) });
  } catch {
    if (gone.aborted) throw gone.reason;
    throw asModelFailure(ctx, endpoint, new ModelCallError('timeout', 'timed out while the model was unreachable'));
  }
}

/** Maps a failure of the model call (before or while reading the response) to the error the client gets. */
export function asModelFailure(ctx: RealtimeContext, endpoint: EndpointConfig, err: unknown): unknown {
  if (!(err instanceof ModelCallError)) return err;
  return noResponseError({ endpointName: endpoint.name, region: ctx.region }, err, endpoint.realtime.timeoutMs);
}

/**
 * The model's response body as Buffers; any failure while reading it is a {@link ModelCallError}
 * (a socket cut mid-body surfaces as a plain `aborted`/ECONNRESET error: that is a lost connection).
 */
export async function* modelChunks(body: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof ModelCallError) throw err;
    throw new ModelCallError('connection-lost', `the model's response was cut off: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Reads up to `max` bytes of a (model error) body as text; the rest is discarded. */
export async function readText(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      if (size < max) chunks.push(buf.subarray(0, max - size));
      size += buf.length;
    }
  } catch {
    // A body cut short still tells the client what the model said so far.
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Largest model error body quoted in a ModelError's OriginalMessage. */
export const MAX_ORIGINAL_MESSAGE_BYTES = 64 * 1024;

/**
 * The frame of every real-time call: take a slot, call the model within the idle timeout, turn a
 * non-2xx answer into ModelError, and hand a 2xx response to `relay` (which may `touch` the idle
 * timer as bytes flow). The slot, the timer and the client watch are always released; a client
 * that went away ends the call quietly.
 */
export async function runRealtimeCall(
  ctx: RealtimeContext, endpoint: EndpointConfig, target: RealtimeTarget, res: ServerResponse, request: RealtimeRequest, body: Buffer,
  relay: (response: ModelResponse, touch: () => void) => Promise<void>,
): Promise<void> {
  const gone = clientGone(res);
  let lease: SlotLease | undefined;
  let idle: ReturnType<typeof idleTimeout> | undefined;
  try {
    lease = await acquireSlot(endpoint, target, gone.signal);
    idle = idleTimeout(endpoint.realtime.timeoutMs);
    const response = await callModel(ctx, endpoint, target.model, request, body, AbortSignal.any([idle.signal, gone.signal]), gone.signal);
    if (response.status < 200 || response.status >= 300) {
      const text = await readText(response.body, MAX_ORIGINAL_MESSAGE_BYTES);
      throw modelError({ endpointName: endpoint.name, region: ctx.region }, response.status, text);
    }
    await relay(response, idle.touch);
  } catch (err) {
    if (gone.signal.aborted) return;
    throw err;
  } finally {
    idle?.dispose();
    lease?.release();
    gone.dispose();
  }
}
