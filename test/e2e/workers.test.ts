/**
 * Workers in several processes on one data directory (`inferq serve` + `inferq worker`, as the
 * README describes): a lease renewed while a slow model works is not taken by another process; a
 * lease lost (its worker frozen with SIGSTOP) is re-claimed, and the frozen worker, once thawed,
 * drops the request without writing; a SIGKILLed worker's request is taken by the other process
 * when the lease runs out; and `maxAttempts`: a request whose workers keep dying fails after
 * exactly that many starts, with the failure object.
 *
 * To make `inferq worker` the process that claims a request, the serve process's only model slot
 * (`maxConcurrentInvocations: 1`) is first held by a real-time call; releasing that call is what
 * lets serve's own workers claim. Requests are held by the fixture's gates, one gate directory per
 * process, so the test decides which process's model may answer.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { waitForOutput, type ServerProcess } from '../helpers/server.js';
import {
  Harness, awaitChange, awaitTerminal, fixtureModel, getStatus, invokeRaw, signed, terminalObjects, type Raw,
} from '../helpers/async.js';
import { Workers, gateAttributes, openGate, stopOutsideTransaction, waitForLine, type WorkerProcess } from '../helpers/processes.js';

const h = new Harness();
const workers = new Workers();

after(async () => {
  await workers.cleanup();
  await h.cleanup();
});

const LEASE_SECONDS = 3;

/** A config for one process: endpoint `lease` on the fixture with its own gate directory. */
function processConfig(gates: string, extra: Record<string, unknown> = {}, maxAttempts = 3): string {
  return h.config({
    worker: { leaseSeconds: LEASE_SECONDS },
    ...extra,
    endpoints: [{
      name: 'lease',
      model: fixtureModel({ FIXTURE_GATE_DIR: gates }),
      async: { maxConcurrentInvocations: 1, maxAttempts, outputPath: 's3://lease/out', failurePath: 's3://lease/err' },
    }],
  });
}

interface Pair {
  server: ServerProcess;
  worker: WorkerProcess;
  serveGates: string;
  workerGates: string;
  /** The real-time call holding serve's only slot; resolves once `serveGates/rt.1` is opened. */
  holding: Promise<Raw>;
}

