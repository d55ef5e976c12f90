/**
 * SigV4 verification against an independent signer (@smithy/signature-v4) and requests captured
 * from the real AWS SDK v3 clients: header and presigned forms, S3 and SageMaker canonical URIs,
 * queries, multi-valued headers, clock skew, expiry and tampering.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand, InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SigV4Verifier, buildCanonicalRequest, claimedService, parseRequestCredentials, payloadModeOf, type SignableRequest } from '../../src/auth/index.js';
import { SigningKeyCache, deriveSigningKey, hmacHex, signaturesEqual } from '../../src/auth/keys.js';
import { canonicalUri } from '../../src/auth/canonical.js';
import { isInferqError, type ErrorCode } from '../../src/errors/index.js';
import { AKID, FakeClock, SECRET, captureHandler, capturingS3Client, credentials, request, sha256, signer, toSignable, type Captured } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 17, 51, 52);
const signingDate = new Date(T0);

function verifier(clock = new FakeClock(T0), skew = 900): SigV4Verifier {
  return new SigV4Verifier(credentials(), clock, { maxClockSkewSeconds: skew });
}

function rejects(code: ErrorCode, fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isInferqError(err), `expected InferqError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

function withHeaders(req: SignableRequest, headers: Record<string, string | undefined>): SignableRequest {
  const merged: Record<string, string | string[] | undefined> = { ...req.headers };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  return { ...req, headers: merged };
}

void describe('SigV4Verifier header form', () => {
  void it('verifies a SageMaker request signed like the JS SDK (x-amz-content-sha256 sent)', async () => {
    const body = '{"x":1}';
    const signed = await signer('sagemaker', { applyChecksum: true }).sign(
      request('POST', '/endpoints/ok/invocations', { 'content-type': 'application/json', 'content-length': '7' }, {}, body),
      { signingDate },
    );
    const result = verifier().verify(toSignable(signed));
    assert.deepEqual(result, { accessKeyId: AKID, service: 'sagemaker', region: 'us-east-1', presigned: false, payload: { kind: 'sha256', hash: sha256(body) } });
  });

  void it('verifies a request signed like botocore (no x-amz-content-sha256) from the computed body hash', async () => {
    const body = '{"x":1}';
    const signed = await signer('sagemaker').sign(request('POST', '/endpoints/ok/invocations', { 'content-type': 'application/json' }, {}, body), { signingDate });
    const req = toSignable(signed);
    assert.equal(req.headers['x-amz-content-sha256'], undefined);
    assert.deepEqual(verifier().verify(req, { bodySha256Hex: sha256(body) }).payload, { kind: 'computed' });
    rejects('SignatureDoesNotMatch', () => verifier().verify(req, { bodySha256Hex: sha256('{"x":2}') }));
    rejects('InternalError', () => verifier().verify(req));
  });

  const sagemakerPaths = [
    '/endpoints/a%20b%2Fc~d%27%28e%29%2A%21%2B%C3%BC/async-invocations',
    '/endpoints//invocations',
    '/endpoints/./x/../ok/invocations/',
    '/',
  ];
  for (const path of sagemakerPaths) {
    void it(`normalises and re-encodes the SageMaker path ${path}`, async () => {
      const signed = await signer('sagemaker', { applyChecksum: true }).sign(request('POST', path, {}), { signingDate });
      assert.equal(verifier().verify(toSignable(signed)).service, 'sagemaker');
    });
  }

  void it('produces the canonical URI of the §6.2 worked example', () => {
    const req: SignableRequest = {
      method: 'POST',
      rawUrl: '/endpoints/a%20b%2Fc~d%27%28e%29%2A%21%2B%C3%BC/async-invocations',
      headers: { host: '127.0.0.1:8080', 'x-amz-date': '20261126T175207Z', 'x-amzn-sagemaker-inputlocation': 's3://b/k', 'user-agent': 'Boto3' },
    };
    const canonical = buildCanonicalRequest(req, {
      service: 'sagemaker',
      signedHeaders: ['host', 'x-amz-date', 'x-amzn-sagemaker-inputlocation'],
      payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      presigned: false,
    });
    assert.equal(
      canonical,
      [
        'POST',
        '/endpoints/a%2520b%252Fc~d%2527%2528e%2529%252A%2521%252B%25C3%25BC/async-invocations',
        '',
        'host:127.0.0.1:8080',
        'x-amz-date:20261126T175207Z',
        'x-amzn-sagemaker-inputlocation:s3://b/k',
        '',
        'host;x-amz-date;x-amzn-sagemaker-inputlocation',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
  });

  void it('produces the canonical request of the §6.2 JS example', () => {
    const req: SignableRequest = {
      method: 'POST',
      rawUrl: '/endpoints/ok/invocations',
      headers: {
        'amz-sdk-invocation-id': 'fb6daf39-6493-443e-987f-12efdc130467',
        'amz-sdk-request': 'attempt=1; max=1',
        'content-length': '7',
        'content-type': 'application/octet-stream',
        host: '127.0.0.1:8080',
        'x-amz-content-sha256': '5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22',
        'x-amz-date': '20261126T175152Z',
        'x-amz-user-agent': 'aws-sdk-js/3.1163.0',
      },
    };
    const signedHeaders = ['amz-sdk-invocation-id', 'amz-sdk-request', 'content-length', 'content-type', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-user-agent'];
    const canonical = buildCanonicalRequest(req, { service: 'sagemaker', signedHeaders, payloadHash: '5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22', presigned: false });
    assert.equal(
      canonical,
      `POST\n/endpoints/ok/invocations\n\n${signedHeaders.map((h) => `${h}:${req.headers[h] as string}`).join('\n')}\n\n${signedHeaders.join(';')}\n5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22`,
    );
    assert.equal(sha256('{"x":1}'), '5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22');
  });

  const s3Paths = ['/bucket/dir/a%20b%2Bc~%28d%29.json', '/bucket/a/../b//c.txt', '/bucket/./x/', '/bucket//', '/bucket/%E2%82%AC%25'];
  for (const path of s3Paths) {
    void it(`uses the raw S3 path ${path}`, async () => {
      const signed = await signer('s3').sign(request('PUT', path, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, { 'x-id': 'PutObject' }), { signingDate });
      const result = verifier().verify(toSignable(signed));
      assert.deepEqual(result.payload, { kind: 'unsigned' });
      // The same bytes with a normalised path must not verify.
      const normalised = { ...toSignable(signed), rawUrl: toSignable(signed).rawUrl.replace(path, path.replace(/\/\.\.?\/|\/\//g, '/')) };
      if (normalised.rawUrl !== toSignable(signed).rawUrl) rejects('SignatureDoesNotMatch', () => verifier().verify(normalised));
    });
  }

  void it('canonicalises queries: encoding, sorting, repeated and value-less keys', async () => {
    const query = { 'list-type': '2', prefix: 'a b+c/ü~*', delimiter: '/', 'continuation-token': "x=y&z!'()", b: ['2', '1', '10'], empty: '', flag: '' };
    const signed = await signer('s3').sign(request('GET', '/bucket', { 'x-amz-content-sha256': sha256('') }, query), { signingDate });
    const req = toSignable(signed);
    assert.equal(verifier().verify(req).service, 's3');
    // A key sent without `=` (`?uploads`) is signed as `key=`.
    const bare = { ...req, rawUrl: req.rawUrl.replace('&flag=', '&flag') };
    assert.notEqual(bare.rawUrl, req.rawUrl);
    assert.equal(verifier().verify(bare).service, 's3');
    // Clients that leave some characters unescaped (e.g. `~`, `/`, lower-case hex) still verify.
    const relaxed = { ...req, rawUrl: req.rawUrl.replace('%2F', '/').replace('%C3%BC', '%c3%bc') };
    assert.notEqual(relaxed.rawUrl, req.rawUrl);
    assert.equal(verifier().verify(relaxed).service, 's3');
    rejects('SignatureDoesNotMatch', () => verifier().verify({ ...req, rawUrl: req.rawUrl.replace('list-type=2', 'list-type=1') }));
  });

  void it('joins repeated headers with "," and collapses whitespace', async () => {
    const signed = await signer('s3').sign(
      request('PUT', '/b/k', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-meta-multi': 'a,b', 'x-amz-meta-spaced': '  one   two \t three  ' }),
      { signingDate },
    );
    const base = toSignable(signed);
    // As node delivers it: `headers` joins with ", ", `headersDistinct` keeps each occurrence.
    const req: SignableRequest = {
      ...base,
      headers: { ...base.headers, 'x-amz-meta-multi': 'a, b' },
      headersDistinct: { 'x-amz-meta-multi': ['a', 'b'], 'x-amz-meta-spaced': ['  one   two \t three  '] },
    };
    assert.equal(verifier().verify(req).service, 's3');
    assert.equal(verifier().verify(base).service, 's3');
  });

  void it('accepts an Authorization header without spaces after the commas', async () => {
    const signed = toSignable(await signer('s3').sign(request('GET', '/b/k', { 'x-amz-content-sha256': sha256('') }), { signingDate }));
    const auth = (signed.headers.authorization as string).replace(/, /g, ',');
    assert.equal(verifier().verify(withHeaders(signed, { authorization: auth })).accessKeyId, AKID);
  });

  void it('rejects a wrong secret and an unknown key', async () => {
    const wrong = await signer('s3', { secret: 'not-the-secret' }).sign(request('GET', '/b/k', { 'x-amz-content-sha256': sha256('') }), { signingDate });
    assert.throws(
      () => verifier().verify(toSignable(wrong)),
      (err: unknown) => isInferqError(err, 'SignatureDoesNotMatch') && typeof err.details.CanonicalRequest === 'string' && !JSON.stringify(err.details).includes(SECRET),
    );
    const unknown = await signer('s3', { accessKeyId: 'AKIDUNKNOWN' }).sign(request('GET', '/b/k', { 'x-amz-content-sha256': sha256('') }), { signingDate });
    rejects('InvalidAccessKeyId', () => verifier().verify(toSignable(unknown)));
  });

  void it('enforces the clock skew', async () => {
    const req = toSignable(await signer('sagemaker', { applyChecksum: true }).sign(request('POST', '/endpoints/ok/invocations', {}), { signingDate }));
    assert.ok(verifier(new FakeClock(T0 + 14 * 60_000)).verify(req));
    assert.ok(verifier(new FakeClock(T0 - 15 * 60_000)).verify(req));
    rejects('RequestTimeTooSkewed', () => verifier(new FakeClock(T0 + 15 * 60_000 + 1000)).verify(req));
    rejects('RequestTimeTooSkewed', () => verifier(new FakeClock(T0 - 16 * 60_000)).verify(req));
    rejects('RequestTimeTooSkewed', () => verifier(new FakeClock(T0 + 6000), 5).verify(req));
  });

  void it('rejects a tampered signed header but ignores added unsigned headers', async () => {
    const req = toSignable(
      await signer('sagemaker', { applyChecksum: true }).sign(request('POST', '/endpoints/ok/async-invocations', { 'x-amzn-sagemaker-inputlocation': 's3://b/in.json' }), {
        signingDate,
      }),
    );
    rejects('SignatureDoesNotMatch', () => verifier().verify(withHeaders(req, { 'x-amzn-sagemaker-inputlocation': 's3://b/other.json' })));
    rejects('SignatureDoesNotMatch', () => verifier().verify(withHeaders(req, { 'x-amzn-sagemaker-inputlocation': undefined })));
    rejects('SignatureDoesNotMatch', () => verifier().verify({ ...req, method: 'PUT' }));
    const extra = withHeaders(req, { 'user-agent': 'curl', connection: 'keep-alive', 'content-length': '0', 'amz-sdk-request': 'attempt=2' });
    assert.equal(verifier().verify(extra).service, 'sagemaker');
  });

  void it('verifies a session token header and returns the streaming chunk context', async () => {
    const signed = await signer('s3', { sessionToken: 'token/with+chars=' }).sign(
      request('PUT', '/b/k', { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '0' }),
      { signingDate },
    );
    const result = verifier().verify(toSignable(signed));
    assert.deepEqual(result.payload, { kind: 'streaming-signed', trailer: true });
    const seed = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1];
    assert.equal(result.chunkSigning?.seedSignature, seed);
    assert.equal(result.chunkSigning?.scope, '20261126/us-east-1/s3/aws4_request');
    assert.equal(result.chunkSigning?.amzDate, '20261126T175152Z');
    assert.deepEqual(result.chunkSigning?.signingKey, deriveSigningKey(SECRET, '20261126', 'us-east-1', 's3'));
  });

  void it('maps x-amz-content-sha256 values to payload modes', async () => {
    const modes: [string, unknown][] = [
      ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', { kind: 'streaming-signed', trailer: false }],
      ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', { kind: 'streaming-unsigned-trailer' }],
      [sha256('x').toUpperCase(), { kind: 'sha256', hash: sha256('x') }],
    ];
    for (const [value, mode] of modes) {
      const signed = await signer('s3').sign(request('PUT', '/b/k', { 'x-amz-content-sha256': value }), { signingDate });
      assert.deepEqual(verifier().verify(toSignable(signed)).payload, mode);
    }
    const bad = await signer('s3').sign(request('PUT', '/b/k', { 'x-amz-content-sha256': 'STREAMING-NONSENSE' }), { signingDate });
    rejects('InvalidArgument', () => verifier().verify(toSignable(bad)));
    const none = await signer('s3').sign(request('PUT', '/b/k', {}), { signingDate });
    rejects('InvalidRequest', () => verifier().verify(toSignable(none), { bodySha256Hex: sha256('') }));
  });

  void it('reports malformed authentication', async () => {
    const good = toSignable(await signer('s3').sign(request('GET', '/b/k', { 'x-amz-content-sha256': sha256('') }), { signingDate }));
    const auth = good.headers.authorization as string;
    rejects('MissingAuthentication', () => verifier().verify(withHeaders(good, { authorization: undefined })));
    const incomplete = [
      'AWS AKIDEXAMPLE:c2lnbmF0dXJl',
      'AWS4-HMAC-SHA512 ' + auth.slice('AWS4-HMAC-SHA256 '.length),
      auth.replace(/, Signature=[0-9a-f]+/, ''),
      auth.replace(/SignedHeaders=[^,]+, /, ''),
      auth.replace('/aws4_request', '/aws4_other'),
      auth.replace('Credential=AKIDEXAMPLE/', 'Credential=AKIDEXAMPLE/x/'),
      auth.replace('SignedHeaders=host;', 'SignedHeaders=').replace('SignedHeaders=', 'SignedHeaders=x-amz-date;host;'),
      auth.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=x-amz-content-sha256;x-amz-date'),
      auth.replace('/20261126/', '/20261125/'),
    ];
    for (const bad of incomplete) rejects('IncompleteSignature', () => verifier().verify(withHeaders(good, { authorization: bad })));
    rejects('IncompleteSignature', () => verifier().verify(withHeaders(good, { 'x-amz-date': undefined })));
    rejects('IncompleteSignature', () => verifier().verify(withHeaders(good, { 'x-amz-date': '2026-11-26T17:51:52Z' })));
    rejects('SignatureDoesNotMatch', () => verifier().verify(withHeaders(good, { authorization: auth.replace(/Signature=.*/, 'Signature=abc') })));
    rejects('InvalidArgument', () => verifier().verify({ ...good, rawUrl: '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256' }));
  });

  void it('claims the service from either form, parsing the request once', async () => {
    const header = toSignable(await signer('sagemaker').sign(request('POST', '/endpoints/x/invocations', {}), { signingDate }));
    assert.equal(claimedService(parseRequestCredentials(header)), 'sagemaker');
    const presigned = toSignable(await signer('s3').presign(request('GET', '/b/k', {}), { signingDate, expiresIn: 60 }));
    assert.equal(claimedService(parseRequestCredentials(presigned)), 's3');
    rejects('MissingAuthentication', () => parseRequestCredentials({ method: 'GET', rawUrl: '/b/k?x=1', headers: {} }));
    rejects('IncompleteSignature', () => parseRequestCredentials({ method: 'GET', rawUrl: '/', headers: { authorization: 'Basic Zm9v' } }));
  });
});

