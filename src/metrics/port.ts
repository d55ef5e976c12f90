/**
 * The Metrics port: what features record (completions, failures, latencies, HTTP requests), and
 * the scrape-time view of each endpoint. Features depend on this interface only, never on
 * prom-client; {@link noopMetrics} stands in when metrics are off (and in tests of features).
 */

/** Why an asynchronous request failed, as the `reason` label of `inferq_invocation_failures_total`. */
export type FailureKind =
  /** The input could not be read (object missing, URL failed): also a request download failure. */
  | 'input'
  /** The model did not answer within InvocationTimeoutSeconds. */
  | 'timeout'
  /** The model answered a non-2xx status. */
  | 'model-error'
  /** The model closed the connection without a complete response. */
  | 'no-response'
  /** The workers running it kept dying (async.maxAttempts). */
  | 'max-attempts'
  /** It was cancelled (CancelAsyncInvocation, the dashboard) while queued or running. */
  | 'cancelled';

/** Where a model call came from, as the `mode` label of `inferq_model_latency_seconds`. */
export type InvocationMode = 'async' | 'realtime';

/** One finished asynchronous request, as the worker saw it (times are epoch ms). */
export interface Completion {
  readonly endpoint: string;
  readonly receivedAt: number;
  /** When its (last) attempt was claimed. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** What features record. Every method is cheap and never throws. */
export interface Metrics {
  /** An asynchronous request succeeded (ModelLatency is recorded separately). */
  recordCompletion(done: Completion): void;
  /** An asynchronous request failed for `kind`. */
  recordFailure(done: Completion, kind: FailureKind): void;
  /** A queued request passed its RequestTTLSeconds and was expired. */
  recordExpired(endpoint: string): void;
  /** inferq's own store could not take a request's result (it runs again later). */
  recordResponseUploadFailure(endpoint: string): void;
  /** A notification (SNS / webhook) could not be delivered. */
  recordNotificationFailure(endpoint: string): void;
  /** One model call took `seconds` (from sending the request to the response, or the failure). */
  observeModelLatency(endpoint: string, mode: InvocationMode, seconds: number): void;
  /** One HTTP request was answered; `operation` without any error suffix. */
  recordHttpRequest(operation: string, status: number): void;
}

/** Metrics that record nothing (`server.metrics.enabled: false`, feature tests). */
export const noopMetrics: Metrics = {
  recordCompletion() {},
  recordFailure() {},
  recordExpired() {},
  recordResponseUploadFailure() {},
  recordNotificationFailure() {},
  observeModelLatency() {},
  recordHttpRequest() {},
};

/** One endpoint as read at scrape time: the queue's backlog (global on a shared PostgreSQL queue) and this process's instances. */
export interface EndpointGauges {
  readonly endpoint: string;
  readonly queued: number;
  readonly running: number;
  readonly oldestQueuedAgeSeconds: number;
  readonly instances: { readonly current: number; readonly healthy: number; readonly starting: number; readonly min: number; readonly max: number };
}
