/**
 * InvokeEndpointAsync failure paths end to end: model 4xx/5xx, a model crashing mid-request, the
 * invocation timeout, a missing input, unknown endpoints, every invalid header, a model that is
 * not healthy yet (requests wait) and TTL expiry (the one slow test: RequestTTLSeconds is at least 60).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvokeEndpointAsyncCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { startFixture, type FixtureProcess } from '../helpers/fixture-model.js';
import { holdPort, type HeldPort } from '../helpers/ports.js';
import { awaitModelHealthy, waitForOutput, type ServerProcess } from '../helpers/server.js';
import {
  Harness, awaitChange, awaitTerminal, errorOf, fixtureModel, getStatus, invokeRaw, putObject, signed, terminalObjects, type AsyncStatus,
} from '../helpers/async.js';

const h = new Harness();
const fixtures: FixtureProcess[] = [];
let server: ServerProcess;
let sm: SageMakerRuntimeClient;
let ttlStatus: Promise<AsyncStatus>;
let ttlSubmitted: number;
/**
 * The model URLs of `later` and `never`: ports held for the whole file by listeners that reset
 * every connection (a port merely found free could be taken by another process before it is
 * used); `later`'s starts forwarding to a fixture model once the test starts one.
 */
let later: HeldPort;
let never: HeldPort;

before(async () => {
  later = await holdPort();
  never = await holdPort();
  server = await h.start(h.config({
    server: { inputUrlAllowList: ['https://127.0.0.1:9/allowed/'] },
    endpoints: [
      { name: 'fixture', model: fixtureModel(), async: { outputPath: 's3://results/out', failurePath: 's3://results/err' } },
      { name: 'crashy', model: fixtureModel(), async: { outputPath: 's3://results/crashy', failurePath: 's3://results/crashy-err' } },
      { name: 'later', model: { url: later.url, pingIntervalSeconds: 0.2 } },
      { name: 'never', model: { url: never.url, pingIntervalSeconds: 0.2 } },
    ],
  }));
  sm = h.client(server.url);
  // The TTL test takes a minute by nature (RequestTTLSeconds ≥ 60): submit it first, check it last.
  ttlSubmitted = Date.now();
  const ttl = await invokeRaw(server.url, 'never', { 'x-amzn-sagemaker-inference-id': 'ttl-1', 'x-amzn-sagemaker-requestttlseconds': '60' }, Buffer.from('too late'));
  assert.equal(ttl.status, 202, ttl.body.toString());
  ttlStatus = awaitTerminal(server.url, 'never', 'ttl-1', 90_000);
  void ttlStatus.catch(() => undefined);
});
after(async () => {
  for (const f of fixtures) await f.kill();
  await h.cleanup();
  await Promise.all([later?.close(), never?.close()]);
});

/** Awaits a terminal state and returns it with the failure object, asserting there is no output object. */
async function onlyFailure(endpoint: string, id: string): Promise<{ status: AsyncStatus; failure: Buffer }> {
  const status = await awaitTerminal(server.url, endpoint, id);
  const { output, failure } = await terminalObjects(server.url, status);
  assert.equal(output, undefined, `${id}: an output object exists (${status.Status})`);
  assert.ok(failure, `${id}: no failure object at ${status.FailureLocation}`);
  return { status, failure: failure.body };
}

