/**
 * HTTP/1.1 pipelining against a real server over raw `node:net` sockets: requests sent together
 * on one connection are served one after the other, in order (a request starts only once the one
 * before it was answered), so a GET sees the PUT before it and the later of two PUTs wins. A large
 * pipelined body waits behind a slow request and is stored whole; a graceful stop answers what is
 * pipelined; requests still waiting when their client leaves are dropped, never run, and do not
 * hold up the shutdown.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Harness, fixtureModel, signed } from '../helpers/async.js';
import { pipelined, RawConnection } from '../helpers/raw-http.js';
import { signedRequestBytes } from '../helpers/raw-sign.js';
import { waitForOutput, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;

const endpoints = [
  { name: 'fixture', model: fixtureModel(), async: { outputPath: 's3://pipe-out/out', failurePath: 's3://pipe-out/err' } },
];

before(async () => {
  server = await h.start(h.config({ endpoints }));
  assert.equal((await signed(server.url, 's3', 'PUT', '/pipe')).status, 200);
});
after(() => h.cleanup());

const put = (key: string, body: Buffer): Buffer => signedRequestBytes(server.url, 's3', 'PUT', `/pipe/${key}`, { 'content-type': 'application/octet-stream' }, body);
const get = (key: string): Buffer => signedRequestBytes(server.url, 's3', 'GET', `/pipe/${key}`);
const md5 = (data: Buffer): string => `"${createHash('md5').update(data).digest('hex')}"`;

/** A real-time call to the fixture model in `mode`. */
const invoke = (mode: string, body: Buffer, base = server.url): Buffer =>
  signedRequestBytes(base, 'sagemaker', 'POST', '/endpoints/fixture/invocations', { 'content-type': 'application/octet-stream', 'x-amzn-sagemaker-custom-attributes': `mode=${mode}` }, body);

describe('pipelined requests on one connection are served in order', () => {
  test('PUT k then GET k in one write: each GET returns the body of the PUT before it', async () => {
    const small = Buffer.from('small body');
    const large = randomBytes(1024 * 1024);
    const replies = await pipelined(server.url, [put('rw-small', small), get('rw-small'), put('rw-large', large), get('rw-large')]);
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200], replies.map((r) => r.body.toString('latin1').slice(0, 200)).join('\n'));
    assert.ok(replies[1]!.body.equals(small));
    assert.ok(replies[3]!.body.equals(large), 'the GET waited for the 1 MiB PUT to be stored');
    assert.equal(replies[3]!.headers.etag, md5(large));
  });

  test('two PUTs of one key in one write: the later one wins, for every key', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `ww-${i}`);
    const first = randomBytes(2 * 1024 * 1024);
    const requests = keys.flatMap((key) => [put(key, first), put(key, Buffer.from(`second ${key}`))]);
    const replies = await pipelined(server.url, [...requests, ...keys.map(get)]);
    assert.deepEqual(replies.slice(0, requests.length).map((r) => r.status), requests.map(() => 200));
    for (const [i, key] of keys.entries()) {
      const reply = replies[requests.length + i]!;
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), `second ${key}`, `the client's later write of ${key} is the one stored`);
    }
  });

  test('InvokeEndpointAsync and status calls, pipelined, answer in order and each status sees its request', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `pipe-async-${i}-${Date.now()}`);
    const requests = ids.flatMap((id) => [
      signedRequestBytes(server.url, 'sagemaker', 'POST', '/endpoints/fixture/async-invocations', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from(`input ${id}`)),
      signedRequestBytes(server.url, 'sagemaker', 'GET', `/endpoints/fixture/async-invocations/${id}`),
    ]);
    const replies = await pipelined(server.url, requests);
    for (const [i, id] of ids.entries()) {
      const accepted = replies[2 * i]!;
      const status = replies[2 * i + 1]!;
      assert.equal(accepted.status, 202, accepted.body.toString());
      assert.equal((JSON.parse(accepted.body.toString()) as { InferenceId: string }).InferenceId, id);
      assert.equal(status.status, 200, `status of ${id}: ${status.body.toString()}`);
      const doc = JSON.parse(status.body.toString()) as { InferenceId: string; Status: string };
      assert.equal(doc.InferenceId, id);
      assert.match(doc.Status, /^(Queued|Running|Succeeded)$/);
    }
  });

  test('an 8 MiB PUT pipelined behind a slow real-time call waits for it, then is stored whole', async () => {
    const big = randomBytes(8 * 1024 * 1024);
    const replies = await pipelined(server.url, [invoke('echo-after-1000', Buffer.from('slow first')), put('behind-slow', big), get('behind-slow')]);
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
    assert.equal(replies[0]!.body.toString(), 'slow first');
    assert.equal(replies[1]!.headers.etag, md5(big));
    assert.ok(replies[2]!.body.equals(big));
  });

  test('bytes after a request with Connection: close: that request is answered (no 400 ahead of it), the rest is not run', async () => {
    const slowClosing = signedRequestBytes(server.url, 'sagemaker', 'POST', '/endpoints/fixture/invocations', { 'x-amzn-sagemaker-custom-attributes': 'mode=echo-after-300', connection: 'close' }, Buffer.from('last one'));
    const conn = await RawConnection.open(server.url);
    void conn.write(slowClosing, put('after-close', Buffer.from('must not be stored')));
    const replies = await conn.untilClosed();
    assert.deepEqual(replies.map((r) => [r.status, r.body.toString()]), [[200, 'last one']]);
    assert.equal((await signed(server.url, 's3', 'GET', '/pipe/after-close')).status, 404);
  });

  test('garbage after pipelined requests: they are answered in order, then a 400, then the connection closes', async () => {
    const conn = await RawConnection.open(server.url);
    void conn.write(invoke('echo-after-300', Buffer.from('first')), put('before-garbage', Buffer.from('kept')), get('before-garbage'), Buffer.from('NOT HTTP AT ALL\r\n\r\n'));
    const replies = await conn.untilClosed();
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 400]);
    assert.equal(replies[0]!.body.toString(), 'first');
    assert.equal(replies[2]!.body.toString(), 'kept');
  });
});

