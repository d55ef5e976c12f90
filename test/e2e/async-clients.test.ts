/**
 * InvokeEndpointAsync end to end with unmodified AWS clients (JS SDK v3, boto3, aws CLI) against
 * the real server and the fixture model running as a separate process: responses, result objects,
 * what the model receives, the naming rule, idempotent InferenceIds and the zero-config `echo`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { InvokeEndpointAsyncCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { aws, python } from '../helpers/clients.js';
import { sdkError } from '../helpers/errors.js';
import type { ServerProcess } from '../helpers/server.js';
import {
  Harness, awaitTerminal, fixtureModel, putObject, readObject, terminalObjects, type AsyncStatus,
} from '../helpers/async.js';

const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;

const OUT = 's3://results/fixture/out';
const ERR = 's3://results/fixture/err';

before(async () => {
  server = await h.start(h.config({
    endpoints: [{ name: 'fixture', model: fixtureModel(), async: { outputPath: OUT, failurePath: ERR } }],
  }));
  sm = h.client(server.url);
});
after(() => h.cleanup());

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

interface Inspected {
  headers: Record<string, string>;
  body: { bytes: number; sha256: string };
}

/** Awaits completion and returns the one terminal object, asserting the other does not exist. */
async function onlyOutput(id: string): Promise<{ status: AsyncStatus; body: Buffer; contentType: string | undefined }> {
  const status = await awaitTerminal(server.url, 'fixture', id);
  assert.equal(status.Status, 'Succeeded', `${id}: ${status.FailureReason ?? ''}`);
  const { output, failure } = await terminalObjects(server.url, status);
  assert.ok(output, `${id}: no output object at ${status.OutputLocation}`);
  assert.equal(failure, undefined, `${id}: a failure object exists next to the output`);
  return { status, body: output.body, contentType: output.contentType };
}

describe('InvokeEndpointAsync with the JS SDK v3', () => {
  test('inline Body with every optional field: response, result location and what the model received', async () => {
    const body = Buffer.from(JSON.stringify({ inputs: 'inline', pad: randomBytes(2000).toString('hex') }));
    const res = await sm.send(new InvokeEndpointAsyncCommand({
      EndpointName: 'fixture',
      Body: body,
      ContentType: 'application/x-custom+json',
      Accept: 'application/json',
      CustomAttributes: 'mode=inspect, trace=js-1',
      InferenceId: 'js-inline-1',
      S3OutputPathExtension: 'runs/2024',
      Filename: 'result-js.json',
      RequestTTLSeconds: 600,
      InvocationTimeoutSeconds: 30,
    }));
    assert.equal(res.$metadata.httpStatusCode, 202);
    assert.equal(res.InferenceId, 'js-inline-1');
    assert.equal(res.OutputLocation, `${OUT}/runs/2024/result-js.json`);
    assert.equal(res.FailureLocation, `${ERR}/runs/2024/result-js.json-error.out`);

    const { status, body: out, contentType } = await onlyOutput('js-inline-1');
    assert.equal(status.Attempts, 1);
    assert.equal(status.OutputLocation, res.OutputLocation);
    assert.equal(contentType, 'application/json', 'the output keeps the content type the model answered with');
    const seen = JSON.parse(out.toString('utf8')) as Inspected;
    assert.equal(seen.headers['content-type'], 'application/x-custom+json', 'the model receives the request ContentType as Content-Type');
    assert.equal(seen.headers['accept'], 'application/json');
    assert.equal(seen.headers['x-amzn-sagemaker-custom-attributes'], 'mode=inspect, trace=js-1');
    assert.equal(seen.headers['x-amzn-sagemaker-inference-id'], 'js-inline-1');
    assert.deepEqual(seen.body, { bytes: body.length, sha256: sha256(body) }, 'the model receives the exact body');
  });

  test('InputLocation without optional fields: generated InferenceId, default naming, bytes and content type echoed', async () => {
    const input = randomBytes(300_000);
    await putObject(server.url, 's3://inputs/js/big input.bin', input);
    const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'fixture', InputLocation: 's3://inputs/js/big input.bin', ContentType: 'application/octet-stream' }));
    assert.match(res.InferenceId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const id = res.InferenceId!;
    assert.equal(res.OutputLocation, `${OUT}/${id}.out`);
    assert.equal(res.FailureLocation, `${ERR}/${id}-error.out`);
    const { status, body, contentType } = await onlyOutput(id);
    assert.equal(status.InputLocation, 's3://inputs/js/big input.bin');
    assert.equal(sha256(body), sha256(input));
    assert.equal(contentType, 'application/octet-stream');
  });

  test('an S3 https InputLocation (path style) is read from the object store', async () => {
    await putObject(server.url, 's3://inputs/js/https.txt', Buffer.from('via https url'), 'text/plain');
    const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'fixture', InputLocation: 'https://s3.us-east-1.amazonaws.com/inputs/js/https.txt', ContentType: 'text/plain' }));
    const { body } = await onlyOutput(res.InferenceId!);
    assert.equal(body.toString(), 'via https url');
  });
});

