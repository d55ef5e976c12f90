/**
 * InvokeEndpoint end to end with the unmodified clients (JS SDK v3, boto3, aws CLI) against the
 * fixture model: body / content type / accept / custom attributes round trips, ModelError with
 * OriginalStatusCode, a crashing model, the model call timeout, ModelNotReadyException,
 * ServiceUnavailable when saturated, validation of every header and of the body limit, and
 * real-time calls going before queued async work on a model with capacity 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvokeEndpointAsyncCommand, InvokeEndpointCommand, ModelError, ModelNotReadyException, ServiceUnavailable, ValidationError, type SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { aws, boto3Runtime } from '../helpers/clients.js';
import { Harness, awaitChange, awaitTerminal, errorOf, fixtureModel, signed } from '../helpers/async.js';
import { awaitModelHealthy, waitForOutput, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;

before(async () => {
  server = await h.start(h.config({
    endpoints: [
      { name: 'fixture', model: fixtureModel() },
      { name: 'small', model: fixtureModel(), realtime: { maxBodyBytes: 1024 } },
      { name: 'crashy', model: fixtureModel() },
      { name: 'slowpoke', model: fixtureModel(), realtime: { timeoutSeconds: 1 } },
      { name: 'busy', model: fixtureModel(), async: { maxConcurrentInvocations: 1 }, realtime: { maxWaiting: 0 } },
      { name: 'single', model: fixtureModel(), async: { maxConcurrentInvocations: 1, outputPath: 's3://prio/out', failurePath: 's3://prio/err' } },
      { name: 'cold', model: fixtureModel(), instances: { min: 0, max: 1, idleTimeoutSeconds: 60 } },
      { name: 'coldasync', model: fixtureModel(), instances: { min: 0, max: 1, idleTimeoutSeconds: 60 }, async: { outputPath: 's3://cold/out', failurePath: 's3://cold/err' } },
      { name: 'nowhere', model: { url: 'http://127.0.0.1:9', pingIntervalSeconds: 0.2 }, realtime: { startTimeoutSeconds: 1 } },
    ],
  }));
  sm = h.client(server.url);
});
after(() => h.cleanup());

/** Runs a boto3 snippet (`rt` is the sagemaker-runtime client) and parses the JSON it prints. */
const boto3 = (code: string): Promise<Record<string, unknown>> => boto3Runtime(server.url, code);

function rawInvoke(endpoint: string, headers: Record<string, string>, body: Buffer) {
  return signed(server.url, 'sagemaker', 'POST', `/endpoints/${endpoint}/invocations`, headers, body);
}

describe('InvokeEndpoint round trips', () => {
  test('JS SDK: body, content type and custom attributes come back; the variant is AllTraffic', async () => {
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{"x":1}'), ContentType: 'application/json', Accept: 'application/json', CustomAttributes: 'mode=echo,trace=1' }));
    assert.equal(Buffer.from(res.Body).toString(), '{"x":1}');
    assert.equal(res.ContentType, 'application/json');
    assert.equal(res.CustomAttributes, 'mode=echo,trace=1');
    assert.equal(res.InvokedProductionVariant, 'AllTraffic');
  });

  test('JS SDK: Accept, content type, custom attributes and InferenceId reach the model', async () => {
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('abc'), ContentType: 'text/csv', Accept: 'text/csv', CustomAttributes: 'mode=inspect', InferenceId: 'rt-1' }));
    const seen = JSON.parse(Buffer.from(res.Body).toString()) as { headers: Record<string, string>; body: { bytes: number } };
    assert.equal(seen.headers['content-type'], 'text/csv');
    assert.equal(seen.headers['accept'], 'text/csv');
    assert.equal(seen.headers['x-amzn-sagemaker-custom-attributes'], 'mode=inspect');
    assert.equal(seen.headers['x-amzn-sagemaker-inference-id'], 'rt-1');
    assert.equal(seen.body.bytes, 3);
  });

  test('boto3: round trip; with no ContentType the model receives application/octet-stream', async () => {
    const out = await boto3(`
r = rt.invoke_endpoint(EndpointName='fixture', Body=b'\\x00\\x01binary', CustomAttributes='mode=echo')
i = rt.invoke_endpoint(EndpointName='fixture', Body=b'{}', CustomAttributes='mode=inspect')
print(json.dumps({'body': r['Body'].read().hex(), 'ct': r['ContentType'], 'ca': r.get('CustomAttributes'), 'variant': r['InvokedProductionVariant'],
                  'seen': json.loads(i['Body'].read())['headers'].get('content-type')}))`);
    assert.deepEqual(out, { body: Buffer.from('\x00\x01binary', 'latin1').toString('hex'), ct: 'application/octet-stream', ca: 'mode=echo', variant: 'AllTraffic', seen: 'application/octet-stream' });
  });

  test('aws CLI: invoke-endpoint writes the body to the outfile and prints the metadata', async () => {
    const dir = h.dir('inferq-rt-cli-');
    writeFileSync(join(dir, 'in.json'), '{"cli": true}');
    const r = await aws(server.url, ['sagemaker-runtime', 'invoke-endpoint', '--endpoint-name', 'fixture', '--body', `fileb://${join(dir, 'in.json')}`, '--content-type', 'application/json', '--custom-attributes', 'mode=echo', join(dir, 'out.json')]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { ContentType: 'application/json', InvokedProductionVariant: 'AllTraffic', CustomAttributes: 'mode=echo' });
    assert.equal(readFileSync(join(dir, 'out.json'), 'utf8'), '{"cli": true}');
  });

  test('a model answer without Content-Length is sent whole; one over 6 MiB streams through intact', async () => {
    const parts = await sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), Accept: 'text/x-parts', CustomAttributes: 'mode=stream-3-0' }));
    assert.equal(Buffer.from(parts.Body).toString(), 'part-1\npart-2\npart-3\n');
    assert.equal(parts.ContentType, 'text/x-parts');
    const big = await sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), CustomAttributes: 'mode=slow-big-7000' }));
    assert.equal(big.Body.length, 7000 * 1024, 'the part past the 6 MiB buffer is relayed too');
  });

  test('a body of exactly the limit is accepted', async () => {
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'small', Body: Buffer.alloc(1024, 'a'), CustomAttributes: 'mode=echo' }));
    assert.equal(res.Body.length, 1024);
  });
});

