/**
 * Refused authentication has no side effect, seen from outside, against a real server with REAL
 * targets: every SageMaker operation is aimed at an existing endpoint whose model counts its calls,
 * every S3 write at an existing object or a real multipart upload. After each forged request: the
 * model was not called, no request is in the status API, no output object appeared, the object is
 * byte for byte unchanged (same ETag), the listing is unchanged, and the data dir holds the same
 * files and the same number of rows in every table of its databases.
 *
 * Forgeries: wrong secret, unknown access key, a signature 20 minutes old, a signed header changed
 * after signing, a body swapped after signing, no authentication, a garbage Authorization header,
 * an expired presigned URL, a presigned URL with a wrong signature, and (S3) an expired Signature
 * Version 2 presigned URL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { HttpRequest } from '@smithy/types';
import { signer, toSignable } from '../auth/helpers.js';
import { DEV } from '../helpers/clients.js';
import { Harness, awaitTerminal, getStatus, rawRequest, signed, type Raw } from '../helpers/async.js';
import { countingModel, listKeys, modelCalls, snapshotDataDir } from '../helpers/side-effects.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let calls: string;

/** A request before signing: path without query, query parameters, headers (lower-case), body. */
interface Plain {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
}

/** What goes on the wire. */
interface Wire {
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function smithyRequest(service: 's3' | 'sagemaker', plain: Plain, body = plain.body): HttpRequest {
  const { host, hostname, port } = new URL(server.url);
  const headers: Record<string, string> = { host, 'content-length': String(body.length), ...plain.headers };
  if (service === 's3' && headers['x-amz-content-sha256'] === undefined) headers['x-amz-content-sha256'] = sha256(body);
  return { method: plain.method, protocol: 'http:', hostname, port: Number(port), path: plain.path, query: { ...plain.query }, headers, body };
}

function toWire(req: HttpRequest, body: Buffer): Wire {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
  return { url: `${server.url}${toSignable(req).rawUrl}`, headers, body };
}

interface SignOptions { secret?: string; accessKeyId?: string; date?: Date }

async function signedWire(service: 's3' | 'sagemaker', plain: Plain, opts: SignOptions = {}): Promise<Wire> {
  const s = signer(service, { accessKeyId: opts.accessKeyId ?? DEV.accessKeyId, secret: opts.secret ?? DEV.secretAccessKey });
  return toWire(await s.sign(smithyRequest(service, plain), opts.date ? { signingDate: opts.date } : {}), plain.body);
}

async function presignedWire(service: 's3' | 'sagemaker', plain: Plain, date: Date, expiresIn: number): Promise<Wire> {
  const req = smithyRequest(service, plain);
  if (service === 's3') req.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  return toWire(await signer(service, { accessKeyId: DEV.accessKeyId, secret: DEV.secretAccessKey }).presign(req, { expiresIn, signingDate: date }), plain.body);
}

/** An expired Signature Version 2 presigned URL (what botocore presigns for S3 by default). */
function sigV2ExpiredWire(plain: Plain): Wire {
  const expires = String(Math.floor(Date.now() / 1000) - 60);
  const sub = Object.entries(plain.query).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  const amz = Object.keys(plain.headers).filter((k) => k.startsWith('x-amz-')).sort().map((k) => `${k}:${plain.headers[k]!.trim()}\n`).join('');
  const toSign = `${plain.method}\n${plain.headers['content-md5'] ?? ''}\n${plain.headers['content-type'] ?? ''}\n${expires}\n${amz}${plain.path}${sub.length > 0 ? `?${sub.join('&')}` : ''}`;
  const signature = createHmac('sha1', DEV.secretAccessKey).update(toSign).digest('base64');
  const query = [...Object.entries(plain.query).map(([k, v]) => (v === '' ? k : `${k}=${encodeURIComponent(v)}`)), `AWSAccessKeyId=${DEV.accessKeyId}`, `Expires=${expires}`, `Signature=${encodeURIComponent(signature)}`];
  return { url: `${server.url}${plain.path}?${query.join('&')}`, headers: { ...plain.headers, 'content-length': String(plain.body.length) }, body: plain.body };
}

/** The body as STREAMING-AWS4-HMAC-SHA256-PAYLOAD chunks (an independent implementation of the AWS algorithm). */
function awsChunked(data: Buffer, chunkSize: number, seed: string, amzDate: string): Buffer {
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const hmac = (key: Buffer | string, text: string): Buffer => createHmac('sha256', key).update(text).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${DEV.secretAccessKey}`, day), 'us-east-1'), 's3'), 'aws4_request');
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  let previous = seed;
  const parts: Buffer[] = [];
  for (const chunk of chunks) {
    previous = hmac(key, ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha256(Buffer.alloc(0)), sha256(chunk)].join('\n')).toString('hex');
    parts.push(Buffer.from(`${chunk.length.toString(16)};chunk-signature=${previous}\r\n`), chunk, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** A correctly signed aws-chunked upload of `plain` whose chunk `bad` (0-based; none if undefined) has a wrong signature. */
async function badChunkWire(plain: Plain, bad: number | undefined): Promise<Wire> {
  const chunkSize = 64 * 1024;
  const encodedLength = awsChunked(plain.body, chunkSize, '0'.repeat(64), '20000101T000000Z').length;
  const headers = { ...plain.headers, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(plain.body.length), 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' };
  const req = smithyRequest('s3', { ...plain, headers }, Buffer.alloc(encodedLength));
  const signedReq = await signer('s3', { accessKeyId: DEV.accessKeyId, secret: DEV.secretAccessKey }).sign(req);
  const seed = /Signature=([0-9a-f]{64})/.exec(signedReq.headers.authorization!)![1]!;
  const body = awsChunked(plain.body, chunkSize, seed, signedReq.headers['x-amz-date']!);
  if (bad === undefined) return toWire(signedReq, body);
  let at = 0;
  for (let i = 0; i < bad; i++) at = body.indexOf('chunk-signature=', at) + 1;
  const sigAt = body.indexOf('chunk-signature=', at) + 'chunk-signature='.length;
  body[sigAt] = body[sigAt] === 0x30 ? 0x31 : 0x30;
  return toWire(signedReq, body);
}

/** A forged request of `plain`, and the status it must get. */
type Forgery = (service: 's3' | 'sagemaker', plain: Plain) => Promise<{ wire: Wire; status: number }>;

const FORGERIES: Record<string, Forgery> = {
  'wrong secret': async (s, p) => ({ wire: await signedWire(s, p, { secret: 'not-the-secret' }), status: 403 }),
  'unknown access key': async (s, p) => ({ wire: await signedWire(s, p, { accessKeyId: 'AKIDUNKNOWN', secret: 'x' }), status: 403 }),
  'signed 20 minutes ago': async (s, p) => ({ wire: await signedWire(s, p, { date: new Date(Date.now() - 20 * 60_000) }), status: 403 }),
  'a signed header changed after signing': async (s, p) => {
    const name = s === 's3' ? 'x-amz-meta-owner' : 'x-amzn-sagemaker-custom-attributes';
    const wire = await signedWire(s, { ...p, headers: { ...p.headers, [name]: 'owner=alice' } });
    wire.headers[name] = 'owner=mallory';
    return { wire, status: 403 };
  },
  'the body swapped after signing': async (s, p) => {
    const wire = await signedWire(s, p);
    // An empty body can only be swapped for a longer one, which changes the signed Content-Length.
    if (p.body.length === 0) return { wire: { ...wire, headers: { ...wire.headers, 'content-length': '1' }, body: Buffer.from('x') }, status: 403 };
    const swapped = Buffer.from(p.body);
    swapped[swapped.length - 1] = swapped[swapped.length - 1]! ^ 1;
    return { wire: { ...wire, body: swapped }, status: s === 's3' ? 400 : 403 };
  },
  'no authentication': (_s, p) => Promise.resolve({ wire: { url: `${server.url}${toSignable(smithyRequest('sagemaker', p)).rawUrl}`, headers: { ...p.headers, 'content-length': String(p.body.length) }, body: p.body }, status: 403 }),
  'a garbage Authorization header': (_s, p) => Promise.resolve({
    wire: { url: `${server.url}${toSignable(smithyRequest('sagemaker', p)).rawUrl}`, headers: { ...p.headers, 'content-length': String(p.body.length), authorization: 'AWS4-HMAC-SHA256 nonsense' }, body: p.body },
    status: 403,
  }),
  'an expired presigned URL': async (s, p) => ({ wire: await presignedWire(s, p, new Date(Date.now() - 120_000), 60), status: 403 }),
  'a presigned URL with a wrong signature': async (s, p) => {
    const wire = await presignedWire(s, p, new Date(), 300);
    // SageMaker refuses a presigned (unsigned-payload) call before its signature is looked at: 400.
    return { wire: { ...wire, url: wire.url.replace(/(X-Amz-Signature=[0-9a-f]*)([0-9a-f])/, (_m, a: string, c: string) => `${a}${c === '0' ? '1' : '0'}`) }, status: s === 'sagemaker' ? 400 : 403 };
  },
};

function send(wire: Wire, method: string): Promise<Raw> {
  return rawRequest(method, new URL(wire.url), wire.headers, wire.body);
}

async function forge(forgery: Forgery, service: 's3' | 'sagemaker', plain: Plain): Promise<Raw> {
  const { wire, status } = await forgery(service, plain);
  const reply = await send(wire, plain.method);
  assert.equal(reply.status, status, `${plain.method} ${plain.path}: ${reply.status} ${reply.body.toString().slice(0, 300)}`);
  return reply;
}

before(async () => {
  calls = join(h.dir('inferq-calls-'), 'calls.log');
  server = await h.start(h.config({
    endpoints: [{ name: 'counted', model: countingModel(calls), async: { outputPath: 's3://side-out/out', failurePath: 's3://side-out/err' } }],
  }));
});
after(() => h.cleanup());

describe('refused SageMaker calls to a real endpoint: no model call, no queued request, nothing stored', () => {
  const operations: [string, string, (id: string) => Record<string, string>][] = [
    ['InvokeEndpoint', '/endpoints/counted/invocations', (id) => ({ 'content-type': 'application/json', 'x-amzn-sagemaker-inference-id': id })],
    ['InvokeEndpointWithResponseStream', '/endpoints/counted/invocations-response-stream', (id) => ({ 'content-type': 'application/json', 'x-amzn-sagemaker-inference-id': id })],
    ['InvokeEndpointAsync', '/endpoints/counted/async-invocations', (id) => ({ 'x-amzn-sagemaker-content-type': 'application/json', 'x-amzn-sagemaker-inference-id': id })],
  ];
  const refusedIds: string[] = [];

  test('control: correctly signed calls of each operation reach the model', async () => {
    const id = `control-${randomUUID()}`;
    const before = modelCalls(calls).length;
    const snapshot = snapshotDataDir(server.dataDir);
    for (const [, path, headers] of operations.slice(0, 2)) {
      const reply = await send(await signedWire('sagemaker', { method: 'POST', path, query: {}, headers: headers(`${id}-rt`), body: Buffer.from('{"x":1}') }), 'POST');
      assert.equal(reply.status, 200, reply.body.toString());
    }
    const accepted = await send(await signedWire('sagemaker', { method: 'POST', path: operations[2]![1], query: {}, headers: operations[2]![2](id), body: Buffer.from('{"x":1}') }), 'POST');
    assert.equal(accepted.status, 202, accepted.body.toString());
    assert.equal((await awaitTerminal(server.url, 'counted', id)).Status, 'Succeeded');
    assert.equal(modelCalls(calls).length, before + 3);
    assert.notDeepEqual(snapshotDataDir(server.dataDir).rows, snapshot.rows, 'the data dir snapshot sees an accepted request');
  });

  for (const [operation, path, headers] of operations) {
    for (const [name, forgery] of Object.entries(FORGERIES)) {
      test(`${operation}, ${name}`, async () => {
        const id = `refused-${randomUUID()}`;
        refusedIds.push(id);
        const snapshot = snapshotDataDir(server.dataDir);
        const callsBefore = modelCalls(calls);
        const outputsBefore = await listKeys(server.url, 'side-out');
        await forge(forgery, 'sagemaker', { method: 'POST', path, query: {}, headers: headers(id), body: Buffer.from(`{"id":"${id}"}`) });
        assert.deepEqual(modelCalls(calls), callsBefore, 'the model was not called');
        await assert.rejects(getStatus(server.url, 'counted', id), /: 400 .*not found/, 'no request in the status API');
        assert.deepEqual(await listKeys(server.url, 'side-out'), outputsBefore, 'no output or failure object');
        assert.deepEqual(snapshotDataDir(server.dataDir), snapshot, 'no file and no row added or removed');
      });
    }
  }

  test('a request accepted after all the refusals is the only one the model runs (nothing refused was queued)', async () => {
    const id = `after-refusals-${randomUUID()}`;
    const before = modelCalls(calls).length;
    // Refusals of its own just before (the tests above add theirs when they ran): a forged request
    // that was queued anyway would run ahead of the accepted one.
    const [, asyncPath, asyncHeaders] = operations[2]!;
    for (const forgery of Object.values(FORGERIES)) {
      const refused = `refused-${randomUUID()}`;
      refusedIds.push(refused);
      await forge(forgery, 'sagemaker', { method: 'POST', path: asyncPath, query: {}, headers: asyncHeaders(refused), body: Buffer.from(`{"id":"${refused}"}`) });
    }
    const accepted = await send(await signedWire('sagemaker', { method: 'POST', path: '/endpoints/counted/async-invocations', query: {}, headers: { 'x-amzn-sagemaker-inference-id': id }, body: Buffer.from('{}') }), 'POST');
    assert.equal(accepted.status, 202, accepted.body.toString());
    assert.equal((await awaitTerminal(server.url, 'counted', id)).Status, 'Succeeded');
    assert.deepEqual(modelCalls(calls).slice(before), [id]);
    const seen = new Set(modelCalls(calls));
    assert.deepEqual(refusedIds.filter((r) => seen.has(r)), []);
  });
});

describe('refused S3 writes over an existing object or upload: nothing changes', () => {
  const bucket = 'side';
  const existing = randomBytes(200 * 1024);
  let etag: string;
  let uploadId: string;
  let partEtag: string;

  before(async () => {
    assert.equal((await signed(server.url, 's3', 'PUT', `/${bucket}`)).status, 200);
    const put = await signed(server.url, 's3', 'PUT', `/${bucket}/existing`, {}, existing);
    assert.equal(put.status, 200);
    etag = String(put.headers.etag);
    assert.equal((await signed(server.url, 's3', 'PUT', `/${bucket}/source`, {}, Buffer.from('copy source'))).status, 200);
    const created = await signed(server.url, 's3', 'POST', `/${bucket}/existing?uploads=`);
    uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!;
    const part = await signed(server.url, 's3', 'PUT', `/${bucket}/existing?partNumber=1&uploadId=${encodeURIComponent(uploadId)}`, {}, randomBytes(100 * 1024));
    assert.equal(part.status, 200);
    partEtag = String(part.headers.etag);
  });

  const completeXml = (): Buffer => Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${partEtag}</ETag></Part></CompleteMultipartUpload>`);
  const deleteXml = Buffer.from('<Delete><Object><Key>existing</Key></Object></Delete>');
  const writes: [string, () => Plain][] = [
    ['PutObject over the object', () => ({ method: 'PUT', path: `/${bucket}/existing`, query: {}, headers: { 'content-type': 'text/plain' }, body: randomBytes(300 * 1024) })],
    ['DeleteObject of the object', () => ({ method: 'DELETE', path: `/${bucket}/existing`, query: {}, headers: {}, body: Buffer.alloc(0) })],
    ['DeleteObjects naming the object', () => ({ method: 'POST', path: `/${bucket}`, query: { delete: '' }, headers: { 'content-md5': createHash('md5').update(deleteXml).digest('base64') }, body: deleteXml })],
    ['CopyObject onto the object', () => ({ method: 'PUT', path: `/${bucket}/existing`, query: {}, headers: { 'x-amz-copy-source': `/${bucket}/source` }, body: Buffer.alloc(0) })],
    ['CreateMultipartUpload for the object', () => ({ method: 'POST', path: `/${bucket}/existing`, query: { uploads: '' }, headers: {}, body: Buffer.alloc(0) })],
    ['UploadPart to a real upload', () => ({ method: 'PUT', path: `/${bucket}/existing`, query: { partNumber: '2', uploadId }, headers: {}, body: randomBytes(150 * 1024) })],
    ['CompleteMultipartUpload of a real upload', () => ({ method: 'POST', path: `/${bucket}/existing`, query: { uploadId }, headers: {}, body: completeXml() })],
    ['AbortMultipartUpload of a real upload', () => ({ method: 'DELETE', path: `/${bucket}/existing`, query: { uploadId }, headers: {}, body: Buffer.alloc(0) })],
  ];
  const forgeries: [string, Forgery][] = [...Object.entries(FORGERIES), ['an expired SigV2 presigned URL', (_s, p) => Promise.resolve({ wire: sigV2ExpiredWire(p), status: 403 })]];
  const badChunks: [string, Forgery][] = [
    ['aws-chunked, the first chunk signature wrong', async (_s, p) => ({ wire: await badChunkWire(p, 0), status: 403 })],
    ['aws-chunked, the last data chunk signature wrong', async (_s, p) => ({ wire: await badChunkWire(p, Math.ceil(p.body.length / (64 * 1024)) - 1), status: 403 })],
    ['aws-chunked, the final empty chunk signature wrong', async (_s, p) => ({ wire: await badChunkWire(p, Math.ceil(p.body.length / (64 * 1024))), status: 403 })],
  ];