void describe('SigV4Verifier presigned form', () => {
  void it('verifies presigned GET and PUT (X-Amz-Content-Sha256 in the query)', async () => {
    for (const method of ['GET', 'PUT']) {
      const presigned = await signer('s3').presign(request(method, '/bucket/dir/a%20b%2Bc~%28d%29.json', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, { 'x-id': 'GetObject' }), {
        signingDate,
        expiresIn: 300,
      });
      const req = toSignable(presigned);
      assert.match(req.rawUrl, /X-Amz-Content-Sha256|x-amz-content-sha256/);
      const result = verifier().verify(req);
      assert.deepEqual({ presigned: result.presigned, payload: result.payload }, { presigned: true, payload: { kind: 'unsigned' } });
    }
  });

  void it('uses UNSIGNED-PAYLOAD when the query has no X-Amz-Content-Sha256', async () => {
    const presigned = await signer('s3').presign({ ...request('PUT', '/b/k', { 'content-type': 'text/plain' }), body: Readable.from([]) }, { signingDate, expiresIn: 60 });
    const req = toSignable(presigned);
    assert.doesNotMatch(req.rawUrl, /content-sha256/i);
    assert.equal(verifier().verify(req).presigned, true);
    rejects('SignatureDoesNotMatch', () => verifier().verify(withHeaders(req, { 'content-type': 'text/html' })));
    rejects('SignatureDoesNotMatch', () => verifier().verify({ ...req, rawUrl: req.rawUrl.replace('/b/k', '/b/j') }));
  });

  void it('enforces expiry and not-yet-valid dates', async () => {
    const req = toSignable(await signer('s3').presign(request('GET', '/b/k', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), { signingDate, expiresIn: 60 }));
    assert.ok(verifier(new FakeClock(T0 + 60_000)).verify(req));
    rejects('RequestExpired', () => verifier(new FakeClock(T0 + 61_000)).verify(req));
    assert.ok(verifier(new FakeClock(T0 - 14 * 60_000)).verify(req));
    rejects('RequestExpired', () => verifier(new FakeClock(T0 - 16 * 60_000)).verify(req));
    for (const expires of ['0', '604801', 'abc']) {
      rejects('IncompleteSignature', () => verifier().verify({ ...req, rawUrl: req.rawUrl.replace('X-Amz-Expires=60', `X-Amz-Expires=${expires}`) }));
    }
    for (const param of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
      rejects('IncompleteSignature', () => verifier().verify({ ...req, rawUrl: req.rawUrl.replace(new RegExp(`${param}=[^&]*&?`), '') }));
    }
  });

  void it('verifies a URL from @aws-sdk/s3-request-presigner', async () => {
    const client = new S3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:8080', forcePathStyle: true, credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
    for (const command of [new GetObjectCommand({ Bucket: 'b', Key: 'dir/a b+c~(d)/ü.json' }), new PutObjectCommand({ Bucket: 'b', Key: '../x//y', ContentType: 'text/plain' })]) {
      // Not `new URL()`: it would resolve the `..` the key contains.
      const url = await getSignedUrl(client, command, { expiresIn: 900, signingDate });
      const origin = 'http://127.0.0.1:8080';
      assert.ok(url.startsWith(origin));
      const headers: Record<string, string> = { host: '127.0.0.1:8080' };
      if (command instanceof PutObjectCommand) headers['content-type'] = 'text/plain';
      const req: SignableRequest = { method: command instanceof PutObjectCommand ? 'PUT' : 'GET', rawUrl: url.slice(origin.length), headers };
      const result = verifier().verify(req);
      assert.equal(result.region, 'eu-west-1');
      assert.equal(result.presigned, true);
    }
  });
});

