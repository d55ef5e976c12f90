/**
 * Metrics: the port features record through (no prom-client behind it) and its Prometheus
 * implementation, created once in app/ and served at `GET /metrics` by http/.
 */
export { noopMetrics } from './port.js';
export type { Completion, EndpointGauges, FailureKind, InvocationMode, Metrics } from './port.js';
export { createPrometheusMetrics } from './prometheus.js';
export type { PrometheusMetrics } from './prometheus.js';
