/**
 * Runs one leased job to its terminal object: read the input, call the model within the
 * invocation timeout, and stream the model's answer to the output location (2xx) or the failure
 * location (anything else). Every path ends in exactly one terminal object: writing one result
 * deletes the other location, so a retried job never leaves both.
 *
 * When inferq's own object store cannot take a terminal object (its disk is full or read-only, or
 * any other failure of the store rather than of the model's response), the job is neither failed
 * nor blamed on the model: the result is `storage-fault`, and the dispatcher runs the job again
 * after a backoff without counting the attempt.
 */
import { Readable } from 'node:stream';
import { isInferqError, isStorageFault, toInferqError, type InferqError } from '../errors/index.js';
import { ModelCallError, type ModelClient } from '../models/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { RetryPolicy } from '../config/index.js';
import type { FailureKind, Metrics } from '../metrics/index.js';
import { CANCELLED_REASON, type Job, type JobOutcome, type ObjectLocation } from '../queue/index.js';
import type { Logger } from '../util/index.js';

/** What executing a job needs. */
export interface ExecuteContext {
  readonly store: ObjectStore;
  readonly model: ModelClient;
  readonly logger: Logger;
  readonly maxAttempts: number;
  /** The endpoint's retry policy of failed model calls; undefined: none. */
  readonly retry?: RetryPolicy | undefined;
  /** Fetches a `url` input (only allow-listed URLs are ever queued). */
  readonly fetchUrl: (url: string, signal: AbortSignal) => Promise<{ body: Readable; length?: number }>;
  /** Records each model call's latency (mode `async`). */
  readonly metrics?: Pick<Metrics, 'observeModelLatency'>;
}

/**
 * The result of running a job: a terminal outcome, `release` to give it back to the queue,
 * `storage-fault` when the store could not take its terminal object (`error` says why): the job is
 * to run again later, its attempt not counted; or `retry` when the model call failed in a way the
 * endpoint's retry policy retries (nothing was written; the attempt counts).
 */
export type ExecuteResult =
  | (JobOutcome & { readonly responseContentType?: string; readonly failureKind?: FailureKind })
  | { readonly state: 'release'; readonly why: string }
  | { readonly state: 'retry'; readonly reason: string }
  | { readonly state: 'storage-fault'; readonly error: InferqError };

/**
 * A failure of inferq's own object store (thrown up to executeJob): writing or removing a terminal
 * object, or a storage fault (full, read-only, unreachable) while opening the input.
 */
class StoreWriteFault extends Error {
  override readonly name = 'StoreWriteFault';
  constructor(readonly error: InferqError) {
    super(error.message, { cause: error });
  }
}

/** Runs a store write of a terminal object; any failure of it is the store's (a StoreWriteFault). */
async function storeWrite(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    throw new StoreWriteFault(toInferqError(err));
  }
}

interface OpenedInput {
  readonly body: Readable | Buffer;
  readonly length?: number;
}

async function openInput(ctx: ExecuteContext, job: Job, signal: AbortSignal): Promise<OpenedInput> {
  switch (job.input.kind) {
    case 'inline':
      return { body: job.input.body, length: job.input.body.length };
    case 'object': {
      const object = await ctx.store.getObject(job.input.location.bucket, job.input.location.key);
      return { body: object.body, length: object.info.size };
    }
    case 'url':
      return ctx.fetchUrl(job.input.url, signal);
  }
}

function describeInput(job: Job): string {
  return job.input.kind === 'object' ? `s3://${job.input.location.bucket}/${job.input.location.key}` : job.input.kind === 'url' ? job.input.url : 'the inline body';
}

/**
 * Removes the other terminal location. Only a retried job can have written it (keys are
 * deterministic), so first attempts skip the write — and never delete an object another request
 * with the same Filename produced.
 */
async function deleteQuietly(ctx: Pick<ExecuteContext, 'store'>, job: Job, location: ObjectLocation): Promise<void> {
  if (job.attempts <= 1) return;
  try {
    await ctx.store.deleteObject(location.bucket, location.key);
  } catch (err) {
    if (!isInferqError(err, 'NoSuchBucket')) throw err;
  }
}

/** Writes a failure object holding `reason` (text) and removes any output object. */
export async function writeFailureReason(ctx: Pick<ExecuteContext, 'store'>, job: Job, reason: string): Promise<void> {
  await ctx.store.putObject(job.failure.bucket, job.failure.key, Readable.from([Buffer.from(`${reason}\n`)]), {
    contentType: 'text/plain; charset=utf-8',
    userMetadata: { 'inference-id': job.inferenceId },
  });
  await deleteQuietly(ctx, job, job.output);
}

/** The failure classes of the retry policy (`async.retry.on`). */
type RetryClass = RetryPolicy['on'][number];

