/**
 * Real-time calls across processes: an API-only `inferq serve` (`worker.enabled: false`) and two
 * `inferq worker` processes sharing one PostgreSQL schema (routes and demand live in its registry).
 * InvokeEndpoint and InvokeEndpointWithResponseStream sent to the API process run on a worker's
 * model (JS SDK v3 and boto3), 20 MiB travel both ways, a model error keeps its ModelError shape,
 * the workers' forwarding listener refuses calls without a valid signature before any model call,
 * the two workers share the load (the API process's /metrics times each forwarded call once), and an endpoint with `instances.min: 0` starts from zero on a
 * worker within the start timeout because the API process recorded the demand.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, ModelError, ModelStreamError, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { boto3Runtime } from '../helpers/clients.js';
import { Harness, errorOf, fixtureModel, rawRequest, signed } from '../helpers/async.js';
import { PG_URL, dropSchemas, uniqueSchema, withPg } from '../helpers/postgres.js';
import { Workers, type WorkerProcess } from '../helpers/processes.js';
import type { ServerProcess } from '../helpers/server.js';
import { countingModel, modelCalls } from '../helpers/side-effects.js';

const MiB = 1024 * 1024;
const h = new Harness();
const workers = new Workers();
const SCHEMA = uniqueSchema('t_rtfwd');
let api: ServerProcess;
let sm: SageMakerRuntimeClient;
let callLog: string;
const started: WorkerProcess[] = [];

function config(workerEnabled: boolean): string {
  return h.config({
    queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA },
    worker: { enabled: workerEnabled, routeIntervalSeconds: 0.5 },
    endpoints: [
      { name: 'echo', model: { builtin: 'echo' }, realtime: { maxBodyBytes: 21 * MiB } },
      { name: 'fixture', model: fixtureModel(), async: { maxConcurrentInvocations: 8 } },
      { name: 'short', model: fixtureModel(), realtime: { timeoutSeconds: 1 } },
      { name: 'counted', model: countingModel(callLog) },
      { name: 'cold', model: { builtin: 'echo' }, instances: { min: 0, max: 1 }, realtime: { startTimeoutSeconds: 120 } },
    ],
  });
}

/** The forwarding routes the workers published: owner → url and the endpoints with capacity. */
async function publishedRoutes(): Promise<{ owner: string; url: string; endpoints: string }[]> {
  return withPg(async (c) => (await c.query<{ owner: string; url: string; endpoints: string }>(`SELECT owner, url, endpoints FROM "${SCHEMA}".worker_routes ORDER BY owner`)).rows);
}

/** Resolves once `n` routes publish capacity for `endpoint` (routes refresh every 0.5 s). */
async function untilServed(endpoint: string, n: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const routes = await publishedRoutes();
    const serving = routes.filter((r) => (JSON.parse(r.endpoints) as { name: string; capacity: number }[]).some((e) => e.name === endpoint && e.capacity > 0));
    if (serving.length >= n) return;
    if (Date.now() > deadline) throw new Error(`no ${n} routes for ${endpoint}: ${JSON.stringify(routes)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Resolves once the calls in flight for `endpoint`, all workers together as published, satisfy `ok`. */
async function untilInFlight(endpoint: string, ok: (n: number) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let n = 0;
    for (const r of await publishedRoutes()) n += (JSON.parse(r.endpoints) as { name: string; inFlight: number }[]).find((e) => e.name === endpoint)?.inFlight ?? 0;
    if (ok(n)) return;
    if (Date.now() > deadline) throw new Error(`in flight for ${endpoint} stayed ${n}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  callLog = join(h.dir('inferq-rtfwd-calls-'), 'calls.log');
  const dataDir = h.dir('inferq-rtfwd-data-');
  api = await h.start(config(false), dataDir);
  sm = h.client(api.url);
  started.push(await workers.start(config(true), dataDir), await workers.start(config(true), dataDir));
  await untilServed('echo', 2);
  await untilServed('fixture', 2);
  await untilServed('counted', 2);
  await untilServed('short', 2);
});

after(async () => {
  await workers.cleanup();
  await h.cleanup();
  await dropSchemas([SCHEMA]);
});

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

/** The API process's count of real-time model calls of `endpoint` (its `/metrics`). */
async function forwardedLatencyCount(endpoint: string): Promise<number> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const m = new RegExp(`^inferq_model_latency_seconds_count\\{(?=[^}]*endpoint="${endpoint}")(?=[^}]*mode="realtime")[^}]*\\} (\\d+)$`, 'm').exec(text);
  return Number(m?.[1] ?? 0);
}

