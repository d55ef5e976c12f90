/**
 * Model instances against a real server with the fixture as a `command` model: cold start from
 * zero (real-time and async), scale-out under an async backlog up to `instances.max` and back to
 * `min` once idle (checked in the log, `GET /endpoints/{name}` and `inferq status --json`), and a
 * model process dying mid-request (real-time: ModelError with OriginalStatusCode 0 in the JS SDK
 * and boto3; async, whether the model exits or is SIGKILLed: Failed with a failure object stating
 * "(0)", exactly one terminal object, and the request is not sent to the restarted model again).
 * Waits on the server's log lines and the status long poll rather than sleeping.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvokeEndpointAsyncCommand, InvokeEndpointCommand, ModelError, type SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { awsEnv, boto3Runtime, run } from '../helpers/clients.js';
import {
  Harness, awaitTerminal, fixtureModel, getStatus, isOurModel, signed, terminalObjects, type AsyncStatus,
} from '../helpers/async.js';
import { CLI, awaitOutput, escapeRegExp as re, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;

const BURST = 20;
// Long enough that the peak of 3 instances outlasts an `inferq status` process starting on 2 busy cores.
const BURST_SLEEP_MS = 1200;

before(async () => {
  server = await h.start(h.config({
    endpoints: [
      { name: 'cold', model: fixtureModel(), instances: { min: 0, max: 1, idleTimeoutSeconds: 1 } },
      { name: 'coldasync', model: fixtureModel(), instances: { min: 0, max: 1, idleTimeoutSeconds: 1 } },
      {
        name: 'burst', model: fixtureModel(), instances: { min: 1, max: 3, targetBacklogPerInstance: 2, idleTimeoutSeconds: 1 },
        async: { maxConcurrentInvocations: 1 },
      },
      // One endpoint per crash test: a model's restart backoff doubles with each crash.
      { name: 'crashy', model: fixtureModel() },
      { name: 'crashy-py', model: fixtureModel() },
      { name: 'crashy-async', model: fixtureModel() },
      { name: 'victim', model: fixtureModel() },
    ],
  }));
  sm = h.client(server.url);
});
after(() => h.cleanup());

/** The endpoints whose models run from the start (instances.min 1). */
const WARM = ['burst', 'crashy', 'crashy-py', 'crashy-async', 'victim'];

/** Endpoint status document of `GET /endpoints/{name}`. */
interface EndpointDoc {
  EndpointName: string;
  EndpointStatus: string;
  Health: string;
  Instances: { Current: number; Healthy: number; Starting: number; Min: number; Max: number };
  InFlight: number;
  Backlog: { Queued: number; Running: number; OldestQueuedAgeSeconds: number };
}

async function endpointStatus(name: string): Promise<EndpointDoc> {
  const res = await signed(server.url, 'sagemaker', 'GET', `/endpoints/${name}`);
  assert.equal(res.status, 200, res.body.toString());
  return JSON.parse(res.body.toString('utf8')) as EndpointDoc;
}

/** A log line of the endpoint's pool (`[inferq:model:NAME] …`), or of one of its instances with `instance: true`. */
function poolLine(endpoint: string, message: string, instance = false): RegExp {
  return new RegExp(`\\[inferq:model:${re(endpoint)}${instance ? '#\\d+' : ''}\\] ${message}`);
}

/** Resolves once `done(output)` holds for the server's output (checked on every chunk, no polling); rejects after `timeoutMs` or when the server exits. */
function waitForOutput<T>(done: (output: string) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  return awaitOutput(server.proc, server.output, done, what, timeoutMs);
}

/** Resolves with the first match of `pattern` in the server's output after offset `from`. */
function waitForLog(pattern: RegExp, from = 0, timeoutMs?: number): Promise<RegExpExecArray> {
  return waitForOutput((output) => pattern.exec(output.slice(from)) ?? undefined, `log line ${pattern}`, timeoutMs);
}

