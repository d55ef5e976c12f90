/**
 * API-created endpoints on PostgreSQL: two API-only `inferq serve` processes (`worker.enabled:
 * false`) and one `inferq worker` on one queue schema (and one data directory, for the embedded
 * object store). CreateEndpoint through API #1 is InService on API #2 within seconds; API #2
 * serves it (real-time forwarded to the worker, async processed by the worker, which alone runs
 * the model); an UpdateEndpoint through API #1 and a DeleteEndpoint through API #2 are seen by the
 * other API process, and a DeleteEndpoint while the worker holds a call fails the requests queued
 * through the other API process with the deleted failure object.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Harness, awaitTerminal, readObject } from '../helpers/async.js';
import { controlScript, pollUntil, submitAsync } from '../helpers/controlplane.js';
import { FIXTURE_COMMAND } from '../helpers/fixture-model.js';
import { PG_URL, dropSchemas, uniqueSchema } from '../helpers/postgres.js';
import { Workers, waitForLine, type WorkerProcess } from '../helpers/processes.js';
import { ROOT, type ServerProcess } from '../helpers/server.js';

const h = new Harness();
const workers = new Workers();
const SCHEMA = uniqueSchema('t_cp_deploy_pg');
let api1: ServerProcess;
let api2: ServerProcess;
let worker: WorkerProcess;
let gates: string;

function config(workerEnabled: boolean): string {
  return h.config({
    queue: { backend: 'postgres', url: PG_URL, schema: SCHEMA },
    worker: { enabled: workerEnabled, routeIntervalSeconds: 0.5 },
    endpoints: [],
    images: { 'test/fixture:1': { command: [...FIXTURE_COMMAND], cwd: ROOT, env: { FIXTURE_GATE_DIR: gates } } },
  });
}

before(async () => {
  gates = h.dir('inferq-cp-deploy-pg-gates-');
  const dataDir = h.dir('inferq-cp-deploy-pg-');
  const apiConfig = config(false);
  api1 = await h.start(apiConfig, dataDir);
  api2 = await h.start(apiConfig, dataDir);
  worker = await workers.start(config(true), dataDir);
});

after(async () => {
  await workers.cleanup();
  await h.cleanup();
  await dropSchemas([SCHEMA]);
});

/** The model processes a process's output says it started for `endpoint`. */
function modelStarts(output: string, endpoint: string): number {
  return [...output.matchAll(new RegExp(`\\[inferq:(?:[\\w-]+:)*model:${endpoint}#\\d+\\][^\\n]*model process started`, 'g'))].length;
}