void describe('SigV4Verifier with real SDK clients', () => {
  void it('verifies S3 PutObject / ListObjectsV2 from the JS SDK', async () => {
    const sink: Captured[] = [];
    const client = capturingS3Client(sink, { statusCode: 200, headers: { etag: '"x"' }, body: '<ListBucketResult/>' });
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'dir/a b+c~(d).json', Body: 'hello' }));
    await client.send(new ListObjectsV2Command({ Bucket: 'b', Prefix: 'dir/a b', Delimiter: '/' }));
    const clock = new FakeClock(Date.now());
    for (const { signable } of sink) assert.equal(verifier(clock).verify(signable).service, 's3');
    assert.equal(sink[0]?.signable.rawUrl, '/b/dir/a%20b%2Bc~%28d%29.json?x-id=PutObject');
  });

  void it('verifies SageMaker Runtime calls with an odd endpoint name', async () => {
    const sink: Captured[] = [];
    const client = new SageMakerRuntimeClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:8080',
      credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
      requestHandler: captureHandler(sink, { statusCode: 202, headers: { 'x-amzn-sagemaker-outputlocation': 's3://b/o' }, body: '{}' }),
    });
    await client.send(new InvokeEndpointAsyncCommand({ EndpointName: "a b/c~d'(e)*!+ü", InputLocation: 's3://b/k' }));
    await client.send(new InvokeEndpointCommand({ EndpointName: 'ok', Body: Buffer.from('{"x":1}'), ContentType: 'application/json' }));
    const clock = new FakeClock(Date.now());
    assert.equal(sink[0]?.signable.rawUrl.startsWith('/endpoints/a%20b%2Fc~d%27%28e%29%2A%21%2B%C3%BC/async-invocations'), true);
    for (const { signable, body } of sink) assert.equal(verifier(clock).verify(signable, { bodySha256Hex: sha256(body) }).service, 'sagemaker');
  });
});

