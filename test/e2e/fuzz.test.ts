/**
 * Fuzz test against a real server: a few thousand random and mutated requests (fixed seed, printed;
 * override with FUZZ_SEED) over every route, most of them validly signed so that they reach the
 * handlers, over a few keep-alive connections. No answer may be a 5xx other than 503 (not even the
 * 501 S3 gives for sub-resources it does not serve: inferq answers those 400 NotImplemented), every
 * well-framed request gets an answer, the server never exits, and correct requests still work afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { awaitTerminal, Harness, readObject, signed } from '../helpers/async.js';
import { s3Client } from '../helpers/clients.js';
import { fuzzRequest, type FuzzRequest, type FuzzWorld } from '../helpers/fuzz-requests.js';
import { Prng } from '../helpers/fuzz-values.js';
import { RawClient, type RawOutcome, type RawResponse } from '../helpers/raw-http.js';
import type { ServerProcess } from '../helpers/server.js';

const SEED = process.env['FUZZ_SEED'] === undefined ? 20261201 : Number(process.env['FUZZ_SEED']);
const REQUESTS = process.env['FUZZ_REQUESTS'] === undefined ? 3000 : Number(process.env['FUZZ_REQUESTS']);
const CONNECTIONS = 4;
const BUCKET = 'fuzz-bucket';
const KEYS = ['obj-1', 'obj-2', 'dir/%C3%A9%20%C3%BC+x', 'empty'];

const h = new Harness();
let server: ServerProcess;
let s3: S3Client;
let world: FuzzWorld;

before(async () => {
  server = await h.start(h.config({ endpoints: [{ name: 'echo', model: { builtin: 'echo' } }] }));
  s3 = s3Client(server.url);
  const mb = await signed(server.url, 's3', 'PUT', `/${BUCKET}`);
  assert.equal(mb.status, 200, mb.body.toString());
  for (const key of KEYS) {
    const put = await signed(server.url, 's3', 'PUT', `/${BUCKET}/${key}`, { 'content-type': 'text/plain' }, Buffer.from(key === 'empty' ? '' : `body of ${key}`));
    assert.equal(put.status, 200, put.body.toString());
  }
  const mp = await signed(server.url, 's3', 'POST', `/${BUCKET}/mp?uploads`);
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(mp.body.toString())?.[1];
  assert.ok(uploadId, mp.body.toString());
  const inferenceIds = ['seed-1', 'seed-2'];
  for (const id of inferenceIds) {
    const r = await signed(server.url, 'sagemaker', 'POST', '/endpoints/echo/async-invocations', { 'x-amzn-sagemaker-inference-id': id }, Buffer.from('seed'));
    assert.equal(r.status, 202, r.body.toString());
  }
  world = { host: new URL(server.url).host, bucket: BUCKET, keys: KEYS, uploadId, endpoint: 'echo', inferenceIds };
});
after(async () => {
  s3?.destroy();
  await h.cleanup();
});

/** Characters no XML 1.0 parser accepts. */
const NOT_XML = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

/** Why an error answer's body is not what its client can parse, if it is not. */
function unparseable(answer: RawResponse): string | undefined {
  if (answer.status < 400 || answer.body.length === 0) return undefined;
  const text = answer.body.toString('utf8');
  const type = answer.headers['content-type'] ?? '';
  if (type.includes('xml')) return /<Code>[^<]+<\/Code>/.test(text) && !NOT_XML.test(text) ? undefined : 'an XML error body without a Code, or with characters XML cannot carry';
  if (type.includes('json')) {
    try {
      JSON.parse(text);
      return undefined;
    } catch {
      return 'a JSON error body that does not parse';
    }
  }
  return `an error body of content type '${type}'`;
}

function problem(req: FuzzRequest, outcome: RawOutcome): string | undefined {
  if (outcome.kind !== 'answer') return req.junk ? undefined : `no answer (${outcome.kind}; ${JSON.stringify(outcome.partial)})`;
  const { status } = outcome.answer;
  const body = outcome.answer.body.toString('utf8').slice(0, 300);
  const unreadable = unparseable(outcome.answer);
  if (unreadable !== undefined) return `${status} with ${unreadable}: ${body}`;
  if (status < 500 || status === 503) return undefined;
  return `${status} ${body}`;
}

