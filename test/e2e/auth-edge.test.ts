/**
 * Authentication at the edge, against a real server over raw sockets: one parse of the
 * credentials (a repeated component cannot route a request one way and verify it another), the
 * scope service and payload modes each API accepts, refusals before any body is read (no
 * `100 Continue`), the shared budget of unverified body bytes (bounded memory, 503 past it), the
 * body timeout (408, connection closed) and client aborts logged as debug lines, not errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { signRequest } from '../../src/auth/index.js';
import { errorOf, getStatus, signed } from '../helpers/async.js';
import { DEV, REGION } from '../helpers/clients.js';
import { processMemory } from '../helpers/process.js';
import { asText, RawConnection, requestBytes, type RawResponse, type RawTextResponse } from '../helpers/raw-http.js';
import { startServer, tempDir, waitForOutput, writeConfig, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;

before(async () => {
  const dir = tempDir();
  // A short body timeout so the stall tests finish quickly; debug level to see the abort lines.
  const config = writeConfig(dir, 'server:\n  bodyTimeoutSeconds: 2\n  logLevel: debug\n');
  server = await startServer({ config });
  assert.equal((await signed(server.url, 's3', 'PUT', '/edge')).status, 200);
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

interface SignOptions {
  /** Server to sign for. @default the shared server */
  url?: string;
  service?: string;
  payloadHash?: string;
  accessKeyId?: string;
  date?: Date;
  headers?: Record<string, string>;
}

/** Signed request headers (SigV4 over `headers` + host, x-amz-date, x-amz-content-sha256). */
function sign(method: string, path: string, o: SignOptions = {}): Record<string, string> {
  return signRequest({
    method,
    url: new URL(path, `${o.url ?? server.url}/`),
    headers: o.headers ?? {},
    payloadHash: o.payloadHash ?? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    service: o.service ?? 'sagemaker',
    region: REGION,
    accessKeyId: o.accessKeyId ?? DEV.accessKeyId,
    secretAccessKey: DEV.secretAccessKey,
    ...(o.date ? { date: o.date } : {}),
  });
}

/** Sends one whole request on a fresh connection and reads the answer. */
async function exchange(method: string, path: string, headers: Record<string, string>, body = ''): Promise<RawTextResponse> {
  const conn = await RawConnection.open(server.port);
  await conn.write(requestBytes(method, path, { ...headers, 'content-length': String(Buffer.byteLength(body)) }, body));
  const reply = asText(await conn.reply());
  conn.destroy();
  return reply;
}

function jsonType(reply: RawTextResponse): string {
  return errorOf({ status: reply.status, headers: reply.headers, body: Buffer.from(reply.body) }).type;
}

function xmlCode(reply: RawTextResponse): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(reply.body)?.[1];
}

/** The scope `test/<day>/us-east-1/<service>/aws4_request` of a signed request's date. */
function scope(headers: Record<string, string>, service: string): string {
  return `${DEV.accessKeyId}/${headers['x-amz-date']!.slice(0, 8)}/${REGION}/${service}/aws4_request`;
}