/** Counts the lines of `output` matching `pattern` (a non-global RegExp). */
function count(output: string, pattern: RegExp): number {
  return output.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

/** Where the last match of `pattern` (a non-global RegExp) starts in `output`, or -1. */
function lastIndex(output: string, pattern: RegExp): number {
  let at = -1;
  for (const m of output.matchAll(new RegExp(pattern.source, 'g'))) at = m.index;
  return at;
}

/**
 * Resolves once the pool of `endpoint` has noticed a crash after offset `from` and is whole
 * again: a process exited since `from`, every process but the newest has exited, and the newest
 * has become healthy since it started (a call sent before that could reach a dying process, or
 * wait for a restart). It holds however many processes the crashing call reached (a call whose
 * kept-alive connection is lost without an answer is sent once more, to the restarted model).
 */
function crashNoticed(endpoint: string, from: number): Promise<true> {
  const exited = poolLine(endpoint, 'model process exited', true);
  const started = poolLine(endpoint, 'model process started', true);
  const healthy = poolLine(endpoint, 'model health changed from=\\w+ to=healthy', true);
  return waitForOutput((output) => {
    const whole = count(output, exited) >= count(output, started) - 1 && lastIndex(output, healthy) > lastIndex(output, started);
    return count(output.slice(from), exited) >= 1 && whole ? true : undefined;
  }, `the crash of an ${endpoint} process to be noticed and its restart healthy`, 60_000);
}

/** Pids logged as `model process started` by the instances of `endpoint`, in order. */
function startedPids(endpoint: string, from = 0): number[] {
  const pattern = new RegExp(`\\[inferq:model:${re(endpoint)}#\\d+\\] model process started pid=(\\d+)`, 'g');
  return [...server.output().slice(from).matchAll(pattern)].map((m) => Number(m[1]));
}

/** Awaits the terminal state and checks that exactly one terminal object exists, the one matching the status. */
async function onlyOneTerminal(endpoint: string, id: string, timeoutMs?: number): Promise<{ status: AsyncStatus; body: string }> {
  const status = await awaitTerminal(server.url, endpoint, id, timeoutMs);
  const { output, failure } = await terminalObjects(server.url, status);
  assert.equal(Number(output !== undefined) + Number(failure !== undefined), 1, `${id} (${status.Status}): output ${output ? 'present' : 'absent'}, failure ${failure ? 'present' : 'absent'}`);
  if (status.Status === 'Succeeded') assert.ok(output, `${id}: succeeded without an output object`);
  else assert.ok(failure, `${id}: ${status.Status} without a failure object`);
  return { status, body: (output ?? failure)!.body.toString('utf8') };
}

/** Runs `inferq status --endpoint-url URL --json` and returns the endpoint documents. */
async function statusCli(): Promise<EndpointDoc[]> {
  const r = await run(process.execPath, [CLI, 'status', '--endpoint-url', server.url, '--json'], awsEnv(server.url));
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EndpointDoc[];
}

/** Runs a boto3 snippet (`rt` is the sagemaker-runtime client, no retries) and parses the JSON it prints. */
const boto3 = (code: string): Promise<Record<string, unknown>> => boto3Runtime(server.url, code);

describe('cold start from zero (instances.min 0)', () => {
  test('real-time: no process until the first call, which waits through the cold start; back to zero after idleTimeoutSeconds', async (t) => {
    const before = await endpointStatus('cold');
    assert.deepEqual(before.Instances, { Current: 0, Healthy: 0, Starting: 0, Min: 0, Max: 1 });
    assert.equal(before.Health, 'stopped');
    assert.deepEqual(startedPids('cold'), [], 'a scaled-to-zero endpoint starts no model process by itself');
    assert.deepEqual(startedPids('coldasync'), []);
    // Let the other endpoints' models finish starting, so the measurement is this cold start alone.
    await Promise.all(WARM.map((name) => waitForLog(poolLine(name, 'model health changed from=starting to=healthy'))));
    assert.equal((await endpointStatus('cold')).Instances.Current, 0, 'still no instance');
    assert.deepEqual(startedPids('cold'), []);

    const mark = server.output().length;
    const started = performance.now();
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'cold', Body: Buffer.from('wake up'), ContentType: 'text/plain', CustomAttributes: 'mode=echo' }));
    const elapsed = Math.round(performance.now() - started);
    t.diagnostic(`real-time cold start: InvokeEndpoint answered after ${elapsed} ms`);
    assert.equal(Buffer.from(res.Body).toString(), 'wake up');
    assert.match(server.output().slice(mark), poolLine('cold', 'cold start from zero instances=1'));
    assert.equal(startedPids('cold').length, 1, 'one model process was started on demand');

    const during = await endpointStatus('cold');
    assert.equal(during.Instances.Current, 1);
    assert.equal(during.Instances.Healthy, 1);
    assert.equal(during.Health, 'healthy');

    const idleFrom = performance.now();
    await waitForLog(poolLine('cold', 'scaled to zero instances=0'), mark);
    t.diagnostic(`scaled to zero ${Math.round(performance.now() - idleFrom)} ms after the call (idleTimeoutSeconds 1)`);
    const afterIdle = await endpointStatus('cold');
    assert.equal(afterIdle.Instances.Current, 0);
    assert.equal(afterIdle.Health, 'stopped');
    await waitForLog(poolLine('cold', 'model process exited', true), mark);
    assert.equal(isOurModel(startedPids('cold')[0]!), false, 'the model process is gone');
  });

  test('async: a queued request starts the model on demand and completes', async (t) => {
    assert.deepEqual(startedPids('coldasync'), []);
    assert.equal((await endpointStatus('coldasync')).Instances.Current, 0);
    const mark = server.output().length;
    const started = performance.now();
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'coldasync', Body: Buffer.from('{"later":true}'), ContentType: 'application/json', CustomAttributes: 'mode=echo', InferenceId: 'cold-async-1' }));
    const { status, body } = await onlyOneTerminal('coldasync', 'cold-async-1');
    t.diagnostic(`async cold start: Succeeded ${Math.round(performance.now() - started)} ms after InvokeEndpointAsync`);
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    assert.equal(status.Attempts, 1);
    assert.equal(body, '{"later":true}');
    assert.match(server.output().slice(mark), poolLine('coldasync', 'cold start from zero instances=1 backlog=1'));
    assert.equal(startedPids('coldasync').length, 1);
    await waitForLog(poolLine('coldasync', 'scaled to zero instances=0'), mark);
    assert.equal((await endpointStatus('coldasync')).Instances.Current, 0);
  });
});