function describe(req: FuzzRequest): string {
  const text = req.bytes.toString('latin1');
  const head = text.slice(0, text.indexOf('\r\n') < 0 ? 200 : Math.min(text.indexOf('\r\n'), 300));
  return `#${req.index} ${req.label}: ${JSON.stringify(head)}`;
}

interface FuzzRun {
  readonly statuses: Map<number | string, number>;
  readonly problems: string[];
  readonly ms: number;
}

/** Sends the requests over {@link CONNECTIONS} keep-alive connections, one at a time on each, and judges every answer. */
async function runFuzz(requests: readonly FuzzRequest[]): Promise<FuzzRun> {
  const statuses = new Map<number | string, number>();
  const problems: string[] = [];
  const count = (key: number | string): void => void statuses.set(key, (statuses.get(key) ?? 0) + 1);
  let next = 0;
  const started = Date.now();
  const { hostname, port } = new URL(server.url);
  const worker = async (): Promise<void> => {
    const conn = new RawClient(hostname, Number(port));
    while (next < requests.length && server.proc.exitCode === null) {
      const req = requests[next++] as FuzzRequest;
      if (req.abort) {
        await conn.abortAfterWriting(req.bytes);
        count('aborted');
        continue;
      }
      const outcome = await conn.send(req, req.junk ? 3000 : 20_000);
      count(outcome.kind === 'answer' ? outcome.answer.status : outcome.kind);
      const wrong = problem(req, outcome);
      if (wrong !== undefined) problems.push(`${describe(req)} -> ${wrong}`);
      if (req.closeAfter) conn.reset();
    }
    conn.reset();
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  return { statuses, problems, ms: Date.now() - started };
}

/** A PUT/GET through the JS SDK and an InvokeEndpointAsync that runs to Succeeded. */
async function assertStillWorks(): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after-fuzz', Body: 'still fine' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'after-fuzz' }));
  assert.equal(await got.Body?.transformToString(), 'still fine');
  const sm = h.client(server.url);
  const out = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: `s3://${BUCKET}/after-fuzz`, InferenceId: 'after-fuzz' }));
  const status = await awaitTerminal(server.url, 'echo', out.InferenceId ?? '', 60_000);
  assert.equal(status.Status, 'Succeeded', JSON.stringify(status));
  const result = await readObject(server.url, status.OutputLocation);
  assert.equal(result?.body.toString(), 'still fine');
}

test(`${REQUESTS} fuzzed requests: no 5xx but 503, always an answer, the server survives and still works`, { timeout: 600_000 }, async () => {
  console.log(`fuzz seed ${SEED} (set FUZZ_SEED to replay another), ${REQUESTS} requests over ${CONNECTIONS} connections`);
  const rng = new Prng(SEED);
  const requests = Array.from({ length: REQUESTS }, (_, i) => fuzzRequest(rng, world, i));
  const { statuses, problems, ms } = await runFuzz(requests);
  const summary = [...statuses.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([k, n]) => `${k}:${n}`).join(' ');
  console.log(`fuzz done in ${ms} ms; answers by status: ${summary}`);
  const internal = server.output().split('\n').filter((line) => line.includes('request failed'));
  if (process.env['FUZZ_VERBOSE'] !== undefined) for (const line of [...problems, ...internal]) console.log(line);
  assert.equal(server.proc.exitCode, null, `the server exited during the fuzz (seed ${SEED}):\n${server.output().slice(-3000)}`);
  assert.deepEqual(problems.slice(0, 15), [], `seed ${SEED}: ${problems.length} requests went wrong`);
  assert.deepEqual(internal.slice(0, 5), [], `seed ${SEED}: internal errors were logged (also for requests whose client went away)`);
  const authRefused = statuses.get(403) ?? 0;
  assert.ok(authRefused < REQUESTS * 0.35, `most requests should get past authentication (403s: ${authRefused})`);
  await assertStillWorks();
});
