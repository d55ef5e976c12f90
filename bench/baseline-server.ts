/**
 * Baseline for the benchmarks: a bare node:http server with no authentication, no index and no
 * verification. PUT streams the body to a file, GET streams it back, POST answers 202 with a small
 * JSON body (the async-invoke baseline). Prints its port on stdout.
 */
import { createServer } from 'node:http';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { listenForBench } from './process.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-baseline-'));
const fileFor = (url: string): string => join(dir, createHash('sha1').update(url).digest('hex'));

const server = createServer((req, res) => {
  const file = fileFor(req.url ?? '/');
  if (req.method === 'PUT') {
    pipeline(req, createWriteStream(file)).then(() => res.writeHead(200, { 'Content-Length': 0 }).end(), () => res.writeHead(500).end());
  } else if (req.method === 'GET') {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404, { 'Content-Length': 0 }).end();
      return;
    }
    res.writeHead(200, { 'Content-Length': size });
    pipeline(createReadStream(file), res).catch(() => res.destroy());
  } else {
    req.resume();
    req.on('end', () => {
      const body = '{"InferenceId":"00000000-0000-0000-0000-000000000000"}';
      res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': body.length }).end(body);
    });
  }
});
listenForBench(server, () => rmSync(dir, { recursive: true, force: true }));
