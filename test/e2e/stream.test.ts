/**
 * InvokeEndpointWithResponseStream end to end with the JS SDK and boto3 against the fixture model:
 * PayloadParts arrive one by one while the model is still working (the model only writes part
 * i+1 after the client has received part i), content type and custom attributes, large chunks split
 * into frames, errors before the stream (ModelError, ValidationError) and after it started
 * (ModelStreamError StreamBroken / ModelInvocationTimeExceeded).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvokeEndpointWithResponseStreamCommand, ModelError, ModelStreamError, ValidationError, type SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { boto3Runtime } from '../helpers/clients.js';
import { Harness, errorOf, fixtureModel, signed } from '../helpers/async.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;
let gates: string;

before(async () => {
  gates = h.dir('inferq-gates-');
  server = await h.start(h.config({
    endpoints: [
      { name: 'fixture', model: fixtureModel({ FIXTURE_GATE_DIR: gates }) },
      { name: 'slow', model: fixtureModel(), realtime: { timeoutSeconds: 1 } },
    ],
  }));
  sm = h.client(server.url);
});
after(() => h.cleanup());

function stream(endpoint: string, mode: string, extra: { Accept?: string; ContentType?: string; Body?: Uint8Array } = {}) {
  return sm.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: endpoint, Body: extra.Body ?? Buffer.from('{"prompt":"hi"}'), ContentType: extra.ContentType ?? 'application/json', CustomAttributes: `mode=${mode}`, ...(extra.Accept ? { Accept: extra.Accept } : {}) }));
}

/** Runs a boto3 snippet (`rt` is the sagemaker-runtime client, `gates` the gate dir) and parses the JSON it prints. */
function boto3(code: string): Promise<Record<string, unknown>> {
  return boto3Runtime(server.url, code, `gates = ${JSON.stringify(gates)}`);
}

describe('streaming', () => {
  test('JS SDK: each PayloadPart arrives while the model still works (it writes part i+1 only after the client got part i)', async () => {
    const res = await stream('fixture', 'gate-js1-3', { Accept: 'application/jsonlines' });
    assert.equal(res.ContentType, 'application/jsonlines');
    assert.equal(res.InvokedProductionVariant, 'AllTraffic');
    assert.equal(res.CustomAttributes, 'streamed=gate-js1-3');
    const parts: string[] = [];
    for await (const event of res.Body!) {
      assert.ok(event.PayloadPart?.Bytes, `unexpected event ${JSON.stringify(Object.keys(event))}`);
      parts.push(Buffer.from(event.PayloadPart.Bytes).toString());
      assert.equal(existsSync(join(gates, `js1.${parts.length}`)), false, 'the model waits for this part to be received');
      writeFileSync(join(gates, `js1.${parts.length}`), '');
    }
    assert.deepEqual(parts, ['part-1\n', 'part-2\n', 'part-3\n']);
  });

  test('boto3: the EventStream yields the PayloadParts one by one, gated the same way; ContentType from the model', async () => {
    const out = await boto3(`
r = rt.invoke_endpoint_with_response_stream(EndpointName='fixture', Body=b'{}', ContentType='application/json', Accept='text/event-stream', CustomAttributes='mode=gate-py1-3')
parts = []
for event in r['Body']:
    parts.append(event['PayloadPart']['Bytes'].decode())
    open(os.path.join(gates, 'py1.%d' % len(parts)), 'w').close()
print(json.dumps({'parts': parts, 'ct': r['ContentType'], 'variant': r['InvokedProductionVariant']}))`);
    assert.deepEqual(out, { parts: ['part-1\n', 'part-2\n', 'part-3\n'], ct: 'text/event-stream', variant: 'AllTraffic' });
  });

  test('JS SDK: timed chunks arrive separately and spread out in time; without Accept the content type is the model\'s', async () => {
    const res = await stream('fixture', 'stream-3-300');
    assert.equal(res.ContentType, 'text/plain');
    const arrivals: number[] = [];
    const parts: string[] = [];
    for await (const event of res.Body!) {
      arrivals.push(Date.now());
      parts.push(Buffer.from(event.PayloadPart!.Bytes!).toString());
    }
    assert.deepEqual(parts, ['part-1\n', 'part-2\n', 'part-3\n']);
    assert.ok(arrivals[2]! - arrivals[0]! >= 450, `parts arrived within ${arrivals[2]! - arrivals[0]!} ms: buffered, not streamed`);
  });

  test('a 200 KiB model chunk is split into PayloadParts of at most 64 KiB that add up to it', async () => {
    const res = await stream('fixture', 'slow-big-200');
    const sizes: number[] = [];
    for await (const event of res.Body!) sizes.push(event.PayloadPart!.Bytes!.length);
    assert.equal(sizes.reduce((a, b) => a + b, 0), 200 * 1024);
    assert.ok(sizes.length >= 4 && sizes.every((s) => s <= 64 * 1024), `part sizes ${sizes.join(',')}`);
  });

  test('the event-stream wire format: headers and Content-Type of a raw response', async () => {
    const res = await signed(server.url, 'sagemaker', 'POST', '/endpoints/fixture/invocations-response-stream', { 'content-type': 'text/plain', 'x-amzn-sagemaker-custom-attributes': 'mode=stream-1-0' }, Buffer.from('x'));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.amazon.eventstream');
    assert.equal(res.headers['x-amzn-sagemaker-content-type'], 'text/plain');
    assert.equal(res.headers['x-amzn-invoked-production-variant'], 'AllTraffic');
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.body.readUInt32BE(0), res.body.length, 'one frame');
    assert.ok(res.body.includes(Buffer.from('part-1\n')));
  });
});