describe('scaling under backlog (min 1, max 3, targetBacklogPerInstance 2, one call per instance)', () => {
  test(`${BURST} slow async requests: scales out one instance at a time to 3, all succeed, then scales in to 1 when idle`, async (t) => {
    const initial = await endpointStatus('burst');
    assert.equal(initial.Instances.Current, 1);
    assert.equal(initial.Instances.Max, 3);
    const mark = server.output().length;
    const started = performance.now();
    const ids = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
    await Promise.all(ids.map((id) => sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'burst', Body: Buffer.from(id), CustomAttributes: `mode=sleep-${BURST_SLEEP_MS}`, InferenceId: id }))));

    await waitForLog(poolLine('burst', 'scaled out instances=2 backlog=\\d+'), mark);
    await waitForLog(poolLine('burst', 'scaled out instances=3 backlog=\\d+'), mark);
    t.diagnostic(`3 instances ${Math.round(performance.now() - started)} ms after the burst was submitted`);
    const peak = await endpointStatus('burst');
    assert.equal(peak.Instances.Current, 3);
    assert.ok(peak.Backlog.Queued + peak.Backlog.Running > 0, 'still busy at the peak');
    const cliPeak = (await statusCli()).find((d) => d.EndpointName === 'burst');
    assert.equal(cliPeak?.Instances.Current, 3, 'inferq status --json shows the 3 instances');
    assert.equal(startedPids('burst').length, 3, 'one process per instance');

    const results = await Promise.all(ids.map((id) => onlyOneTerminal('burst', id)));
    t.diagnostic(`${BURST} requests of ${BURST_SLEEP_MS} ms done after ${Math.round(performance.now() - started)} ms`);
    for (const { status, body } of results) {
      assert.equal(status.Status, 'Succeeded', status.FailureReason);
      assert.equal(body, `{"slept":${BURST_SLEEP_MS}}`);
    }
    const log = server.output().slice(mark);
    // An instance may stop at the tail of the burst, but only once every request has reached a
    // model (the fixture logs each one it receives), never while one still waits in the queue.
    const firstScaleIn = log.search(poolLine('burst', 'scaled in'));
    if (firstScaleIn >= 0) {
      const received = count(log.slice(0, firstScaleIn), /fixture sleeping ms=\d+ inference-id=burst-/g);
      assert.ok(received >= BURST, `no instance stopped while work was queued (${received} of ${BURST} requests had reached a model)`);
    }

    await waitForLog(poolLine('burst', 'scaled in instances=1 '), mark);
    const idle = await endpointStatus('burst');
    assert.equal(idle.Instances.Current, 1);
    assert.equal(idle.Health, 'healthy');
    assert.deepEqual(idle.Backlog, { Queued: 0, Running: 0, OldestQueuedAgeSeconds: 0 });
    const cliIdle = (await statusCli()).find((d) => d.EndpointName === 'burst');
    assert.equal(cliIdle?.Instances.Current, 1, 'inferq status --json shows min again');
    assert.equal(cliIdle?.Instances.Min, 1);
    assert.equal(count(server.output().slice(mark), poolLine('burst', 'scaled in instances=\\d')), 2, 'two instances stopped (never below min)');
    assert.doesNotMatch(server.output().slice(mark), poolLine('burst', 'scaled to zero'));
  });
});

