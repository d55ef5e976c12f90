/**
 * Real-time answers around and above 6 MiB, as the README documents them: an answer up to 6 MiB
 * is buffered before the 200 (it carries Content-Length, and a model failing mid-body still gives a
 * clean 424 ModelError); a larger one streams through (chunked, every byte relayed), and a model
 * failing after the first 6 MiB can only cut the connection, which leaves the endpoint working.
 * Against a real server and a model that answers n patterned bytes or cuts off after n.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { InvokeEndpointCommand, InvokeEndpointWithResponseStreamCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { signRequest } from '../../src/auth/index.js';
import { DEV, REGION } from '../helpers/clients.js';
import { Harness, errorOf, signed } from '../helpers/async.js';
import { countingModel } from '../helpers/side-effects.js';
import type { ServerProcess } from '../helpers/server.js';

const MiB = 1024 * 1024;
const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;

before(async () => {
  server = await h.start(h.config({ endpoints: [{ name: 'big', model: countingModel(join(h.dir('inferq-calls-'), 'calls.log')) }] }));
  sm = h.client(server.url);
});
after(() => h.cleanup());

/** The bytes the model answers for `bytes-<n>`: byte i = i % 251. */
function pattern(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

function invoke(mode: string) {
  return signed(server.url, 'sagemaker', 'POST', '/endpoints/big/invocations', { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': `mode=${mode}` }, Buffer.from('{}'));
}

/** An InvokeEndpoint whose answer may be cut off: what arrived, and whether the body completed. */
function invokeUntilCut(mode: string): Promise<{ status: number; headers: Record<string, unknown>; received: number; complete: boolean }> {
  const url = new URL('/endpoints/big/invocations', `${server.url}/`);
  const body = Buffer.from('{}');
  const headers = signRequest({
    method: 'POST', url, headers: { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': `mode=${mode}`, 'content-length': String(body.length) },
    payloadHash: createHash('sha256').update(body).digest('hex'), service: 'sagemaker', region: REGION, ...DEV,
  });
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => { received += chunk.length; });
      const done = (): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, received, complete: res.complete });
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('real-time answers over 6 MiB', () => {
  test('exactly 6 MiB: buffered, sent with its Content-Length', async () => {
    const res = await invoke(`bytes-${6 * MiB}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(6 * MiB));
    assert.equal(res.headers['transfer-encoding'], undefined);
    assert.equal(md5(res.body), md5(pattern(6 * MiB)));
  });

  test('6 MiB + 1 byte: streamed through (chunked), every byte relayed', async () => {
    const res = await invoke(`bytes-${6 * MiB + 1}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], undefined, 'not buffered');
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.body.length, 6 * MiB + 1);
    assert.equal(md5(res.body), md5(pattern(6 * MiB + 1)));
  });

  test('JS SDK: a 20 MiB answer arrives whole', async () => {
    const res = await sm.send(new InvokeEndpointCommand({ EndpointName: 'big', Body: Buffer.from('{}'), ContentType: 'application/json', CustomAttributes: `mode=bytes-${20 * MiB}` }));
    const body = Buffer.from(res.Body);
    assert.equal(body.length, 20 * MiB);
    assert.equal(md5(body), md5(pattern(20 * MiB)));
  });

  test('JS SDK: InvokeEndpointWithResponseStream relays a 7 MiB answer as PayloadPart frames', async () => {
    const res = await sm.send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'big', Body: Buffer.from('{}'), ContentType: 'application/json', CustomAttributes: `mode=bytes-${7 * MiB}` }));
    const parts: Buffer[] = [];
    for await (const event of res.Body!) {
      assert.ok(event.PayloadPart?.Bytes, `unexpected event ${JSON.stringify(Object.keys(event))}`);
      parts.push(Buffer.from(event.PayloadPart.Bytes));
    }
    assert.ok(parts.length > 1);
    assert.ok(parts.every((p) => p.length <= 64 * 1024), 'frames are at most 64 KiB');
    assert.equal(md5(Buffer.concat(parts)), md5(pattern(7 * MiB)));
  });
});

describe('a model failing mid-answer', () => {
  test('within the first 6 MiB (5 of a declared 6 MiB sent): a clean 424 ModelError, nothing of the body sent', async () => {
    const res = await invoke(`cut-${5 * MiB}-${6 * MiB}`);
    assert.equal(res.status, 424, res.body.toString().slice(0, 200));
    assert.equal(errorOf(res).type, 'ModelError');
    const parsed = JSON.parse(res.body.toString()) as { OriginalStatusCode?: number };
    assert.equal(parsed.OriginalStatusCode, 0);
  });

  test('after the first 6 MiB (7 of a declared 8 MiB sent): the 200 had started, so the connection is cut before the end; the endpoint still works', async () => {
    const cut = await invokeUntilCut(`cut-${7 * MiB}-${8 * MiB}`);
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false, 'the client can tell the answer is incomplete');
    assert.ok(cut.received < 8 * MiB, `received ${cut.received} bytes`);
    const next = await invoke('bytes-1000');
    assert.equal(next.status, 200);
    assert.ok(next.body.equals(pattern(1000)));
  });
});
