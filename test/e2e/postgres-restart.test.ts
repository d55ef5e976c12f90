/**
 * PostgreSQL restarted under a burst: `inferq serve` (API and workers) on a throwaway cluster of
 * its own (never the shared one at 5432) while `pg_ctlcluster … restart` drops every connection.
 * Requests meanwhile are answered 202 or 503 ServiceUnavailable, never 500 or a dropped
 * connection; inferq resumes by itself (no restart of inferq); every 202 is stored and ends
 * Succeeded with exactly one terminal object (its output, no failure object).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, awaitTerminal, errorOf, invokeRaw, putObject, terminalObjects } from '../helpers/async.js';
import { createPgCluster, pgClusterUnavailable, type PgCluster } from '../helpers/pg-cluster.js';
import type { ServerProcess } from '../helpers/server.js';

const unavailable = await pgClusterUnavailable();
const h = new Harness();
let cluster: PgCluster | undefined;
let server: ServerProcess;

before(async () => {
  if (unavailable) return;
  cluster = await createPgCluster('restart');
  server = await h.start(h.config({
    queue: { backend: 'postgres', url: cluster.url, schema: 'inferq' },
    worker: { leaseSeconds: 3 },
    endpoints: [{ name: 'echo', model: { builtin: 'echo' }, async: { outputPath: 's3://pg-restart/out', failurePath: 's3://pg-restart/err' } }],
  }));
  await putObject(server.url, 's3://pg-restart/in/x.txt', Buffer.from('survives a database restart'), 'text/plain');
});

after(async () => {
  await h.cleanup();
  await cluster?.drop();
});

test('a burst across a PostgreSQL restart: 202 or 503 ServiceUnavailable, nothing acknowledged lost, resumes by itself', { skip: unavailable }, async () => {
  const answers = new Map<string, number>();
  const refusals: string[] = [];
  let seq = 0;
  let stop = false;
  const invoke = async (): Promise<void> => {
    const id = `r-${seq++}`;
    const res = await invokeRaw(server.url, 'echo', { 'x-amzn-sagemaker-inputlocation': 's3://pg-restart/in/x.txt', 'x-amzn-sagemaker-inference-id': id });
    answers.set(id, res.status);
    if (res.status === 503) refusals.push(errorOf(res).type);
    else assert.equal(res.status, 202, `${id}: ${res.status} ${res.body.toString()}`);
  };
  const loop = async (): Promise<void> => {
    while (!stop) await invoke();
  };
  const loops = Array.from({ length: 4 }, loop);
  try {
    // Some requests before the restart, then the restart in the middle of the burst.
    while (seq < 40) await new Promise((resolve) => setImmediate(resolve));
    const started = Date.now();
    await cluster!.restart();
    process.stdout.write(`# pg_ctlcluster restart took ${Date.now() - started} ms\n`);
    // Keep the burst going until inferq accepts again after the restart.
    const mark = seq;
    const deadline = Date.now() + 60_000;
    while (![...answers].some(([id, status]) => status === 202 && Number(id.slice(2)) >= mark + 4)) {
      assert.ok(Date.now() < deadline, 'inferq accepts requests again within 60 s of the restart');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  const acked = [...answers].filter(([, status]) => status === 202).map(([id]) => id);
  process.stdout.write(`# ${answers.size} requests: ${acked.length} accepted (202), ${refusals.length} refused (503) during the restart\n`);
  assert.ok(refusals.length > 0, 'some request met the outage');
  assert.deepEqual([...new Set(refusals)], ['ServiceUnavailable']);

  for (const id of acked) {
    const status = await awaitTerminal(server.url, 'echo', id, 60_000);
    assert.equal(status.Status, 'Succeeded', `${id}: ${status.Status} ${status.FailureReason ?? ''}`);
    const objects = await terminalObjects(server.url, status);
    assert.equal(objects.output?.body.toString(), 'survives a database restart', `${id} has its output`);
    assert.equal(objects.failure, undefined, `${id} has no failure object`);
  }
  const stored = await cluster!.withClient(async (c) => (await c.query<{ inference_id: string; state: string }>('SELECT inference_id, state FROM inferq.jobs')).rows);
  const byId = new Map(stored.map((r) => [r.inference_id, r.state]));
  for (const id of acked) assert.equal(byId.get(id), 'succeeded', `${id} is stored and succeeded`);
  const extra = stored.filter((r) => answers.get(r.inference_id) !== 202);
  process.stdout.write(`# ${extra.length} refused requests were stored anyway (a retry with the same InferenceId is an idempotent replay)\n`);
  assert.doesNotMatch(server.output(), /InternalError|InternalFailure/);
});
