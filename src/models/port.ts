/**
 * The ModelClient port: how inferq talks to a model that follows the SageMaker container contract
 * (`GET /ping`, `POST /invocations`). A model is either a server already running at a URL, or a
 * process inferq starts and supervises (`command`). Either way the worker sees one ModelClient.
 */
import type { Readable } from 'node:stream';

/** Health of a model as seen by its supervisor or pinger. */
export type ModelHealth = 'starting' | 'healthy' | 'unhealthy' | 'stopped';

/**
 * What aborts a model call: an AbortSignal, or any object with the same abort surface (the
 * real-time path uses a lighter one than an EventTarget per call). Listeners run at most once.
 */
export interface CallSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { readonly once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** One call of `POST /invocations`. */
export interface ModelInvocation {
  /** The payload: streamed, or a Buffer when already in memory (then sent with the headers in one write). */
  readonly body: Readable | Buffer;
  /** Byte length when known (sent as Content-Length; otherwise chunked). */
  readonly contentLength?: number;
  readonly contentType?: string;
  readonly accept?: string;
  readonly customAttributes?: string;
  readonly inferenceId: string;
  /** Aborts the call (invocation timeout, shutdown, client gone). */
  readonly signal: CallSignal;
}

/** The model's answer; the body is streamed and must be consumed or destroyed (unless `whole` is used). */
export interface ModelResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly customAttributes?: string;
  readonly body: Readable;
  /**
   * The whole body, when it had already arrived with the head (a small answer): the call is over,
   * and `body` (made on first access) need not be read.
   */
  readonly whole?: Buffer;
}

/**
 * A model endpoint's client. `invoke` rejects with {@link ModelCallError} when no HTTP response
 * arrived (connection refused or reset, aborted, timed out).
 */
export interface ModelClient {
  /** Human-readable description (URL or command) for logs and errors. */
  readonly description: string;
  invoke(call: ModelInvocation): Promise<ModelResponse>;
  health(): ModelHealth;
  /** Called whenever health changes. Returns an unsubscribe function. */
  onHealthChange(listener: (health: ModelHealth) => void): () => void;
  /** Starts the process or pinger. */
  start(): Promise<void>;
  /** Stops the pinger and, for `command` models, the process (SIGTERM, then SIGKILL after a grace). */
  stop(): Promise<void>;
}

/**
 * Why a model call produced no HTTP response. `stale-connection`: a reused keep-alive connection
 * was closed by the model server before it read the request (a race with its idle timeout), so
 * the request was not processed and may safely be sent again.
 */
export type ModelCallFailure = 'unreachable' | 'connection-lost' | 'stale-connection' | 'timeout' | 'aborted';

/** A model call that produced no HTTP response (SageMaker reports these as status 0). */
export class ModelCallError extends Error {
  override readonly name = 'ModelCallError';
  constructor(readonly failure: ModelCallFailure, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Counts describing a model's instances, for logs, the status command and scaling decisions. */
export interface InstanceSnapshot {
  /** Processes running or starting. */
  readonly instances: number;
  readonly healthy: number;
  readonly starting: number;
  /** Calls in flight across all instances. */
  readonly inFlight: number;
  /** Work waiting for a slot, as last reported with {@link ManagedModel.reportDemand}. */
  readonly waiting: number;
  readonly min: number;
  readonly max: number;
}

/**
 * A model whose capacity can change: a pool of `command` model instances (scale to zero, scale
 * out under backlog, least-loaded routing) or a single `url` model. `health()` is `healthy` while
 * at least one instance is healthy.
 */
export interface ManagedModel extends ModelClient {
  /** Calls that may be in flight now: healthy instances × per-instance concurrency (0 while none is healthy). */
  capacity(): number;
  /**
   * Reports how much work waits (queued async requests plus waiting real-time calls). From zero
   * instances, any demand starts one at once; between min and max, instances are added while the
   * backlog per instance stays above the target, and removed after the idle timeout.
   */
  reportDemand(waiting: number): void;
  snapshot(): InstanceSnapshot;
  /**
   * Changes the instance limits in place (Application Auto Scaling); absent for a model of one
   * server (a url model), whose count does not change.
   */
  setLimits?(limits: { readonly min: number; readonly max: number; readonly targetBacklogPerInstance: number; readonly idleTimeoutMs: number }): void;
}