describe('pipelining and shutdown', () => {
  test('SIGTERM while pipelined requests wait: every one is answered in order, then the server exits 0', async () => {
    const own = await h.start(h.config({ endpoints }));
    assert.equal((await signed(own.url, 's3', 'PUT', '/pipe')).status, 200);
    const conn = await RawConnection.open(own.url);
    const mark = own.output().length;
    void conn.write(invoke('sleep-1500', Buffer.from('{}'), own.url), signedRequestBytes(own.url, 's3', 'PUT', '/pipe/during-stop', {}, Buffer.from('stored during stop')), signedRequestBytes(own.url, 's3', 'GET', '/pipe/during-stop'));
    await waitForOutput(own, /fixture sleeping ms=1500/, mark);
    const exited = own.stop();
    const replies = await conn.responsesUpTo(3);
    conn.destroy();
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200], replies.map((r) => r.body.toString()).join('\n'));
    assert.deepEqual(JSON.parse(replies[0]!.body.toString()), { slept: 1500 });
    assert.equal(replies[2]!.body.toString(), 'stored during stop');
    assert.equal(await exited, 0);
  });

  test('a client that leaves while requests wait behind a slow one: they never run, and a stop does not wait for them', async () => {
    const own = await h.start(h.config({ endpoints, server: { shutdownGraceSeconds: 60 } }));
    assert.equal((await signed(own.url, 's3', 'PUT', '/pipe')).status, 200);
    const conn = await RawConnection.open(own.url);
    const mark = own.output().length;
    void conn.write(invoke('sleep-3000', Buffer.from('{}'), own.url), signedRequestBytes(own.url, 's3', 'PUT', '/pipe/abandoned', {}, Buffer.from('never')), signedRequestBytes(own.url, 's3', 'GET', '/pipe/abandoned'));
    await waitForOutput(own, /fixture sleeping ms=3000/, mark);
    conn.destroy();
    await conn.untilClosed();
    assert.equal((await signed(own.url, 's3', 'GET', '/pipe/abandoned')).status, 404, 'the PUT waiting behind the abandoned call was not run');
    const started = Date.now();
    assert.equal(await own.stop(), 0);
    const took = Date.now() - started;
    assert.ok(took < 30_000, `the stop waited ${took} ms (the grace is 60 s): dropped requests must not count as in flight`);
  });
});
