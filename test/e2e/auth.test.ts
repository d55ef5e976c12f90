/**
 * SigV4 at the HTTP edge, against a real server: every authentication failure is a 403 in the
 * shape the client parses (S3 XML or SageMaker JSON) and writes nothing; signed aws-chunked
 * uploads are verified chunk by chunk. The SageMaker cases here check the error shapes only (their
 * endpoint does not exist); that a refused call to a real endpoint, or a refused write over an
 * existing object, has no side effect is shown in auth-side-effects.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { SignatureV4 } from '@smithy/signature-v4';
import { DEV, python, REGION, s3Client } from '../helpers/clients.js';
import { rawRequest } from '../helpers/http.js';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { sigv4Signer } from '../helpers/sigv4.js';

let server: ServerProcess;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'auth' }));
  await s3.send(new PutObjectCommand({ Bucket: 'auth', Key: 'seed', Body: 'x' }));
});
after(async () => {
  s3?.destroy();
  await server?.stop();
  server?.cleanup();
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

async function send(method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Reply> {
  const res = await rawRequest(method, `${server.url}${path}`, headers, body);
  return { ...res, body: res.body.toString() };
}

function signer(service: string, secret = DEV.secretAccessKey, accessKeyId = DEV.accessKeyId): SignatureV4 {
  return sigv4Signer(service, { credentials: { accessKeyId, secretAccessKey: secret } });
}

async function signedPut(key: string, body: string, opts: { secret?: string; accessKeyId?: string; date?: Date; extra?: Record<string, string> } = {}): Promise<Record<string, string>> {
  const host = new URL(server.url).host;
  const signed = await signer('s3', opts.secret, opts.accessKeyId).sign({
    method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: `/auth/${key}`, query: {},
    headers: { host, 'content-length': String(Buffer.byteLength(body)), 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'), ...opts.extra },
  }, opts.date ? { signingDate: opts.date } : {});
  return signed.headers;
}

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: 'auth', Key: key }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'NotFound') return false;
    throw err;
  }
}

function s3Code(reply: Reply): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(reply.body)?.[1];
}

describe('S3 authentication failures are 403 XML and write nothing', () => {
  test('a correctly signed PUT is accepted (control)', async () => {
    const reply = await send('PUT', '/auth/ok', await signedPut('ok', 'hello'), 'hello');
    assert.equal(reply.status, 200);
    assert.ok(await exists('ok'));
  });

  const cases: [string, (key: string) => Promise<Record<string, string>>, string][] = [
    ['wrong secret', (k) => signedPut(k, 'data', { secret: 'wrong' }), 'SignatureDoesNotMatch'],
    ['unknown access key', (k) => signedPut(k, 'data', { accessKeyId: 'AKIDUNKNOWN' }), 'InvalidAccessKeyId'],
    ['date skewed by 20 minutes', (k) => signedPut(k, 'data', { date: new Date(Date.now() - 20 * 60_000) }), 'RequestTimeTooSkewed'],
    ['tampered signed header', async (k) => ({ ...(await signedPut(k, 'data', { extra: { 'x-amz-meta-owner': 'alice' } })), 'x-amz-meta-owner': 'mallory' }), 'SignatureDoesNotMatch'],
    ['no authentication at all', () => Promise.resolve({ 'content-length': '4' }), 'AccessDenied'],
    ['garbage Authorization header', () => Promise.resolve({ 'content-length': '4', authorization: 'AWS4-HMAC-SHA256 nonsense' }), 'AuthorizationHeaderMalformed'],
  ];
  for (const [name, headers, code] of cases) {
    test(name, async () => {
      const key = `neg-${name.replace(/\W+/g, '-')}`;
      const h = await headers(key);
      const reply = await send('PUT', `/auth/${key}`, h, 'data');
      assert.equal(reply.status, 403, reply.body);
      assert.equal(s3Code(reply), code);
      assert.ok(reply.headers['x-amz-request-id']);
      assert.ok(reply.headers.date);
      assert.equal(await exists(key), false);
    });
  }

  test('a body that does not match the signed x-amz-content-sha256 is rejected and not stored', async () => {
    const headers = await signedPut('hash', 'the real body');
    const reply = await send('PUT', '/auth/hash', headers, 'the fake body');
    assert.equal(reply.status, 400);
    assert.equal(s3Code(reply), 'XAmzContentSHA256Mismatch');
    assert.equal(await exists('hash'), false);
  });
});

/** Encodes a body as STREAMING-AWS4-HMAC-SHA256-PAYLOAD, signing each chunk (an independent implementation of the AWS algorithm). */
function chunkedBody(data: Buffer, chunkSize: number, seed: string, amzDate: string, scope: string, secret: string): Buffer {
  const day = amzDate.slice(0, 8);
  const kDate = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  const key = createHmac('sha256', createHmac('sha256', createHmac('sha256', kDate).update(REGION).digest()).update('s3').digest()).update('aws4_request').digest();
  const empty = createHash('sha256').update('').digest('hex');
  const parts: Buffer[] = [];
  let prev = seed;
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  for (const chunk of chunks) {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, empty, createHash('sha256').update(chunk).digest('hex')].join('\n');
    prev = createHmac('sha256', key).update(sts).digest('hex');
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${prev}\r\n`), chunk, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

describe('signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
  async function chunkedPut(key: string, data: Buffer, tamper: boolean): Promise<Reply> {
    const host = new URL(server.url).host;
    const date = new Date();
    const encodedLength = chunkedBody(data, 8192, '0'.repeat(64), '20000101T000000Z', 'x', 'x').length;
    const signed = await signer('s3').sign({
      method: 'PUT', protocol: 'http:', hostname: '127.0.0.1', path: `/auth/${key}`, query: {},
      headers: { host, 'content-encoding': 'aws-chunked', 'content-length': String(encodedLength), 'x-amz-decoded-content-length': String(data.length), 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' },
    }, { signingDate: date });
    const amzDate = signed.headers['x-amz-date']!;
    const seed = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization!)![1]!;
    const body = chunkedBody(data, 8192, seed, amzDate, `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`, DEV.secretAccessKey);
    if (tamper) body.writeUInt8(body.readUInt8(body.length - 200) ^ 1, body.length - 200);
    return send('PUT', `/auth/${key}`, signed.headers, body);
  }

  test('valid chunk signatures: stored byte for byte', async () => {
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251));
    const reply = await chunkedPut('chunked-ok', data, false);
    assert.equal(reply.status, 200, reply.body);
    const got = await s3.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: 'auth', Key: 'chunked-ok' }));
    assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(data));
  });

  test('one flipped byte in the last data chunk: 403 SignatureDoesNotMatch, nothing stored', async () => {
    const data = Buffer.alloc(50_000, 9);
    const reply = await chunkedPut('chunked-bad', data, true);
    assert.equal(reply.status, 403, reply.body);
    assert.equal(s3Code(reply), 'SignatureDoesNotMatch');
    assert.equal(await exists('chunked-bad'), false);
  });
});

describe('SageMaker Runtime authentication failures are 403 JSON', () => {
  function runtime(secret: string, accessKeyId = DEV.accessKeyId): SageMakerRuntimeClient {
    return new SageMakerRuntimeClient({ endpoint: server.url, region: REGION, credentials: { accessKeyId, secretAccessKey: secret }, maxAttempts: 1 });
  }

  async function jsError(client: SageMakerRuntimeClient): Promise<{ name: string; status?: number; message: string }> {
    try {
      await client.send(new InvokeEndpointAsyncCommand({ EndpointName: 'missing', InputLocation: 's3://auth/seed' }));
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number } };
      return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
    } finally {
      client.destroy();
    }
    return { name: 'no error', message: '' };
  }

  test('JS SDK: valid signature reaches the API (unknown endpoint is ValidationError)', async () => {
    const e = await jsError(runtime(DEV.secretAccessKey));
    assert.equal(e.name, 'ValidationError');
    assert.equal(e.status, 400);
    assert.match(e.message, /Endpoint missing of account \d{12} not found\./);
  });

  test('JS SDK: wrong secret → InvalidSignatureException, unknown key → UnrecognizedClientException', async () => {
    const bad = await jsError(runtime('wrong'));
    assert.equal(bad.name, 'InvalidSignatureException');
    assert.equal(bad.status, 403);
    const unknown = await jsError(runtime('x', 'AKIDUNKNOWN'));
    assert.equal(unknown.name, 'UnrecognizedClientException');
    assert.equal(unknown.status, 403);
  });

  test('boto3: wrong secret → ClientError InvalidSignatureException with Message', async () => {
    const code = `
import boto3, botocore, json
c = boto3.client('sagemaker-runtime')
try:
    c.invoke_endpoint_async(EndpointName='missing', InputLocation='s3://auth/seed')
    print(json.dumps({'code': 'none'}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode'], 'message': e.response['Error']['Message']}))
`;
    const bad = await python(server.url, code, { accessKeyId: DEV.accessKeyId, secretAccessKey: 'wrong' });
    assert.equal(bad.code, 0, bad.stderr);
    const parsed = JSON.parse(bad.stdout) as { code: string; status: number; message: string };
    assert.deepEqual([parsed.code, parsed.status], ['InvalidSignatureException', 403]);
    assert.ok(parsed.message.length > 0);
    const good = JSON.parse((await python(server.url, code)).stdout) as { code: string; status: number };
    assert.deepEqual([good.code, good.status], ['ValidationError', 400]);
  });

  test('no authentication → MissingAuthenticationTokenException; malformed → IncompleteSignatureException', async () => {
    const none = await send('POST', '/endpoints/x/async-invocations', { 'content-length': '0' });
    assert.equal(none.status, 403);
    assert.equal(none.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
    assert.ok((JSON.parse(none.body) as { Message: string }).Message);
    assert.ok(none.headers['x-amzn-requestid']);
    const malformed = await send('POST', '/endpoints/x/async-invocations', { 'content-length': '0', authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sagemaker/aws4_request' });
    assert.equal(malformed.status, 403);
    assert.equal(malformed.headers['x-amzn-errortype'], 'IncompleteSignatureException');
  });
});
