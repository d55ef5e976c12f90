/**
 * The one parse of a request's credentials: repeated, unknown and malformed components, more than
 * one mechanism, the checks made before any body (unknown key, payload modes per service), the
 * `Date` header as signing time (real botocore requests) and the 7-day cap on SigV2 presigned URLs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { SigV4Verifier, claimedService, parseRequestCredentials, verifySigV2Presigned, type SignableRequest } from '../../src/auth/index.js';
import { isInferqError, type ErrorCode } from '../../src/errors/index.js';
import { AKID, FakeClock, SECRET, credentials, request, sha256, signer, toSignable } from './helpers.js';

const T0 = Date.UTC(2026, 10, 26, 17, 51, 52);
const signingDate = new Date(T0);

function verifier(clock = new FakeClock(T0)): SigV4Verifier {
  return new SigV4Verifier(credentials(), clock, { maxClockSkewSeconds: 900 });
}

function rejects(code: ErrorCode, fn: () => unknown, what = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isInferqError(err), `${what}: expected InferqError, got ${String(err)}`);
    assert.equal(err.code, code, `${what}: ${err.message}`);
    return true;
  });
}

async function signedSageMaker(): Promise<SignableRequest> {
  return toSignable(await signer('sagemaker', { applyChecksum: true }).sign(request('POST', '/endpoints/ok/invocations', {}, {}, ''), { signingDate }));
}

function withAuthorization(req: SignableRequest, authorization: string): SignableRequest {
  return { ...req, headers: { ...req.headers, authorization } };
}

void describe('Authorization header: one parse', () => {
  void it('a repeated Credential, SignedHeaders or Signature is IncompleteSignature, in either position', async () => {
    const req = await signedSageMaker();
    const auth = req.headers.authorization as string;
    const s3Scope = `Credential=${AKID}/20261126/us-east-1/s3/aws4_request`;
    const variants = [
      auth.replace('AWS4-HMAC-SHA256 ', `AWS4-HMAC-SHA256 ${s3Scope}, `),
      `${auth}, ${s3Scope}`,
      `${auth}, SignedHeaders=host`,
      `${auth}, Signature=${'0'.repeat(64)}`,
      auth.replace('AWS4-HMAC-SHA256 ', `AWS4-HMAC-SHA256 Signature=${'0'.repeat(64)},`),
    ];
    for (const bad of variants) rejects('IncompleteSignature', () => parseRequestCredentials(withAuthorization(req, bad)), bad);
    assert.equal(claimedService(parseRequestCredentials(req)), 'sagemaker');
    assert.equal(verifier().verify(req).service, 'sagemaker');
  });

  void it('an unknown or malformed component is IncompleteSignature', async () => {
    const req = await signedSageMaker();
    const auth = req.headers.authorization as string;
    const variants = [
      `${auth}, Foo=bar`,
      `${auth}, credential=${AKID}/20261126/us-east-1/s3/aws4_request`,
      `${auth},`,
      `${auth}, Signature`,
      auth.replace(/Signature=[0-9a-f]+/, 'Signature='),
      auth.replace(', SignedHeaders=', ', SignedHeaders= '),
      auth.replace(/Signature=([0-9a-f]+)/, 'Signature=$1 extra'),
      auth.replace('AWS4-HMAC-SHA256 ', 'AWS4-HMAC-SHA256'),
    ];
    for (const bad of variants) rejects('IncompleteSignature', () => parseRequestCredentials(withAuthorization(req, bad)), bad);
    // Another order, and no spaces after the commas, are still one unambiguous parse.
    const m = /^AWS4-HMAC-SHA256 (Credential=[^,]+), (SignedHeaders=[^,]+), (Signature=[^,]+)$/.exec(auth)!;
    const reordered = withAuthorization(req, `AWS4-HMAC-SHA256 ${m[3]!},${m[1]!},${m[2]!}`);
    assert.equal(verifier().verify(reordered).accessKeyId, AKID);
  });

  void it('two Authorization headers are IncompleteSignature', async () => {
    const req = await signedSageMaker();
    const auth = req.headers.authorization as string;
    const other = auth.replace('/sagemaker/', '/s3/');
    rejects('IncompleteSignature', () => parseRequestCredentials({ ...req, headersDistinct: { authorization: [auth, other] } }));
  });
});

void describe('query authentication: one parse', () => {
  void it('a presigned query naming an X-Amz-* parameter twice is IncompleteSignature', async () => {
    const req = toSignable(await signer('s3').presign(request('GET', '/b/k', {}), { signingDate, expiresIn: 60 }));
    const credential = /X-Amz-Credential=[^&]+/.exec(req.rawUrl)![0];
    for (const extra of [credential.replace('%2Fs3%2F', '%2Fsagemaker%2F'), 'X-Amz-Date=20261126T175152Z', 'X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&x-amz-content-sha256=UNSIGNED-PAYLOAD']) {
      rejects('IncompleteSignature', () => parseRequestCredentials({ ...req, rawUrl: `${req.rawUrl}&${extra}` }), extra);
    }
    assert.equal(claimedService(parseRequestCredentials(req)), 's3');
  });

  void it('more than one mechanism is InvalidArgument', async () => {
    const header = await signedSageMaker();
    const presigned = toSignable(await signer('s3').presign(request('GET', '/b/k', {}), { signingDate, expiresIn: 60 }));
    const v2 = 'AWSAccessKeyId=AKIDEXAMPLE&Expires=1796857157&Signature=abc';
    rejects('InvalidArgument', () => parseRequestCredentials({ ...header, rawUrl: `${header.rawUrl}?${presigned.rawUrl.split('?')[1]!}` }));
    rejects('InvalidArgument', () => parseRequestCredentials({ ...header, rawUrl: `${header.rawUrl}?${v2}` }));
    rejects('InvalidArgument', () => parseRequestCredentials({ ...presigned, rawUrl: `${presigned.rawUrl}&${v2}` }));
    assert.equal(parseRequestCredentials({ method: 'GET', rawUrl: `/b/k?${v2}`, headers: {} }).kind, 'sigv2');
  });
});

void describe('checks made before the body', () => {
  void it('UNSIGNED-PAYLOAD and STREAMING-* are S3-only; SageMaker must sign the body hash', async () => {
    for (const mode of ['UNSIGNED-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']) {
      for (const service of ['sagemaker', 's3']) {
        const req = toSignable(await signer(service).sign(request('PUT', '/endpoints/ok/invocations', { 'x-amz-content-sha256': mode }), { signingDate }));
        const { claims } = parseRequestCredentials(req);
        if (!('signedHeaders' in claims)) throw new Error('expected SigV4 claims');
        if (service === 's3') assert.equal(verifier().check(req, claims).claims.service, 's3');
        else rejects('InvalidRequest', () => verifier().check(req, claims), `${service} ${mode}`);
      }
    }
    const presigned = toSignable(await signer('sagemaker').presign(request('POST', '/endpoints/ok/invocations', {}), { signingDate, expiresIn: 60 }));
    rejects('InvalidRequest', () => verifier().verify(presigned, { bodySha256Hex: sha256('') }));
  });

  void it('check() refuses an unknown key and a skewed date; verifyChecked() then needs only the body hash', async () => {
    const req = toSignable(await signer('sagemaker').sign(request('POST', '/endpoints/ok/invocations', {}, {}, 'hi'), { signingDate }));
    const credentialsOf = parseRequestCredentials(req);
    if (credentialsOf.kind !== 'sigv4') throw new Error('expected SigV4');
    rejects('RequestTimeTooSkewed', () => verifier(new FakeClock(T0 + 3_600_000)).check(req, credentialsOf.claims));
    rejects('InvalidAccessKeyId', () => new SigV4Verifier(credentials(), new FakeClock(T0), { maxClockSkewSeconds: 900 }).check(req, { ...credentialsOf.claims, accessKeyId: 'AKIDUNKNOWN' }));
    const checked = verifier().check(req, credentialsOf.claims);
    assert.deepEqual(checked.payload, { kind: 'computed' });
    assert.equal(verifier().verifyChecked(req, checked, { bodySha256Hex: sha256('hi') }).service, 'sagemaker');
    rejects('SignatureDoesNotMatch', () => verifier().verifyChecked(req, checked, { bodySha256Hex: sha256('ho') }));
  });
});

/** A request signed by botocore's SigV4Auth with a `Date` header (botocore then sends no X-Amz-Date). */
function botocoreDateSigned(service: string, body: string): { req: SignableRequest; dateMs: number } {
  const script = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
r = AWSRequest(method='POST', url='http://127.0.0.1:8080/endpoints/ok/invocations', data=sys.argv[2].encode(), headers={'Date': 'placeholder', 'Content-Type': 'application/json'})
SigV4Auth(Credentials(sys.argv[3], sys.argv[4]), sys.argv[1], 'us-east-1').add_auth(r)
print(json.dumps(dict(r.headers)))
`;
  const out = execFileSync('python3', ['-c', script, service, body, AKID, SECRET], { encoding: 'utf8' });
  const sent = JSON.parse(out) as Record<string, string>;
  const headers: Record<string, string> = { host: '127.0.0.1:8080' };
  for (const [k, v] of Object.entries(sent)) headers[k.toLowerCase()] = v;
  return { req: { method: 'POST', rawUrl: '/endpoints/ok/invocations', headers }, dateMs: Date.parse(headers['date']!) };
}

void describe('the Date header as signing time', () => {
  void it('a request botocore signs with a Date header and no X-Amz-Date verifies with that time', () => {
    const body = '{"x":1}';
    const { req, dateMs } = botocoreDateSigned('sagemaker', body);
    assert.equal(req.headers['x-amz-date'], undefined);
    assert.match(req.headers.date ?? '', /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} (GMT|-0000)$/);
    assert.match(req.headers.authorization as string, /SignedHeaders=[^,]*\bdate\b/);
    const clock = new FakeClock(dateMs);
    assert.equal(verifier(clock).verify(req, { bodySha256Hex: sha256(body) }).accessKeyId, AKID);
    // The Date is what was signed: another second does not verify; an old one is skewed.
    const later = new Date(dateMs + 1000).toUTCString();
    rejects('SignatureDoesNotMatch', () => verifier(clock).verify({ ...req, headers: { ...req.headers, date: later } }, { bodySha256Hex: sha256(body) }));
    rejects('RequestTimeTooSkewed', () => verifier(new FakeClock(dateMs + 3_600_000)).verify(req, { bodySha256Hex: sha256(body) }));
    rejects('IncompleteSignature', () => verifier(clock).verify({ ...req, headers: { ...req.headers, date: 'yesterday' } }, { bodySha256Hex: sha256(body) }));
    // X-Amz-Date wins over Date when both are present (what the SDKs that always send it sign).
    rejects('IncompleteSignature', () => verifier(clock).verify({ ...req, headers: { ...req.headers, 'x-amz-date': '20000101T000000Z' } }, { bodySha256Hex: sha256(body) }));
  });
});

void describe('SigV2 presigned URLs', () => {
  /** A URL from botocore's SigV2 presigner (`signature_version='s3'`) for GET /b/k. */
  function botocoreV2(expiresIn: number): string {
    const script = `
import sys, boto3
from botocore.config import Config
c = boto3.client('s3', endpoint_url='http://127.0.0.1:8080', region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], config=Config(signature_version='s3', s3={'addressing_style': 'path'}))
print(c.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'k'}, ExpiresIn=int(sys.argv[1])))
`;
    return execFileSync('python3', ['-c', script, String(expiresIn), AKID, SECRET], { encoding: 'utf8' }).trim();
  }

  function v2(url: string): { req: SignableRequest; verify: () => unknown } {
    const rawUrl = url.slice('http://127.0.0.1:8080'.length);
    const req: SignableRequest = { method: 'GET', rawUrl, headers: { host: '127.0.0.1:8080' } };
    return {
      req,
      verify: () => {
        const parsed = parseRequestCredentials(req);
        if (parsed.kind !== 'sigv2') throw new Error('expected SigV2');
        return verifySigV2Presigned(req, parsed.claims, credentials(), new FakeClock(Date.now()));
      },
    };
  }

  void it('Expires more than 7 days ahead is refused, like X-Amz-Expires', () => {
    assert.equal((v2(botocoreV2(6 * 86_400)).verify() as { accessKeyId: string }).accessKeyId, AKID);
    rejects('IncompleteSignature', v2(botocoreV2(8 * 86_400)).verify);
  });

  void it('a repeated AWSAccessKeyId, Expires or Signature is refused', () => {
    const { req } = v2(botocoreV2(3600));
    for (const extra of ['AWSAccessKeyId=other', 'Signature=abc', 'Expires=1']) {
      rejects('IncompleteSignature', () => parseRequestCredentials({ ...req, rawUrl: `${req.rawUrl}&${extra}` }), extra);
    }
  });
});