/** Whether a failure of class `kind` on this attempt is retried rather than recorded. */
function retries(ctx: ExecuteContext, job: Job, kind: RetryClass, shutdown: AbortSignal): boolean {
  return ctx.retry !== undefined && ctx.retry.on.includes(kind) && job.attempts < ctx.retry.maxAttempts && !shutdown.aborted;
}

/** The final failure of a retried request says how many calls it took. */
function withAttempts(ctx: ExecuteContext, job: Job, reason: string): string {
  return ctx.retry !== undefined && job.attempts > 1 ? `${reason} (failed on each of ${job.attempts} attempts)` : reason;
}

/** Retries the failure when the policy says so, else records it. */
async function failOrRetry(ctx: ExecuteContext, job: Job, reason: string, kind: RetryClass, shutdown: AbortSignal): Promise<ExecuteResult> {
  if (retries(ctx, job, kind, shutdown)) return { state: 'retry', reason };
  return failWith(ctx, job, withAttempts(ctx, job, reason), failureKindOf(kind));
}

/** The metrics reason of a failure of retry class `kind`. */
function failureKindOf(kind: RetryClass): FailureKind {
  return kind === 'timeout' ? 'timeout' : kind === 'connection' ? 'no-response' : 'model-error';
}

function noResponseClass(err: ModelCallError): RetryClass {
  return err.failure === 'timeout' ? 'timeout' : 'connection';
}

/** Writes the failure reason and ends the request in `state`, `failureKind` its metrics reason. */
async function failWith(ctx: ExecuteContext, job: Job, reason: string, failureKind: FailureKind, state: 'failed' | 'expired' | 'cancelled' = 'failed'): Promise<ExecuteResult> {
  await storeWrite(() => writeFailureReason(ctx, job, reason));
  return { state, failureReason: reason, failureKind };
}

function timeout(signal: AbortSignal, shutdown: AbortSignal): boolean {
  return signal.aborted && !shutdown.aborted;
}

function noResponseReason(err: ModelCallError, job: Job): string {
  if (err.failure === 'timeout') {
    return `ModelInvocationTimeExceeded: the model did not answer within InvocationTimeoutSeconds (${job.invocationTimeoutSeconds} s).`;
  }
  return `ClientError: Received server error (0) from model. The model closed the connection without a complete response (${err.message}).`;
}

function modelErrorReason(status: number): string {
  const kind = status >= 500 ? 'server' : 'client';
  return `ClientError: Received ${kind} error (${status}) from model. The model's response body is at the failure location.`;
}

/**
 * Runs `job` once. A terminal object the store could not take makes the result `storage-fault`
 * (or `release` when the process is shutting down); other unexpected errors reject (the caller
 * then releases the job so it is retried).
 */
export async function executeJob(ctx: ExecuteContext, job: Job, shutdown: AbortSignal): Promise<ExecuteResult> {
  try {
    if (job.cancelRequested === true) return await failWith(ctx, job, CANCELLED_REASON, 'cancelled', 'cancelled');
    if (job.attempts > Math.max(ctx.maxAttempts, ctx.retry?.maxAttempts ?? 0)) {
      return await failWith(ctx, job, `InternalFailure: the request was started ${job.attempts - 1} times and the worker running it stopped each time; giving up.`, 'max-attempts');
    }
    return await withTimeout(ctx, job, shutdown);
  } catch (err) {
    if (!(err instanceof StoreWriteFault)) throw err;
    if (shutdown.aborted) return { state: 'release', why: 'shutdown' };
    return { state: 'storage-fault', error: err.error };
  }
}

async function withTimeout(ctx: ExecuteContext, job: Job, shutdown: AbortSignal): Promise<ExecuteResult> {
  // One controller aborted by the timer or by `shutdown` (the job's own signal): cheaper than
  // AbortSignal.any, whose composite signals cost a weak reference each and add to GC work.
  const call = new AbortController();
  const onShutdown = (): void => call.abort(shutdown.reason);
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  const timer = setTimeout(() => call.abort(new DOMException(`invocation timeout of ${job.invocationTimeoutSeconds} s`, 'TimeoutError')), job.invocationTimeoutSeconds * 1000);
  try {
    return await attempt(ctx, job, call.signal, shutdown);
  } finally {
    clearTimeout(timer);
    shutdown.removeEventListener('abort', onShutdown);
  }
}

