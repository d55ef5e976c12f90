/**
 * Connection timeouts of the one HTTP server, on raw sockets: a client that never finishes its
 * headers is cut off (30 s, checked every 5 s), and an idle kept-alive connection is closed
 * (65 s). Both run at once, so the file takes about as long as the keep-alive timeout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { startServer, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server.stop();
  server.cleanup();
});

/** Opens a socket to the server and resolves once connected. */
async function open(): Promise<Socket> {
  const socket = connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

/** Resolves with what the server sent and how long after `since` the connection was closed. */
async function closedAfter(socket: Socket, since: number): Promise<{ ms: number; received: string }> {
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => { received += chunk; });
  socket.on('error', () => { /* a reset is a close too */ });
  await once(socket, 'close');
  return { ms: performance.now() - since, received };
}

describe('connection timeouts', { concurrency: true }, () => {
  test('headers that never finish: the connection is closed after the 30 s headers timeout', async () => {
    const socket = await open();
    const since = performance.now();
    socket.write('GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    const { ms, received } = await closedAfter(socket, since);
    assert.ok(ms >= 29_000, `closed after ${Math.round(ms)} ms, before the headers timeout`);
    assert.ok(ms < 60_000, `closed after ${Math.round(ms)} ms, not by the headers timeout`);
    assert.doesNotMatch(received, /HTTP\/1\.1 200/, 'the unfinished request was not served');
  });

  test('an idle kept-alive connection is closed after the 65 s keep-alive timeout, not before', async () => {
    const socket = await open();
    const closed = closedAfter(socket, 0);
    socket.write('GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const answered = performance.now();
    const { ms, received } = await closed;
    const idle = ms - answered;
    assert.match(received, /^HTTP\/1\.1 200 /, 'the request was answered');
    assert.match(received, /keep-alive/i, 'the answer kept the connection alive');
    assert.ok(idle >= 60_000, `closed after ${Math.round(idle)} ms idle, before the keep-alive timeout`);
    assert.ok(idle < 120_000, `closed after ${Math.round(idle)} ms idle`);
  });
});
