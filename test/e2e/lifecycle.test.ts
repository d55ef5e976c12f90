/**
 * Documented lifecycle behaviour, run on real processes: `server.maxBacklogPerEndpoint` (503 in
 * SageMaker's shape, nothing enqueued), graceful shutdown with a real-time call and an async
 * request in flight (`server.shutdownGraceSeconds`: within the grace both finish and new
 * connections are refused; past it the call is cut and the async request goes back to the queue
 * and runs at the next start), and `server.requestRetentionSeconds` (finished requests leave the
 * status API, their output objects stay). Requests are held by the fixture model's gates, so
 * every step waits for an event, not for time.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { waitForOutput, type ServerProcess } from '../helpers/server.js';
import {
  Harness, awaitTerminal, errorOf, fixtureModel, getStatus, invokeRaw, rawRequest, readObject, signed, terminalObjects, type Raw,
} from '../helpers/async.js';
import { gateAttributes, openGate } from '../helpers/processes.js';
import { DEV, REGION } from '../helpers/clients.js';
import { signRequest } from '../../src/auth/index.js';

const h = new Harness();
const holders: Server[] = [];

after(async () => {
  keepAlive.destroy();
  for (const s of holders) await new Promise((resolve) => s.close(resolve));
  await h.cleanup();
});

/** A port whose listener resets every connection: a url model on it never becomes healthy. */
async function refusingPort(): Promise<number> {
  const holder = createServer((socket) => socket.resetAndDestroy()).listen(0, '127.0.0.1');
  holders.push(holder);
  await once(holder, 'listening');
  return (holder.address() as { port: number }).port;
}

const keepAlive = new Agent({ keepAlive: true });

/** A real-time call (InvokeEndpoint) held by the fixture's gate `token`, sent on a kept-alive connection. */
function gatedRealtime(server: ServerProcess, endpoint: string, token: string): Promise<Raw> {
  const url = new URL(`/endpoints/${endpoint}/invocations`, server.url);
  const body = Buffer.from('real-time');
  const headers = signRequest({
    method: 'POST', url, service: 'sagemaker', region: REGION, ...DEV,
    headers: { 'content-type': 'text/plain', 'x-amzn-sagemaker-custom-attributes': gateAttributes(token), 'content-length': String(body.length) },
    payloadHash: createHash('sha256').update(body).digest('hex'),
  });
  return rawRequest('POST', url, headers, body, undefined, keepAlive);
}

/** Resolves with the error code of a connection attempt (ECONNREFUSED once the listener is closed). */
async function connectError(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const outcome = await Promise.race([
    once(socket, 'error').then(([err]) => (err as NodeJS.ErrnoException).code ?? 'error'),
    once(socket, 'connect').then(() => 'connected'),
  ]);
  socket.destroy();
  return outcome;
}

describe('server.maxBacklogPerEndpoint', () => {
  test('a full backlog (model never answers): the next InvokeEndpointAsync is 503 ServiceUnavailable (JS SDK and raw), nothing enqueued', async () => {
    const port = await refusingPort();
    const server = await h.start(h.config({
      server: { maxBacklogPerEndpoint: 3 },
      endpoints: [{ name: 'full', model: { url: `http://127.0.0.1:${port}`, pingIntervalSeconds: 0.2 } }],
    }));
    for (let i = 1; i <= 3; i++) {
      const res = await invokeRaw(server.url, 'full', { 'x-amzn-sagemaker-inference-id': `queued-${i}` }, Buffer.from(`job ${i}`));
      assert.equal(res.status, 202, res.body.toString());
    }
    await assert.rejects(
      h.client(server.url).send(new InvokeEndpointAsyncCommand({ EndpointName: 'full', InferenceId: 'refused-sdk', InputLocation: 's3://in/x' })),
      (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(err.name, 'ServiceUnavailable');
        assert.equal(err.$metadata?.httpStatusCode, 503);
        assert.match(err.message, /full has 3 queued requests \(the limit is 3\)/);
        return true;
      },
    );
    const raw = await invokeRaw(server.url, 'full', { 'x-amzn-sagemaker-inference-id': 'refused-raw' }, Buffer.from('one too many'));
    assert.equal(raw.status, 503);
    assert.equal(raw.headers['content-type'], 'application/json');
    assert.deepEqual(errorOf(raw), { type: 'ServiceUnavailable', message: 'Endpoint full has 3 queued requests (the limit is 3); try again later.' });
    for (const id of ['refused-sdk', 'refused-raw']) {
      await assert.rejects(getStatus(server.url, 'full', id), /400 .*not found/, `${id} was not enqueued`);
    }
    assert.equal((await getStatus(server.url, 'full', 'queued-3')).Status, 'Queued');
  });
});

