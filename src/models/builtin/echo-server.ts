#!/usr/bin/env node
/**
 * The built-in echo model: a standalone program implementing the SageMaker container contract on
 * 127.0.0.1 (port from `SAGEMAKER_BIND_TO_PORT`, else `PORT`, else 8080). `GET /ping` answers 200;
 * `POST /invocations` streams the request body back unchanged with the request's Content-Type
 * (default application/octet-stream) and Custom-Attributes, and its Content-Length when it had one
 * (a small body with a Content-Length is read whole and answered in one write).
 * SIGTERM or SIGINT closes the server; the process exits 0 once in-flight requests finish.
 */
import { EXIT_WITH_PARENT_FLAG, onParentExit } from '../parent-watch.js';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { modelPortFromEnv } from '../../config/light.js';

const CUSTOM_ATTRIBUTES = 'x-amzn-sagemaker-custom-attributes';

/** Bodies up to this size (with a Content-Length) are read whole and answered in one write. */
const WHOLE_BODY_MAX_BYTES = 64 * 1024;

function echo(req: IncomingMessage, res: ServerResponse): void {
  const headers: OutgoingHttpHeaders = { 'Content-Type': req.headers['content-type'] ?? 'application/octet-stream' };
  const attributes = req.headers[CUSTOM_ATTRIBUTES];
  if (attributes !== undefined) headers['X-Amzn-SageMaker-Custom-Attributes'] = attributes;
  const length = req.headers['content-length'];
  if (length !== undefined) headers['Content-Length'] = length;
  if (length !== undefined && Number(length) <= WHOLE_BODY_MAX_BYTES) {
    echoWhole(req, res, headers);
    return;
  }
  res.writeHead(200, headers);
  pipeline(req, res, (err) => {
    if (err) process.stderr.write(`echo: invocation failed: ${err.message}\n`);
  });
}

/** A small body: read whole, then headers and body leave in one write (no stream pipeline per call). */
function echoWhole(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => res.writeHead(200, headers).end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
  req.on('error', (err) => {
    process.stderr.write(`echo: invocation failed: ${err.message}\n`);
    res.destroy();
  });
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'Content-Length': 0 }).end();
  } else if (path === '/invocations' && req.method === 'POST') {
    echo(req, res);
  } else {
    req.resume();
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
  }
}

function main(): void {
  const port = modelPortFromEnv();
  const server = createServer({ keepAliveTimeout: 65_000 }, handle);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.listen(port, '127.0.0.1', () => process.stdout.write(`echo model listening on 127.0.0.1:${port}\n`));
  const shutdown = (signal: NodeJS.Signals): void => {
    process.stdout.write(`echo model received ${signal}; closing\n`);
    server.close(() => {
      process.exitCode = 0;
    });
    server.closeIdleConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  if (process.argv.includes(EXIT_WITH_PARENT_FLAG)) {
    onParentExit(() => {
      process.stdout.write('echo model: parent process gone; exiting\n');
      process.exit(0);
    });
  }
}

main();