void describe('SigningKeyCache', () => {
  void it('stays bounded and returns derived keys', () => {
    const cache = new SigningKeyCache(4);
    for (let d = 1; d <= 10; d++) cache.get(SECRET, `202611${String(d).padStart(2, '0')}`, 'us-east-1', 's3');
    assert.equal(cache.size, 4);
    assert.deepEqual(cache.get(SECRET, '20261110', 'us-east-1', 's3'), deriveSigningKey(SECRET, '20261110', 'us-east-1', 's3'));
  });

  void it('answers each scope with its own key when scopes alternate or repeat', () => {
    const cache = new SigningKeyCache(4);
    const scopes: [string, string, string, string][] = [
      [SECRET, '20261110', 'us-east-1', 's3'], [SECRET, '20261110', 'us-east-1', 's3'], [SECRET, '20261110', 'us-east-1', 'sagemaker'],
      ['other', '20261110', 'us-east-1', 'sagemaker'], [SECRET, '20261111', 'us-east-1', 'sagemaker'], [SECRET, '20261111', 'eu-west-1', 'sagemaker'],
      [SECRET, '20261110', 'us-east-1', 's3'],
    ];
    for (const scope of scopes) assert.deepEqual(cache.get(...scope), deriveSigningKey(...scope), scope.join('/'));
  });
});