describe('inferq status', () => {
  test('without --json it prints one row per endpoint: health, instances (healthy/current, min, max), in flight, backlog', async () => {
    await waitForLog(poolLine('victim', 'model health changed from=starting to=healthy', true));
    const r = await run(process.execPath, [CLI, 'status', '--endpoint-url', server.url], awsEnv(server.url));
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines[0]!.split(/\s{2,}/), ['ENDPOINT', 'HEALTH', 'INSTANCES', 'IN FLIGHT', 'QUEUED', 'RUNNING', 'OLDEST']);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/\s+/)[0]).sort(), ['burst', 'cold', 'coldasync', 'crashy', 'crashy-async', 'crashy-py', 'victim']);
    assert.match(lines.find((l) => l.startsWith('victim'))!, /^victim\s+healthy\s+1\/1 \(min 1, max 1\)\s+0\s+0\s+0\s+0s$/);
  });
});

describe('a model process dying mid-request', () => {
  test('real-time (JS SDK): ModelError 424 with OriginalStatusCode 0; the model comes back for the next call', async () => {
    const mark = server.output().length;
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'crashy', Body: Buffer.from('{}'), CustomAttributes: 'mode=crash' })), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.$metadata.httpStatusCode, 424);
      assert.equal(err.OriginalStatusCode, 0);
      assert.match(err.OriginalMessage ?? '', /closed the connection/);
      return true;
    });
    // The crashing call may have been sent once more to the restarted model (a kept-alive connection
    // lost without an answer is retried once), so wait until the pool is whole again.
    await crashNoticed('crashy', mark);
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'crashy', Body: Buffer.from('alive'), CustomAttributes: 'mode=echo' }));
    assert.equal(Buffer.from(res.Body).toString(), 'alive');
    assert.ok(startedPids('crashy', mark).length >= 1, 'the model was restarted');
  });

  test('real-time (boto3): ModelError with OriginalStatusCode 0; the next call succeeds', async () => {
    const mark = server.output().length;
    const out = await boto3(`
try:
    rt.invoke_endpoint(EndpointName='crashy-py', Body=b'{}', CustomAttributes='mode=crash')
    print(json.dumps({'raised': False}))
except rt.exceptions.ModelError as e:
    print(json.dumps({'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'original': e.response.get('OriginalStatusCode')}))`);
    assert.deepEqual(out, { code: 'ModelError', status: 424, original: 0 });
    // A call racing the dying process (before its exit is noticed) would reach it and fail too.
    await crashNoticed('crashy-py', mark);
    const next = await boto3(`
r = rt.invoke_endpoint(EndpointName='crashy-py', Body=b'back', CustomAttributes='mode=echo')
print(json.dumps({'next': r['Body'].read().decode()}))`);
    assert.deepEqual(next, { next: 'back' });
  });

  test('async, the model exits mid-request: Failed with "(0)", only a failure object, the model hit once; it comes back', async () => {
    // A real-time call first leaves a kept-alive connection to the model, which the async call then reuses.
    const warm = await sm.send(new InvokeEndpointCommand({ EndpointName: 'crashy-async', Body: Buffer.from('warm'), CustomAttributes: 'mode=echo' }));
    assert.equal(Buffer.from(warm.Body).toString(), 'warm');
    const mark = server.output().length;
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'crashy-async', Body: Buffer.from('boom'), CustomAttributes: 'mode=crash', InferenceId: 'async-crash-1' }));
    const { status, body } = await onlyOneTerminal('crashy-async', 'async-crash-1');
    assert.equal(status.Status, 'Failed');
    assert.equal(status.Attempts, 1);
    assert.match(status.FailureReason ?? '', /^ClientError: Received server error \(0\) from model/);
    assert.match(body, /\(0\)/);
    await crashNoticed('crashy-async', mark);
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'crashy-async', Body: Buffer.from('after'), CustomAttributes: 'mode=echo', InferenceId: 'async-crash-2' }));
    const next = await onlyOneTerminal('crashy-async', 'async-crash-2');
    assert.equal(next.status.Status, 'Succeeded', next.status.FailureReason);
    assert.equal(next.body, 'after');
    assert.equal(count(server.output().slice(mark), poolLine('crashy-async', 'model process exited unexpectedly', true)), 1, 'the request that crashed the model was not sent to the restarted model again');
  });

  test('async, the model process is SIGKILLed while it works on a request: Failed with "(0)", exactly one terminal object', async (t) => {
    const [pid] = startedPids('victim');
    assert.ok(pid !== undefined && isOurModel(pid), `victim model pid ${pid}`);
    const mark = server.output().length;
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'victim', Body: Buffer.from('{}'), CustomAttributes: 'mode=sleep-5000', InferenceId: 'killed-1' }));
    await waitForLog(poolLine('victim', 'fixture sleeping ms=5000 inference-id=killed-1', true), mark);
    assert.equal((await getStatus(server.url, 'victim', 'killed-1')).Status, 'Running');
    process.kill(pid, 'SIGKILL');
    await waitForLog(poolLine('victim', 'model process exited unexpectedly code=null signal=SIGKILL', true), mark);
    const { status, body } = await onlyOneTerminal('victim', 'killed-1');
    t.diagnostic(`SIGKILLed model: ${status.Status} after ${status.Attempts} attempt(s): ${status.FailureReason}`);
    assert.equal(status.Status, 'Failed');
    assert.equal(status.Attempts, 1);
    assert.match(status.FailureReason ?? '', /^ClientError: Received server error \(0\) from model/);
    assert.match(body, /\(0\)/);
    assert.ok(Date.parse(status.FinishedTime!) - Date.parse(status.StartedTime!) < 5000, 'failed at the kill, not after the model call would have ended');
    await waitForLog(poolLine('victim', 'model process started pid=\\d+', true), mark);
    const restarted = startedPids('victim', mark);
    assert.equal(restarted.length, 1, 'the model was restarted');
    assert.notEqual(restarted[0], pid);
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'victim', Body: Buffer.from('next'), CustomAttributes: 'mode=echo' }));
    assert.equal(Buffer.from(res.Body).toString(), 'next');
    assert.equal(server.output().slice(mark).match(/fixture sleeping ms=5000 inference-id=killed-1/g)?.length, 1, 'the killed request was not run again');
  });
});
