/**
 * The URL model client against a real fixture model server: headers forwarded, streaming both
 * ways, non-2xx as responses, timeout/abort/crash/unreachable classification, and health pings.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHttpModelClient, waitForHealthy, type ModelClient } from '../../src/models/index.js';
import { silentLogger } from '../../src/util/index.js';
import { call, nextHealth, readAll, rejection, startFixture, unusedPort, type FixtureProcess } from './helpers.js';

let fixture: FixtureProcess;
let client: ModelClient;

before(async () => {
  fixture = await startFixture();
  client = createHttpModelClient({ baseUrl: fixture.url, logger: silentLogger });
  await client.start();
});

after(async () => {
  await client.stop();
  await fixture.kill();
});

test('invoke forwards Content-Type, Accept, Custom-Attributes and Inference-Id', async () => {
  const res = await client.invoke(call('{"x":1}', { contentType: 'application/json', accept: 'text/csv', customAttributes: 'mode=inspect,trace=1', inferenceId: 'inf-42' }));
  assert.equal(res.status, 200);
  assert.equal(res.contentType, 'application/json');
  const seen = JSON.parse((await readAll(res.body)).toString()) as { headers: Record<string, string>; body: { bytes: number } };
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['accept'], 'text/csv');
  assert.equal(seen.headers['x-amzn-sagemaker-custom-attributes'], 'mode=inspect,trace=1');
  assert.equal(seen.headers['x-amzn-sagemaker-inference-id'], 'inf-42');
  assert.equal(seen.headers['content-length'], '7');
  assert.equal(seen.body.bytes, 7);
});

test('echo: default content type, custom attributes returned, chunked request without length', async () => {
  const res = await client.invoke({ body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]), inferenceId: 'i', customAttributes: 'k=v', signal: new AbortController().signal });
  assert.equal(res.status, 200);
  assert.equal(res.contentType, 'application/octet-stream');
  assert.equal(res.customAttributes, 'k=v');
  assert.equal((await readAll(res.body)).toString(), 'abcd');
});

test('50 MiB streamed through echo in both directions, never buffered whole', async () => {
  const chunk = Buffer.alloc(64 * 1024);
  const total = 50 * 1024 * 1024;
  let generated = 0;
  function* generate() {
    for (let i = 0; generated < total; i++) {
      chunk.writeUInt32BE(i, 0);
      generated += chunk.length;
      yield Buffer.from(chunk);
    }
  }
  const sent = createHash('sha256');
  const body = Readable.from(generate()).on('data', (c: Buffer) => sent.update(c));
  const res = await client.invoke({ body, contentLength: total, inferenceId: 'big', signal: new AbortController().signal });
  assert.equal(res.status, 200);
  const received = createHash('sha256');
  let bytes = 0;
  let maxInFlight = 0;
  await pipeline(res.body, async function (source: AsyncIterable<Buffer>) {
    for await (const c of source) {
      bytes += c.length;
      received.update(c);
      maxInFlight = Math.max(maxInFlight, generated - bytes);
    }
  });
  assert.equal(bytes, total);
  assert.equal(received.digest('hex'), sent.digest('hex'));
  // Pulled lazily under backpressure: only socket and stream buffers are ever in flight.
  assert.ok(maxInFlight < 32 * 1024 * 1024, `${Math.round(maxInFlight / 1048576)} MiB were in flight`);
});

test('chunked model response is streamed', async () => {
  const res = await client.invoke(call('x', { customAttributes: 'mode=chunked' }));
  assert.equal(res.status, 200);
  assert.equal(res.customAttributes, 'chunked=yes');
  assert.equal((await readAll(res.body)).toString(), 'chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n');
});

test('non-2xx answers are responses, not errors', async () => {
  for (const status of [400, 500]) {
    const res = await client.invoke(call('bad', { customAttributes: `mode=status-${status}` }));
    assert.equal(res.status, status);
    assert.equal(res.contentType, 'application/json');
    assert.deepEqual(JSON.parse((await readAll(res.body)).toString()), { error: `fixture status ${status}` });
  }
});

test('a timeout signal rejects with timeout', async () => {
  const started = Date.now();
  const err = await rejection(client.invoke(call('slow', { customAttributes: 'mode=sleep-5000', signal: AbortSignal.timeout(200) })));
  assert.equal(err.failure, 'timeout');
  assert.ok(Date.now() - started < 4500, 'rejected at the signal, well before the model would answer (5 s)');
});

test('an abort rejects with aborted, also when already aborted', async () => {
  const controller = new AbortController();
  const pending = client.invoke(call('slow', { customAttributes: 'mode=sleep-5000', signal: controller.signal }));
  setTimeout(() => controller.abort(), 50);
  assert.equal((await rejection(pending)).failure, 'aborted');
  assert.equal((await rejection(client.invoke(call('x', { signal: AbortSignal.abort() })))).failure, 'aborted');
});

test('an abort after the headers fails the response body stream', async () => {
  const controller = new AbortController();
  const res = await client.invoke(call('x', { customAttributes: 'mode=stall', signal: controller.signal }));
  assert.equal(res.status, 200);
  const reading = readAll(res.body);
  setTimeout(() => controller.abort(), 50);
  assert.equal((await rejection(reading)).failure, 'aborted');
});

test('an input stream error rejects with that error', async () => {
  const boom = new Error('input broke');
  async function* failing() {
    yield Buffer.from('partial');
    await new Promise((r) => setTimeout(r, 20));
    throw boom;
  }
  const res = client.invoke({ body: Readable.from(failing()), inferenceId: 'i', customAttributes: 'mode=inspect', signal: new AbortController().signal });
  await assert.rejects(res, (err) => err === boom);
});

test('the client keeps working after failures (keep-alive pool is healthy)', async () => {
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const res = await client.invoke(call(`n${i}`));
    return (await readAll(res.body)).toString();
  }));
  assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => `n${i}`));
});

test('a model crash mid-request rejects with connection-lost', async () => {
  const own = await startFixture();
  const c = createHttpModelClient({ baseUrl: own.url, logger: silentLogger });
  try {
    const err = await rejection(c.invoke(call('die', { customAttributes: 'mode=crash' })));
    assert.equal(err.failure, 'connection-lost');
  } finally {
    await c.stop();
    await own.kill();
  }
});

test('nothing listening rejects with unreachable', async () => {
  const c = createHttpModelClient({ baseUrl: `http://127.0.0.1:${await unusedPort()}`, logger: silentLogger });
  const err = await rejection(c.invoke(call('x')));
  assert.equal(err.failure, 'unreachable');
  await c.stop();
});

test('health: starting, healthy on ping 200, unhealthy when the server dies, stopped', async () => {
  const own = await startFixture();
  const c = createHttpModelClient({ baseUrl: own.url, logger: silentLogger, pingIntervalMs: 50, pingTimeoutMs: 500 });
  assert.equal(c.health(), 'starting');
  await c.start();
  assert.equal(await waitForHealthy(c, 10_000), true);
  const unhealthy = nextHealth(c, 'unhealthy');
  await own.kill();
  await unhealthy;
  await c.stop();
  assert.equal(c.health(), 'stopped');
});

test('health: a failing /ping is unhealthy; waitForHealthy times out with false', async () => {
  const own = await startFixture({ FIXTURE_PING: 'fail' });
  const c = createHttpModelClient({ baseUrl: own.url, logger: silentLogger, pingIntervalMs: 50 });
  try {
    const unhealthy = nextHealth(c, 'unhealthy');
    await c.start();
    await unhealthy;
    assert.equal(await waitForHealthy(c, 200), false);
  } finally {
    await c.stop();
    await own.kill();
  }
});

test('health: a slow /ping times out and counts as unhealthy', async () => {
  const own = await startFixture({ FIXTURE_PING: 'slow' });
  const c = createHttpModelClient({ baseUrl: own.url, logger: silentLogger, pingIntervalMs: 50, pingTimeoutMs: 100 });
  try {
    const unhealthy = nextHealth(c, 'unhealthy');
    await c.start();
    await unhealthy;
  } finally {
    await c.stop();
    await own.kill();
  }
});
