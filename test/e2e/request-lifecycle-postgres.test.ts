/**
 * The request lifecycle across processes on a PostgreSQL queue: an API-only `inferq serve` and an
 * `inferq worker` process share one schema. A cancel sent to the API aborts the model call the
 * worker process is making (the worker learns it from the queue, not from the API process); a
 * queued request cancelled there never reaches the model; the retry policy's waits are stored in
 * the queue and taken by the worker; re-run and list work on PostgreSQL rows.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Harness, awaitTerminal, getStatus, invokeRaw, signed, terminalObjects, type AsyncStatus } from '../helpers/async.js';
import { PG_URL, dropSchemas, uniqueSchema, withPg } from '../helpers/postgres.js';
import { Workers, waitForLine, type WorkerProcess } from '../helpers/processes.js';
import type { ServerProcess } from '../helpers/server.js';
import { countingModel, modelCalls } from '../helpers/side-effects.js';

const h = new Harness();
const workers = new Workers();
const SCHEMA = uniqueSchema('t_pglifecycle');
let api: ServerProcess;
let worker: WorkerProcess;
let calls: string;

before(async () => {
  calls = join(h.dir('inferq-pglifecycle-calls-'), 'calls.log');
  const config = (workerEnabled: boolean): string => h.config({
    queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA },
    worker: { enabled: workerEnabled },
    endpoints: [{
      name: 'pg', model: countingModel(calls),
      async: { maxConcurrentInvocations: 1, retry: { maxAttempts: 3, backoffSeconds: 0.05, maxBackoffSeconds: 0.1 } },
    }],
  });
  const dataDir = h.dir('inferq-pglifecycle-data-');
  api = await h.start(config(false), dataDir);
  worker = await workers.start(config(true), dataDir);
});
after(async () => {
  await workers.cleanup();
  await h.cleanup();
  await dropSchemas([SCHEMA]);
});

async function submit(id: string, mode: string): Promise<void> {
  const res = await invokeRaw(api.url, 'pg', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-custom-attributes': `mode=${mode}`, 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from(`body of ${id}`));
  assert.equal(res.status, 202, res.body.toString());
}

async function call(method: string, path: string): Promise<{ status: number; doc: AsyncStatus }> {
  const raw = await signed(api.url, 'sagemaker', method, path);
  return { status: raw.status, doc: JSON.parse(raw.body.toString('utf8')) as AsyncStatus };
}

const callsOf = (id: string): number => modelCalls(calls).filter((line) => line === id).length;

void describe('request lifecycle on PostgreSQL, API and worker in separate processes', () => {
  test('cancel aborts the model call of the worker process; a queued request cancelled never runs', async () => {
    await submit('pg-hang', 'hang');
    await waitForLine(worker, /counting model hanging inference-id=pg-hang/);
    await submit('pg-queued', 'echo');
    assert.equal((await getStatus(api.url, 'pg', 'pg-queued')).Status, 'Queued');
    const queued = await call('DELETE', '/endpoints/pg/async-invocations/pg-queued');
    assert.equal(queued.status, 200);
    assert.equal(queued.doc.Status, 'Cancelled');
    const running = await call('DELETE', '/endpoints/pg/async-invocations/pg-hang');
    assert.equal(running.status, 200);
    assert.equal(running.doc.Status, 'Cancelled');
    for (const doc of [queued.doc, running.doc]) {
      const objects = await terminalObjects(api.url, doc);
      assert.match(objects.failure?.body.toString() ?? '', /^Cancelled: /);
      assert.equal(objects.output, undefined);
    }
    await submit('pg-after', 'echo');
    assert.equal((await awaitTerminal(api.url, 'pg', 'pg-after')).Status, 'Succeeded');
    assert.equal(callsOf('pg-queued'), 0);
    const rows = await withPg(async (c) => (await c.query<{ inference_id: string; state: string }>(`SELECT inference_id, state FROM "${SCHEMA}".jobs ORDER BY seq`)).rows);
    assert.deepEqual(rows.map((r) => [r.inference_id, r.state]), [['pg-hang', 'cancelled'], ['pg-queued', 'cancelled'], ['pg-after', 'succeeded']]);
  });

  test('retries wait in the queue and succeed; a re-run of a cancelled request succeeds; the list pages newest first', async () => {
    await submit('pg-flaky', 'flaky-2-502');
    const flaky = await awaitTerminal(api.url, 'pg', 'pg-flaky');
    assert.equal(flaky.Status, 'Succeeded');
    assert.equal(flaky.Attempts, 3);
    assert.equal(callsOf('pg-flaky'), 3);

    const rerun = await call('POST', '/endpoints/pg/async-invocations/pg-queued/retry');
    assert.equal(rerun.status, 200);
    const done = await awaitTerminal(api.url, 'pg', 'pg-queued');
    assert.equal(done.Status, 'Succeeded');
    assert.equal((await terminalObjects(api.url, done)).failure, undefined);

    const first = await signed(api.url, 'sagemaker', 'GET', '/endpoints/pg/async-invocations?maxResults=2');
    const page = JSON.parse(first.body.toString('utf8')) as { Invocations: AsyncStatus[]; NextToken?: string };
    assert.deepEqual(page.Invocations.map((d) => d.InferenceId), ['pg-flaky', 'pg-after']);
    assert.ok(page.NextToken);
    const second = await signed(api.url, 'sagemaker', 'GET', `/endpoints/pg/async-invocations?maxResults=2&nextToken=${encodeURIComponent(page.NextToken)}`);
    const rest = JSON.parse(second.body.toString('utf8')) as { Invocations: AsyncStatus[]; NextToken?: string };
    assert.deepEqual(rest.Invocations.map((d) => d.InferenceId), ['pg-queued', 'pg-hang']);
    assert.equal(rest.NextToken, undefined);
    const cancelled = await signed(api.url, 'sagemaker', 'GET', '/endpoints/pg/async-invocations?status=Cancelled');
    assert.deepEqual((JSON.parse(cancelled.body.toString('utf8')) as { Invocations: AsyncStatus[] }).Invocations.map((d) => d.InferenceId), ['pg-hang']);
  });
});
