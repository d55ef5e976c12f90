/**
 * The model client's own HTTP/1.1 connections against a raw TCP server that answers exactly as a
 * test scripts it: small answers arrive whole, larger or slower ones stream; interim responses,
 * close-delimited bodies, `Connection: close`, keep-alive reuse, a kept-alive connection closed
 * under a new request (stale), garbage, and request framing (Content-Length, chunked).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { createHttpModelClient, type ModelClient } from '../../src/models/index.js';
import { silentLogger } from '../../src/util/index.js';
import { readAll, rejection } from './helpers.js';

/** What the server does with one complete request head (and the bytes received so far on the connection). */
type Script = (socket: Socket, request: string, index: number) => void;

let server: Server;
let client: ModelClient;
let script: Script = () => undefined;
const connections: Socket[] = [];

/** Reads requests off each connection (up to the blank line, then Content-Length or chunked body) and hands them to `script`. */
function serve(socket: Socket): void {
  connections.push(socket);
  let buf = '';
  let index = 0;
  socket.setEncoding('latin1');
  socket.on('data', (data: string) => {
    buf += data;
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      const length = /\r\ncontent-length: (\d+)/i.exec(head);
      let total = end + 4 + (length ? Number(length[1]) : 0);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) {
        const last = buf.indexOf('\r\n0\r\n\r\n', end);
        if (last < 0) return;
        total = last + 7;
      }
      if (buf.length < total) return;
      const request = buf.slice(0, total);
      buf = buf.slice(total);
      script(socket, request, index++);
    }
  });
  socket.on('error', () => undefined);
}

before(async () => {
  server = createServer(serve).listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = createHttpModelClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logger: silentLogger });
});

after(async () => {
  await client.stop();
  for (const s of connections) s.destroy();
  server.close();
});

function invoke(body: Buffer | Readable = Buffer.from('in'), contentLength?: number) {
  return client.invoke({ body, inferenceId: 'id-1', contentType: 'text/plain', signal: new AbortController().signal, ...(contentLength !== undefined ? { contentLength } : {}) });
}

test('a small answer arrives whole; its connection is reused for the next call', async () => {
  const seen = new Set<Socket>();
  const requests: string[] = [];
  script = (socket, request) => {
    seen.add(socket);
    requests.push(request);
    socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nout');
  };
  for (let i = 0; i < 3; i++) {
    const res = await invoke();
    assert.equal(res.whole?.toString(), 'out');
    assert.equal((await readAll(res.body)).toString(), 'out', 'the body stream still works');
  }
  assert.equal(seen.size, 1);
  assert.match(requests[0]!, /^POST \/invocations HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
  assert.match(requests[0]!, /\r\nContent-Type: text\/plain\r\nX-Amzn-SageMaker-Inference-Id: id-1\r\nContent-Length: 2\r\n\r\nin$/);
});

test('a body that arrives after the head streams, with an interim 100 Continue first', async () => {
  script = (socket) => {
    socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    setTimeout(() => socket.write('2\r\nde\r\n0\r\n\r\n'), 30);
  };
  const res = await invoke();
  assert.equal(res.status, 200);
  assert.equal(res.whole, undefined);
  assert.equal((await readAll(res.body)).toString(), 'abcde');
});

test('a close-delimited body ends with the connection; Connection: close is honoured', async () => {
  const seen = new Set<Socket>();
  script = (socket, request) => {
    seen.add(socket);
    if (request.includes('until-close')) socket.end('HTTP/1.1 200 OK\r\n\r\nto the end');
    else socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
  };
  const a = await client.invoke({ body: Buffer.from('x'), inferenceId: 'i', customAttributes: 'until-close', signal: new AbortController().signal });
  assert.equal((await readAll(a.body)).toString(), 'to the end');
  assert.equal((await invoke()).whole?.toString(), 'ok');
  assert.equal((await invoke()).whole?.toString(), 'ok');
  assert.equal(seen.size, 3, 'no connection was reused');
});

test('a kept-alive connection closed under the next request is a stale-connection failure', async () => {
  script = (socket, _request, index) => {
    if (index === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else socket.destroy();
  };
  assert.equal((await invoke()).whole?.toString(), 'ok');
  assert.equal((await rejection(invoke())).failure, 'stale-connection');
  script = (socket) => socket.destroy();
  assert.equal((await rejection(invoke())).failure, 'connection-lost', 'on a new connection it is a lost connection');
});

test('garbage instead of a response, or a response cut short, is connection-lost', async () => {
  script = (socket) => socket.write('SMTP ready\r\n\r\n');
  const garbage = await rejection(invoke());
  assert.equal(garbage.failure, 'connection-lost');
  assert.match(garbage.message, /invalid HTTP response/);
  script = (socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    setTimeout(() => socket.destroy(), 20);
  };
  const res = await invoke();
  assert.equal((await rejection(readAll(res.body))).failure, 'connection-lost');
});

test('streamed request bodies: Content-Length when known, else chunked', async () => {
  const requests: string[] = [];
  script = (socket, request) => {
    requests.push(request);
    socket.write('HTTP/1.1 204 No Content\r\n\r\n');
  };
  assert.equal((await invoke(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), 4)).status, 204);
  assert.equal((await invoke(Readable.from([Buffer.from('ab'), Buffer.alloc(0), Buffer.from('cde')]))).status, 204);
  assert.match(requests[0]!, /\r\nContent-Length: 4\r\n\r\nabcd$/);
  assert.match(requests[1]!, /\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n$/);
});

test('a header value node:http would refuse is rejected before anything is sent', async () => {
  await assert.rejects(client.invoke({ body: Buffer.from('x'), inferenceId: 'a\r\nInjected: 1', signal: new AbortController().signal }), TypeError);
});
