/** The `inferq serve` command: banner, health check, signals, refusing unsafe or unknown configuration, and response headers. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { CreateBucketCommand, ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { sdkError } from '../helpers/errors.js';
import { rawRequest } from '../helpers/http.js';
import { alive } from '../helpers/process.js';
import { CLI, startServer, tempDir, waitForOutput, writeConfig, type ServerProcess } from '../helpers/server.js';
import { signHeaders } from '../helpers/sigv4.js';
import { aws, run, s3Client, type RunResult } from '../helpers/clients.js';

const servers: ServerProcess[] = [];
const clients: S3Client[] = [];
const dirs: string[] = [];

after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) {
    await s.stop();
    s.cleanup();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(config?: string): Promise<ServerProcess> {
  const server = await startServer(config ? { config } : {});
  servers.push(server);
  return server;
}

function dir(): string {
  const d = tempDir('inferq-serve-');
  dirs.push(d);
  return d;
}

/** Runs `inferq serve …` to completion (for configurations that must be refused). */
function serveRefused(args: string[]): Promise<RunResult> {
  return run(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dir(), ...args], { ...process.env });
}

/** The name and HTTP status an SDK call failed with. */
async function errorOf(p: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const { name, status } = await sdkError(p);
  return { name, status };
}

interface Raw { status: number; headers: IncomingHttpHeaders; body: string }