void describe('canonicalUri', () => {
  void it('keeps a path that is already canonical and normalises every other one', () => {
    const cases: [string, string][] = [
      ['/endpoints/echo/async-invocations', '/endpoints/echo/async-invocations'],
      ['/', '/'],
      ['/a/b/', '/a/b/'],
      ['a/b', 'a/b'],
      ['/a//b', '/a/b'],
      ['//a', '/a'],
      ['/a/./b', '/a/b'],
      ['/a/../b', '/b'],
      ['/a/b/..', '/a'],
      ['/a/b/.', '/a/b'],
      ['/./a', '/a'],
      ['/..', '/'],
      ['/a.b/..c/c../.d', '/a.b/..c/c../.d'],
      ['/a%20b', '/a%2520b'],
      ['/a b', '/a%20b'],
    ];
    for (const [raw, canonical] of cases) assert.equal(canonicalUri(raw, 'sagemaker'), canonical, raw);
    assert.equal(canonicalUri('/a//./b', 's3'), '/a//./b');
  });
});

void describe('payloadModeOf', () => {
  void it('takes a SHA-256 digest in any case as lower-case hex and rejects anything else', () => {
    const digest = '0123456789abcdef'.repeat(4);
    assert.deepEqual(payloadModeOf(digest), { kind: 'sha256', hash: digest });
    assert.deepEqual(payloadModeOf(digest.toUpperCase()), { kind: 'sha256', hash: digest });
    assert.deepEqual(payloadModeOf(`${digest.slice(0, 63)}F`), { kind: 'sha256', hash: `${digest.slice(0, 63)}f` });
    for (const bad of [digest.slice(1), `${digest}0`, `${digest.slice(0, 63)}g`, `${digest.slice(0, 63)} `, '', 'unsigned-payload']) {
      assert.throws(() => payloadModeOf(bad), (err: unknown) => isInferqError(err) && err.code === 'InvalidArgument', JSON.stringify(bad));
    }
    assert.deepEqual(payloadModeOf('UNSIGNED-PAYLOAD'), { kind: 'unsigned' });
  });
});