describe('the model fails', () => {
  for (const code of [400, 418, 500, 503]) {
    test(`model answers ${code}: Failed, the reason names ${code}, the failure object is the model's body verbatim`, async () => {
      const id = `status-${code}`;
      const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), ContentType: 'application/json', CustomAttributes: `mode=status-${code}`, InferenceId: id }));
      assert.equal(res.FailureLocation, `s3://results/err/${id}-error.out`);
      const { status, failure } = await onlyFailure('fixture', id);
      assert.equal(status.Status, 'Failed');
      assert.match(status.FailureReason ?? '', new RegExp(`\\(${code}\\)`));
      assert.match(status.FailureReason ?? '', code >= 500 ? /server error/ : /client error/);
      assert.equal(failure.toString(), `{"error":"fixture status ${code}"}`);
    });
  }

  test('the model process crashes mid-request: Failed with "(0)", and the model is restarted for the next request', async () => {
    // The first start must be over, or its health line would be taken for the restart's.
    await awaitModelHealthy(server, 'crashy');
    const mark = server.output().length;
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'crashy', Body: Buffer.from('boom'), CustomAttributes: 'mode=crash', InferenceId: 'crash-1' }));
    const { status, failure } = await onlyFailure('crashy', 'crash-1');
    assert.equal(status.Status, 'Failed');
    assert.match(status.FailureReason ?? '', /\(0\)/);
    assert.match(failure.toString(), /\(0\)/, 'the failure object states the reason');
    await waitForOutput(server, /\[inferq:model:crashy#0\] model health changed from=starting to=healthy/, mark);
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'crashy', Body: Buffer.from('after the crash'), InferenceId: 'crash-2' }));
    const next = await awaitTerminal(server.url, 'crashy', 'crash-2');
    assert.equal(next.Status, 'Succeeded', next.FailureReason);
  });

  test('InvocationTimeoutSeconds=1 with a model that takes 10 s: Failed with the timeout reason after about 1 s', async () => {
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'fixture', Body: Buffer.from('slow'), CustomAttributes: 'mode=sleep-10000', InvocationTimeoutSeconds: 1, InferenceId: 'timeout-1' }));
    const { status, failure } = await onlyFailure('fixture', 'timeout-1');
    assert.equal(status.Status, 'Failed');
    assert.match(status.FailureReason ?? '', /ModelInvocationTimeExceeded.*InvocationTimeoutSeconds \(1 s\)/);
    assert.match(failure.toString(), /ModelInvocationTimeExceeded/);
    const took = Date.parse(status.FinishedTime!) - Date.parse(status.StartedTime!);
    assert.ok(took >= 900 && took < 9000, `timed out after ${took} ms (the model would answer after 10 s)`);
  });

  test('a missing input object: Failed, the reason names the location', async () => {
    await putObject(server.url, 's3://inputs/present.txt', Buffer.from('x'));
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'fixture', InputLocation: 's3://inputs/absent.txt', InferenceId: 'missing-key' }));
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'fixture', InputLocation: 's3://no-such-bucket/x.txt', InferenceId: 'missing-bucket' }));
    const key = await onlyFailure('fixture', 'missing-key');
    assert.equal(key.status.Status, 'Failed');
    assert.match(key.status.FailureReason ?? '', /s3:\/\/inputs\/absent\.txt.*NoSuchKey/);
    const bucket = await onlyFailure('fixture', 'missing-bucket');
    assert.match(bucket.status.FailureReason ?? '', /s3:\/\/no-such-bucket\/x\.txt.*NoSuchBucket/);
  });

  test('an allow-listed https InputLocation is accepted and fetched (here it cannot be reached: Failed naming the URL)', async () => {
    const url = 'https://127.0.0.1:9/allowed/input.json';
    const res = await invokeRaw(server.url, 'fixture', { 'x-amzn-sagemaker-inputlocation': url, 'x-amzn-sagemaker-inference-id': 'allowed-1' });
    assert.equal(res.status, 202, res.body.toString());
    const { status } = await onlyFailure('fixture', 'allowed-1');
    assert.equal(status.InputLocation, url);
    assert.match(status.FailureReason ?? '', /Could not read the input at https:\/\/127\.0\.0\.1:9\/allowed\/input\.json/);
  });
});