describe('one parse of the credentials', () => {
  // A captured S3 request (UNSIGNED-PAYLOAD: its body is not covered) whose path is also a
  // SageMaker path; an attacker adds a second Credential= naming sagemaker, an inference id and a body.
  const path = '/endpoints/echo/async-invocations';
  for (const order of ['sagemaker Credential first', 'sagemaker Credential last'] as const) {
    test(`a duplicated Credential= (${order}) is refused and nothing is enqueued`, async () => {
      const captured = sign('POST', path, { service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
      const extra = `Credential=${scope(captured, 'sagemaker')}`;
      const authorization = order === 'sagemaker Credential first'
        ? captured.authorization!.replace('AWS4-HMAC-SHA256 ', `AWS4-HMAC-SHA256 ${extra}, `)
        : `${captured.authorization!}, ${extra}`;
      const id = `replay-${order.split(' ')[2]!}`;
      const reply = await exchange('POST', path, {
        ...captured, authorization, 'x-amzn-sagemaker-inference-id': id,
      }, 'attacker body');
      assert.equal(reply.status, 403, reply.body);
      assert.equal(jsonType(reply), 'IncompleteSignatureException');
      await assert.rejects(getStatus(server.url, 'echo', id), /400 .*not found/);
    });
  }

  test('the same attempt on InvokeEndpoint gets no answer from the model', async () => {
    const captured = sign('POST', '/endpoints/echo/invocations', { service: 's3', payloadHash: 'UNSIGNED-PAYLOAD' });
    const authorization = captured.authorization!.replace('AWS4-HMAC-SHA256 ', `AWS4-HMAC-SHA256 Credential=${scope(captured, 'sagemaker')}, `);
    const reply = await exchange('POST', '/endpoints/echo/invocations', { ...captured, authorization }, 'EVIL');
    assert.equal(reply.status, 403);
    assert.equal(jsonType(reply), 'IncompleteSignatureException');
    assert.doesNotMatch(reply.body, /EVIL/);
  });

  test('an unknown or malformed Authorization component is refused', async () => {
    const good = sign('GET', '/endpoints/echo');
    for (const authorization of [`${good.authorization!}, Foo=bar`, good.authorization!.replace(', Signature=', ', Signature')]) {
      const reply = await exchange('GET', '/endpoints/echo', { ...good, authorization });
      assert.equal(reply.status, 403);
      assert.equal(jsonType(reply), 'IncompleteSignatureException');
    }
    assert.equal((await exchange('GET', '/endpoints/echo', good)).status, 200);
  });
});

describe('scope service and payload mode', () => {
  for (const service of ['iam', 'execute-api', 'runtime.sagemaker']) {
    test(`a valid signature scoped to ${service} is refused with 403 in the caller's protocol`, async () => {
      const runtime = await exchange('GET', '/endpoints/echo', sign('GET', '/endpoints/echo', { service }));
      assert.equal(runtime.status, 403);
      assert.equal(jsonType(runtime), 'IncompleteSignatureException');
      const s3 = await exchange('GET', '/edge', sign('GET', '/edge', { service }));
      assert.equal(s3.status, 403);
      assert.equal(xmlCode(s3), 'AuthorizationHeaderMalformed');
    });
  }

  for (const mode of ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']) {
    test(`${mode} on a SageMaker call is refused (S3-only)`, async () => {
      const reply = await exchange('POST', '/endpoints/echo/invocations', sign('POST', '/endpoints/echo/invocations', { payloadHash: mode }), 'hello');
      assert.equal(reply.status, 400, reply.body);
      assert.equal(jsonType(reply), 'ValidationError');
      assert.match(reply.body, /Only S3 accepts/);
    });
  }
});

describe('refusals before the body is read', () => {
  const path = '/endpoints/echo/invocations';
  const cases: [string, () => Record<string, string>, number, string][] = [
    ['unknown access key', () => sign('POST', path, { accessKeyId: 'AKIDUNKNOWN' }), 403, 'UnrecognizedClientException'],
    ['date skewed by an hour', () => sign('POST', path, { date: new Date(Date.now() - 3_600_000) }), 403, 'InvalidSignatureException'],
    ['scope service iam', () => sign('POST', path, { service: 'iam' }), 403, 'IncompleteSignatureException'],
    ['no date at all', () => { const h = sign('POST', path); delete h['x-amz-date']; return h; }, 403, 'IncompleteSignatureException'],
    ['malformed Authorization', () => ({ ...sign('POST', path), authorization: 'AWS4-HMAC-SHA256 Credential=test' }), 403, 'IncompleteSignatureException'],
  ];
  for (const [name, headers, status, type] of cases) {
    test(`${name}: the error comes at once, never 100 Continue, and the connection closes`, async () => {
      const conn = await RawConnection.open(server.port);
      await conn.write(requestBytes('POST', path, { ...headers(), 'content-length': '1000000', expect: '100-continue' }));
      const reply = asText(await conn.reply());
      assert.equal(reply.status, status, reply.body);
      assert.equal(jsonType(reply), type);
      assert.equal(reply.headers.connection, 'close');
      assert.equal(conn.sawContinue(), false);
      await conn.untilClosed();
    });
  }

  test('a request that passes the checks gets 100 Continue, then its answer', async () => {
    const body = '{"echo":true}';
    const conn = await RawConnection.open(server.port);
    const headers = signRequest({
      method: 'POST', url: new URL(path, `${server.url}/`), headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      payloadHash: createHash('sha256').update(body).digest('hex'), service: 'sagemaker', region: REGION, ...DEV,
    });
    await conn.write(requestBytes('POST', path, { ...headers, expect: '100-continue' }));
    await conn.until(() => conn.sawContinue());
    await conn.write(body);
    const reply = asText(await conn.reply());
    assert.equal(reply.status, 200, reply.body);
    assert.equal(reply.body, body);
    conn.destroy();
  });
});

describe('unverified bodies share server.maxUnverifiedBodyBytes (64 MiB)', () => {
  // Its own server with the default body timeout: 120 clients take a while to decide on a busy machine.
  let flooded: ServerProcess;
  before(async () => {
    flooded = await startServer();
  });
  after(async () => {
    await flooded?.stop();
    flooded?.cleanup();
  });

  test('120 connections declaring 6 MB with a bogus signature: 11 are read, the rest get 503 at once; memory stays bounded', async (t) => {
    const path = '/endpoints/echo/invocations';
    const declared = 6_000_000;
    const before = await processMemory(flooded.proc.pid!);
    const headers: Record<string, string> = { ...sign('POST', path, { payloadHash: '0'.repeat(64), url: flooded.url }), 'content-length': String(declared), expect: '100-continue' };
    headers.authorization = headers.authorization!.replace(/Signature=[0-9a-f]+/, `Signature=${'0'.repeat(64)}`);
    const conns = await Promise.all(Array.from({ length: 120 }, () => RawConnection.open(flooded.port)));
    // `100 Continue` says a body is wanted (and its bytes reserved); a 503 says the budget is spent.
    const decided = await Promise.all(conns.map(async (c) => {
      await c.write(requestBytes('POST', path, headers));
      let reply: RawResponse | undefined;
      await c.until(() => c.sawContinue() || (reply = c.peekReply()) !== undefined);
      return { c, reply: reply && asText(reply) };
    }));
    const accepted = decided.filter((d) => d.reply === undefined).map((d) => d.c);
    const refused = decided.flatMap((d) => (d.reply === undefined ? [] : [d.reply]));
    assert.equal(accepted.length, 11, `accepted ${accepted.length}`);
    for (const reply of refused) {
      assert.equal(reply.status, 503, reply.body);
      assert.equal(jsonType(reply), 'ServiceUnavailable');
      assert.equal(reply.headers.connection, 'close');
    }
    // Every client sends part of its body; the refused ones are not read (the server closes them).
    const part = Buffer.alloc(1_000_000, 0x61);
    await Promise.all(conns.map((c) => c.write(part)));
    const finished = await Promise.all(accepted.map(async (c) => {
      await c.write(Buffer.alloc(declared - part.length, 0x62));
      return asText(await c.reply());
    }));
    for (const reply of finished) assert.equal(jsonType(reply), 'InvalidSignatureException');
    const peak = (await processMemory(flooded.proc.pid!)).peak;
    // Buffering every declared body would take 720 MB; the budget holds 64 MiB (plus read buffers and garbage).
    const growth = peak - before.rss;
    t.diagnostic(`server RSS before ${Math.round(before.rss / 1048576)} MiB, peak ${Math.round(peak / 1048576)} MiB`);
    assert.ok(growth < 300 * 1024 * 1024, `peak RSS grew by ${Math.round(growth / 1048576)} MiB`);
    for (const c of conns) c.destroy();
    // The budget is free again: a genuine call with a body works.
    const body = 'after the flood';
    const ok = await signed(flooded.url, 'sagemaker', 'POST', path, {}, Buffer.from(body));
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(ok.body.toString(), body);
  });
});

describe('server.bodyTimeoutSeconds and client aborts', () => {
  test('a SageMaker body that stalls halfway gets 408 RequestTimeoutException and the connection closes', async () => {
    const path = '/endpoints/echo/invocations';
    const body = 'x'.repeat(200);
    const conn = await RawConnection.open(server.port);
    const headers = signRequest({
      method: 'POST', url: new URL(path, `${server.url}/`), headers: { 'content-length': String(body.length) },
      payloadHash: createHash('sha256').update(body).digest('hex'), service: 'sagemaker', region: REGION, ...DEV,
    });
    await conn.write(requestBytes('POST', path, headers, body.slice(0, 100)));
    const reply = asText(await conn.reply());
    assert.equal(reply.status, 408, reply.body);
    assert.equal(jsonType(reply), 'RequestTimeoutException');
    assert.equal(reply.headers.connection, 'close');
    await conn.untilClosed();
  });

  test('an S3 upload that stalls halfway gets 408 RequestTimeout XML, the connection closes, nothing is stored', async () => {
    const conn = await RawConnection.open(server.port);
    const headers = sign('PUT', '/edge/stalled', { service: 's3', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': '100000' } });
    await conn.write(requestBytes('PUT', '/edge/stalled', headers, 'y'.repeat(50_000)));
    const reply = asText(await conn.reply());
    assert.equal(reply.status, 408, reply.body);
    assert.equal(xmlCode(reply), 'RequestTimeout');
    await conn.untilClosed();
    assert.equal((await signed(server.url, 's3', 'HEAD', '/edge/stalled')).status, 404);
  });

  test('client aborts mid-body are debug lines, never ERROR', async () => {
    const from = server.output().length;
    const cases: [string, Record<string, string>][] = [
      ['/endpoints/echo/invocations', sign('POST', '/endpoints/echo/invocations', { payloadHash: '1'.repeat(64), headers: { 'content-length': '100000' } })],
      ['/edge/aborted', sign('PUT', '/edge/aborted', { service: 's3', payloadHash: 'UNSIGNED-PAYLOAD', headers: { 'content-length': '100000' } })],
    ];
    for (const [path, headers] of cases) {
      const conn = await RawConnection.open(server.port);
      await conn.write(requestBytes(path.startsWith('/edge') ? 'PUT' : 'POST', path, { ...headers, expect: '100-continue' }));
      await conn.until(() => conn.sawContinue()); // the server is reading the body now
      await conn.write('z'.repeat(40_000));
      conn.destroy();
      await waitForOutput(server, new RegExp(`DEBUG [^\\n]*connection closed before the request was served[^\\n]*url=${path}`), from);
    }
    assert.doesNotMatch(server.output(), / ERROR /);
    assert.equal((await signed(server.url, 's3', 'HEAD', '/edge/aborted')).status, 404);
  });
});