describe('graceful shutdown (SIGTERM) with a real-time call and an async request in flight', () => {
  /** A server whose endpoint `drain` runs the fixture with gates in `gates`; both requests are started and seen by the model. */
  async function twoInFlight(grace: number, id: string): Promise<{ server: ServerProcess; gates: string; config: string; realtime: Promise<Raw> }> {
    const gates = h.dir('inferq-gates-');
    const config = h.config({
      server: { shutdownGraceSeconds: grace },
      endpoints: [{ name: 'drain', model: fixtureModel({ FIXTURE_GATE_DIR: gates }), async: { outputPath: 's3://drain/out', failurePath: 's3://drain/err' } }],
    });
    const server = await h.start(config);
    const res = await invokeRaw(server.url, 'drain', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-custom-attributes': gateAttributes('async') }, Buffer.from('async'));
    assert.equal(res.status, 202, res.body.toString());
    await waitForOutput(server, new RegExp(`fixture gate waiting token=async chunk=1 inference-id=${id}`), 0, 60_000);
    const realtime = gatedRealtime(server, 'drain', 'rt');
    realtime.catch(() => undefined);
    await waitForOutput(server, /fixture gate waiting token=rt chunk=1/, 0, 60_000);
    return { server, gates, config, realtime };
  }

  test('within shutdownGraceSeconds: new connections are refused, both finish, the server exits 0 before the grace is out', async () => {
    const { server, gates, config, realtime } = await twoInFlight(120, 'drain-1');
    const exit = once(server.proc, 'exit');
    const from = server.output().length;
    const signalled = Date.now();
    server.proc.kill('SIGTERM');
    await waitForOutput(server, /the port is closed; draining the requests in flight requests=1 graceSeconds=120/, from);
    assert.equal(await connectError(server.port), 'ECONNREFUSED', 'the listener is closed while requests drain');
    assert.equal(server.proc.exitCode, null, 'still draining');
    openGate(gates, 'rt');
    openGate(gates, 'async');
    const rt = await realtime;
    assert.equal(rt.status, 200, rt.body.toString());
    assert.equal(rt.body.toString(), 'part-1\npart-2\n');
    assert.equal(rt.headers.connection, 'close', 'the answer closes its connection (no more requests on it)');
    const [code] = (await exit) as [number | null];
    assert.equal(code, 0, server.output());
    assert.ok(Date.now() - signalled < 100_000, 'the server exited once the requests were done, not at the end of the grace');

    const again = await h.start(config, server.dataDir);
    const status = await getStatus(again.url, 'drain', 'drain-1');
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    assert.equal(status.Attempts, 1);
    const { output, failure } = await terminalObjects(again.url, status);
    assert.equal(output?.body.toString(), 'part-1\npart-2\n');
    assert.equal(failure, undefined);
  });

  test('past shutdownGraceSeconds: the real-time call is cut, the async request goes back to the queue and runs at the next start', async () => {
    const { server, gates, config, realtime } = await twoInFlight(1, 'cut-1');
    const exit = once(server.proc, 'exit');
    server.proc.kill('SIGTERM');
    await assert.rejects(realtime, /socket hang up|ECONNRESET/, 'the held real-time call is cut after the grace');
    const [code] = (await exit) as [number | null];
    assert.equal(code, 0, server.output());
    assert.equal([...server.output().matchAll(/token=async chunk=1 inference-id=cut-1/g)].length, 1);
    assert.match(server.output(), /shutdown grace is over: the requests still running go back to the queue requests=1/);

    openGate(gates, 'async');
    const again = await h.start(config, server.dataDir);
    const status = await awaitTerminal(again.url, 'drain', 'cut-1', 60_000);
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    assert.equal(status.Attempts, 1, 'the cut attempt is not counted');
    assert.match(again.output(), /token=async chunk=1 inference-id=cut-1/, 'the restarted server sent it to the model again');
    const { output, failure } = await terminalObjects(again.url, status);
    assert.equal(output?.body.toString(), 'part-1\npart-2\n');
    assert.equal(failure, undefined);
  });
});

describe('server.requestRetentionSeconds', () => {
  test('finished requests older than the retention leave the status API (their InferenceId is free again); output objects and unfinished requests stay', async () => {
    const gates = h.dir('inferq-gates-');
    const server = await h.start(h.config({
      server: { requestRetentionSeconds: 2 },
      endpoints: [{ name: 'keep', model: fixtureModel({ FIXTURE_GATE_DIR: gates }), async: { outputPath: 's3://keep/out', failurePath: 's3://keep/err' } }],
    }));
    const held = await invokeRaw(server.url, 'keep', { 'x-amzn-sagemaker-inference-id': 'held-1', 'x-amzn-sagemaker-custom-attributes': gateAttributes('held') }, Buffer.from('held'));
    assert.equal(held.status, 202);
    await waitForOutput(server, /token=held chunk=1 inference-id=held-1/, 0, 60_000);
    const res = await invokeRaw(server.url, 'keep', { 'x-amzn-sagemaker-inference-id': 'old-1', 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from('kept output'));
    assert.equal(res.status, 202);
    const done = await awaitTerminal(server.url, 'keep', 'old-1', 60_000);
    assert.equal(done.Status, 'Succeeded', done.FailureReason);

    // The purge runs every second and logs what it removed: wait for that line, then look.
    await waitForOutput(server, /purged finished requests past their retention requests=1/, 0, 60_000);
    const raw = await signed(server.url, 'sagemaker', 'GET', '/endpoints/keep/async-invocations/old-1');
    assert.equal(raw.status, 400, raw.body.toString());
    assert.deepEqual(errorOf(raw), { type: 'ValidationError', message: 'Inference old-1 of endpoint keep not found.' });
    assert.equal((await readObject(server.url, done.OutputLocation))?.body.toString(), 'kept output', 'the output object stays');
    assert.equal((await getStatus(server.url, 'keep', 'held-1')).Status, 'Running', 'an unfinished request is kept');

    const reused = await invokeRaw(server.url, 'keep', { 'x-amzn-sagemaker-inference-id': 'old-1' }, Buffer.from('a new request'));
    assert.equal(reused.status, 202, 'the InferenceId is a new request now');
    assert.equal((await awaitTerminal(server.url, 'keep', 'old-1', 60_000)).Status, 'Succeeded');
    assert.equal((await readObject(server.url, done.OutputLocation))?.body.toString(), 'a new request');
    openGate(gates, 'held');
    assert.equal((await awaitTerminal(server.url, 'keep', 'held-1', 60_000)).Status, 'Succeeded');
  });
});