describe('model failures', () => {
  test('JS SDK: a 400 from the model is ModelError 424 with OriginalStatusCode, OriginalMessage, LogStreamArn and ErrorCode', async () => {
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), CustomAttributes: 'mode=status-400' })), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.$metadata.httpStatusCode, 424);
      assert.equal(err.OriginalStatusCode, 400);
      assert.equal(err.OriginalMessage, '{"error":"fixture status 400"}');
      assert.equal(err.LogStreamArn, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/fixture');
      assert.match(err.message, /^Received client error \(400\) from primary with message "\{"error":"fixture status 400"\}"\. See https:\/\//);
      assert.equal((err as unknown as { ErrorCode?: string }).ErrorCode, 'CLIENT_ERROR_FROM_MODEL');
      return true;
    });
  });

  test('boto3: a 503 from the model is client.exceptions.ModelError with OriginalStatusCode 503', async () => {
    const out = await boto3(`
try:
    rt.invoke_endpoint(EndpointName='fixture', Body=b'{}', CustomAttributes='mode=status-503')
    print(json.dumps({'raised': False}))
except rt.exceptions.ModelError as e:
    print(json.dumps({'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'original': e.response.get('OriginalStatusCode'), 'message': e.response['Error']['Message']}))`);
    assert.equal(out['code'], 'ModelError');
    assert.equal(out['status'], 424);
    assert.equal(out['original'], 503);
    assert.match(String(out['message']), /Received server error \(503\) from primary/);
  });

  test('aws CLI: ModelError is reported with exit code 255', async () => {
    const dir = h.dir('inferq-rt-cli-');
    writeFileSync(join(dir, 'in'), 'x');
    const r = await aws(server.url, ['sagemaker-runtime', 'invoke-endpoint', '--endpoint-name', 'fixture', '--body', `fileb://${join(dir, 'in')}`, '--custom-attributes', 'mode=status-418', join(dir, 'out')]);
    assert.equal(r.code, 255);
    assert.match(r.stderr, /An error occurred \(ModelError\) when calling the InvokeEndpoint operation: Received client error \(418\)/);
  });

  test('JS SDK: a model that dies mid-call is ModelError with OriginalStatusCode 0; the model is restarted', async () => {
    // The first start must be over, or its health line would be taken for the restart's.
    await awaitModelHealthy(server, 'crashy');
    const mark = server.output().length;
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'crashy', Body: Buffer.from('{}'), CustomAttributes: 'mode=crash' })), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.OriginalStatusCode, 0);
      assert.match(err.OriginalMessage ?? '', /connection/);
      return true;
    });
    // The next call must reach the restarted process, not the one still dying.
    await waitForOutput(server, /\[inferq:model:crashy#0\] model health changed from=starting to=healthy/, mark);
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'crashy', Body: Buffer.from('alive'), CustomAttributes: 'mode=echo' }));
    assert.equal(Buffer.from(res.Body).toString(), 'alive', 'the next call waits for the restarted model');
  });

  test('JS SDK: a model that dies in the middle of its answer is ModelError with OriginalStatusCode 0, not a cut 200', async () => {
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'fixture', Body: Buffer.from('{}'), CustomAttributes: 'mode=stream-break-2' })), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.$metadata.httpStatusCode, 424);
      assert.equal(err.OriginalStatusCode, 0);
      return true;
    });
  });

  test('boto3: a model that dies mid-call is ModelError with OriginalStatusCode 0', async () => {
    const out = await boto3(`
try:
    rt.invoke_endpoint(EndpointName='crashy', Body=b'{}', CustomAttributes='mode=crash')
    print(json.dumps({'raised': False}))
except rt.exceptions.ModelError as e:
    print(json.dumps({'code': e.response['Error']['Code'], 'original': e.response.get('OriginalStatusCode')}))`);
    assert.deepEqual(out, { code: 'ModelError', original: 0 });
  });

  test('the model call timeout (realtime.timeoutSeconds) is ModelError with OriginalStatusCode 0 and the SageMaker timeout text', async () => {
    // Timed from a warm model: a call waiting for the model to start would measure the start too.
    await awaitModelHealthy(server, 'slowpoke');
    const started = Date.now();
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'slowpoke', Body: Buffer.from('{}'), CustomAttributes: 'mode=sleep-8000' })), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.OriginalStatusCode, 0);
      assert.match(err.message, /Received server error \(0\) from primary with message "Your invocation timed out while waiting for a response from container primary/);
      return true;
    });
    const took = Date.now() - started;
    // At least the 1 s timeout, and well before the model's 8 s answer (the server did not wait for it).
    assert.ok(took >= 900 && took < 7000, `answered after ${took} ms`);
  });

  test('no healthy model within realtime.startTimeoutSeconds: ModelNotReadyException 429', async () => {
    const started = Date.now();
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'nowhere', Body: Buffer.from('{}') })), (err: unknown) => {
      assert.ok(err instanceof ModelNotReadyException, String(err));
      assert.equal(err.$metadata.httpStatusCode, 429);
      return true;
    });
    assert.ok(Date.now() - started >= 900, 'it waited for the model');
  });

  test('more than realtime.maxWaiting calls waiting: ServiceUnavailable 503', async () => {
    // A call for a model still starting waits too (and would be refused itself): start from a healthy model.
    await awaitModelHealthy(server, 'busy');
    const mark = server.output().length;
    const busy = sm.send(new InvokeEndpointCommand({ EndpointName: 'busy', Body: Buffer.from('{}'), CustomAttributes: 'mode=sleep-3000' }));
    // The model has the first call (it logs it), so the only slot is taken and the second would have to wait.
    await waitForOutput(server, /\[inferq:model:busy#\d+\] fixture sleeping ms=3000/, mark);
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'busy', Body: Buffer.from('{}'), CustomAttributes: 'mode=echo' })), (err: unknown) => {
      assert.ok(err instanceof ServiceUnavailable, String(err));
      assert.match(err.message, /maxWaiting is 0/);
      return true;
    });
    assert.equal(Buffer.from((await busy).Body).toString(), '{"slept":3000}');
  });
});

