/**
 * The model client's HTTP/1.x response parser on byte sequences a model server may send: every
 * framing (Content-Length, chunked with extensions and trailers, close-delimited, no body), interim
 * 1xx responses, keep-alive rules, and malformed input; each fed whole and split at every byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParseError, ResponseParser, type ResponseHead } from '../../src/models/http1-response.js';

interface Parsed {
  head: ResponseHead | undefined;
  body: string;
  ended: boolean;
  trailing: boolean;
}

/** Feeds `wire` in pieces cut at `cuts`; calls finish() when `eof`. */
function parse(wire: string, cuts: readonly number[] = [], eof = false): Parsed {
  const out: Parsed = { head: undefined, body: '', ended: false, trailing: false };
  const parser = new ResponseParser({
    onHead: (head) => { out.head = head; },
    onBody: (chunk) => { out.body += chunk.toString('latin1'); },
    onEnd: () => { out.ended = true; },
  });
  const bytes = Buffer.from(wire, 'latin1');
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > at) parser.execute(bytes.subarray(at, cut));
    at = Math.max(at, cut);
  }
  if (eof) parser.finish();
  out.trailing = parser.trailing;
  return out;
}

/** Parses `wire` whole and split at every single position; all must agree. */
function parseEverySplit(wire: string, eof = false): Parsed {
  const whole = parse(wire, [], eof);
  for (let i = 1; i < wire.length; i++) assert.deepEqual(parse(wire, [i], eof), whole, `split at ${i}`);
  assert.deepEqual(parse(wire, Array.from({ length: wire.length }, (_, i) => i), eof), whole, 'byte by byte');
  return whole;
}

test('Content-Length body, headers of interest, keep-alive by default in HTTP/1.1', () => {
  const r = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Amzn-SageMaker-Custom-Attributes: a=1\r\nx-amzn-sagemaker-custom-attributes: b=2\r\nContent-Length: 7\r\n\r\n{"x":1}');
  assert.deepEqual(r.head, { status: 200, contentType: 'application/json', customAttributes: 'a=1, b=2', keepAlive: true });
  assert.equal(r.body, '{"x":1}');
  assert.equal(r.ended, true);
  assert.equal(r.trailing, false);
});

test('chunked body with extensions, a bare-LF line and trailers', () => {
  const r = parseEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\n0\r\nX-Trailer: yes\r\n\r\n');
  assert.equal(r.head?.keepAlive, true);
  assert.equal(r.body, 'hello 0123456789');
  assert.equal(r.ended, true);
});

test('interim 100 Continue responses are skipped', () => {
  const r = parseEverySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
  assert.equal(r.head?.status, 201);
  assert.equal(r.body, 'ok');
});

test('no framing: the body runs to the end of the connection, which is not reused', () => {
  const r = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', true);
  assert.equal(r.head?.keepAlive, false);
  assert.equal(r.body, 'until the end');
  assert.equal(r.ended, true);
});

test('204 and Content-Length 0 have no body', () => {
  assert.deepEqual(parseEverySplit('HTTP/1.1 204 No Content\r\n\r\n'), { head: { status: 204, contentType: undefined, customAttributes: undefined, keepAlive: true }, body: '', ended: true, trailing: false });
  assert.equal(parseEverySplit('HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n').ended, true);
});

test('keep-alive: Connection close, HTTP/1.0 with and without keep-alive', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n').head?.keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').head?.keepAlive, false);
  assert.equal(parse('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').head?.keepAlive, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n').head?.keepAlive, false);
});

test('bytes after the end of the response are flagged', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
  assert.equal(r.body, 'ok');
  assert.equal(r.trailing, true);
});

test('malformed responses are ResponseParseErrors', () => {
  const bad = [
    'HTTP/2 200 OK\r\n\r\n',
    'HTTP/1.1 20 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
    'HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n',
    'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX',
    `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(17 * 1024)}`,
  ];
  for (const wire of bad) assert.throws(() => parse(wire), ResponseParseError, JSON.stringify(wire.slice(0, 60)));
});

test('a connection that ends before the response is complete is an error', () => {
  assert.throws(() => parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc', [], true), ResponseParseError);
  assert.throws(() => parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', [], true), ResponseParseError);
  assert.throws(() => parse('HTTP/1.1 200 O', [], true), ResponseParseError);
});
