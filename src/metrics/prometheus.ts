/**
 * The Prometheus implementation of the Metrics port, on a private prom-client Registry (never the
 * global one, so two inferq instances in one process, as in the tests, keep their own series).
 * Counters and histograms are recorded as things happen; the backlog and instance gauges are read
 * at scrape time from a source the composition root provides (the queue's stats and the models'
 * snapshots), so on a shared PostgreSQL queue any process reports the global backlog.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Completion, EndpointGauges, FailureKind, InvocationMode, Metrics } from './port.js';

/** Latency buckets in seconds: 5 ms to 1 h (async requests may run long). */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** The registry and what scrapes it. */
export interface PrometheusMetrics extends Metrics {
  /** Reads the gauges from their source, then renders every series in the Prometheus text format. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

interface Series {
  readonly backlog: Gauge<'endpoint'>;
  readonly backlogPerInstance: Gauge<'endpoint'>;
  readonly oldestAge: Gauge<'endpoint'>;
  readonly withoutCapacity: Gauge<'endpoint'>;
  readonly instances: Gauge<'endpoint' | 'state'>;
  readonly processed: Counter<'endpoint'>;
  readonly failures: Counter<'endpoint' | 'reason'>;
  readonly expired: Counter<'endpoint'>;
  readonly downloadFailures: Counter<'endpoint'>;
  readonly uploadFailures: Counter<'endpoint'>;
  readonly notificationFailures: Counter<'endpoint'>;
  readonly timeInBacklog: Histogram<'endpoint'>;
  readonly totalProcessing: Histogram<'endpoint'>;
  readonly modelLatency: Histogram<'endpoint' | 'mode'>;
  readonly http: Counter<'operation' | 'status'>;
}

function createSeries(registers: Registry[]): Series {
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> => new Gauge({ name, help, labelNames, registers });
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> => new Counter({ name, help, labelNames, registers });
  const histogram = <L extends string>(name: string, help: string, labelNames: L[]): Histogram<L> => new Histogram({ name, help, labelNames, buckets: SECONDS_BUCKETS, registers });
  return {
    backlog: gauge('inferq_approximate_backlog_size', 'Requests queued or running (SageMaker ApproximateBacklogSize).', ['endpoint']),
    backlogPerInstance: gauge('inferq_approximate_backlog_size_per_instance', 'Backlog divided by the instances running (the backlog itself with none) (SageMaker ApproximateBacklogSizePerInstance).', ['endpoint']),
    oldestAge: gauge('inferq_approximate_age_of_oldest_request_seconds', 'Age of the oldest queued request (SageMaker ApproximateAgeOfOldestRequest).', ['endpoint']),
    withoutCapacity: gauge('inferq_has_backlog_without_capacity', '1 when requests wait and no instance runs (SageMaker HasBacklogWithoutCapacity).', ['endpoint']),
    instances: gauge('inferq_instances', 'Model instances of this process by state: current, healthy, starting, min, max.', ['endpoint', 'state']),
    processed: counter('inferq_invocations_processed_total', 'Asynchronous requests that succeeded (SageMaker InvocationsProcesssed, sic).', ['endpoint']),
    failures: counter('inferq_invocation_failures_total', 'Asynchronous requests that failed, by reason (SageMaker InvocationFailures).', ['endpoint', 'reason']),
    expired: counter('inferq_expired_requests_total', 'Requests expired after RequestTTLSeconds in the queue (SageMaker ExpiredRequests).', ['endpoint']),
    downloadFailures: counter('inferq_request_download_failures_total', 'Requests whose input could not be read (SageMaker RequestDownloadFailures).', ['endpoint']),
    uploadFailures: counter('inferq_response_upload_failures_total', 'Results inferq\'s store could not take; the request runs again (SageMaker ResponseUploadFailures).', ['endpoint']),
    notificationFailures: counter('inferq_notification_failures_total', 'Notifications that could not be delivered (SageMaker NotificationFailures).', ['endpoint']),
    timeInBacklog: histogram('inferq_time_in_backlog_seconds', 'From acceptance to the start of the attempt that finished it (SageMaker TimeInBacklog).', ['endpoint']),
    totalProcessing: histogram('inferq_total_processing_time_seconds', 'From acceptance to the terminal state (SageMaker TotalProcessingTime).', ['endpoint']),
    modelLatency: histogram('inferq_model_latency_seconds', 'One model call, async or real-time (SageMaker ModelLatency).', ['endpoint', 'mode']),
    http: counter('inferq_http_requests_total', 'HTTP requests answered, by operation and status.', ['operation', 'status']),
  };
}

const seconds = (ms: number): number => Math.max(0, ms) / 1000;

function setGauges(s: Series, all: readonly EndpointGauges[]): void {
  for (const g of [s.backlog, s.backlogPerInstance, s.oldestAge, s.withoutCapacity, s.instances]) g.reset();
  for (const e of all) {
    const backlog = e.queued + e.running;
    const labels = { endpoint: e.endpoint };
    s.backlog.set(labels, backlog);
    s.backlogPerInstance.set(labels, e.instances.current > 0 ? backlog / e.instances.current : backlog);
    s.oldestAge.set(labels, e.oldestQueuedAgeSeconds);
    s.withoutCapacity.set(labels, backlog > 0 && e.instances.current === 0 ? 1 : 0);
    for (const [state, value] of Object.entries(e.instances)) s.instances.set({ endpoint: e.endpoint, state }, value);
  }
}

/**
 * Creates the metrics of one inferq instance. `endpoints` are pre-created at 0 (a counter that
 * exists from the start lets `rate()` see its first increase); `gauges` is read on every scrape.
 */
export function createPrometheusMetrics(endpoints: readonly string[], gauges: () => Promise<readonly EndpointGauges[]>): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const s = createSeries([registry]);
  for (const endpoint of endpoints) {
    for (const c of [s.processed, s.expired, s.downloadFailures, s.uploadFailures, s.notificationFailures]) c.inc({ endpoint }, 0);
  }
  const finished = (done: Completion): void => {
    s.timeInBacklog.observe({ endpoint: done.endpoint }, seconds(done.startedAt - done.receivedAt));
    s.totalProcessing.observe({ endpoint: done.endpoint }, seconds(done.finishedAt - done.receivedAt));
  };
  return {
    recordCompletion(done) {
      s.processed.inc({ endpoint: done.endpoint });
      finished(done);
    },
    recordFailure(done, kind: FailureKind) {
      s.failures.inc({ endpoint: done.endpoint, reason: kind });
      if (kind === 'input') s.downloadFailures.inc({ endpoint: done.endpoint });
      finished(done);
    },
    recordExpired: (endpoint) => s.expired.inc({ endpoint }),
    recordResponseUploadFailure: (endpoint) => s.uploadFailures.inc({ endpoint }),
    recordNotificationFailure: (endpoint) => s.notificationFailures.inc({ endpoint }),
    observeModelLatency: (endpoint, mode: InvocationMode, value) => s.modelLatency.observe({ endpoint, mode }, value),
    recordHttpRequest: (operation, status) => s.http.inc({ operation, status: String(status) }),
    async render() {
      setGauges(s, await gauges());
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