describe('validation', () => {
  test('unknown endpoint: ValidationError in JS and boto3', async () => {
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'missing', Body: Buffer.from('{}') })), (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.equal(err.message, 'Endpoint missing of account 000000000000 not found.');
      return true;
    });
    const out = await boto3(`
try:
    rt.invoke_endpoint(EndpointName='missing', Body=b'{}')
except rt.exceptions.ValidationError as e:
    print(json.dumps({'code': e.response['Error']['Code']}))`);
    assert.deepEqual(out, { code: 'ValidationError' });
  });

  test('a body over realtime.maxBodyBytes is a ValidationError naming the limit (JS, boto3); the connection survives', async () => {
    await assert.rejects(sm.send(new InvokeEndpointCommand({ EndpointName: 'small', Body: Buffer.alloc(1025, 'a') })), (err: unknown) => {
      assert.ok(err instanceof ValidationError, String(err));
      assert.match(err.message, /limit of 1024 bytes \(realtime\.maxBodyBytes\)/);
      return true;
    });
    const out = await boto3(`
try:
    rt.invoke_endpoint(EndpointName='fixture', Body=b'a' * (6 * 1024 * 1024 + 1))
except rt.exceptions.ValidationError as e:
    print(json.dumps({'message': e.response['Error']['Message']}))`);
    assert.match(String(out['message']), /limit of 6291456 bytes/);
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'small', Body: Buffer.from('next'), CustomAttributes: 'mode=echo' }));
    assert.equal(Buffer.from(res.Body).toString(), 'next');
  });

  const invalid: [string, string, RegExp][] = [
    ['x-amzn-sagemaker-inference-id', 'x'.repeat(65), /at 'inferenceId'/],
    ['x-amzn-sagemaker-inference-id', 'id\u00e9', /at 'inferenceId'/],
    ['x-amzn-sagemaker-custom-attributes', 'é', /at 'customAttributes'/],
    ['x-amzn-sagemaker-custom-attributes', 'a'.repeat(1025), /at 'customAttributes'/],
    ['accept', 'a'.repeat(1025), /at 'accept'/],
    ['content-type', 'b'.repeat(1025), /at 'contentType'/],
    ['x-amzn-sagemaker-target-model', 'mod\u00e8l.tar.gz', /at 'targetModel'/],
    ['x-amzn-sagemaker-target-variant', 'bad_variant', /at 'targetVariant'/],
    ['x-amzn-sagemaker-target-variant', 'Other', /Variant Other not found/],
    ['x-amzn-sagemaker-target-container-hostname', '-host', /at 'targetContainerHostname'/],
    ['x-amzn-sagemaker-enable-explanations', 'e'.repeat(65), /at 'enableExplanations'/],
    ['x-amzn-sagemaker-inference-component', 'comp-', /at 'inferenceComponentName'/],
    ['x-amzn-sagemaker-session-id', 'has space', /at 'sessionId'/],
    ['x-amzn-sagemaker-prefix-aware-id', 'p'.repeat(65), /at 'prefixAwareId'/],
  ];
  for (const [header, value, message] of invalid) {
    test(`invalid ${header} (${value.length > 20 ? `${value.length} chars` : JSON.stringify(value)}): ValidationError 400`, async () => {
      const res = await rawInvoke('fixture', { [header]: value }, Buffer.from('{}'));
      assert.equal(res.status, 400, res.body.toString());
      const error = errorOf(res);
      assert.equal(error.type, 'ValidationError');
      assert.match(error.message, message);
    });
  }

  test('valid routing headers are accepted (AllTraffic, NEW_SESSION, component, target model)', async () => {
    const res = await rawInvoke('fixture', {
      'x-amzn-sagemaker-target-variant': 'AllTraffic', 'x-amzn-sagemaker-session-id': 'NEW_SESSION', 'x-amzn-sagemaker-inference-component': 'comp-1',
      'x-amzn-sagemaker-target-model': 'model.tar.gz', 'x-amzn-sagemaker-enable-explanations': '`true`', 'x-amzn-sagemaker-target-container-hostname': 'primary',
      'x-amzn-sagemaker-custom-attributes': 'mode=echo', 'content-type': 'text/plain',
    }, Buffer.from('ok'));
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.body.toString(), 'ok');
    assert.equal(res.headers['x-amzn-invoked-production-variant'], 'AllTraffic');
  });
});