async function raw(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<Raw> {
  const res = await rawRequest(method, url, headers, body);
  return { ...res, body: res.body.toString('utf8') };
}

async function signed(service: 's3' | 'sagemaker', method: string, url: string, body = ''): Promise<Raw> {
  const headers = await signHeaders({ method, url: new URL(url), service, body, headers: service === 's3' ? {} : { 'content-type': 'application/json' } });
  return raw(method, url, headers, body || undefined);
}

describe('inferq serve', () => {
  test('the banner prints the URL, the development pair and an example', async () => {
    const server = await start();
    const out = server.output();
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(server.port > 0);
    assert.ok(out.includes(`listening on ${server.url}\n`), out);
    assert.match(out, /credentials: test \/ test\b/);
    assert.ok(out.includes(`AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL=${server.url}`), out);
    assert.match(out, /aws s3 mb s3:\/\/\S+/);
    assert.ok(out.includes(`curl ${server.url}/ping`), out);
  });

  test('GET /ping answers 200 without authentication', async () => {
    const server = await start();
    const res = await fetch(`${server.url}/ping`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok');
    const other = await fetch(`${server.url}/`);
    assert.equal(other.status, 403, 'everything else needs a signature');
  });

  test('SIGTERM stops the server with exit code 0 and the port closes', async () => {
    const server = await start();
    assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    assert.equal(await server.stop(), 0);
    assert.equal(server.proc.signalCode, null);
    const socket = connect(server.port, '127.0.0.1');
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
  });

  test('--host 0.0.0.0 without configured credentials is refused, naming server.credentials and why', async () => {
    const r = await serveRefused(['--host', '0.0.0.0']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /server\.credentials/);
    assert.match(r.stderr, /not loopback/);
    assert.match(r.stderr, /test\/test/);
    assert.doesNotMatch(r.stdout, /listening on/);
  });

  test('an unknown configuration key is refused, naming the key', async () => {
    const nested = await serveRefused(['--config', writeConfig(dir(), 'server:\n  prot: 9000\n')]);
    assert.notEqual(nested.code, 0);
    assert.match(nested.stderr, /server\.prot\b/);
    assert.match(nested.stderr, /unknown key/);
    const top = await serveRefused(['--config', writeConfig(dir(), 'server:\n  port: 0\nworkers: 3\n')]);
    assert.notEqual(top.code, 0);
    assert.match(top.stderr, /\bworkers\b.*unknown key/);
    const badValue = await serveRefused(['--config', writeConfig(dir(), 'server:\n  maxClockSkewSeconds: 0\n')]);
    assert.notEqual(badValue.code, 0);
    assert.match(badValue.stderr, /server\.maxClockSkewSeconds/);
  });

  test('configured server.credentials replace test/test (403 InvalidAccessKeyId) and the configured pair works', async () => {
    const pair = { accessKeyId: 'AKIAINFERQE2E', secretAccessKey: 'e2e-secret/with+chars' };
    const config = writeConfig(dir(), `server:\n  credentials:\n    - { accessKeyId: ${pair.accessKeyId}, secretAccessKey: "${pair.secretAccessKey}" }\n`);
    const server = await start(config);
    assert.match(server.output(), /credentials: 1 configured access key\(s\): AKIAINFERQE2E/);
    assert.doesNotMatch(server.output(), /test \/ test|e2e-secret/, 'the banner never prints a configured secret');

    const dev = s3Client(server.url);
    const good = s3Client(server.url, pair);
    clients.push(dev, good);
    assert.deepEqual(await errorOf(dev.send(new ListBucketsCommand({}))), { name: 'InvalidAccessKeyId', status: 403 });
    const wrongSecret = s3Client(server.url, { accessKeyId: pair.accessKeyId, secretAccessKey: 'nope' });
    clients.push(wrongSecret);
    assert.deepEqual(await errorOf(wrongSecret.send(new ListBucketsCommand({}))), { name: 'SignatureDoesNotMatch', status: 403 });

    await good.send(new CreateBucketCommand({ Bucket: 'configured' }));
    const cliDev = await aws(server.url, ['s3', 'ls']);
    assert.notEqual(cliDev.code, 0);
    assert.match(cliDev.stderr, /InvalidAccessKeyId/);
    const cliGood = await aws(server.url, ['s3', 'ls'], pair);
    assert.equal(cliGood.code, 0, cliGood.stderr);
    assert.match(cliGood.stdout, /\bconfigured$/m);
  });

  test('every response, including errors, carries date and x-amz-request-id', async () => {
    const server = await start();
    const u = server.url;
    const responses: [string, Raw][] = [
      ['ping', await raw('GET', `${u}/ping`)],
      ['unsigned S3 request (403)', await raw('GET', `${u}/some-bucket/key`)],
      ['unsigned SageMaker request (403)', await raw('POST', `${u}/endpoints/ep/invocations`, { 'content-type': 'application/json' }, '{}')],
      ['ListBuckets', await signed('s3', 'GET', `${u}/`)],
      ['NoSuchBucket', await signed('s3', 'GET', `${u}/no-such-bucket`)],
      ['HEAD NoSuchKey', await signed('s3', 'HEAD', `${u}/no-such-bucket/k`)],
      ['MethodNotAllowed', await signed('s3', 'PATCH', `${u}/b/k`)],
      ['bad signature', await raw('GET', `${u}/`, { authorization: 'AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00', 'x-amz-date': '20200101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })],
      ['SageMaker endpoint not found', await signed('sagemaker', 'POST', `${u}/endpoints/missing/invocations`, '{"x":1}')],
      ['InvokeEndpoint', await signed('sagemaker', 'POST', `${u}/endpoints/echo/invocations`, '{"x":1}')],
      ['InvokeEndpointWithResponseStream', await signed('sagemaker', 'POST', `${u}/endpoints/echo/invocations-response-stream`, '{"x":1}')],
      ['InvokeEndpointAsync', await signed('sagemaker', 'POST', `${u}/endpoints/echo/async-invocations`, '{"x":1}')],
    ];
    const statuses = Object.fromEntries(responses.map(([name, r]) => [name, r.status]));
    assert.deepEqual(statuses, {
      'ping': 200, 'unsigned S3 request (403)': 403, 'unsigned SageMaker request (403)': 403, 'ListBuckets': 200, 'NoSuchBucket': 404,
      'HEAD NoSuchKey': 404, 'MethodNotAllowed': 405, 'bad signature': 403, 'SageMaker endpoint not found': 400,
      'InvokeEndpoint': 200, 'InvokeEndpointWithResponseStream': 200, 'InvokeEndpointAsync': 202,
    });
    for (const [name, r] of responses) assert.equal(r.headers.server, 'inferq', `${name}: Server`);
    const ids = new Set<string>();
    for (const [name, r] of responses) {
      assert.ok(r.headers.date && !Number.isNaN(Date.parse(r.headers.date)), `${name}: date header`);
      const id = r.headers['x-amz-request-id'];
      assert.ok(typeof id === 'string' && id.length > 0, `${name}: x-amz-request-id`);
      assert.equal(r.headers['x-amzn-requestid'], id, `${name}: x-amzn-RequestId`);
      ids.add(id);
    }
    assert.equal(ids.size, responses.length, 'request ids are unique');
    assert.match(responses[1]![1].body, new RegExp(`<RequestId>${[...ids][1]}</RequestId>`));

    const malformed = connect(server.port, '127.0.0.1');
    malformed.end('NOT-HTTP\r\n\r\n');
    let text = '';
    malformed.setEncoding('utf8');
    malformed.on('data', (c: string) => { text += c; });
    await once(malformed, 'close');
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /\r\ndate: [^\r]+\r\n/i, 'a malformed request also gets a date');
    assert.match(text, /\r\nx-amz-request-id: [^\r]+\r\n/i, 'and a request id');
  });
});

describe('model processes end with their server', () => {
  test('a SIGKILLed server leaves no built-in model process behind', async () => {
    const server = await startServer();
    try {
      await waitForOutput(server, /model health changed from=starting to=healthy/);
      const pids = [...server.output().matchAll(/model process started pid=(\d+)/g)].map((m) => Number(m[1]));
      assert.ok(pids.length >= 1, server.output());
      assert.ok(pids.every(alive));
      await server.kill();
      // The children see their stdin pipe close; a process's exit has no event to await from here, so poll (bounded).
      const deadline = Date.now() + 10_000;
      while (pids.some(alive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(pids.filter(alive), [], 'model processes still running after their server was killed');
    } finally {
      await server.kill();
      server.cleanup();
    }
  });
});
