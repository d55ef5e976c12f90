/**
 * `objects.backend: s3` while the backend is unreachable: inferq reaches moto_server through a TCP
 * proxy the test cuts. An async request whose input lives on the backend is accepted during the
 * outage, its input read fails as a storage fault (inferq's, not the caller's): the request is not
 * failed but retried, and once the backend is back it succeeds with its output on the backend. S3
 * calls through inferq's own port during the outage answer 503 (retryable), never 500.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { Harness, awaitTerminal, getStatus, signed, splitS3 } from '../helpers/async.js';
import { s3Client } from '../helpers/clients.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let moto: MotoServer | undefined;
let proxy: TcpProxy | undefined;
let server: ServerProcess;
let direct: S3Client;

before(async () => {
  moto = await startMoto();
  proxy = await startTcpProxy(moto.port);
  server = await h.start(h.config({
    worker: { storageRetryInitialSeconds: 0.2, storageRetryMaxSeconds: 1 },
    objects: { backend: 's3', s3: { endpoint: `http://${proxy.host}`, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'moto', secretAccessKey: 'moto' } },
    endpoints: [{ name: 'echo', model: { builtin: 'echo' }, async: { outputPath: 's3://outage-out/echo' } }],
  }));
  direct = s3Client(moto.url);
});
after(async () => {
  direct?.destroy();
  await h.cleanup();
  await proxy?.close();
  await moto?.stop();
});

test('an input unreadable because the backend is briefly down is retried, not failed, and succeeds', async () => {
  const input = Buffer.from('read me after the outage');
  await direct.send(new CreateBucketCommand({ Bucket: 'outage-in' }));
  await direct.send(new PutObjectCommand({ Bucket: 'outage-in', Key: 'req.txt', Body: input }));
  // Five refused connections: more than the S3 client's 3 attempts at reading the input, fewer
  // than it takes to refuse the failure object after them, so only a retry of the read succeeds.
  proxy!.cut(5);
  const sm = h.client(server.url);
  const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: 's3://outage-in/req.txt', InferenceId: 'outage-1' }));
  assert.equal(res.$metadata.httpStatusCode, 202);
  const done = await awaitTerminal(server.url, 'echo', 'outage-1', 60_000);
  assert.equal(proxy!.refused, 5, 'the outage was met');
  assert.equal(done.Status, 'Succeeded', done.FailureReason);
  const { bucket, key } = splitS3(res.OutputLocation!);
  const output = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  assert.ok(Buffer.from(await output.Body!.transformToByteArray()).equals(input));
});

test('during a longer outage the request waits, S3 calls through inferq answer 503, and it succeeds once the backend is back', async () => {
  const input = Buffer.from('a longer outage');
  await direct.send(new PutObjectCommand({ Bucket: 'outage-in', Key: 'req2.txt', Body: input }));
  proxy!.cut();
  const sm = h.client(server.url);
  const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: 's3://outage-in/req2.txt', InferenceId: 'outage-2' }));
  assert.equal(res.$metadata.httpStatusCode, 202);
  await proxy!.awaitRefused(6);
  const during = await getStatus(server.url, 'echo', 'outage-2');
  assert.ok(['Queued', 'Running'].includes(during.Status), `still pending during the outage, not ${during.Status} (${during.FailureReason ?? ''})`);
  const s3During = await signed(server.url, 's3', 'GET', '/outage-in/req2.txt');
  assert.equal(s3During.status, 503, `S3 through inferq during the outage: ${s3During.status} ${s3During.body.toString()}`);
  assert.match(s3During.body.toString(), /<Code>ServiceUnavailable<\/Code>/);
  proxy!.restore();
  const done = await awaitTerminal(server.url, 'echo', 'outage-2', 60_000);
  assert.equal(done.Status, 'Succeeded', done.FailureReason);
  const { bucket, key } = splitS3(res.OutputLocation!);
  const output = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  assert.ok(Buffer.from(await output.Body!.transformToByteArray()).equals(input));
});
