/**
 * `GET /metrics` end to end on the built server: exact counter values and histogram counts after
 * known traffic (async successes, failures by reason, real-time calls, an expired request), the
 * backlog gauges read from the queue, a bucket named "metrics" still served by the S3 API, the
 * JSON access log, and who may scrape: open on loopback, a bearer token on a non-loopback address
 * (401 without it), 404 when `server.metrics.enabled` is false. Also `inferq status --watch`
 * (table redrawn every second, or one JSON line a second) against the same server, and on a second
 * server the request lifecycle: a request retried then succeeded is one success and no failure,
 * cancellations (queued and running) are failures with reason `cancelled`, dashboard calls count
 * as operation `Dashboard`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { holdPort, type HeldPort } from '../helpers/ports.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { awsEnv, s3Client } from '../helpers/clients.js';
import { CLI, awaitOutput, collectOutput, waitForOutput, type ServerProcess } from '../helpers/server.js';
import { join } from 'node:path';
import { Harness, awaitTerminal, fixtureModel, getStatus, invokeRaw, signed, type AsyncStatus } from '../helpers/async.js';
import { countingModel, modelCalls } from '../helpers/side-effects.js';

const h = new Harness();
let server: ServerProcess;
let never: HeldPort;
let ttlStatus: Promise<AsyncStatus>;

/** The value of the one sample `series{labels}` (exactly these labels), or undefined. */
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

