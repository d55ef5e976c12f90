/**
 * Bad input is a 4xx in the caller's API shape, never a 500: S3 `response-*` overrides with
 * control characters, unparseable InvokeEndpointAsync InputLocations, XML bodies the parser
 * refuses (external entities, deep nesting), non-GET calls on the S3 service root, unknown
 * SageMaker Runtime routes, unsigned `/endpoints` calls, and clients that go away mid-body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { errorOf, Harness, rawRequest, signed, type Raw } from '../helpers/async.js';
import { python, s3Client } from '../helpers/clients.js';
import { RawClient, requestBytes } from '../helpers/raw-http.js';
import { signRaw } from '../helpers/raw-sign.js';
import { sha256Hex } from '../helpers/sigv4.js';
import { waitForOutput, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;
let s3: S3Client;

before(async () => {
  server = await h.start(h.config({ endpoints: [{ name: 'echo', model: { builtin: 'echo' } }], server: { logLevel: 'debug' } }));
  s3 = s3Client(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'bad-input' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bad-input', Key: 'k', Body: 'hello' }));
});
after(async () => {
  s3?.destroy();
  await h.cleanup();
});

function s3Code(raw: Raw): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(raw.body.toString())?.[1];
}

async function sdkError(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('expected the call to fail');
}

const OVERRIDES = ['response-content-type', 'response-content-language', 'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding'];

describe('S3 response-* overrides', () => {
  test('a control character in any override is 400 InvalidArgument naming it, on GET and HEAD', async () => {
    for (const param of OVERRIDES) {
      for (const method of ['GET', 'HEAD']) {
        const raw = await signed(server.url, 's3', method, `/bad-input/k?${param}=a%0Ab`);
        assert.equal(raw.status, 400, `${method} ${param}`);
        if (method === 'GET') {
          assert.equal(s3Code(raw), 'InvalidArgument', raw.body.toString());
          assert.match(raw.body.toString(), new RegExp(`<ArgumentName>${param}</ArgumentName>`));
        }
      }
    }
    const nul = await signed(server.url, 's3', 'GET', '/bad-input/k?response-expires=%00');
    assert.equal(s3Code(nul), 'InvalidArgument');
  });

  test('the JS SDK gets InvalidArgument for ResponseContentType with a newline', async () => {
    const err = await sdkError(s3.send(new GetObjectCommand({ Bucket: 'bad-input', Key: 'k', ResponseContentType: 'text/plain\r\nX-Injected: 1' })));
    assert.deepEqual([err.name, err.status], ['InvalidArgument', 400]);
    const head = await sdkError(s3.send(new HeadObjectCommand({ Bucket: 'bad-input', Key: 'k', ResponseCacheControl: 'no\tcache\u0001' })));
    assert.equal(head.status, 400);
  });

  test('non-ASCII override text goes out as its UTF-8 bytes; plain overrides still apply', async () => {
    const euro = await signed(server.url, 's3', 'GET', '/bad-input/k?response-content-disposition=attachment%3B%20filename%3D%22%E2%82%AC.txt%22&response-content-type=text%2Fplain');
    assert.equal(euro.status, 200);
    assert.equal(Buffer.from(String(euro.headers['content-disposition']), 'latin1').toString('utf8'), 'attachment; filename="€.txt"');
    assert.equal(euro.headers['content-type'], 'text/plain');
    assert.equal(euro.body.toString(), 'hello');
  });
});

describe('InvokeEndpointAsync InputLocation', () => {
  test('an unparseable https URL is 400 ValidationError (JS SDK and raw)', async () => {
    const sm = h.client(server.url);
    const err = await sdkError(sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: 'https://[::1/x' })));
    assert.deepEqual([err.name, err.status], ['ValidationError', 400]);
    assert.match(err.message, /InputLocation https:\/\/\[::1\/x is not a valid URL/);
    for (const location of ['https://[::1/x', 'https://h:99999/x', 'https://%zz/', 'https:// spaced/x']) {
      const raw = await signed(server.url, 'sagemaker', 'POST', '/endpoints/echo/async-invocations', { 'x-amzn-sagemaker-inputlocation': location });
      assert.equal(raw.status, 400, location);
      assert.equal(errorOf(raw).type, 'ValidationError');
    }
  });
});

const ENTITY = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>';

describe('XML bodies the parser refuses are 400 MalformedXML', () => {
  const documents: Record<string, (root: string, inner: string) => string> = {
    'an external entity': (root, inner) => `${ENTITY}<${root}>${inner}&x;</${root}>`,
    'nesting 5000 deep': (root, inner) => `<${root}>${inner}${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</${root}>`,
  };
  for (const [what, doc] of Object.entries(documents)) {
    test(`${what}: CompleteMultipartUpload, DeleteObjects, CreateBucket`, async () => {
      const mp = await signed(server.url, 's3', 'POST', '/bad-input/mp?uploads');
      const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(mp.body.toString())?.[1] ?? '';
      const complete = Buffer.from(doc('CompleteMultipartUpload', '<Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part>'));
      const del = Buffer.from(doc('Delete', '<Object><Key>k</Key></Object>'));
      const results = [
        await signed(server.url, 's3', 'POST', `/bad-input/mp?uploadId=${uploadId}`, {}, complete),
        await signed(server.url, 's3', 'POST', '/bad-input?delete', { 'content-md5': createHash('md5').update(del).digest('base64') }, del),
        await signed(server.url, 's3', 'PUT', '/bad-input-new', {}, Buffer.from(doc('CreateBucketConfiguration', '<LocationConstraint>eu-west-1</LocationConstraint>'))),
      ];
      assert.deepEqual(results.map((r) => [r.status, s3Code(r)]), [[400, 'MalformedXML'], [400, 'MalformedXML'], [400, 'MalformedXML']]);
      const still = await s3.send(new GetObjectCommand({ Bucket: 'bad-input', Key: 'k' }));
      assert.equal(await still.Body?.transformToString(), 'hello', 'DeleteObjects deleted nothing');
    });
  }
});

describe('S3 error bodies stay parseable', () => {
  test('a control character or U+FFFE echoed back (UploadId, max-keys) still gives boto3 the error code', async () => {
    const r = await python(server.url, `
import boto3, botocore.exceptions, json
s3 = boto3.client('s3')
out = []
for call in (lambda: s3.abort_multipart_upload(Bucket='bad-input', Key='k', UploadId='\\x01\\ufffe'),
             lambda: s3.list_parts(Bucket='bad-input', Key='k', UploadId='\\x00')):
    try:
        call()
        out.append('no error')
    except botocore.exceptions.ClientError as e:
        out.append(e.response['Error']['Code'])
print(json.dumps(out))
`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), ['NoSuchUpload', 'NoSuchUpload']);
    const raw = await signed(server.url, 's3', 'GET', '/bad-input?list-type=2&max-keys=%01');
    assert.equal(s3Code(raw), 'InvalidArgument');
    assert.match(raw.body.toString(), /<ArgumentValue>\ufffd<\/ArgumentValue>/);
  });
});

describe('routes that are not operations', () => {
  test('HEAD, PUT, POST and DELETE on the S3 service root are 405 MethodNotAllowed, not 501', async () => {
    for (const method of ['HEAD', 'PUT', 'POST', 'DELETE']) {
      const raw = await signed(server.url, 's3', method, '/');
      assert.equal(raw.status, 405, method);
      if (method !== 'HEAD') assert.equal(s3Code(raw), 'MethodNotAllowed');
    }
  });

  test('an unknown SageMaker Runtime route is 400 UnknownOperationException', async () => {
    for (const [method, path] of [['GET', '/endpoints/echo/nope'], ['HEAD', '/endpoints/echo/invocations'], ['PUT', '/endpoints/echo/async-invocations/x'], ['DELETE', '/endpoints/echo/async-invocations'], ['POST', '/endpoints/echo/async-invocations/a/b']] as const) {
      const raw = await signed(server.url, 'sagemaker', method, path);
      assert.equal(raw.status, 400, `${method} ${path}`);
      assert.equal(raw.headers['x-amzn-errortype'], 'UnknownOperationException');
      if (method !== 'HEAD') assert.match(errorOf(raw).message, new RegExp(`no SageMaker Runtime operation at ${method} ${path}`));
    }
  });

  test('unsigned GET /endpoints (and /endpoints?…) gets the SageMaker-shaped 403', async () => {
    for (const path of ['/endpoints', '/endpoints?x=1', '/endpoints/echo', '/endpoints/echo/invocations']) {
      const raw = await rawRequest('GET', new URL(path, server.url), {});
      assert.equal(raw.status, 403, path);
      assert.equal(raw.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException', path);
      assert.equal(errorOf(raw).message, 'Request is missing Authentication Token');
    }
    const s3Path = await rawRequest('GET', new URL('/endpointsx', server.url), {});
    assert.equal(s3Code(s3Path), 'AccessDenied', 'a bucket that merely starts with "endpoints" stays S3');
  });
});

describe('a client going away mid-body', () => {
  test('is IncompleteBody, not an internal error, on the SageMaker Runtime', async () => {
    const { hostname, port, host } = new URL(server.url);
    const from = server.output().length;
    const body = Buffer.from('x'.repeat(100));
    const { headers } = signRaw({ method: 'POST', rawUrl: '/endpoints/echo/async-invocations', host, headers: {}, payloadHash: sha256Hex(body), service: 'sagemaker', omitPayloadHeader: true });
    const conn = new RawClient(hostname, Number(port));
    await conn.abortAfterWriting(requestBytes('POST', '/endpoints/echo/async-invocations', { ...headers, 'content-length': '5000' }, body));
    await waitForOutput(server, /operation=\S*IncompleteBody/, from);
    assert.doesNotMatch(server.output().slice(from), /request failed/);
  });
});