describe('InvokeEndpointAsync with boto3 and the aws CLI', () => {
  test('boto3 invoke_endpoint_async with InputLocation and every field it supports', async () => {
    const input = Buffer.from('{"from":"boto3"}');
    await putObject(server.url, 's3://inputs/boto3/in.json', input, 'application/json');
    const r = await python(server.url, `
import boto3, json
sm = boto3.client('sagemaker-runtime')
res = sm.invoke_endpoint_async(EndpointName='fixture', InputLocation='s3://inputs/boto3/in.json', ContentType='application/json',
    Accept='application/json', CustomAttributes='mode=inspect', InferenceId='boto3-1', S3OutputPathExtension='py',
    Filename='boto3.json', RequestTTLSeconds=3600, InvocationTimeoutSeconds=60)
print(json.dumps({k: res[k] for k in ('InferenceId', 'OutputLocation', 'FailureLocation')} | {'status': res['ResponseMetadata']['HTTPStatusCode']}))
`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      InferenceId: 'boto3-1', OutputLocation: `${OUT}/py/boto3.json`, FailureLocation: `${ERR}/py/boto3.json-error.out`, status: 202,
    });
    const seen = JSON.parse((await onlyOutput('boto3-1')).body.toString('utf8')) as Inspected;
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.equal(seen.headers['accept'], 'application/json');
    assert.equal(seen.headers['x-amzn-sagemaker-custom-attributes'], 'mode=inspect');
    assert.equal(seen.headers['x-amzn-sagemaker-inference-id'], 'boto3-1');
    assert.deepEqual(seen.body, { bytes: input.length, sha256: sha256(input) });
  });

  test('aws sagemaker-runtime invoke-endpoint-async, then aws s3 cp of the output', async () => {
    await putObject(server.url, 's3://inputs/cli/in.txt', Buffer.from('hello from the aws cli\n'), 'text/plain');
    const r = await aws(server.url, ['sagemaker-runtime', 'invoke-endpoint-async', '--endpoint-name', 'fixture', '--input-location', 's3://inputs/cli/in.txt',
      '--content-type', 'text/plain', '--accept', 'text/plain', '--custom-attributes', 'trace=cli', '--inference-id', 'cli-1',
      '--request-ttl-seconds', '120', '--invocation-timeout-seconds', '60', '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout) as { InferenceId: string; OutputLocation: string; FailureLocation: string };
    assert.deepEqual(res, { InferenceId: 'cli-1', OutputLocation: `${OUT}/cli-1.out`, FailureLocation: `${ERR}/cli-1-error.out` });
    await onlyOutput('cli-1');
    const cp = await aws(server.url, ['s3', 'cp', res.OutputLocation, '-']);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(cp.stdout, 'hello from the aws cli\n');
    const head = await aws(server.url, ['s3api', 'head-object', '--bucket', 'results', '--key', 'fixture/out/cli-1.out']);
    assert.equal(head.code, 0, head.stderr);
    assert.equal((JSON.parse(head.stdout) as { ContentType: string }).ContentType, 'text/plain');
  });
});

describe('result naming rule', () => {
  const cases: { name: string; ext?: string; filename?: string; output: string; failure: string }[] = [
    { name: 'defaults', output: `${OUT}/name-0.out`, failure: `${ERR}/name-0-error.out` },
    { name: 'S3OutputPathExtension', ext: 'a/b', output: `${OUT}/a/b/name-1.out`, failure: `${ERR}/a/b/name-1-error.out` },
    { name: 'Filename', filename: 'my-file', output: `${OUT}/my-file`, failure: `${ERR}/my-file-error.out` },
    { name: 'both', ext: 'x', filename: 'f.bin', output: `${OUT}/x/f.bin`, failure: `${ERR}/x/f.bin-error.out` },
  ];
  for (const [i, c] of cases.entries()) {
    test(`${c.name}: success lands at the output key, failure at the failure key, never both`, async () => {
      const fields = { EndpointName: 'fixture', ContentType: 'text/plain', ...(c.ext ? { S3OutputPathExtension: c.ext } : {}), ...(c.filename ? { Filename: c.filename } : {}) };
      const ok = await sm.send(new InvokeEndpointAsyncCommand({ ...fields, Body: Buffer.from(`ok ${i}`), InferenceId: `name-${i}` }));
      assert.equal(ok.OutputLocation, c.output);
      assert.equal(ok.FailureLocation, c.failure);
      assert.equal((await onlyOutput(`name-${i}`)).body.toString(), `ok ${i}`);

      // A failing request (with its own Filename, if any) lands only at its failure key; it never
      // deletes an object another request produced, so the success above stays.
      const failingId = `name-fail-${i}`;
      const failFields = { ...fields, ...(c.filename ? { Filename: `fail-${c.filename}` } : {}) };
      const bad = await sm.send(new InvokeEndpointAsyncCommand({ ...failFields, Body: Buffer.from('x'), CustomAttributes: 'mode=status-500', InferenceId: failingId }));
      const status = await awaitTerminal(server.url, 'fixture', failingId);
      assert.equal(status.Status, 'Failed');
      const expectedFailure = c.filename ? c.failure.replace(c.filename, `fail-${c.filename}`) : c.failure.replace(`name-${i}`, failingId);
      assert.equal(bad.FailureLocation, expectedFailure);
      const objects = await terminalObjects(server.url, status);
      assert.equal(objects.output, undefined, 'no output object next to the failure');
      assert.equal((await onlyOutput(`name-${i}`)).body.toString(), `ok ${i}`, 'the earlier success is untouched');
      assert.equal(objects.failure?.body.toString(), '{"error":"fixture status 500"}');
    });
  }
});

describe('idempotent InferenceId', () => {
  test('the same request replayed is the same job (202 again, not run twice); other parameters are a ValidationError', async () => {
    const request = { EndpointName: 'fixture', Body: Buffer.from('once'), ContentType: 'text/plain', InferenceId: 'idem-1', Filename: 'idem.txt' };
    const first = await sm.send(new InvokeEndpointAsyncCommand(request));
    const replay = await sm.send(new InvokeEndpointAsyncCommand(request));
    assert.equal(replay.$metadata.httpStatusCode, 202);
    assert.deepEqual([replay.InferenceId, replay.OutputLocation, replay.FailureLocation], [first.InferenceId, first.OutputLocation, first.FailureLocation]);
    const done = (await onlyOutput('idem-1')).status;
    assert.equal(done.Attempts, 1);

    const late = await sm.send(new InvokeEndpointAsyncCommand(request));
    assert.equal(late.$metadata.httpStatusCode, 202, 'a replay after completion is still accepted');
    const again = await awaitTerminal(server.url, 'fixture', 'idem-1');
    assert.deepEqual([again.Status, again.Attempts, again.ReceivedTime, again.FinishedTime], ['Succeeded', 1, done.ReceivedTime, done.FinishedTime], 'the replay did not run the request again');

    for (const change of [{ Body: Buffer.from('twice') }, { ContentType: 'application/json' }, { Filename: 'other.txt' }, { CustomAttributes: 'a=b' }]) {
      const err = await sdkError(sm.send(new InvokeEndpointAsyncCommand({ ...request, ...change })));
      assert.equal(err.name, 'ValidationError', JSON.stringify(Object.keys(change)));
      assert.equal(err.status, 400);
      assert.match(err.message, /InferenceId/);
    }
  });
});

describe('zero-config serve', () => {
  test('offers the endpoint echo, which returns the payload at the default output location', async () => {
    const zero = await h.start();
    assert.match(zero.output(), /endpoints: {3}echo \(built-in echo\)/);
    const client = h.client(zero.url);
    const body = randomBytes(10_000);
    const res = await client.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', Body: body, ContentType: 'application/octet-stream', InferenceId: 'zero-1' }));
    assert.equal(res.OutputLocation, 's3://inferq-async/echo/output/zero-1.out');
    assert.equal(res.FailureLocation, 's3://inferq-async/echo/failures/zero-1-error.out');
    const status = await awaitTerminal(zero.url, 'echo', 'zero-1');
    assert.equal(status.Status, 'Succeeded');
    const out = await readObject(zero.url, res.OutputLocation);
    assert.ok(out && out.body.equals(body));
    assert.equal(await readObject(zero.url, res.FailureLocation), undefined);
  });
});