void describe('two API-only processes and one worker on PostgreSQL', () => {
  void test('CreateEndpoint through API #1 is InService on API #2, which serves it through the worker', async () => {
    const t0 = Date.now();
    const created = await controlScript(api1.url, `
s3.create_bucket(Bucket='pg-out')
print(json.dumps({'created': deploy('pg-ep', 'test/fixture:1', env={'FIXTURE_TAG': 'one'}, output='s3://pg-out/r', concurrency=2)}))`);
    assert.equal(created['created'], 'Creating');
    const seen = await controlScript(api2.url, `
r = {'wait': wait('pg-ep', attempts=60)}
d = sm.describe_endpoint(EndpointName='pg-ep')
r['describe'] = [d['EndpointStatus'], d['EndpointConfigName']]
print(json.dumps(r))`);
    const ms = Date.now() - t0;
    process.stdout.write(`# CreateEndpoint on API #1 → InService on API #2: ${ms} ms\n`);
    assert.ok(ms < 30_000, `InService on API #2 after ${ms} ms`);
    assert.deepEqual(seen, { wait: null, describe: ['InService', 'pg-ep-cfg'] });
    const served = await controlScript(api2.url, `
s3.put_object(Bucket='pg-out', Key='in/1.json', Body=b'{"pg": 1}')
r = {'tag': json.loads(rt.invoke_endpoint(EndpointName='pg-ep', Body=b'{}', ContentType='application/json', CustomAttributes='mode=inspect')['Body'].read())['env']['FIXTURE_TAG']}
st = rt.invoke_endpoint_with_response_stream(EndpointName='pg-ep', Body=b'{}', ContentType='application/json', CustomAttributes='mode=stream-3-10')
r['stream'] = b''.join(e['PayloadPart']['Bytes'] for e in st['Body'] if 'PayloadPart' in e).decode()
a = rt.invoke_endpoint_async(EndpointName='pg-ep', InputLocation='s3://pg-out/in/1.json', ContentType='application/json', InferenceId='pg-1')
r['output'] = a['OutputLocation']
print(json.dumps(r))`);
    assert.equal(served['tag'], 'one');
    assert.equal(served['stream'], 'part-1\npart-2\npart-3\n');
    assert.match(String(served['output']), /^s3:\/\/pg-out\/r\/out\//);
    const done = await awaitTerminal(api2.url, 'pg-ep', 'pg-1', 60_000);
    assert.equal(done.Status, 'Succeeded', JSON.stringify(done));
    assert.equal((await readObject(api1.url, String(served['output'])))?.body.toString(), '{"pg": 1}');
    assert.equal(modelStarts(worker.output(), 'pg-ep'), 1, `the worker runs the model:\n${worker.output()}`);
    assert.equal(modelStarts(api1.output(), 'pg-ep') + modelStarts(api2.output(), 'pg-ep'), 0, 'no API-only process runs a model');
  });

  void test('UpdateEndpoint through API #1 and DeleteEndpoint through API #2 are seen by the other API process', async () => {
    const updated = await controlScript(api1.url, `
model('pg-two-model', 'test/fixture:1', {'FIXTURE_TAG': 'two'})
config('pg-two-cfg', 'pg-two-model', 1, 's3://pg-out/two', 2)
sm.update_endpoint(EndpointName='pg-ep', EndpointConfigName='pg-two-cfg')
print(json.dumps({'status': sm.describe_endpoint(EndpointName='pg-ep')['EndpointStatus']}))`);
    assert.equal(updated['status'], 'Updating');
    const seen = await controlScript(api2.url, `
r = {'wait': wait('pg-ep', attempts=60)}
r['config'] = sm.describe_endpoint(EndpointName='pg-ep')['EndpointConfigName']
r['tag'] = json.loads(rt.invoke_endpoint(EndpointName='pg-ep', Body=b'{}', ContentType='application/json', CustomAttributes='mode=inspect')['Body'].read())['env']['FIXTURE_TAG']
sm.delete_endpoint(EndpointName='pg-ep')
print(json.dumps(r))`);
    assert.deepEqual(seen, { wait: null, config: 'pg-two-cfg', tag: 'two' });
    const gone = await controlScript(api1.url, `
r = {'wait': wait('pg-ep', 'endpoint_deleted', 30), 'describe': err(sm.describe_endpoint, EndpointName='pg-ep')}
r['invoke'] = err(rt.invoke_endpoint, EndpointName='pg-ep', Body=b'{}', ContentType='application/json')
print(json.dumps(r))`);
    assert.deepEqual(gone, { wait: null, describe: ['ValidationException', 'Could not find endpoint "pg-ep".', 400], invoke: ['ValidationError', 'Endpoint pg-ep of account 000000000000 not found.', 400] });
  });

  void test('DeleteEndpoint through API #2 while the worker holds a call: the requests queued through API #1 end with the deleted failure object', async () => {
    const setup = await controlScript(api1.url, `print(json.dumps({'created': deploy('pg-doomed', 'test/fixture:1', output='s3://pg-out/doomed', concurrency=1), 'wait': wait('pg-doomed', attempts=60)}))`);
    assert.deepEqual(setup, { created: 'Creating', wait: null });
    const from = worker.output().length;
    const held = await submitAsync(api2.url, 'pg-doomed', 'pgd-0', 'held', 'mode=held-pgdoomgate-1');
    await waitForLine(worker, /fixture held inference-id=pgd-0/, from);
    const queued = [await submitAsync(api1.url, 'pg-doomed', 'pgd-1', 'queued 1'), await submitAsync(api1.url, 'pg-doomed', 'pgd-2', 'queued 2')];
    const deleting = await controlScript(api2.url, `
sm.delete_endpoint(EndpointName='pg-doomed')
print(json.dumps({'status': sm.describe_endpoint(EndpointName='pg-doomed')['EndpointStatus']}))`);
    assert.equal(deleting['status'], 'Deleting');
    writeFileSync(join(gates, 'pgdoomgate'), '');
    const gone = await controlScript(api1.url, `print(json.dumps({'wait': wait('pg-doomed', 'endpoint_deleted', 60)}))`);
    assert.deepEqual(gone, { wait: null });
    for (const q of queued) {
      const failure = await pollUntil(`failure object of ${q.id}`, () => readObject(api1.url, q.failure), 15_000);
      assert.match(failure.body.toString(), /Endpoint pg-doomed was deleted before this request ran\./, q.id);
      assert.equal(await readObject(api2.url, q.output), undefined, `${q.id} has no output`);
    }
    const ended = await pollUntil('a terminal object of the held request', async () => (await readObject(api2.url, held.output)) ?? (await readObject(api2.url, held.failure)), 15_000);
    assert.ok(ended.body.length > 0);
  });
});
