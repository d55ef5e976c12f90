/**
 * The request lifecycle users can steer (issue 13 items 3 and 4), on a real server: the retry
 * policy (a flaky model succeeds after retries, keeps its InferenceId and locations, counts every
 * call; exhausted retries leave exactly one failure object), cancel of a queued request (it never
 * reaches the model) and of a running one (the model call is aborted), 409 for finished requests,
 * re-run of failed and cancelled requests, and the list with stable pagination over a few thousand
 * requests while more are enqueued. Requests go through the JS SDK; the custom routes are signed
 * with the test SigV4 signer and, once, with botocore's own signer from boto3.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvokeEndpointAsyncCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { Harness, awaitTerminal, errorOf, getStatus, signed, terminalObjects, type AsyncStatus } from '../helpers/async.js';
import { boto3Runtime, run } from '../helpers/clients.js';
import { CLI, waitForOutput, type ServerProcess } from '../helpers/server.js';
import { countingModel, modelCalls } from '../helpers/side-effects.js';

const h = new Harness();
let server: ServerProcess;
let sm: SageMakerRuntimeClient;
let calls: string;

const RETRY = { maxAttempts: 3, on: ['5xx', '429', 'timeout', 'connection'], backoffSeconds: 0.05, maxBackoffSeconds: 0.2 };

before(async () => {
  calls = join(h.dir('inferq-lifecycle-calls-'), 'calls.log');
  server = await h.start(h.config({
    endpoints: [
      { name: 'flaky', model: countingModel(calls), async: { retry: RETRY } },
      { name: 'plain', model: countingModel(calls) },
      { name: 'single', model: countingModel(calls), async: { maxConcurrentInvocations: 1 } },
      { name: 'many', model: { builtin: 'echo' } },
    ],
  }));
  sm = h.client(server.url);
});
after(() => h.cleanup());

async function submit(endpoint: string, mode: string, id = `${endpoint}-${randomUUID()}`): Promise<string> {
  const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: endpoint, Body: Buffer.from(`body of ${id}`), ContentType: 'text/plain', CustomAttributes: `mode=${mode}`, InferenceId: id }));
  assert.equal(res.InferenceId, id);
  return id;
}

function callsOf(id: string): number {
  return modelCalls(calls).filter((line) => line === id).length;
}

function route(endpoint: string, id: string, suffix = ''): string {
  return `/endpoints/${endpoint}/async-invocations/${encodeURIComponent(id)}${suffix}`;
}

async function cancel(endpoint: string, id: string): Promise<{ status: number; doc: AsyncStatus; raw: Buffer }> {
  const raw = await signed(server.url, 'sagemaker', 'DELETE', route(endpoint, id));
  return { status: raw.status, doc: JSON.parse(raw.body.toString('utf8')) as AsyncStatus, raw: raw.body };
}

async function rerun(endpoint: string, id: string): Promise<{ status: number; doc: AsyncStatus }> {
  const raw = await signed(server.url, 'sagemaker', 'POST', route(endpoint, id, '/retry'));
  return { status: raw.status, doc: JSON.parse(raw.body.toString('utf8')) as AsyncStatus };
}

interface ListPage { Invocations: AsyncStatus[]; NextToken?: string }

async function list(endpoint: string, query: string): Promise<{ status: number; page: ListPage; type: string }> {
  const raw = await signed(server.url, 'sagemaker', 'GET', `/endpoints/${endpoint}/async-invocations${query}`);
  const page = JSON.parse(raw.body.toString('utf8')) as ListPage;
  return { status: raw.status, page, type: raw.status === 200 ? '' : errorOf(raw).type };
}

void describe('retry policy', () => {
  test('a flaky model (503 twice) succeeds on the third call: same id and locations, Attempts 3, only the output object', async () => {
    const id = await submit('flaky', 'flaky-2-503');
    const status = await awaitTerminal(server.url, 'flaky', id);
    assert.equal(status.Status, 'Succeeded', JSON.stringify(status));
    assert.equal(status.Attempts, 3);
    assert.equal(callsOf(id), 3);
    assert.equal(status.InferenceId, id);
    const objects = await terminalObjects(server.url, status);
    assert.equal(objects.output?.body.toString(), `body of ${id}`);
    assert.equal(objects.failure, undefined, 'no failure object of the failed calls');
  });

  test('429 is retried too; exhausted retries end Failed with one failure object holding the last answer', async () => {
    const id = await submit('flaky', 'flaky-9-429');
    const status = await awaitTerminal(server.url, 'flaky', id);
    assert.equal(status.Status, 'Failed');
    assert.equal(status.Attempts, 3);
    assert.equal(callsOf(id), 3);
    assert.match(status.FailureReason ?? '', /\(429\).*3 attempts/);
    const objects = await terminalObjects(server.url, status);
    assert.equal(objects.failure?.body.toString(), 'flaky failure 429\n');
    assert.equal(objects.output, undefined);
  });

  test('timeouts and lost connections are retried too, and fail once with one failure object', async () => {
    const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'flaky', Body: Buffer.from('x'), ContentType: 'text/plain', CustomAttributes: 'mode=hang', InvocationTimeoutSeconds: 1 }));
    const timedOut = await awaitTerminal(server.url, 'flaky', res.InferenceId!);
    assert.equal(timedOut.Status, 'Failed');
    assert.equal(timedOut.Attempts, 3);
    assert.equal(callsOf(res.InferenceId!), 3);
    assert.match(timedOut.FailureReason ?? '', /^ModelInvocationTimeExceeded: .*3 attempts/);
    const cut = await awaitTerminal(server.url, 'flaky', await submit('flaky', 'cut-5-100'));
    assert.equal(cut.Status, 'Failed');
    assert.equal(cut.Attempts, 3);
    assert.equal(callsOf(cut.InferenceId), 3);
    assert.match(cut.FailureReason ?? '', /Received server error \(0\).*3 attempts/);
    for (const status of [timedOut, cut]) {
      const objects = await terminalObjects(server.url, status);
      assert.ok(objects.failure);
      assert.equal(objects.output, undefined);
    }
  });

  test('a 4xx is not retried, and an endpoint without a policy never retries', async () => {
    const client = await awaitTerminal(server.url, 'flaky', await submit('flaky', 'flaky-9-400'));
    assert.equal(client.Status, 'Failed');
    assert.equal(client.Attempts, 1);
    const plain = await awaitTerminal(server.url, 'plain', await submit('plain', 'flaky-9-503'));
    assert.equal(plain.Status, 'Failed');
    assert.equal(plain.Attempts, 1);
  });
});

void describe('cancel', () => {
  test('a running request is aborted, a queued one never runs; both end Cancelled with a failure object; finished → 409', async () => {
    const running = await submit('single', 'hang');
    await waitForOutput(server, new RegExp(`counting model hanging inference-id=${running}`));
    assert.equal((await getStatus(server.url, 'single', running)).Status, 'Running');
    const queued = await submit('single', 'echo');
    assert.equal((await getStatus(server.url, 'single', queued)).Status, 'Queued', 'the only slot is taken');

    const q = await cancel('single', queued);
    assert.equal(q.status, 200, q.raw.toString());
    assert.equal(q.doc.Status, 'Cancelled');
    assert.match(q.doc.FailureReason ?? '', /^Cancelled: /);

    const r = await cancel('single', running);
    assert.equal(r.status, 200, r.raw.toString());
    assert.equal(r.doc.Status, 'Cancelled', 'the worker aborted the call and recorded it');
    for (const doc of [q.doc, r.doc]) {
      const objects = await terminalObjects(server.url, doc);
      assert.match(objects.failure?.body.toString() ?? '', /^Cancelled: /);
      assert.equal(objects.output, undefined);
    }
    // The slot is free again: a later request runs, the cancelled queued one never did.
    const later = await awaitTerminal(server.url, 'single', await submit('single', 'echo'));
    assert.equal(later.Status, 'Succeeded');
    assert.equal(callsOf(queued), 0);
    assert.equal(callsOf(running), 1);

    const again = await cancel('single', queued);
    assert.equal(again.status, 409);
    const finished = await cancel('single', later.InferenceId);
    assert.equal(finished.status, 409);
    assert.match(JSON.stringify(finished.doc), /Succeeded/);
    const missing = await signed(server.url, 'sagemaker', 'DELETE', route('single', 'no-such-id'));
    assert.equal(missing.status, 400);
    assert.equal(errorOf(missing).type, 'ValidationError');
  });
});

void describe('re-run', () => {
  test('a failed request runs again with the same id and locations: the failure object goes, one output comes', async () => {
    const id = await submit('plain', 'flaky-1-500');
    const failed = await awaitTerminal(server.url, 'plain', id);
    assert.equal(failed.Status, 'Failed');
    assert.ok((await terminalObjects(server.url, failed)).failure);
    const again = await rerun('plain', id);
    assert.equal(again.status, 200);
    assert.ok(['Queued', 'Running', 'Succeeded'].includes(again.doc.Status), again.doc.Status);
    assert.notEqual(again.doc.ExpiresTime, failed.ExpiresTime, 'a new TTL');
    const done = await awaitTerminal(server.url, 'plain', id);
    assert.equal(done.Status, 'Succeeded');
    assert.equal(done.OutputLocation, failed.OutputLocation);
    assert.equal(done.FailureLocation, failed.FailureLocation);
    const objects = await terminalObjects(server.url, done);
    assert.equal(objects.failure, undefined);
    assert.equal(objects.output?.body.toString(), `body of ${id}`);
    assert.equal(callsOf(id), 2);
    assert.equal((await rerun('plain', id)).status, 409, 'a Succeeded request is not re-run');
  });

  test('a cancelled request can be re-run; a queued one cannot', async () => {
    const holder = await submit('single', 'hang');
    await waitForOutput(server, new RegExp(`counting model hanging inference-id=${holder}`));
    const waiting = await submit('single', 'echo');
    assert.equal((await rerun('single', waiting)).status, 409);
    assert.equal((await cancel('single', waiting)).doc.Status, 'Cancelled');
    assert.equal((await cancel('single', holder)).doc.Status, 'Cancelled');
    assert.equal((await rerun('single', waiting)).status, 200);
    const done = await awaitTerminal(server.url, 'single', waiting);
    assert.equal(done.Status, 'Succeeded');
    const objects = await terminalObjects(server.url, done);
    assert.equal(objects.failure, undefined);
    assert.ok(objects.output);
  });
});

void describe('list', () => {
  test('pages newest first over 2,000 requests, stable while more are enqueued; status filter; bad parameters → 400', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < 40; batch++) {
      ids.push(...await Promise.all(Array.from({ length: 50 }, (_, i) => submit('many', 'echo', `many-${batch}-${i}`))));
    }
    const known = new Set(ids);
    const seen: string[] = [];
    let token: string | undefined;
    let writes: Promise<string>[] = [];
    for (let page = 0; ; page++) {
      const { status, page: got } = await list('many', `?maxResults=137${token !== undefined ? `&nextToken=${encodeURIComponent(token)}` : ''}`);
      assert.equal(status, 200);
      assert.ok(got.Invocations.length <= 137);
      seen.push(...got.Invocations.map((doc) => doc.InferenceId));
      // Concurrent writes: new requests arrive (and earlier ones finish) while the pages are read.
      writes = writes.concat(Array.from({ length: 10 }, (_, i) => submit('many', 'echo', `late-${page}-${i}`)));
      if (got.NextToken === undefined) break;
      token = got.NextToken;
    }
    await Promise.all(writes);
    const ofOriginal = seen.filter((id) => known.has(id));
    assert.equal(new Set(seen).size, seen.length, 'no request twice');
    assert.equal(ofOriginal.length, ids.length, 'every request once');
    assert.ok(seen.every((id) => known.has(id)), 'requests enqueued after the first page are not mixed into later pages');

    const first = await list('many', '?maxResults=5');
    assert.equal(first.page.Invocations[0]?.InferenceId.startsWith('late-'), true, 'newest first');
    const ownFailures = [await submit('flaky', 'flaky-9-400'), await submit('flaky', 'flaky-9-404')];
    for (const id of ownFailures) assert.equal((await awaitTerminal(server.url, 'flaky', id)).Status, 'Failed');
    await submit('flaky', 'echo');
    const failed = await list('flaky', '?status=Failed');
    assert.deepEqual(failed.page.Invocations.slice(0, 2).map((doc) => doc.InferenceId), [...ownFailures].reverse(), 'newest first');
    assert.ok(failed.page.Invocations.every((doc) => doc.Status === 'Failed'));
    for (const bad of ['?maxResults=0', '?maxResults=1001', '?maxResults=abc', '?status=Done', '?nextToken=bogus', `?status=Failed&nextToken=${encodeURIComponent(first.page.NextToken ?? '')}`]) {
      const res = await list('many', bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.type, 'ValidationError', bad);
    }
  });

  test('boto3 (botocore SigV4) signs the custom routes: list and cancel', async () => {
    const holder = await submit('single', 'hang');
    await waitForOutput(server, new RegExp(`counting model hanging inference-id=${holder}`));
    const result = await boto3Runtime(server.url, `
import botocore.auth, botocore.awsrequest, urllib.request
def call(method, path):
    req = botocore.awsrequest.AWSRequest(method=method, url=os.environ['AWS_ENDPOINT_URL'] + path, data=b'')
    botocore.auth.SigV4Auth(rt._request_signer._credentials, 'sagemaker', 'us-east-1').add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, method=method, headers=dict(prepared.headers))
    with urllib.request.urlopen(r) as res:
        return json.loads(res.read())
listed = call('GET', '/endpoints/single/async-invocations?status=Running&maxResults=10')
cancelled = call('DELETE', '/endpoints/single/async-invocations/${holder}')
print(json.dumps({'running': [d['InferenceId'] for d in listed['Invocations']], 'status': cancelled['Status']}))
`);
    assert.deepEqual(result.running, [holder]);
    assert.equal(result.status, 'Cancelled');
  });
});

void describe('inferq requests (CLI)', () => {
  const cli = (args: string[]) => run(process.execPath, [CLI, 'requests', ...args, '--endpoint-url', server.url], { ...process.env });

  test('list (table and --json, --status), get, cancel and retry; usage mistakes exit 2', async () => {
    const failedId = await submit('plain', 'flaky-1-503');
    assert.equal((await awaitTerminal(server.url, 'plain', failedId)).Status, 'Failed');
    const listed = await cli(['list', 'plain', '--status', 'Failed', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    const docs = JSON.parse(listed.stdout) as AsyncStatus[];
    assert.equal(docs[0]?.InferenceId, failedId, 'newest first');
    assert.ok(docs.every((d) => d.Status === 'Failed'));
    const tableOut = await cli(['list', 'plain']);
    assert.equal(tableOut.code, 0, tableOut.stderr);
    assert.match(tableOut.stdout, /^INFERENCE ID\s+STATUS\s+ATTEMPTS/);
    assert.match(tableOut.stdout, new RegExp(`^${failedId}\\s+Failed\\s+1`, 'm'));
    const got = await cli(['get', 'plain', failedId, '--json']);
    assert.equal((JSON.parse(got.stdout) as AsyncStatus).Status, 'Failed');
    const retried = await cli(['retry', 'plain', failedId]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.equal((await awaitTerminal(server.url, 'plain', failedId)).Status, 'Succeeded');

    const holder = await submit('single', 'hang');
    await waitForOutput(server, new RegExp(`counting model hanging inference-id=${holder}`));
    const cancelled = await cli(['cancel', 'single', holder, '--json']);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.equal((JSON.parse(cancelled.stdout) as AsyncStatus).Status, 'Cancelled');
    const twice = await cli(['cancel', 'single', holder]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /409 ValidationError: .*already Cancelled/);

    for (const args of [['frob', 'plain'], ['list'], ['get', 'plain'], ['cancel', 'plain', 'x', 'y'], ['get', 'plain', 'x', '--status', 'Failed']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /configuration error: requests/);
    }
  });
});
