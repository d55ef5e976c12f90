/**
 * The Prometheus metrics of src/metrics on their own: exact counter values and histogram counts
 * after known recordings, the scrape-time gauges (backlog per instance, backlog without capacity,
 * endpoints that vanish between scrapes), private registries, the JSON log format and the
 * `server.metrics` config keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, resolveConfig } from '../../src/config/index.js';
import { createPrometheusMetrics, noopMetrics, type EndpointGauges } from '../../src/metrics/index.js';
import { createLogger } from '../../src/util/index.js';

/** The value of the one sample `series{labels}` (labels in any order), or undefined. */
function sample(text: string, series: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== series) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.keys(got).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const instances = (current: number, healthy = current): EndpointGauges['instances'] => ({ current, healthy, starting: current - healthy, min: 0, max: 4 });

test('counters are exact and histograms count each recording, per endpoint and reason', async () => {
  const m = createPrometheusMetrics(['a', 'b'], () => Promise.resolve([]));
  const at = (receivedAt: number, startedAt: number, finishedAt: number) => ({ endpoint: 'a', receivedAt, startedAt, finishedAt });
  m.recordCompletion(at(0, 1000, 3000));
  m.recordCompletion(at(0, 2000, 2500));
  m.recordFailure(at(0, 0, 100), 'input');
  m.recordFailure(at(0, 0, 100), 'timeout');
  m.recordFailure(at(0, 0, 100), 'timeout');
  m.recordExpired('b');
  m.recordResponseUploadFailure('a');
  m.observeModelLatency('a', 'async', 0.2);
  m.observeModelLatency('a', 'realtime', 0.01);
  m.observeModelLatency('a', 'realtime', 0.02);
  m.recordHttpRequest('InvokeEndpoint', 200);
  m.recordHttpRequest('InvokeEndpoint', 200);
  m.recordHttpRequest('InvokeEndpoint', 424);
  const { body, contentType } = await m.render();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(body, 'inferq_invocations_processed_total', { endpoint: 'a' }), 2);
  assert.equal(sample(body, 'inferq_invocations_processed_total', { endpoint: 'b' }), 0, 'pre-created at 0');
  assert.equal(sample(body, 'inferq_invocation_failures_total', { endpoint: 'a', reason: 'timeout' }), 2);
  assert.equal(sample(body, 'inferq_invocation_failures_total', { endpoint: 'a', reason: 'input' }), 1);
  assert.equal(sample(body, 'inferq_request_download_failures_total', { endpoint: 'a' }), 1);
  assert.equal(sample(body, 'inferq_response_upload_failures_total', { endpoint: 'a' }), 1);
  assert.equal(sample(body, 'inferq_expired_requests_total', { endpoint: 'b' }), 1);
  assert.equal(sample(body, 'inferq_notification_failures_total', { endpoint: 'a' }), 0);
  assert.equal(sample(body, 'inferq_time_in_backlog_seconds_count', { endpoint: 'a' }), 5);
  assert.equal(sample(body, 'inferq_time_in_backlog_seconds_sum', { endpoint: 'a' }), 3);
  assert.ok(Math.abs((sample(body, 'inferq_total_processing_time_seconds_sum', { endpoint: 'a' }) ?? 0) - 5.8) < 1e-9);
  assert.equal(sample(body, 'inferq_model_latency_seconds_count', { endpoint: 'a', mode: 'realtime' }), 2);
  assert.equal(sample(body, 'inferq_model_latency_seconds_count', { endpoint: 'a', mode: 'async' }), 1);
  assert.equal(sample(body, 'inferq_http_requests_total', { operation: 'InvokeEndpoint', status: '200' }), 2);
  assert.equal(sample(body, 'inferq_http_requests_total', { operation: 'InvokeEndpoint', status: '424' }), 1);
  assert.ok(sample(body, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics are registered');
});

test('gauges are read at scrape time: backlog, per instance, without capacity; a vanished endpoint drops out', async () => {
  let now: EndpointGauges[] = [
    { endpoint: 'busy', queued: 9, running: 3, oldestQueuedAgeSeconds: 12.5, instances: instances(4, 3) },
    { endpoint: 'cold', queued: 2, running: 0, oldestQueuedAgeSeconds: 1, instances: instances(0) },
  ];
  const m = createPrometheusMetrics(['busy', 'cold'], () => Promise.resolve(now));
  let { body } = await m.render();
  assert.equal(sample(body, 'inferq_approximate_backlog_size', { endpoint: 'busy' }), 12);
  assert.equal(sample(body, 'inferq_approximate_backlog_size_per_instance', { endpoint: 'busy' }), 3);
  assert.equal(sample(body, 'inferq_approximate_age_of_oldest_request_seconds', { endpoint: 'busy' }), 12.5);
  assert.equal(sample(body, 'inferq_has_backlog_without_capacity', { endpoint: 'busy' }), 0);
  assert.equal(sample(body, 'inferq_approximate_backlog_size_per_instance', { endpoint: 'cold' }), 2, 'no instance: the backlog itself');
  assert.equal(sample(body, 'inferq_has_backlog_without_capacity', { endpoint: 'cold' }), 1);
  assert.equal(sample(body, 'inferq_instances', { endpoint: 'busy', state: 'healthy' }), 3);
  assert.equal(sample(body, 'inferq_instances', { endpoint: 'busy', state: 'starting' }), 1);
  assert.equal(sample(body, 'inferq_instances', { endpoint: 'busy', state: 'max' }), 4);
  now = [{ endpoint: 'busy', queued: 0, running: 0, oldestQueuedAgeSeconds: 0, instances: instances(1) }];
  ({ body } = await m.render());
  assert.equal(sample(body, 'inferq_approximate_backlog_size', { endpoint: 'busy' }), 0);
  assert.equal(sample(body, 'inferq_approximate_backlog_size', { endpoint: 'cold' }), undefined);
});

test('each instance has its own registry; noopMetrics records nothing and never throws', async () => {
  const one = createPrometheusMetrics(['e'], () => Promise.resolve([]));
  const two = createPrometheusMetrics(['e'], () => Promise.resolve([]));
  one.recordExpired('e');
  assert.equal(sample((await one.render()).body, 'inferq_expired_requests_total', { endpoint: 'e' }), 1);
  assert.equal(sample((await two.render()).body, 'inferq_expired_requests_total', { endpoint: 'e' }), 0);
  noopMetrics.recordCompletion({ endpoint: 'e', receivedAt: 0, startedAt: 0, finishedAt: 0 });
  noopMetrics.recordNotificationFailure('e');
});

test('logFormat json: one JSON object a line with time, level, name, msg and the fields', () => {
  const lines: string[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
  const logger = createLogger('info', out, 'inferq', 'json').child('http');
  logger.debug('dropped');
  logger.info('access', { requestId: 'r1', status: 200, ms: 1.5, error: new Error('boom'), skipped: undefined });
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('}\n'));
  const doc = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual({ ...doc, time: 'T' }, { time: 'T', level: 'info', name: 'inferq:http', msg: 'access', requestId: 'r1', status: 200, ms: 1.5, error: 'boom' });
  assert.ok(!Number.isNaN(Date.parse(String(doc['time']))));
});

test('config: server.metrics defaults on, logFormat text, accessLog off; a short bearer token is refused', () => {
  const config = resolveConfig({});
  assert.deepEqual(config.server.metrics, { enabled: true });
  assert.equal(config.server.logFormat, 'text');
  assert.equal(config.server.accessLog, false);
});

test('config: bad metrics keys name the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-metrics-config-'));
  try {
    const write = (yaml: string): string => {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, yaml);
      return file;
    };
    assert.throws(() => resolveConfig({ configFile: write('server:\n  metrics:\n    bearerToken: short\n') }), (err: unknown) => err instanceof ConfigError && /server\.metrics\.bearerToken/.test(err.message));
    assert.throws(() => resolveConfig({ configFile: write('server:\n  logFormat: xml\n') }), (err: unknown) => err instanceof ConfigError && /server\.logFormat/.test(err.message));
    const ok = resolveConfig({ configFile: write('server:\n  accessLog: true\n  logFormat: json\n  metrics:\n    enabled: false\n') });
    assert.equal(ok.server.accessLog, true);
    assert.equal(ok.server.metrics.enabled, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