async function scrape(base: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`${base}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The first IPv4 address of this machine that is not loopback, if any. */
function nonLoopbackAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

before(async () => {
  never = await holdPort();
  server = await h.start(h.config({
    server: { logFormat: 'json', accessLog: true },
    worker: { sweepIntervalSeconds: 0.5 },
    endpoints: [
      { name: 'echo', model: { builtin: 'echo' } },
      { name: 'fixture', model: fixtureModel(), async: { outputPath: 's3://results/out', failurePath: 's3://results/err' } },
      { name: 'never', model: { url: never.url, pingIntervalSeconds: 0.2 } },
    ],
  }));
  // RequestTTLSeconds is at least 60: submit the request that expires first, check it last.
  const ttl = await invokeRaw(server.url, 'never', { 'x-amzn-sagemaker-inference-id': 'ttl-1', 'x-amzn-sagemaker-requestttlseconds': '60' }, Buffer.from('too late'));
  assert.equal(ttl.status, 202, ttl.body.toString());
  ttlStatus = awaitTerminal(server.url, 'never', 'ttl-1', 90_000);
  void ttlStatus.catch(() => undefined);
});
after(async () => {
  await h.cleanup();
  await never?.close();
});

describe('after known traffic', () => {
  let text: string;
  let realtimeRequestId: string;
  before(async () => {
    for (const id of ['ok-1', 'ok-2', 'ok-3']) {
      const res = await invokeRaw(server.url, 'echo', { 'x-amzn-sagemaker-inference-id': id }, Buffer.from(id));
      assert.equal(res.status, 202, res.body.toString());
    }
    const failing = [
      invokeRaw(server.url, 'fixture', { 'x-amzn-sagemaker-inference-id': 'f-500', 'x-amzn-sagemaker-custom-attributes': 'mode=status-500' }, Buffer.from('{}')),
      invokeRaw(server.url, 'fixture', { 'x-amzn-sagemaker-inference-id': 'f-input', 'x-amzn-sagemaker-inputlocation': 's3://results/absent.bin' }),
    ];
    for (const res of await Promise.all(failing)) assert.equal(res.status, 202, res.body.toString());
    for (let i = 0; i < 2; i++) {
      const rt = await signed(server.url, 'sagemaker', 'POST', '/endpoints/echo/invocations', { 'content-type': 'text/plain' }, Buffer.from(`rt-${i}`));
      assert.equal(rt.status, 200, rt.body.toString());
      realtimeRequestId = String(rt.headers['x-amzn-requestid'] ?? '');
    }
    for (const id of ['ok-1', 'ok-2', 'ok-3']) assert.equal((await awaitTerminal(server.url, 'echo', id)).Status, 'Succeeded');
    for (const id of ['f-500', 'f-input']) assert.equal((await awaitTerminal(server.url, 'fixture', id)).Status, 'Failed');
    const res = await scrape(server.url);
    assert.equal(res.status, 200, res.text);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    text = res.text;
  });

  test('counters are exact: successes, failures by reason, download failures, HTTP requests by operation and status', () => {
    assert.equal(sample(text, 'inferq_invocations_processed_total', { endpoint: 'echo' }), 3);
    assert.equal(sample(text, 'inferq_invocations_processed_total', { endpoint: 'fixture' }), 0);
    assert.equal(sample(text, 'inferq_invocation_failures_total', { endpoint: 'fixture', reason: 'model-error' }), 1);
    assert.equal(sample(text, 'inferq_invocation_failures_total', { endpoint: 'fixture', reason: 'input' }), 1);
    assert.equal(sample(text, 'inferq_request_download_failures_total', { endpoint: 'fixture' }), 1);
    assert.equal(sample(text, 'inferq_response_upload_failures_total', { endpoint: 'echo' }), 0);
    assert.equal(sample(text, 'inferq_notification_failures_total', { endpoint: 'echo' }), 0);
    assert.equal(sample(text, 'inferq_http_requests_total', { operation: 'InvokeEndpoint', status: '200' }), 2);
    assert.equal(sample(text, 'inferq_http_requests_total', { operation: 'InvokeEndpointAsync', status: '202' }), 6);
  });

  test('histograms count each request: time in backlog, total processing, model latency per mode', () => {
    assert.equal(sample(text, 'inferq_time_in_backlog_seconds_count', { endpoint: 'echo' }), 3);
    assert.equal(sample(text, 'inferq_total_processing_time_seconds_count', { endpoint: 'echo' }), 3);
    assert.equal(sample(text, 'inferq_time_in_backlog_seconds_count', { endpoint: 'fixture' }), 2);
    assert.equal(sample(text, 'inferq_model_latency_seconds_count', { endpoint: 'echo', mode: 'async' }), 3);
    assert.equal(sample(text, 'inferq_model_latency_seconds_count', { endpoint: 'echo', mode: 'realtime' }), 2);
    assert.equal(sample(text, 'inferq_model_latency_seconds_count', { endpoint: 'fixture', mode: 'async' }), 1, 'the missing input never reached the model');
  });

  test('gauges come from the queue: the request waiting for "never" is its backlog; instances by state; process metrics', () => {
    assert.equal(sample(text, 'inferq_approximate_backlog_size', { endpoint: 'echo' }), 0);
    assert.equal(sample(text, 'inferq_approximate_backlog_size', { endpoint: 'never' }), 1);
    assert.ok((sample(text, 'inferq_approximate_age_of_oldest_request_seconds', { endpoint: 'never' }) ?? 0) > 0);
    assert.equal(sample(text, 'inferq_has_backlog_without_capacity', { endpoint: 'echo' }), 0);
    assert.equal(sample(text, 'inferq_instances', { endpoint: 'echo', state: 'healthy' }), 1);
    assert.ok(sample(text, 'process_resident_memory_bytes') !== undefined);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds') !== undefined);
  });

  test('the access log has one JSON line per request with id, operation, endpoint, status, duration and bytes', async () => {
    const m = await waitForOutput(server, new RegExp(`^\\{.*"requestId":"${realtimeRequestId}".*\\}$`, 'm'));
    const line = JSON.parse(m[0]) as Record<string, unknown>;
    assert.equal(line['level'], 'info');
    assert.equal(line['msg'], 'access');
    assert.equal(line['operation'], 'InvokeEndpoint');
    assert.equal(line['endpoint'], 'echo');
    assert.equal(line['status'], 200);
    assert.equal(typeof line['ms'], 'number');
    assert.ok((line['bytesIn'] as number) > 'rt-1'.length, 'request bytes include headers and body');
    assert.ok((line['bytesOut'] as number) > 'rt-1'.length);
    await waitForOutput(server, /^\{.*"msg":"access".*"operation":"Metrics".*"status":200.*\}$/m);
    for (const l of server.output().split('\n').filter((x) => x.startsWith('{'))) JSON.parse(l);
  });
});

test('a bucket named "metrics" is still the S3 API\'s: signed requests for /metrics never reach the scrape', async () => {
  const s3 = s3Client(server.url);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'metrics' }));
    await s3.send(new PutObjectCommand({ Bucket: 'metrics', Key: 'a.txt', Body: 'x' }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'metrics' }));
    assert.deepEqual(listed.Contents?.map((c) => c.Key), ['a.txt']);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: 'metrics', Key: 'absent.txt' })), { name: 'NoSuchKey' });
    const unsigned = await scrape(server.url);
    assert.equal(unsigned.status, 200);
    assert.match(unsigned.text, /^# HELP /m);
    assert.equal(sample(unsigned.text, 'inferq_http_requests_total', { operation: 'ListObjectsV2', status: '200' }), 1);
    assert.equal(sample(unsigned.text, 'inferq_http_requests_total', { operation: 'GetObject', status: '404' }), 1, 'a failed S3 call is counted under its operation');
  } finally {
    s3.destroy();
  }
});

test('a request that outlives its RequestTTLSeconds counts as expired', async () => {
  const status = await ttlStatus;
  assert.equal(status.Status, 'Expired');
  const { text } = await scrape(server.url);
  assert.equal(sample(text, 'inferq_expired_requests_total', { endpoint: 'never' }), 1);
  assert.equal(sample(text, 'inferq_approximate_backlog_size', { endpoint: 'never' }), 0);
});

describe('inferq status --watch', () => {
  /** Runs `inferq status --watch` until `done` matches its output, then Ctrl-C; resolves with the output and the exit code. */
  async function watch(args: string[], done: (out: string) => true | undefined): Promise<{ out: string; code: number | null }> {
    const proc = spawn(process.execPath, [CLI, 'status', '--watch', ...args, '--endpoint-url', server.url], { env: awsEnv(server.url), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(proc, 'exit');
    const out = collectOutput(proc);
    await awaitOutput(proc, out, done, 'status --watch output', 30_000);
    proc.kill('SIGINT');
    const [code] = (await exited) as [number | null];
    return { out: out(), code };
  }

  test('--json --watch prints one JSON line per second until Ctrl-C', async () => {
    const started = Date.now();
    const { out, code } = await watch(['--json'], (o) => (o.split('\n').filter((l) => l.startsWith('{')).length >= 3 ? true : undefined));
    assert.equal(code, 0);
    const lines = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time: string; Endpoints: { EndpointName: string }[] });
    assert.deepEqual(lines[0]!.Endpoints.map((e) => e.EndpointName).sort(), ['echo', 'fixture', 'never']);
    const gap = Date.parse(lines[2]!.time) - Date.parse(lines[0]!.time);
    assert.ok(gap >= 1500 && gap < 10_000, `two redraws took ${gap} ms`);
    assert.ok(Date.now() - started >= 1500);
  });

  test('--watch clears the screen and redraws the table', async () => {
    const { out, code } = await watch([], (o) => (o.split('\x1b[H\x1b[2J').length >= 3 ? true : undefined));
    assert.equal(code, 0);
    const frames = out.split('\x1b[H\x1b[2J').filter((f) => f !== '');
    assert.ok(frames.length >= 2);
    assert.match(frames[0]!, /^ENDPOINT +HEALTH +INSTANCES/m);
    assert.match(frames[0]!, /^echo +/m);
  });
});

describe('who may scrape', () => {
  const echoOnly = { endpoints: [{ name: 'echo', model: { builtin: 'echo' } }], worker: { enabled: false } };
  const credentials = [{ accessKeyId: 'metrics-test', secretAccessKey: 'metrics-test-secret' }];
  const token = 'scrape-token-0123456789';

  test('server.metrics.enabled: false answers 404', async () => {
    const off = await h.start(h.config({ ...echoOnly, server: { metrics: { enabled: false } } }));
    const res = await scrape(off.url);
    assert.equal(res.status, 404);
    assert.match(res.text, /server\.metrics\.enabled/);
  });

  const address = nonLoopbackAddress();
  const skip = address === undefined ? 'this machine has no non-loopback IPv4 address' : false;

  test('bound to a non-loopback address without a token: 401 naming server.metrics.bearerToken', { skip }, async () => {
    const open = await h.start(h.config({ ...echoOnly, server: { host: address, credentials } }));
    const res = await scrape(open.url);
    assert.equal(res.status, 401);
    assert.match(res.text, /^MetricsUnauthorized: .*server\.metrics\.bearerToken/);
  });

  test('bound to a non-loopback address with a token: 401 without it or with another, 200 with it', { skip }, async () => {
    const guarded = await h.start(h.config({ ...echoOnly, server: { host: address, credentials, metrics: { bearerToken: token } } }));
    assert.equal((await scrape(guarded.url)).status, 401);
    assert.equal((await scrape(guarded.url, { authorization: `Bearer ${token}x` })).status, 401);
    const ok = await scrape(guarded.url, { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200);
    assert.equal(sample(ok.text, 'inferq_approximate_backlog_size', { endpoint: 'echo' }), 0);
  });
});

describe('the request lifecycle', () => {
  let life: ServerProcess;
  let calls: string;
  const submit = async (endpoint: string, id: string, mode: string): Promise<void> => {
    const res = await invokeRaw(life.url, endpoint, { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-custom-attributes': `mode=${mode}` }, Buffer.from(id));
    assert.equal(res.status, 202, res.body.toString());
  };
  before(async () => {
    calls = join(h.dir('inferq-metrics-calls-'), 'calls.log');
    life = await h.start(h.config({
      endpoints: [
        { name: 'flaky', model: countingModel(calls), async: { retry: { maxAttempts: 3, backoffSeconds: 0.05, maxBackoffSeconds: 0.2 } } },
        { name: 'single', model: countingModel(calls), async: { maxConcurrentInvocations: 1 } },
      ],
    }));
  });

  test('a request retried twice then succeeded is one success, no failure; each model call is timed', async () => {
    await submit('flaky', 'retried-1', 'flaky-2-503');
    const status = await awaitTerminal(life.url, 'flaky', 'retried-1');
    assert.equal(status.Status, 'Succeeded', JSON.stringify(status));
    assert.equal(modelCalls(calls).filter((l) => l === 'retried-1').length, 3);
    const { text } = await scrape(life.url);
    assert.equal(sample(text, 'inferq_invocations_processed_total', { endpoint: 'flaky' }), 1);
    assert.ok(!/^inferq_invocation_failures_total\{[^}]*endpoint="flaky"/m.test(text), 'no failure of any reason');
    assert.equal(sample(text, 'inferq_model_latency_seconds_count', { endpoint: 'flaky', mode: 'async' }), 3);
    assert.equal(sample(text, 'inferq_time_in_backlog_seconds_count', { endpoint: 'flaky' }), 1);
  });

  test('cancelling a running and a queued request counts two failures with reason "cancelled"', async () => {
    await submit('single', 'hold-1', 'hang');
    await waitForOutput(life, /counting model hanging inference-id=hold-1/);
    await submit('single', 'wait-1', 'echo');
    assert.equal((await getStatus(life.url, 'single', 'wait-1')).Status, 'Queued');
    for (const id of ['wait-1', 'hold-1']) {
      const res = await signed(life.url, 'sagemaker', 'DELETE', `/endpoints/single/async-invocations/${id}`);
      assert.equal(res.status, 200, res.body.toString());
      assert.equal((JSON.parse(res.body.toString()) as AsyncStatus).Status, 'Cancelled');
    }
    const { text } = await scrape(life.url);
    assert.equal(sample(text, 'inferq_invocation_failures_total', { endpoint: 'single', reason: 'cancelled' }), 2);
    assert.equal(sample(text, 'inferq_invocations_processed_total', { endpoint: 'single' }), 0);
    assert.equal(sample(text, 'inferq_http_requests_total', { operation: 'CancelAsyncInvocation', status: '200' }), 2);
  });

  test('dashboard calls count as operation "Dashboard"', async () => {
    const res = await fetch(`${life.url}/ui/api/overview`);
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    const { text } = await scrape(life.url);
    assert.equal(sample(text, 'inferq_http_requests_total', { operation: 'Dashboard', status: '401' }), 1);
  });
});