describe('requests refused with 400', () => {
  test('an unknown endpoint is a ValidationError naming the endpoint and account (JS SDK and raw)', async () => {
    let caught: unknown;
    try {
      await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'nope', Body: Buffer.from('x') }));
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof Error);
    assert.equal(caught.name, 'ValidationError');
    assert.equal(caught.message, 'Endpoint nope of account 000000000000 not found.');
    assert.equal((caught as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
    const raw = await invokeRaw(server.url, 'nope', {}, Buffer.from('x'));
    assert.equal(raw.status, 400);
    assert.deepEqual(errorOf(raw), { type: 'ValidationError', message: 'Endpoint nope of account 000000000000 not found.' });
  });

  const long = (n: number): string => 'a'.repeat(n);
  const cases: { name: string; headers: Record<string, string>; body?: Buffer; message: RegExp }[] = [
    { name: 'ContentType of 1025 characters', headers: { 'x-amzn-sagemaker-content-type': long(1025) }, message: /'contentType'.*length/ },
    { name: 'ContentType not ASCII', headers: { 'x-amzn-sagemaker-content-type': 'text/plain; x=\u00e9' }, message: /'contentType'.*ASCII/ },
    { name: 'Accept of 1025 characters', headers: { 'x-amzn-sagemaker-accept': long(1025) }, message: /'accept'.*length/ },
    { name: 'Accept not ASCII', headers: { 'x-amzn-sagemaker-accept': '\u00e9' }, message: /'accept'.*ASCII/ },
    { name: 'CustomAttributes of 1025 characters', headers: { 'x-amzn-sagemaker-custom-attributes': long(1025) }, message: /'customAttributes'.*length/ },
    { name: 'CustomAttributes not ASCII', headers: { 'x-amzn-sagemaker-custom-attributes': 'k=\u00fc' }, message: /'customAttributes'.*ASCII/ },
    { name: 'InferenceId empty', headers: { 'x-amzn-sagemaker-inference-id': '' }, message: /'inferenceId'.*length/ },
    { name: 'InferenceId of 65 characters', headers: { 'x-amzn-sagemaker-inference-id': long(65) }, message: /'inferenceId'.*length/ },
    // A leading space cannot reach a server: HTTP strips it from header values (see the next test).
    { name: 'InferenceId with a tab inside', headers: { 'x-amzn-sagemaker-inference-id': 'a\tb' }, message: /'inferenceId'.*pattern/ },
    { name: 'InferenceId not ASCII', headers: { 'x-amzn-sagemaker-inference-id': 'caf\u00e9' }, message: /'inferenceId'.*pattern/ },
    { name: 'InputLocation with a bad scheme', headers: { 'x-amzn-sagemaker-inputlocation': 'ftp://inputs/present.txt' }, message: /'inputLocation'.*pattern/ },
    { name: 'InputLocation http (not https)', headers: { 'x-amzn-sagemaker-inputlocation': 'http://inputs/present.txt' }, message: /'inputLocation'/ },
    { name: 'InputLocation https outside the object store and the allow-list', headers: { 'x-amzn-sagemaker-inputlocation': 'https://example.com/input.json' }, message: /InputLocation https:\/\/example\.com\/input\.json.*inputUrlAllowList/ },
    { name: 'InputLocation https on an allow-listed host but outside its path', headers: { 'x-amzn-sagemaker-inputlocation': 'https://127.0.0.1:9/other/input.json' }, message: /InputLocation .*inputUrlAllowList/ },
    { name: 'InputLocation s3 without a key', headers: { 'x-amzn-sagemaker-inputlocation': 's3://inputs' }, message: /InputLocation s3:\/\/inputs must name an object/ },
    { name: 'S3OutputPathExtension starting s3:', headers: { 'x-amzn-sagemaker-s3outputpathextension': 's3://elsewhere/x' }, message: /'s3OutputPathExtension'.*pattern/ },
    { name: 'S3OutputPathExtension with a space', headers: { 'x-amzn-sagemaker-s3outputpathextension': 'a b' }, message: /'s3OutputPathExtension'.*pattern/ },
    { name: 'S3OutputPathExtension with ..', headers: { 'x-amzn-sagemaker-s3outputpathextension': 'a/../b' }, message: /'s3OutputPathExtension'/ },
    { name: 'Filename with two dots', headers: { 'x-amzn-sagemaker-filename': 'a.b.c' }, message: /'filename'.*pattern/ },
    { name: 'Filename of 33 characters', headers: { 'x-amzn-sagemaker-filename': long(33) }, message: /'filename'.*length/ },
    { name: 'Filename with a slash', headers: { 'x-amzn-sagemaker-filename': 'a/b' }, message: /'filename'.*pattern/ },
    { name: 'RequestTTLSeconds 59', headers: { 'x-amzn-sagemaker-requestttlseconds': '59' }, message: /'requestTTLSeconds'.*greater than or equal to 60/ },
    { name: 'RequestTTLSeconds 21601', headers: { 'x-amzn-sagemaker-requestttlseconds': '21601' }, message: /'requestTTLSeconds'.*less than or equal to 21600/ },
    { name: 'RequestTTLSeconds abc', headers: { 'x-amzn-sagemaker-requestttlseconds': 'abc' }, message: /'requestTTLSeconds'.*integer/ },
    { name: 'InvocationTimeoutSeconds 0', headers: { 'x-amzn-sagemaker-invocationtimeoutseconds': '0' }, message: /'invocationTimeoutSeconds'.*greater than or equal to 1/ },
    { name: 'InvocationTimeoutSeconds 3601', headers: { 'x-amzn-sagemaker-invocationtimeoutseconds': '3601' }, message: /'invocationTimeoutSeconds'.*less than or equal to 3600/ },
    { name: 'both Body and InputLocation', headers: { 'x-amzn-sagemaker-inputlocation': 's3://inputs/present.txt' }, body: Buffer.from('inline too'), message: /InputLocation.*Body/ },
    { name: 'neither Body nor InputLocation', headers: {}, body: Buffer.alloc(0), message: /InputLocation.*Body.*required/ },
    { name: 'Body of 128,001 bytes', headers: {}, body: Buffer.alloc(128_001, 0x61), message: /Body is 128001 bytes; at most 128000/ },
  ];
  for (const [i, c] of cases.entries()) {
    test(`${c.name} → 400 ValidationError naming the field, nothing queued`, async () => {
      const headers = { 'x-amzn-sagemaker-inference-id': `invalid-${i}`, ...c.headers };
      const body = c.body ?? (c.headers['x-amzn-sagemaker-inputlocation'] === undefined ? Buffer.from('payload') : undefined);
      const res = await invokeRaw(server.url, 'fixture', headers, body);
      assert.equal(res.status, 400, res.body.toString());
      const err = errorOf(res);
      assert.equal(err.type, 'ValidationError');
      assert.match(err.message, c.message);
      const status = await signed(server.url, 'sagemaker', 'GET', `/endpoints/fixture/async-invocations/invalid-${i}`);
      assert.equal(status.status, 400, 'the refused request was not queued');
      assert.match(errorOf(status).message, /not found/);
    });
  }

  test('an InferenceId sent with a leading space arrives without it (HTTP strips leading whitespace from header values)', async () => {
    const res = await invokeRaw(server.url, 'fixture', { 'x-amzn-sagemaker-inference-id': ' lead-space' }, Buffer.from('x'));
    assert.equal(res.status, 202, res.body.toString());
    assert.equal((JSON.parse(res.body.toString()) as { InferenceId: string }).InferenceId, 'lead-space');
    assert.equal((await awaitTerminal(server.url, 'fixture', 'lead-space')).Status, 'Succeeded');
  });

  test('the limits themselves are accepted (Body of 128,000 bytes, 64-character InferenceId, 32-character Filename, TTL 60 and 21600, timeout 1 and 3600)', async () => {
    const accepted: Record<string, string>[] = [
      { 'x-amzn-sagemaker-inference-id': 'b'.repeat(64), 'x-amzn-sagemaker-filename': 'c'.repeat(32), 'x-amzn-sagemaker-requestttlseconds': '21600', 'x-amzn-sagemaker-invocationtimeoutseconds': '3600' },
      { 'x-amzn-sagemaker-inference-id': 'limits-2', 'x-amzn-sagemaker-requestttlseconds': '60', 'x-amzn-sagemaker-invocationtimeoutseconds': '1', 'x-amzn-sagemaker-content-type': 'a'.repeat(1024) },
    ];
    const body = Buffer.alloc(128_000, 0x62);
    for (const headers of accepted) {
      const res = await invokeRaw(server.url, 'fixture', headers, body);
      assert.equal(res.status, 202, res.body.toString());
    }
    const first = await awaitTerminal(server.url, 'fixture', 'b'.repeat(64));
    assert.equal(first.Status, 'Succeeded', first.FailureReason);
    assert.equal(first.OutputLocation, `s3://results/out/${'c'.repeat(32)}`);
    assert.equal((await awaitTerminal(server.url, 'fixture', 'limits-2')).Status, 'Succeeded');
  });
});