void describe('API-only serve forwards real-time calls to worker processes', () => {
  void test('each worker publishes its route; the API process publishes none, and its status counts the workers', async () => {
    const routes = await publishedRoutes();
    assert.equal(routes.length, 2, JSON.stringify(routes));
    for (const r of routes) assert.match(r.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const status = await signed(api.url, 'sagemaker', 'GET', '/endpoints/echo');
    assert.equal(status.status, 200, status.body.toString());
    const doc = JSON.parse(status.body.toString()) as { Health: string; Model: string; Instances: { Current: number; Healthy: number } };
    assert.equal(doc.Health, 'healthy');
    assert.match(doc.Model, /forwarded to the workers of echo/);
    assert.equal(doc.Instances.Current, 2, 'the API process counts the workers serving the endpoint');
    assert.equal(doc.Instances.Healthy, 2);
  });

  void test('JS SDK v3 InvokeEndpoint and InvokeEndpointWithResponseStream through the API process', async () => {
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from('{"hello":"forward"}'), ContentType: 'application/json', CustomAttributes: 'a=1' }));
    assert.equal(Buffer.from(res.Body).toString(), '{"hello":"forward"}');
    assert.equal(res.ContentType, 'application/json');
    assert.equal(res.InvokedProductionVariant, 'AllTraffic');

    const stream = await sm.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), ContentType: 'application/json', CustomAttributes: 'mode=stream-3-10' }));
    const parts: Buffer[] = [];
    for await (const event of stream.Body!) if (event.PayloadPart?.Bytes) parts.push(Buffer.from(event.PayloadPart.Bytes));
    assert.ok(parts.length >= 1, 'PayloadPart frames arrived');
    assert.ok(Buffer.concat(parts).length > 0);
    assert.equal(stream.CustomAttributes, 'streamed=stream-3-10');
  });

  void test('boto3 invoke_endpoint through the API process', async () => {
    const out = await boto3Runtime(api.url, `r = rt.invoke_endpoint(EndpointName='echo', Body=b'from boto3', ContentType='text/plain')\nprint(json.dumps({'body': r['Body'].read().decode(), 'ct': r['ContentType']}))`);
    assert.deepEqual(out, { body: 'from boto3', ct: 'text/plain' });
  });

  void test('20 MiB request and 20 MiB answer cross both hops intact', async () => {
    const body = randomBytes(20 * MiB);
    const t0 = Date.now();
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: body, ContentType: 'application/octet-stream' }));
    const ms = Date.now() - t0;
    assert.equal(res.Body.length, body.length);
    assert.equal(md5(res.Body), md5(body));
    process.stdout.write(`# 20 MiB echo through API → worker → model and back: ${ms} ms\n`);
  });

  void test('a model error keeps its ModelError shape (OriginalStatusCode, OriginalMessage, LogStreamArn)', async () => {
    const raw = await signed(api.url, 'sagemaker', 'POST', '/endpoints/fixture/invocations', { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'mode=status-503' }, Buffer.from('{}'));
    assert.equal(raw.status, 424, raw.body.toString());
    assert.equal(errorOf(raw).type, 'ModelError');
    const doc = JSON.parse(raw.body.toString()) as Record<string, unknown>;
    assert.equal(doc['OriginalStatusCode'], 503);
    assert.match(String(doc['OriginalMessage']), /fixture status 503/);
    assert.match(String(doc['LogStreamArn']), /log-group:\/aws\/sagemaker\/Endpoints\/fixture$/);
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), CustomAttributes: 'mode=status-400' })), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.OriginalStatusCode, 400);
      return true;
    });
  });

  void test('mid-stream failures keep their exception frames: StreamBroken, and ModelInvocationTimeExceeded from the API process\'s timer', async () => {
    const collect = async (endpoint: string, mode: string): Promise<{ parts: string[]; err: unknown }> => {
      const res = await sm.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: endpoint, Body: Buffer.from('{}'), CustomAttributes: `mode=${mode}` }));
      const parts: string[] = [];
      try {
        for await (const event of res.Body!) parts.push(Buffer.from(event.PayloadPart!.Bytes!).toString());
      } catch (err) {
        return { parts, err };
      }
      return { parts, err: undefined };
    };
    const broken = await collect('fixture', 'stream-break-2');
    assert.deepEqual(broken.parts, ['part-1\n', 'part-2\n']);
    assert.ok(broken.err instanceof ModelStreamError, String(broken.err));
    assert.equal(broken.err.ErrorCode, 'StreamBroken');
    const stalled = await collect('short', 'stall');
    assert.deepEqual(stalled.parts, ['first part\n']);
    assert.ok(stalled.err instanceof ModelStreamError, String(stalled.err));
    assert.equal(stalled.err.ErrorCode, 'ModelInvocationTimeExceeded');
  });

  void test('the forwarding listener refuses calls without or with a bad signature, and no model is called', async () => {
    const before = modelCalls(callLog).length;
    for (const route of await publishedRoutes()) {
      const url = `${route.url}/forward/counted/invocations`;
      const none = await rawRequest('POST', url, { 'content-type': 'text/plain' }, Buffer.from('no auth'));
      assert.equal(none.status, 403, none.body.toString());
      assert.equal(none.headers['x-inferq-forward-error'], 'AccessDenied');
      const bad = await rawRequest('POST', url, { 'content-type': 'text/plain', 'x-inferq-forward-auth': `t=${Date.now()},s=${'0'.repeat(64)}` }, Buffer.from('bad auth'));
      assert.equal(bad.status, 403);
      const old = await rawRequest('POST', url, { 'x-inferq-forward-auth': `t=${Date.now() - 3_600_000},s=${'a'.repeat(64)}` }, Buffer.from('old'));
      assert.equal(old.status, 403);
    }
    // 403 before the body: the head of a 20 MiB call, and not one byte of its body, gets the answer.
    const [first] = await publishedRoutes();
    const req = request(`${first!.url}/forward/counted/invocations`, { method: 'POST', headers: { 'content-length': String(20 * MiB), 'x-inferq-forward-auth': 'nope' } });
    req.on('error', () => undefined);
    req.flushHeaders();
    const [early] = await once(req, 'response') as [IncomingMessage];
    assert.equal(early.statusCode, 403);
    assert.equal(early.headers['connection'], 'close');
    early.resume();
    req.destroy();
    const ok = await signed(api.url, 'sagemaker', 'POST', '/endpoints/counted/invocations', { 'content-type': 'text/plain', 'x-amzn-sagemaker-inference-id': 'counted-ok' }, Buffer.from('signed'));
    assert.equal(ok.status, 200, ok.body.toString());
    assert.deepEqual(modelCalls(callLog).slice(before), ['counted-ok'], 'only the call through the API process reached the model');
  });

  void test('two workers share the load; the API process times each forwarded call once', async () => {
    const counted = await forwardedLatencyCount('fixture');
    const calls = Array.from({ length: 24 }, () => sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), ContentType: 'application/json', CustomAttributes: 'mode=inspect' })));
    const pids = new Map<number, number>();
    for (const res of await Promise.all(calls)) {
      const doc = JSON.parse(Buffer.from(res.Body).toString()) as { pid: number };
      pids.set(doc.pid, (pids.get(doc.pid) ?? 0) + 1);
    }
    process.stdout.write(`# calls per fixture process: ${JSON.stringify([...pids.values()])}\n`);
    assert.equal(pids.size, 2, `both workers' models answered: ${JSON.stringify([...pids])}`);
    assert.equal(await forwardedLatencyCount('fixture') - counted, 24, 'inferq_model_latency_seconds{mode="realtime"} counts each forwarded call once');
  });

  void test('a client that goes away mid-call frees the slot on the worker (the model call is aborted)', async () => {
    const abort = new AbortController();
    const call = sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), CustomAttributes: 'mode=held-never-1' }), { abortSignal: abort.signal });
    await untilInFlight('fixture', (n) => n === 1);
    abort.abort();
    await assert.rejects(call);
    await untilInFlight('fixture', (n) => n === 0);
  });

  void test('scale from zero: an endpoint with instances.min 0 starts on a worker within the start timeout', async () => {
    const routes = await publishedRoutes();
    for (const r of routes) {
      const cold = (JSON.parse(r.endpoints) as { name: string; capacity: number }[]).find((e) => e.name === 'cold');
      assert.equal(cold?.capacity, 0, 'no instance runs before the first call');
    }
    const t0 = Date.now();
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'cold', Body: Buffer.from('wake up'), ContentType: 'text/plain' }));
    const ms = Date.now() - t0;
    assert.equal(Buffer.from(res.Body).toString(), 'wake up');
    process.stdout.write(`# cold start across processes: ${ms} ms\n`);
    const demand = await withPg(async (c) => (await c.query<{ endpoint: string }>(`SELECT endpoint FROM "${SCHEMA}".endpoint_demand`)).rows);
    assert.ok(demand.some((d) => d.endpoint === 'cold'), `the API process recorded the demand: ${JSON.stringify(demand)}`);
  });

  void test('a worker that dies: calls go on at once on the survivor (a refused route is skipped until it publishes again)', async () => {
    await started[0]!.kill();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => sm.send(new InvokeEndpointCommand({ EndpointName: 'echo', Body: Buffer.from(`after-${i}`) }))));
    assert.deepEqual(results.map((r) => Buffer.from(r.Body).toString()), Array.from({ length: 10 }, (_, i) => `after-${i}`));
  });
});
