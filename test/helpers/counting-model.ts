/**
 * Test-only model server (the SageMaker container contract) that records every call: each
 * `POST /invocations` appends one line (its X-Amzn-SageMaker-Inference-Id) to the file named by
 * COUNTING_MODEL_LOG before it answers, so a test can tell whether a request reached the model.
 * Run it with `side-effects.ts` `countingModel()`; the port comes from SAGEMAKER_BIND_TO_PORT/PORT.
 *
 * `mode=<m>` in X-Amzn-SageMaker-Custom-Attributes selects the answer: echo (default: the body
 * and content type back), bytes-<n> (n bytes, byte i = i % 251, with Content-Length),
 * cut-<n>-<total> (declares Content-Length total, sends the first n of those bytes, then destroys
 * the connection), flaky-<n>-<status> (the first n calls of an InferenceId, as counted in the log,
 * answer <status> with a short text body; later calls echo), hang (never answers: the call ends
 * only when the caller aborts it).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const env = process.env;
const log = env.COUNTING_MODEL_LOG;
if (log === undefined) throw new Error('COUNTING_MODEL_LOG is not set');
const port = Number(env.SAGEMAKER_BIND_TO_PORT ?? env.PORT ?? 8080);

/** n bytes of the pattern the tests expect (byte i = i % 251), from offset 0. */
function pattern(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function invocations(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const id = String(req.headers['x-amzn-sagemaker-inference-id'] ?? '-');
  appendFileSync(log!, `${id}\n`);
  const body = await readAll(req);
  const attributes = req.headers['x-amzn-sagemaker-custom-attributes'];
  const mode = (typeof attributes === 'string' ? /(?:^|[,;]\s*)mode=([\w-]+)/.exec(attributes)?.[1] : undefined) ?? 'echo';
  const bytes = /^bytes-(\d+)$/.exec(mode);
  const cut = /^cut-(\d+)-(\d+)$/.exec(mode);
  const flaky = /^flaky-(\d+)-(\d{3})$/.exec(mode);
  if (mode === 'hang') {
    process.stdout.write(`counting model hanging inference-id=${id}\n`);
    return;
  }
  if (flaky && readFileSync(log!, 'utf8').split('\n').filter((line) => line === id).length <= Number(flaky[1])) {
    const text = Buffer.from(`flaky failure ${flaky[2]}\n`);
    res.writeHead(Number(flaky[2]), { 'Content-Type': 'text/plain', 'Content-Length': text.length }).end(text);
  } else if (bytes) {
    const data = pattern(Number(bytes[1]));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length }).end(data);
  } else if (cut) {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': Number(cut[2]) });
    res.write(pattern(Number(cut[1])), () => res.destroy());
  } else {
    res.writeHead(200, { 'Content-Type': req.headers['content-type'] ?? 'application/octet-stream', 'Content-Length': body.length }).end(body);
  }
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/ping' && req.method === 'GET') {
    res.writeHead(200).end();
  } else if (path === '/invocations' && req.method === 'POST') {
    invocations(req, res).catch((err: unknown) => {
      process.stderr.write(`counting model error: ${String(err)}\n`);
      res.destroy();
    });
  } else {
    req.resume();
    res.writeHead(404).end();
  }
});

process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0)).resume();
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`counting model listening port=${typeof address === 'object' && address !== null ? address.port : port}\n`);
});
