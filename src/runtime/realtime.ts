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
import { ModelCallError, type CallSignal, type ModelClient, type ModelInvocation, type ModelResponse } from '../models/index.js';
import { modelError } from './model-errors.js';
import { SlotsSaturatedError, type SlotLease, type SlotScheduler } from '../scheduling/index.js';
import type { Logger } from '../util/index.js';
import { noResponseError } from './model-errors.js';
import type { RealtimeRequest } from './realtime-request.js';
import type { Metrics } from '../metrics/index.js';

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
  /** See `server.account` (default 000000000000). */
  readonly account?: string;
  readonly logger: Logger;
  /** Records each model call's latency (mode `realtime`). */
  readonly metrics?: Pick<Metrics, 'observeModelLatency'>;
}

/**
 * The watch over one real-time call, and the model call's abort signal: it aborts when the client
 * disconnects before the response finished, or when the model stayed silent for the idle timeout
 * (armed by `startIdleTimer`, pushed back by `touch`; without `touch`, a plain deadline). A plain
 * object rather than an AbortController: one per call, and an EventTarget costs more than the
 * one or two listeners it ever has.
 */
export class CallWatch implements CallSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private goneError: ModelCallError | undefined;
  private mirror: AbortController | undefined;

  constructor(private readonly res: ServerResponse) {
    res.on('close', this.onClose);
  }

  /** Set once the client disconnected (also after a timeout). */
  get gone(): ModelCallError | undefined {
    return this.goneError;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** An AbortSignal that follows this one (for the APIs that need a real one: the slot wait, timers). */
  abortSignal(): AbortSignal {
    if (this.mirror === undefined) {
      const mirror = new AbortController();
      this.mirror = mirror;
      if (this.aborted) mirror.abort(this.reason);
      else this.listeners.push(() => mirror.abort(this.reason));
    }
    return this.mirror.signal;
  }

  /** Arms the idle timeout: the signal aborts with a TimeoutError when `touch` was not called for `ms`. */
  startIdleTimer(ms: number): void {
    this.idleMs = ms;
    this.timer = setTimeout(this.onIdle, ms);
  }

  /** Bytes flowed: the idle timeout starts over. */
  readonly touch = (): void => {
    this.timer?.refresh();
  };

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.res.off('close', this.onClose);
  }

  private abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }

  private readonly onClose = (): void => {
    if (this.res.writableFinished) return;
    this.goneError = new ModelCallError('aborted', 'the client disconnected');
    this.abort(this.goneError);
  };

  private readonly onIdle = (): void => {
    this.abort(new DOMException(`no answer from the model within ${this.idleMs} ms`, 'TimeoutError'));
  };
}

function notReady(endpoint: EndpointConfig): InferqError {
  return new InferqError('ModelNotReady', `The model for endpoint ${endpoint.name} has no healthy instance after ${endpoint.realtime.startTimeoutMs / 1000} s (realtime.startTimeoutSeconds); retry later.`);
}

function busy(endpoint: EndpointConfig, slots: SlotScheduler, waitedMs: number): InferqError {
  return new InferqError('ServiceUnavailable', `All ${slots.capacity()} slots of endpoint ${endpoint.name} stayed busy for ${Math.round(waitedMs / 1000)} s; try again later.`);
}

/**
 * A real-time slot: at once (no promise, timer or signal) when one is free, else waits for one.
 * While the model has no healthy instance the call waits up to `realtime.startTimeoutMs` (then
 * ModelNotReadyException); while it is healthy but busy, up to the larger of that and
 * `realtime.timeoutMs` (then ServiceUnavailable). More than `realtime.maxWaiting` waiting calls:
 * ServiceUnavailable at once.
 * @throws InferqError ModelNotReady or ServiceUnavailable; the client-gone error when the client left.
 */
export function acquireSlot(endpoint: EndpointConfig, target: RealtimeTarget, watch: CallWatch): SlotLease | Promise<SlotLease> {
  target.ensureStarted();
  return target.slots.tryAcquire() ?? waitForSlot(endpoint, target, watch.abortSignal());
}

