/**
 * The dashboard's security rules over plain HTTP (no browser), on the real zero-config server:
 * sign-in checks the configured pair and sets an HttpOnly, SameSite=Strict, Path=/ui cookie;
 * every /ui/api call needs it, state-changing ones also the session's X-CSRF-Token; the cookie is
 * never a credential for the S3 or SageMaker APIs; signed `/ui/…` requests stay S3 path-style calls
 * of a bucket named `ui`; presigned download links work without the cookie; failed sign-ins are
 * limited per address.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Harness, awaitTerminal, rawRequest, signed } from '../helpers/async.js';
import { s3Client } from '../helpers/clients.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let server: ServerProcess;

before(async () => {
  server = await h.start();
});
after(() => h.cleanup());

interface Session { cookie: string; csrf: string }

function json(body: Buffer): Record<string, unknown> {
  return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
}

async function signIn(secret = 'test'): Promise<{ status: number; setCookie: string | undefined; doc: Record<string, unknown> }> {
  const r = await rawRequest('POST', `${server.url}/ui/api/sign-in`, { 'Content-Type': 'application/json' }, JSON.stringify({ accessKeyId: 'test', secretAccessKey: secret }));
  return { status: r.status, setCookie: r.headers['set-cookie']?.[0], doc: json(r.body) };
}

async function session(): Promise<Session> {
  const r = await signIn();
  assert.equal(r.status, 200);
  return { cookie: r.setCookie!.split(';')[0]!, csrf: String(r.doc['csrfToken']) };
}

describe('dashboard pages and assets', () => {
  test('/ui redirects to /ui/, which serves the page; assets come from inferq itself', async () => {
    const redirect = await rawRequest('GET', `${server.url}/ui`, {});
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, '/ui/');
    const page = await rawRequest('GET', `${server.url}/ui/`, {});
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    const html = page.body.toString('utf8');
    for (const label of ['Access key ID', 'Secret access key', 'Endpoint', 'Payload']) assert.ok(html.includes(`>${label}</label>`), label);
    assert.ok(html.includes('aria-label="Result"'));
    assert.doesNotMatch(html, /https?:\/\//, 'no external asset');
    for (const name of ['app.js', 'app.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
      const a = await rawRequest('GET', `${server.url}/ui/assets/${name}`, {});
      assert.equal(a.status, 200, name);
      assert.ok(a.body.length > 500, name);
    }
    const missing = await rawRequest('GET', `${server.url}/ui/assets/nope.js`, {});
    assert.equal(missing.status, 404);
    assert.equal(json(missing.body)['code'], 'NoSuchKey');
  });

  test('signed out: the session call offers the development pair; data calls answer 401', async () => {
    const s = await rawRequest('GET', `${server.url}/ui/api/session`, {});
    assert.deepEqual(json(s.body), { signedIn: false, prefill: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const o = await rawRequest('GET', `${server.url}/ui/api/overview`, {});
    assert.equal(o.status, 401);
    assert.equal(json(o.body)['code'], 'SessionRequired');
    const forged = await rawRequest('GET', `${server.url}/ui/api/overview`, { Cookie: 'inferq_session=made-up' });
    assert.equal(forged.status, 401);
  });
});

describe('sign-in, cookie and CSRF', () => {
  test('a wrong secret is refused; the right one sets a HttpOnly, SameSite=Strict, Path=/ui cookie that expires', async () => {
    const bad = await signIn('wrong');
    assert.equal(bad.status, 401);
    assert.equal(bad.setCookie, undefined);
    const ok = await signIn();
    assert.equal(ok.status, 200);
    assert.match(ok.setCookie!, /^inferq_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/ui; Max-Age=43200$/);
    assert.match(String(ok.doc['csrfToken']), /^[A-Za-z0-9_-]{43}$/);
    const notJson = await rawRequest('POST', `${server.url}/ui/api/sign-in`, { 'Content-Type': 'text/plain' }, '{"accessKeyId":"test","secretAccessKey":"test"}');
    assert.equal(notJson.status, 400);
  });

  test('reads need the cookie; invoke needs the CSRF token too; sign-out ends the session', async () => {
    const s = await session();
    const overview = await rawRequest('GET', `${server.url}/ui/api/overview`, { Cookie: s.cookie });
    assert.equal(overview.status, 200);
    const names = (json(overview.body)['endpoints'] as { EndpointName: string }[]).map((e) => e.EndpointName);
    assert.deepEqual(names.sort(), ['echo', 'vad']);
    const url = `${server.url}/ui/api/invoke?endpoint=echo`;
    const noToken = await rawRequest('POST', url, { Cookie: s.cookie, 'Content-Type': 'text/plain' }, 'hi');
    assert.equal(noToken.status, 403);
    assert.equal(json(noToken.body)['code'], 'CsrfTokenInvalid');
    const wrongToken = await rawRequest('POST', url, { Cookie: s.cookie, 'Content-Type': 'text/plain', 'X-CSRF-Token': 'x'.repeat(43) }, 'hi');
    assert.equal(wrongToken.status, 403);
    const noCookie = await rawRequest('POST', url, { 'Content-Type': 'text/plain', 'X-CSRF-Token': s.csrf }, 'hi');
    assert.equal(noCookie.status, 401);
    const ok = await rawRequest('POST', url, { Cookie: s.cookie, 'Content-Type': 'text/plain', 'X-CSRF-Token': s.csrf }, 'hello dashboard');
    assert.equal(ok.status, 202);
    const id = String(json(ok.body)['InferenceId']);
    assert.equal((await awaitTerminal(server.url, 'echo', id)).Status, 'Succeeded');

    // The presigned link downloads the output with no cookie at all.
    const doc = json((await rawRequest('GET', `${server.url}/ui/api/requests/echo/${id}`, { Cookie: s.cookie })).body);
    const output = await rawRequest('GET', `${server.url}${String(doc['OutputUrl'])}`, {});
    assert.equal(output.status, 200);
    assert.equal(output.body.toString('utf8'), 'hello dashboard');
    const listed = json((await rawRequest('GET', `${server.url}/ui/api/requests?endpoint=echo&status=Succeeded`, { Cookie: s.cookie })).body);
    assert.ok((listed['requests'] as { InferenceId: string }[]).some((r) => r.InferenceId === id));

    const out = await rawRequest('POST', `${server.url}/ui/api/sign-out`, { Cookie: s.cookie, 'X-CSRF-Token': s.csrf });
    assert.equal(out.status, 200);
    assert.equal((await rawRequest('GET', `${server.url}/ui/api/overview`, { Cookie: s.cookie })).status, 401);
  });

  test('bad dashboard input is a 4xx, never a 500', async () => {
    const s = await session();
    const base = { Cookie: s.cookie, 'X-CSRF-Token': s.csrf };
    assert.equal((await rawRequest('POST', `${server.url}/ui/api/invoke?endpoint=nope`, base, 'x')).status, 400);
    assert.equal((await rawRequest('POST', `${server.url}/ui/api/invoke?endpoint=echo`, base, '')).status, 400);
    assert.equal((await rawRequest('GET', `${server.url}/ui/api/requests?endpoint=echo&status=Bogus`, { Cookie: s.cookie })).status, 400);
    assert.equal((await rawRequest('GET', `${server.url}/ui/api/requests/echo/missing`, { Cookie: s.cookie })).status, 400);
    assert.equal((await rawRequest('GET', `${server.url}/ui/api/requests/echo/%E0%A4%A`, { Cookie: s.cookie })).status, 400);
    assert.equal((await rawRequest('GET', `${server.url}/ui/api/requests/nope/x`, { Cookie: s.cookie })).status, 400);
    assert.equal((await rawRequest('POST', `${server.url}/ui/api/sign-in`, { 'Content-Type': 'application/json' }, '{not json')).status, 400);
    assert.equal((await rawRequest('POST', `${server.url}/ui/api/sign-in`, { 'Content-Type': 'application/json' }, '{"accessKeyId":1}')).status, 400);
    assert.equal((await rawRequest('POST', `${server.url}/ui/api/requests/echo/missing/cancel`, base)).status, 400);
    assert.equal((await rawRequest('DELETE', `${server.url}/ui/api/overview`, base)).status, 405);
  });
});

describe('the session is no credential elsewhere', () => {
  test('SageMaker and S3 calls with the cookie (and CSRF token) but no signature are refused', async () => {
    const s = await session();
    const headers = { Cookie: s.cookie, 'X-CSRF-Token': s.csrf };
    const list = await rawRequest('GET', `${server.url}/endpoints`, headers);
    assert.equal(list.status, 403);
    const invoke = await rawRequest('POST', `${server.url}/endpoints/echo/async-invocations`, headers, 'x');
    assert.equal(invoke.status, 403);
    const buckets = await rawRequest('GET', `${server.url}/`, headers);
    assert.equal(buckets.status, 403);
    assert.match(buckets.body.toString('utf8'), /<Code>AccessDenied<\/Code>/);
  });

  test('/ui cannot be a path-style bucket (S3 names have 3+ characters); signed /ui/… requests still go to S3, and bucket "ui-data" is untouched', async () => {
    const s3 = s3Client(server.url);
    try {
      await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'ui' })), { name: 'InvalidBucketName' });
      // A signed call is answered by S3, in S3's shape, not by the dashboard.
      const signedCall = await signed(server.url, 's3', 'GET', '/ui/api/overview');
      assert.equal(signedCall.status, 404);
      assert.match(signedCall.body.toString('utf8'), /<Code>NoSuchBucket<\/Code>/);
      await s3.send(new CreateBucketCommand({ Bucket: 'ui-data' }));
      await s3.send(new PutObjectCommand({ Bucket: 'ui-data', Key: 'api/overview', Body: 'an object, not the dashboard' }));
      const presigned = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'ui-data', Key: 'api/overview' }), { expiresIn: 60 });
      const viaLink = await rawRequest('GET', presigned, {});
      assert.equal(viaLink.body.toString('utf8'), 'an object, not the dashboard');
      const presignedUi = new URL(presigned);
      presignedUi.pathname = '/ui/api/overview';
      const s3Answer = await rawRequest('GET', presignedUi, {});
      assert.equal(s3Answer.status, 403, 'the signature covers another path: S3 refuses it');
      assert.match(s3Answer.body.toString('utf8'), /<Code>SignatureDoesNotMatch<\/Code>/);
      // Unsigned, /ui/… is the dashboard, and /ui-data/… is still S3's.
      assert.equal((await rawRequest('GET', `${server.url}/ui/api/overview`, {})).status, 401);
      const unsignedBucket = await rawRequest('GET', `${server.url}/ui-data/api/overview`, {});
      assert.equal(unsignedBucket.status, 403);
      assert.match(unsignedBucket.body.toString('utf8'), /<Code>AccessDenied<\/Code>/);
    } finally {
      s3.destroy();
    }
  });
});

describe('sign-in limit', () => {
  test('after 10 failed sign-ins from one address, even the right pair is refused with 429 for a minute', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await signIn(`wrong-${i}`)).status, 401);
    const limited = await signIn();
    assert.equal(limited.status, 429);
    assert.equal(limited.doc['code'], 'TooManySignIns');
  });
});