describe('model health', () => {
  test('while the model is not reachable requests wait in the queue; once it starts they complete', async () => {
    const res = await invokeRaw(server.url, 'later', { 'x-amzn-sagemaker-inference-id': 'later-1', 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from('patience'));
    assert.equal(res.status, 202, res.body.toString());
    const waiting = await awaitChange(server.url, 'later', 'later-1', 'Queued', 1500);
    assert.equal(waiting.Status, 'Queued', 'still queued while nothing listens at the model URL');
    assert.equal(waiting.Attempts, 0);
    const model = await startFixture();
    fixtures.push(model);
    later.forwardTo(Number(new URL(model.url).port));
    const done = await awaitTerminal(server.url, 'later', 'later-1', 20_000);
    assert.equal(done.Status, 'Succeeded', done.FailureReason);
    const { output, failure } = await terminalObjects(server.url, done);
    assert.equal(output?.body.toString(), 'patience');
    assert.equal(failure, undefined);
  });

  test('TTL expiry: RequestTTLSeconds=60 against a model that never becomes healthy → Expired with a failure object after about 60 s', async () => {
    const status = await ttlStatus;
    assert.equal(status.Status, 'Expired');
    assert.equal(status.Attempts, 0, 'never sent to the model');
    assert.match(status.FailureReason ?? '', /RequestExpired.*RequestTTLSeconds \(60 s\)/);
    const waited = Date.parse(status.FinishedTime!) - Date.parse(status.ReceivedTime!);
    assert.ok(waited >= 60_000 && waited < 80_000, `expired after ${waited} ms (about RequestTTLSeconds)`);
    assert.ok(Date.now() - ttlSubmitted >= 60_000);
    const { output, failure } = await terminalObjects(server.url, status);
    assert.equal(output, undefined);
    assert.match(failure?.body.toString() ?? '', /RequestExpired/);
    assert.equal((await getStatus(server.url, 'never', 'ttl-1')).Status, 'Expired');
  });
});