  async function parts(): Promise<string[]> {
    const listed = await signed(server.url, 's3', 'GET', `/${bucket}/existing?uploadId=${encodeURIComponent(uploadId)}`);
    assert.equal(listed.status, 200, `the upload still exists: ${listed.body.toString()}`);
    return [...listed.body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1]!);
  }

  const withBody = new Set(['PutObject over the object', 'UploadPart to a real upload']);
  for (const [operation, plain] of writes) {
    for (const [name, forgery] of [...forgeries, ...(withBody.has(operation) ? badChunks : [])]) {
      test(`${operation}, ${name}`, async () => {
        const snapshot = snapshotDataDir(server.dataDir);
        const keys = await listKeys(server.url, bucket);
        await forge(forgery, 's3', plain());
        const got = await signed(server.url, 's3', 'GET', `/${bucket}/existing`);
        assert.equal(got.status, 200, 'the object is still there');
        assert.ok(got.body.equals(existing), 'the object is byte for byte unchanged');
        assert.equal(got.headers.etag, etag);
        assert.deepEqual(await listKeys(server.url, bucket), keys, 'the listing is unchanged');
        assert.deepEqual(await parts(), ['1'], 'the upload is still there with exactly its one part');
        assert.deepEqual(snapshotDataDir(server.dataDir), snapshot, 'no file and no row added or removed');
      });
    }
  }

  test('control: the aws-chunked encoding used above, with every chunk signature right, is accepted', async () => {
    const data = randomBytes(300 * 1024);
    const reply = await send(await badChunkWire({ method: 'PUT', path: `/${bucket}/chunked-control`, query: {}, headers: {}, body: data }, undefined), 'PUT');
    assert.equal(reply.status, 200, reply.body.toString());
    assert.ok((await signed(server.url, 's3', 'GET', `/${bucket}/chunked-control`)).body.equals(data));
  });

  test('control: such an upload, completed with a correct signature, replaces its object (and the checks above see it)', async () => {
    // Its own object and upload, set up as the shared ones: the tests above keep theirs whatever the order.
    const key = `${bucket}/replaced`;
    const old = await signed(server.url, 's3', 'PUT', `/${key}`, {}, existing);
    assert.equal(old.status, 200);
    const created = await signed(server.url, 's3', 'POST', `/${key}?uploads=`);
    const id = encodeURIComponent(/<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!);
    const part = await signed(server.url, 's3', 'PUT', `/${key}?partNumber=1&uploadId=${id}`, {}, randomBytes(100 * 1024));
    assert.equal(part.status, 200);
    const snapshot = snapshotDataDir(server.dataDir);
    const xml = Buffer.from(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${String(part.headers.etag)}</ETag></Part></CompleteMultipartUpload>`);
    const done = await signed(server.url, 's3', 'POST', `/${key}?uploadId=${id}`, {}, xml);
    assert.equal(done.status, 200, done.body.toString());
    const got = await signed(server.url, 's3', 'GET', `/${key}`);
    assert.notEqual(got.headers.etag, old.headers.etag);
    assert.equal(got.headers.etag, /<ETag>([^<]+)<\/ETag>/.exec(done.body.toString())?.[1]?.replace(/&quot;/g, '"'));
    assert.equal(got.body.length, 100 * 1024, 'the object is now the upload\'s one part');
    assert.notDeepEqual(snapshotDataDir(server.dataDir), snapshot, 'the data dir snapshot sees an accepted write');
  });
});
