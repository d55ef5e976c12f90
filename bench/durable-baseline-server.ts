/**
 * Reference server for benchmark (a): the least an authenticated, durable 202 can cost. A bare
 * node:http server that verifies each request's SigV4 signature with inferq's own verifier, appends
 * the body to a log file, makes the log survive power loss with a group `fdatasync` on the thread
 * pool (requests that arrive during a sync share the next one), and only then answers 202. No
 * queue, no validation, no idempotency. Prints `listening on URL`; accepts key `test` / `test`.
 */
import { hash } from 'node:crypto';
import { fdatasync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigV4Verifier } from '../src/auth/index.js';
import { listenForBench } from './process.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-durable-baseline-'));
const log = openSync(join(dir, 'log'), 'w');
const verifier = new SigV4Verifier({ secretFor: (id) => (id === 'test' ? 'test' : undefined) }, { now: () => Date.now() }, { maxClockSkewSeconds: 900 });

let waiting: (() => void)[] = [];
let syncing = false;

/** Runs `done` once everything appended so far is on stable storage. */
function afterSync(done: () => void): void {
  waiting.push(done);
  if (!syncing) syncNow();
}

function syncNow(): void {
  syncing = true;
  const batch = waiting;
  waiting = [];
  fdatasync(log, (err) => {
    if (err) throw err;
    syncing = false;
    for (const done of batch) done();
    if (waiting.length > 0) syncNow();
  });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const answer = (status: number, text: string): void => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
    };
    try {
      verifier.verify({ method: req.method ?? 'POST', rawUrl: req.url ?? '/', headers: req.headers }, { bodySha256Hex: hash('sha256', body, 'hex') });
    } catch (err) {
      answer(403, JSON.stringify({ message: err instanceof Error ? err.message : String(err) }));
      return;
    }
    writeSync(log, body);
    afterSync(() => answer(202, '{"InferenceId":"00000000-0000-0000-0000-000000000000"}'));
  });
});
listenForBench(server, () => rmSync(dir, { recursive: true, force: true }));
