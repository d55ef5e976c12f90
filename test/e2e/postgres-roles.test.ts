/**
 * The process roles on a PostgreSQL queue: an API-only `inferq serve` (`worker.enabled: false`)
 * and an `inferq worker` process share one PostgreSQL schema (and, here, one data directory for
 * the local object store). An asynchronous request accepted by the API process is completed by the
 * worker process, woken by NOTIFY; the worker is registered in the schema's registry while it
 * runs and forgets itself when it stops. And a `serve` whose database goes away (a relay to
 * PostgreSQL cut and restored) answers 503 ServiceUnavailable meanwhile and resumes by itself;
 * one that cannot reach it at start exits with status 2 and a one-line reason.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, awaitTerminal, errorOf, invokeRaw, putObject, readObject, signed } from '../helpers/async.js';
import { PG_URL, Relay, dropSchemas, uniqueSchema, withPg } from '../helpers/postgres.js';
import { run } from '../helpers/clients.js';
import { Workers } from '../helpers/processes.js';
import { CLI } from '../helpers/server.js';

const h = new Harness();
const workers = new Workers();
const SCHEMA = uniqueSchema('t_pgroles');
const schemas = [SCHEMA];

after(async () => {
  await workers.cleanup();
  await h.cleanup();
  await dropSchemas(schemas);
});

function roleConfig(workerEnabled: boolean): string {
  return h.config({
    queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA },
    worker: { enabled: workerEnabled },
    endpoints: [{ name: 'echo', model: { builtin: 'echo' }, async: { outputPath: 's3://pg-roles/out', failurePath: 's3://pg-roles/err' } }],
  });
}

void describe('serve (API only) + inferq worker on one PostgreSQL schema', () => {
  void test('a request accepted by the API process is completed by the worker process', async () => {
    const dataDir = h.dir('inferq-pgroles-data-');
    const api = await h.start(roleConfig(false), dataDir);
    const worker = await workers.start(roleConfig(true), dataDir);
    const owners = await withPg(async (c) => (await c.query<{ owner: string; pid: number }>(`SELECT owner, pid FROM "${SCHEMA}".workers`)).rows);
    assert.deepEqual(owners.map((row) => row.pid), [worker.proc.pid], 'only the worker process registered a worker');

    await putObject(api.url, 's3://pg-roles/in/one.json', Buffer.from('{"hello":"postgres"}'), 'application/json');
    const started = Date.now();
    const res = await invokeRaw(api.url, 'echo', {
      'x-amzn-sagemaker-inputlocation': 's3://pg-roles/in/one.json',
      'x-amzn-sagemaker-inference-id': 'pg-one',
      'content-type': 'application/json',
    });
    assert.equal(res.status, 202, res.body.toString());
    const status = await awaitTerminal(api.url, 'echo', 'pg-one');
    const ms = Date.now() - started;
    assert.equal(status.Status, 'Succeeded', JSON.stringify(status));
    const output = await readObject(api.url, status.OutputLocation);
    assert.equal(output?.body.toString(), '{"hello":"postgres"}');
    const [row] = await withPg(async (c) => (await c.query<{ state: string; attempts: number }>(`SELECT state, attempts FROM "${SCHEMA}".jobs WHERE inference_id = 'pg-one'`)).rows);
    assert.deepEqual(row, { state: 'succeeded', attempts: 1 });
    const [times] = await withPg(async (c) => (await c.query<{ picked: string }>(`SELECT started_at - received_at AS picked FROM "${SCHEMA}".jobs WHERE inference_id = 'pg-one'`)).rows);
    process.stdout.write(`# accepted by the API process, started by the worker process ${times?.picked} ms later; 202 to Succeeded seen by polling: ${ms} ms\n`);

    const replay = await invokeRaw(api.url, 'echo', {
      'x-amzn-sagemaker-inputlocation': 's3://pg-roles/in/one.json',
      'x-amzn-sagemaker-inference-id': 'pg-one',
      'content-type': 'application/json',
    });
    assert.equal(replay.status, 202, 'the same InferenceId again is an idempotent replay');

    assert.equal(await worker.stop(), 0);
    const left = await withPg(async (c) => (await c.query(`SELECT owner FROM "${SCHEMA}".workers`)).rowCount);
    assert.equal(left, 0, 'a worker that stops cleanly leaves the registry');
  });
});

void describe('serve on PostgreSQL while the database goes away', () => {
  void test('requests during the outage get 503 ServiceUnavailable, nothing acknowledged is lost, and work resumes without a restart', async () => {
    const schema = uniqueSchema('t_pgoutage');
    schemas.push(schema);
    const relay = new Relay();
    await relay.open();
    try {
      const config = h.config({
        queue: { backend: 'postgres', url: `postgres://root@127.0.0.1:${relay.port}/test`, schema },
        endpoints: [{ name: 'echo', model: { builtin: 'echo' }, async: { outputPath: 's3://pg-outage/out', failurePath: 's3://pg-outage/err' } }],
      });
      const server = await h.start(config);
      await putObject(server.url, 's3://pg-outage/in/x.txt', Buffer.from('x'));
      const invoke = (id: string): ReturnType<typeof invokeRaw> => invokeRaw(server.url, 'echo', { 'x-amzn-sagemaker-inputlocation': 's3://pg-outage/in/x.txt', 'x-amzn-sagemaker-inference-id': id });
      assert.equal((await invoke('before')).status, 202);
      assert.equal((await awaitTerminal(server.url, 'echo', 'before')).Status, 'Succeeded');

      await relay.cut();
      for (const id of ['during-1', 'during-2']) {
        const res = await invoke(id);
        assert.equal(res.status, 503, res.body.toString());
        assert.equal(errorOf(res).type, 'ServiceUnavailable');
      }
      const status = await signed(server.url, 'sagemaker', 'GET', '/endpoints/echo/async-invocations/before');
      assert.equal(status.status, 503, 'a status read during the outage is 503 as well');

      await relay.open();
      const after = await invoke('after');
      assert.equal(after.status, 202, after.body.toString());
      assert.equal((await awaitTerminal(server.url, 'echo', 'after')).Status, 'Succeeded');
      const states = await withPg(async (c) => (await c.query<{ inference_id: string; state: string }>(`SELECT inference_id, state FROM "${schema}".jobs ORDER BY seq`)).rows);
      assert.deepEqual(states, [{ inference_id: 'before', state: 'succeeded' }, { inference_id: 'after', state: 'succeeded' }], 'the refused requests were never stored');
      assert.doesNotMatch(server.output(), /InternalError|InternalFailure/);
    } finally {
      await relay.cut();
    }
  });
});

void describe('serve on PostgreSQL that cannot be reached at start', () => {
  void test('exits with status 2 and one line naming the schema and the URL without its password', async () => {
    const relay = new Relay();
    await relay.open();
    await relay.cut(); // a port where nothing listens
    const config = h.config({ queue: { backend: 'postgres', url: `postgres://root:hunter2@127.0.0.1:${relay.port}/test`, schema: 'never_made' } });
    const result = await run(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', h.dir('inferq-pgdown-'), '--config', config], { ...process.env, PGPASSWORD: 'unused' });
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, new RegExp(`cannot open the job queue in schema never_made of postgres://root:\\*\\*\\*@127\\.0\\.0\\.1:${relay.port}/test`));
    assert.doesNotMatch(result.stdout + result.stderr, /hunter2/);
  });
});