/** serve (workers on, its one slot held by a real-time call) + `inferq worker`; request `id` is running in the worker's model. */
async function pairWithRequestInWorker(id: string, workerLog: Record<string, unknown> = {}): Promise<Pair> {
  const serveGates = h.dir('inferq-gates-serve-');
  const workerGates = h.dir('inferq-gates-worker-');
  const server = await h.start(processConfig(serveGates));
  const holding = signed(server.url, 'sagemaker', 'POST', '/endpoints/lease/invocations', { 'x-amzn-sagemaker-custom-attributes': gateAttributes('rt') }, Buffer.from('hold'));
  holding.catch(() => undefined);
  await waitForOutput(server, /fixture gate waiting token=rt chunk=1/, 0, 60_000);
  const worker = await workers.start(processConfig(workerGates, workerLog), server.dataDir);
  const res = await invokeRaw(server.url, 'lease', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-custom-attributes': gateAttributes('job') }, Buffer.from(id));
  assert.equal(res.status, 202, res.body.toString());
  await waitForLine(worker, new RegExp(`fixture gate waiting token=job chunk=1 inference-id=${id}`));
  return { server, worker, serveGates, workerGates, holding };
}

/** Releases serve's slot (the held real-time call answers 200). */
async function freeServeSlot(pair: Pair): Promise<void> {
  openGate(pair.serveGates, 'rt');
  assert.equal((await pair.holding).status, 200);
}

/** Stops both processes (SIGTERM) so they do not load the machine during the next tests. */
async function stopPair(pair: Pair): Promise<void> {
  await pair.worker.stop();
  await pair.server.stop();
}

function modelCalls(output: string, id: string): number {
  return [...output.matchAll(new RegExp(`fixture gate waiting token=job chunk=1 inference-id=${id}\\b`, 'g'))].length;
}

describe('leases across processes (serve + inferq worker on one data directory)', () => {
  test('a lease renewed while the model works is not taken by the other process, long past the lease length', async () => {
    const pair = await pairWithRequestInWorker('renewed-1');
    await freeServeSlot(pair);
    // The property is about time passing: an unrenewed lease would run out after LEASE_SECONDS,
    // and serve's workers look for stale leases every 250 ms. Three lease lengths go by.
    await new Promise((resolve) => setTimeout(resolve, 3 * LEASE_SECONDS * 1000));
    const running = await getStatus(pair.server.url, 'lease', 'renewed-1');
    assert.equal(running.Status, 'Running');
    assert.equal(running.Attempts, 1, 'claimed once');
    assert.equal(modelCalls(pair.server.output(), 'renewed-1'), 0, 'serve never took it');

    openGate(pair.workerGates, 'job');
    const status = await awaitTerminal(pair.server.url, 'lease', 'renewed-1', 60_000);
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    assert.equal(status.Attempts, 1);
    const { output, failure } = await terminalObjects(pair.server.url, status);
    assert.equal(output?.body.toString(), 'part-1\npart-2\n');
    assert.equal(failure, undefined);
    await stopPair(pair);
  });

  test('a lost lease (worker frozen) is re-claimed by serve and finished there; the thawed worker drops the request without writing', async () => {
    const pair = await pairWithRequestInWorker('lost-1', { server: { logLevel: 'debug' } });
    await stopOutsideTransaction(pair.worker.proc, join(pair.server.dataDir, 'queue/jobs.db'));
    await freeServeSlot(pair);
    await waitForOutput(pair.server, /fixture gate waiting token=job chunk=1 inference-id=lost-1\b/, 0, 60_000);
    const reclaimed = await getStatus(pair.server.url, 'lease', 'lost-1');
    assert.equal(reclaimed.Status, 'Running');
    assert.equal(reclaimed.Attempts, 2, 'claimed a second time once the lease ran out');

    openGate(pair.serveGates, 'job');
    const status = await awaitTerminal(pair.server.url, 'lease', 'lost-1', 60_000);
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    assert.equal(status.Attempts, 2);

    const from = pair.worker.output().length;
    pair.worker.proc.kill('SIGCONT');
    await waitForLine(pair.worker, /released inferenceId=lost-1 why=shutdown/, from);
    const after = await getStatus(pair.server.url, 'lease', 'lost-1');
    assert.equal(after.Status, 'Succeeded');
    assert.equal(after.FinishedTime, status.FinishedTime, 'the thawed worker did not finish it again');
    const { output, failure } = await terminalObjects(pair.server.url, status);
    assert.equal(output?.body.toString(), 'part-1\npart-2\n');
    assert.equal(failure, undefined);
    assert.doesNotMatch(pair.worker.output().slice(from), /lease lost before finishing/, 'it never got as far as finishing');
    await stopPair(pair);
  });

  test('an inferq worker SIGKILLed mid-request: serve takes its lease when it runs out and finishes the request', async () => {
    const pair = await pairWithRequestInWorker('killed-1');
    await pair.worker.kill();
    openGate(pair.serveGates, 'job');
    await freeServeSlot(pair);
    const status = await awaitTerminal(pair.server.url, 'lease', 'killed-1', 60_000);
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    assert.equal(status.Attempts, 2);
    assert.equal(modelCalls(pair.server.output(), 'killed-1'), 1, 'serve ran it once');
    const { output, failure } = await terminalObjects(pair.server.url, status);
    assert.equal(output?.body.toString(), 'part-1\npart-2\n');
    assert.equal(failure, undefined);
    await stopPair(pair);
  });
});

describe('async.maxAttempts', () => {
  test('maxAttempts 2, the worker process dies on every attempt: Failed after exactly 2 model calls, with InternalFailure in the failure object', async () => {
    const gates = h.dir('inferq-gates-');
    const server = await h.start(processConfig(gates, { worker: { enabled: false, leaseSeconds: LEASE_SECONDS } }, 2));
    const config = processConfig(gates, {}, 2);
    const res = await invokeRaw(server.url, 'lease', { 'x-amzn-sagemaker-inference-id': 'doomed-1', 'x-amzn-sagemaker-custom-attributes': gateAttributes('job') }, Buffer.from('doomed'));
    assert.equal(res.status, 202, res.body.toString());
    const outputs: string[] = [];
    for (let attempt = 1; attempt <= 2; attempt++) {
      // Each new worker process takes back the request of the dead one at start (same host, dead pid).
      const worker = await workers.start(config, server.dataDir);
      await waitForLine(worker, /fixture gate waiting token=job chunk=1 inference-id=doomed-1\b/);
      assert.equal((await getStatus(server.url, 'lease', 'doomed-1')).Attempts, attempt);
      await worker.kill();
      outputs.push(worker.output());
    }
    const last = await workers.start(config, server.dataDir);
    const status = await awaitTerminal(server.url, 'lease', 'doomed-1', 60_000);
    outputs.push(last.output());
    assert.equal(status.Status, 'Failed');
    assert.match(status.FailureReason ?? '', /^InternalFailure: the request was started 2 times and the worker running it stopped each time/);
    assert.equal(status.Attempts, 3, 'the third take is the one that gives up, without calling the model');
    assert.equal(outputs.reduce((n, out) => n + modelCalls(out, 'doomed-1'), 0), 2, 'the model got the request exactly maxAttempts times');
    const { output, failure } = await terminalObjects(server.url, status);
    assert.equal(output, undefined);
    assert.match(failure?.body.toString() ?? '', /^InternalFailure: the request was started 2 times/);
    assert.equal((await awaitChange(server.url, 'lease', 'doomed-1', 'Failed', 1000)).Status, 'Failed', 'and it stays failed');
  });
});
