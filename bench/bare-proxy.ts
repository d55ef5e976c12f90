/**
 * Second baseline of the real-time benchmark: the thinnest reverse proxy node:http makes, with no
 * authentication, no routing and no checks. Reads each request body whole, sends it to the model's
 * `POST /invocations` over a keep-alive agent and answers with the model's body and content type.
 * It shows what any node:http proxy in front of the model costs on this machine.
 * Usage: bare-proxy.ts MODEL_PORT; prints `listening on URL`.
 */
import { Agent, createServer, request, type IncomingMessage } from 'node:http';
import { listenForBench } from './process.js';

const modelPort = Number(process.argv[2]);
if (!Number.isInteger(modelPort) || modelPort <= 0) throw new Error('usage: bare-proxy.ts MODEL_PORT');
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function readAll(stream: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => done(Buffer.concat(chunks)));
}

const server = createServer((req, res) => {
  readAll(req, (body) => {
    const headers = { 'Content-Type': req.headers['content-type'] ?? 'application/octet-stream', 'Content-Length': body.length };
    const upstream = request({ host: '127.0.0.1', port: modelPort, method: 'POST', path: '/invocations', agent, headers }, (answer) => {
      readAll(answer, (out) => {
        res.writeHead(answer.statusCode ?? 502, { 'Content-Type': answer.headers['content-type'] ?? 'application/octet-stream', 'Content-Length': out.length });
        res.end(out);
      });
    });
    upstream.on('error', () => res.writeHead(502, { 'Content-Length': 0 }).end());
    upstream.end(body);
  });
});
listenForBench(server);