describe('errors', () => {
  test('JS SDK: the model dying mid-stream ends it with ModelStreamError (ErrorCode StreamBroken) after the parts it sent', async () => {
    const res = await stream('fixture', 'stream-break-2');
    const parts: string[] = [];
    await assert.rejects((async () => {
      for await (const event of res.Body!) parts.push(Buffer.from(event.PayloadPart!.Bytes!).toString());
    })(), (err: unknown) => {
      assert.ok(err instanceof ModelStreamError, String(err));
      assert.equal(err.ErrorCode, 'StreamBroken');
      assert.match(err.message, /closed the connection/);
      return true;
    });
    assert.deepEqual(parts, ['part-1\n', 'part-2\n']);
  });

  test('boto3: the model dying mid-stream raises EventStreamError with Code ModelStreamError', async () => {
    const out = await boto3(`
r = rt.invoke_endpoint_with_response_stream(EndpointName='fixture', Body=b'{}', CustomAttributes='mode=stream-break-2')
parts = []
try:
    for event in r['Body']:
        parts.append(event['PayloadPart']['Bytes'].decode())
    print(json.dumps({'raised': False}))
except botocore.exceptions.EventStreamError as e:
    print(json.dumps({'parts': parts, 'code': e.response['Error']['Code'], 'message': e.response['Error']['Message']}))`);
    assert.deepEqual(out['parts'], ['part-1\n', 'part-2\n']);
    assert.equal(out['code'], 'ModelStreamError');
    assert.match(String(out['message']), /closed the connection/);
  });

  test('JS SDK: a model silent for realtime.timeoutSeconds mid-stream ends it with ModelStreamError ModelInvocationTimeExceeded', async () => {
    const res = await stream('slow', 'stall');
    const parts: string[] = [];
    await assert.rejects((async () => {
      for await (const event of res.Body!) parts.push(Buffer.from(event.PayloadPart!.Bytes!).toString());
    })(), (err: unknown) => {
      assert.ok(err instanceof ModelStreamError, String(err));
      assert.equal(err.ErrorCode, 'ModelInvocationTimeExceeded');
      return true;
    });
    assert.deepEqual(parts, ['first part\n']);
  });

  test('a model error before the first byte is an ordinary ModelError (JS and boto3)', async () => {
    await assert.rejects(stream('fixture', 'status-422'), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.OriginalStatusCode, 422);
      return true;
    });
    const out = await boto3(`
try:
    rt.invoke_endpoint_with_response_stream(EndpointName='fixture', Body=b'{}', CustomAttributes='mode=status-500')
except rt.exceptions.ModelError as e:
    print(json.dumps({'code': e.response['Error']['Code'], 'original': e.response.get('OriginalStatusCode')}))`);
    assert.deepEqual(out, { code: 'ModelError', original: 500 });
  });

  test('a model timing out before its first byte is ModelError with OriginalStatusCode 0', async () => {
    await assert.rejects(stream('slow', 'sleep-3000'), (err: unknown) => {
      assert.ok(err instanceof ModelError, String(err));
      assert.equal(err.OriginalStatusCode, 0);
      return true;
    });
  });

  test('validation: unknown endpoint, the NEW_SESSION session id (not allowed when streaming), a bad Accept', async () => {
    await assert.rejects(stream('missing', 'echo'), (err: unknown) => err instanceof ValidationError);
    const session = await signed(server.url, 'sagemaker', 'POST', '/endpoints/fixture/invocations-response-stream', { 'x-amzn-sagemaker-session-id': 'NEW_SESSION' }, Buffer.from('x'));
    assert.equal(session.status, 400);
    assert.match(errorOf(session).message, /at 'sessionId'/);
    const accept = await signed(server.url, 'sagemaker', 'POST', '/endpoints/fixture/invocations-response-stream', { 'x-amzn-sagemaker-accept': 'a'.repeat(1025) }, Buffer.from('x'));
    assert.equal(accept.status, 400);
    assert.match(errorOf(accept).message, /at 'accept'/);
  });
});