async function attempt(ctx: ExecuteContext, job: Job, signal: AbortSignal, shutdown: AbortSignal): Promise<ExecuteResult> {
  // A reused keep-alive connection that the model had just closed fails before the model read
  // the request; that one case is sent again once, on a fresh connection, with the input reopened.
  // (A model that crashed on the request fails the same way; the retry then finds it unreachable.)
  let stale: ModelCallError | undefined;
  for (;;) {
    let input: OpenedInput;
    try {
      input = await openInput(ctx, job, signal);
    } catch (err) {
      if (shutdown.aborted) return { state: 'release', why: 'shutdown' };
      // The store being unreachable is inferq's fault, not the input's: retried with backoff.
      if (isStorageFault(err)) throw new StoreWriteFault(err);
      const detail = isInferqError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
      return failWith(ctx, job, `ClientError: Could not read the input at ${describeInput(job)} (${detail}).`, 'input');
    }
    const result = await callModel(ctx, job, input, signal, shutdown, stale);
    if (!(result instanceof ModelCallError)) return result;
    stale = result;
  }
}

/**
 * Calls the model and stores its answer. Returns the stale-connection error instead when the call
 * hit one and `stale` is undefined (the caller sends it once more); `stale` is the error of that
 * first call on the retry.
 */
async function callModel(ctx: ExecuteContext, job: Job, input: OpenedInput, signal: AbortSignal, shutdown: AbortSignal, stale: ModelCallError | undefined): Promise<ExecuteResult | ModelCallError> {
  let response;
  const sent = performance.now();
  const latency = (): void => ctx.metrics?.observeModelLatency(job.endpoint, 'async', (performance.now() - sent) / 1000);
  try {
    response = await ctx.model.invoke({
      body: input.body,
      ...(input.length !== undefined ? { contentLength: input.length } : {}),
      ...(job.contentType !== undefined ? { contentType: job.contentType } : {}),
      ...(job.accept !== undefined ? { accept: job.accept } : {}),
      ...(job.customAttributes !== undefined ? { customAttributes: job.customAttributes } : {}),
      inferenceId: job.inferenceId,
      signal,
    });
    latency();
  } catch (err) {
    if (!(err instanceof ModelCallError && err.failure === 'stale-connection')) latency();
    if (!Buffer.isBuffer(input.body)) input.body.destroy();
    if (shutdown.aborted) return { state: 'release', why: 'shutdown' };
    if (err instanceof ModelCallError && err.failure === 'stale-connection' && stale === undefined) return err;
    if (err instanceof ModelCallError && err.failure === 'unreachable') {
      // Unreachable right after a lost connection: the model process went away with the request
      // (it crashed on it or was killed), so this is a lost connection, not a model still starting;
      // releasing it would send it to the restarted model again, without counting an attempt.
      if (stale !== undefined) return failOrRetry(ctx, job, noResponseReason(new ModelCallError('connection-lost', `the connection was lost before a response, and right after: ${err.message}`, { cause: stale }), job), 'connection', shutdown);
      return { state: 'release', why: err.message };
    }
    if (err instanceof ModelCallError) return failOrRetry(ctx, job, noResponseReason(err, job), noResponseClass(err), shutdown);
    throw err;
  }
  const ok = response.status >= 200 && response.status < 300;
  const statusClass: RetryClass | undefined = response.status === 429 ? '429' : response.status >= 500 ? '5xx' : undefined;
  if (statusClass !== undefined && retries(ctx, job, statusClass, shutdown)) {
    response.body.resume();
    return { state: 'retry', reason: modelErrorReason(response.status) };
  }
  const target = ok ? job.output : job.failure;
  try {
    await ctx.store.putObject(target.bucket, target.key, response.body, {
      contentType: response.contentType ?? 'application/octet-stream',
      userMetadata: { 'inference-id': job.inferenceId, ...(response.customAttributes !== undefined ? { 'custom-attributes': response.customAttributes } : {}) },
    });
  } catch (err) {
    response.body.destroy();
    if (shutdown.aborted) return { state: 'release', why: 'shutdown' };
    if (timeout(signal, shutdown)) return failOrRetry(ctx, job, noResponseReason(new ModelCallError('timeout', 'timed out while streaming the response'), job), 'timeout', shutdown);
    if (err instanceof ModelCallError) return failOrRetry(ctx, job, noResponseReason(err, job), noResponseClass(err), shutdown);
    // The store reports its own failures (a full disk, …) as InferqErrors: inferq's fault, retried
    // later. Anything else is an error of the model's response stream.
    if (isInferqError(err)) throw new StoreWriteFault(err);
    return failOrRetry(ctx, job, noResponseReason(new ModelCallError('connection-lost', err instanceof Error ? err.message : String(err)), job), 'connection', shutdown);
  }
  await storeWrite(() => deleteQuietly(ctx, job, ok ? job.failure : job.output));
  const responseContentType = response.contentType ?? 'application/octet-stream';
  return ok ? { state: 'succeeded', responseContentType } : { state: 'failed', failureReason: withAttempts(ctx, job, modelErrorReason(response.status)), failureKind: 'model-error', responseContentType };
}