void describe('signaturesEqual', () => {
  const expected = hmacHex(randomBytes(32), 'string to sign');
  void it('matches only the identical 64-digit signature', () => {
    assert.equal(signaturesEqual(expected, expected), true);
    assert.equal(signaturesEqual(expected, `${expected.slice(0, 63)}${expected[63] === '0' ? '1' : '0'}`), false);
    assert.equal(signaturesEqual(expected, `${expected[0] === '0' ? '1' : '0'}${expected.slice(1)}`), false);
    assert.equal(signaturesEqual(expected, expected.toUpperCase()), /^[0-9]+$/.test(expected));
    assert.equal(signaturesEqual(expected, expected.slice(0, 63)), false);
    assert.equal(signaturesEqual(expected, `${expected}0`), false);
    assert.equal(signaturesEqual(expected, ''), false);
  });
});

void describe('hmacHex', () => {
  void it('equals node\'s HMAC-SHA256 for short and long keys and for ASCII and non-ASCII data', () => {
    const data = ['', 'AWS4-HMAC-SHA256\n20261126T175152Z\n20261126/us-east-1/sagemaker/aws4_request\n' + 'a'.repeat(64), 'x'.repeat(300), 'région/é€😀', '\u0000\u007f\u0080\u00ff'];
    for (const length of [0, 1, 31, 32, 63, 64, 65, 200]) {
      const key = randomBytes(length);
      for (const text of data) assert.equal(hmacHex(key, text), createHmac('sha256', key).update(text, 'utf8').digest('hex'), `key of ${length} bytes, data ${JSON.stringify(text.slice(0, 20))}`);
    }
  });

  void it('keeps each key\'s result apart when keys are used in turn', () => {
    const keys = [randomBytes(32), randomBytes(32)];
    for (let i = 0; i < 6; i++) {
      const key = keys[i % 2]!;
      assert.equal(hmacHex(key, `request ${i}`), createHmac('sha256', key).update(`request ${i}`).digest('hex'));
    }
  });
});