async function waitForSlot(endpoint: EndpointConfig, target: RealtimeTarget, gone: AbortSignal): Promise<SlotLease> {
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
 * @throws InferqError ModelError (status 0) or ModelNotReady when no response came; the client-gone error when the client left.
 */
export async function callModel(ctx: RealtimeContext, endpoint: EndpointConfig, model: ModelClient, request: RealtimeRequest, body: Buffer, watch: CallWatch): Promise<ModelResponse> {
  const invocation: ModelInvocation = {
    body,
    contentLength: body.length,
    contentType: request.contentType,
    accept: request.accept,
    customAttributes: request.customAttributes,
    inferenceId: request.inferenceId ?? randomUUID(),
    signal: watch,
  };
  const started = performance.now();
  let stale: ModelCallError | undefined;
  for (;;) {
    const sent = performance.now();
    try {
      const response = await model.invoke(invocation);
      ctx.metrics?.observeModelLatency(endpoint.name, 'realtime', (performance.now() - sent) / 1000);
      return response;
    } catch (err) {
      if (watch.gone) throw watch.gone;
      if (!(err instanceof ModelCallError)) throw err;
      if (err.failure === 'stale-connection' && stale === undefined) {
        stale = err;
        continue;
      }
      if (err.failure !== 'unreachable' || performance.now() - started + UNREACHABLE_RETRY_MS >= endpoint.realtime.startTimeoutMs) throw asModelFailure(ctx, endpoint, err);
      await pause(ctx, endpoint, watch);
    }
  }
}

async function pause(ctx: RealtimeContext, endpoint: EndpointConfig, watch: CallWatch): Promise<void> {
  try {
    await sleep(UNREACHABLE_RETRY_MS, undefined, { signal: watch.abortSignal() });
  } catch {
    if (watch.gone) throw watch.gone;
    throw asModelFailure(ctx, endpoint, new ModelCallError('timeout', 'timed out while the model was unreachable'));
  }
}

/** Maps a failure of the model call (before or while reading the response) to the error the client gets. */
export function asModelFailure(ctx: RealtimeContext, endpoint: EndpointConfig, err: unknown): unknown {
  if (!(err instanceof ModelCallError)) return err;
  return noResponseError({ endpointName: endpoint.name, region: ctx.region, ...(ctx.account !== undefined ? { account: ctx.account } : {}) }, err, endpoint.realtime.timeoutMs);
}

/**
 * The model's response body as Buffers; any failure while reading it is a {@link ModelCallError}
 * (a socket cut mid-body surfaces as a plain `aborted`/ECONNRESET error: that is a lost connection).
 */
export async function* modelChunks(body: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk as Buffer;
  } catch (err) {
    throw asCutOff(err);
  }
}

/** A failure while reading the model's response body, as a ModelCallError (`connection-lost` unless it already is one). */
export function asCutOff(err: unknown): ModelCallError {
  if (err instanceof ModelCallError) return err;
  return new ModelCallError('connection-lost', `the model's response was cut off: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
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
  const watch = new CallWatch(res);
  let lease: SlotLease | undefined;
  try {
    const slot = acquireSlot(endpoint, target, watch);
    lease = slot instanceof Promise ? await slot : slot;
    watch.startIdleTimer(endpoint.realtime.timeoutMs);
    const response = await callModel(ctx, endpoint, target.model, request, body, watch);
    if (response.status < 200 || response.status >= 300) {
      const text = await readText(response.body, MAX_ORIGINAL_MESSAGE_BYTES);
      throw modelError({ endpointName: endpoint.name, region: ctx.region, ...(ctx.account !== undefined ? { account: ctx.account } : {}) }, response.status, text);
    }
    await relay(response, watch.touch);
  } catch (err) {
    if (watch.gone) return;
    throw err;
  } finally {
    watch.dispose();
    lease?.release();
  }
}