describe('scaled to zero (instances.min 0)', () => {
  test('a real-time call starts the model and waits for it', async () => {
    assert.doesNotMatch(server.output(), /model:cold(async)?#\d+\] model process started/, 'scaled-to-zero endpoints start no model by themselves');
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'cold', Body: Buffer.from('wake up'), CustomAttributes: 'mode=echo' }));
    assert.equal(Buffer.from(res.Body).toString(), 'wake up');
    assert.match(server.output(), /model:cold#\d+\] model process started/);
  });

  test('a queued async request starts the model (the dispatcher reports the backlog while there is no capacity)', async () => {
    await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'coldasync', Body: Buffer.from('later'), CustomAttributes: 'mode=echo', InferenceId: 'cold-1' }));
    const status = await awaitTerminal(server.url, 'coldasync', 'cold-1');
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
  });
});

describe('sharing the model with async work', () => {
  test('capacity 1: a real-time call finishes before the async requests queued ahead of it, and they all still succeed', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `prio-${i}`);
    for (const id of ids) {
      await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'single', Body: Buffer.from('{}'), CustomAttributes: 'mode=sleep-400', InferenceId: id }));
    }
    // Wait until the first async request runs, so the real-time call really has to wait for a slot.
    const first = await awaitChange(server.url, 'single', ids[0]!, 'Queued', 60_000);
    assert.equal(first.Status, 'Running', `${ids[0]} must hold the only slot before the real-time call`);
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'single', Body: Buffer.from('me first'), CustomAttributes: 'mode=echo' }));
    const answeredAt = Date.now();
    assert.equal(Buffer.from(res.Body).toString(), 'me first');
    const statuses = await Promise.all(ids.map((id) => awaitTerminal(server.url, 'single', id)));
    for (const s of statuses) assert.equal(s.Status, 'Succeeded', s.FailureReason);
    const finishedBefore = statuses.filter((s) => Date.parse(s.FinishedTime ?? '') <= answeredAt).length;
    assert.ok(finishedBefore <= 1, `${finishedBefore} async requests finished before the real-time call (only the one running may)`);
  });
});
