/**
 * The command line around asynchronous inference: `inferq worker` running the workers in a
 * separate process against the data directory of a `serve` without workers, and `inferq invoke`
 * (upload, invoke, follow, fetch the result or show the failure).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsEnv, run } from '../helpers/clients.js';
import { CLI, START_TIMEOUT_MS, assertBuilt, awaitOutput, collectOutput, type ServerProcess } from '../helpers/server.js';
import {
  Harness, awaitChange, awaitTerminal, fixtureModel, getStatus, invokeRaw, isOurModel, modelPids, readObject, terminalObjects,
} from '../helpers/async.js';

const h = new Harness();
const workers: ChildProcess[] = [];

after(async () => {
  for (const w of workers) {
    if (w.exitCode === null && w.signalCode === null) {
      w.kill('SIGTERM');
      await once(w, 'exit');
    }
  }
  await h.cleanup();
});

/** Starts `inferq worker` and resolves once it logs that its workers run (rejects if it exits first, or after START_TIMEOUT_MS); returns the process and its output. */
async function startWorker(config: string, dataDir: string): Promise<{ proc: ChildProcess; output: () => string }> {
  assertBuilt();
  const proc = spawn(process.execPath, [CLI, 'worker', '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  workers.push(proc);
  const output = collectOutput(proc);
  const track = (): void => h.track(output());
  proc.stdout.on('data', track);
  proc.stderr.on('data', track);
  await awaitOutput(proc, output, (out) => (/workers running/.test(out) ? true : undefined), '"workers running" from inferq worker', START_TIMEOUT_MS);
  return { proc, output };
}

describe('inferq worker', () => {
  test('serve without workers queues; a separate `inferq worker` on the same data dir runs the request, and stops its model on SIGTERM', async () => {
    const config = h.config({
      worker: { enabled: false },
      endpoints: [{ name: 'split', model: fixtureModel(), async: { outputPath: 's3://split/out', failurePath: 's3://split/err' } }],
    });
    const dataDir = h.dir();
    const server = await h.start(config, dataDir);
    assert.deepEqual(modelPids(server.output()), [], 'serve without workers starts no model');

    const res = await invokeRaw(server.url, 'split', { 'x-amzn-sagemaker-inference-id': 'split-1', 'x-amzn-sagemaker-content-type': 'text/plain' }, Buffer.from('done by a worker process'));
    assert.equal(res.status, 202, res.body.toString());
    assert.equal((await awaitChange(server.url, 'split', 'split-1', 'Queued', 1000)).Status, 'Queued', 'nothing runs requests yet');

    const worker = await startWorker(config, dataDir);
    const status = await awaitTerminal(server.url, 'split', 'split-1');
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    const { output, failure } = await terminalObjects(server.url, status);
    assert.equal(output?.body.toString(), 'done by a worker process');
    assert.equal(output?.contentType, 'text/plain');
    assert.equal(failure, undefined);

    // A second request is picked up from the queue by the running worker (cross-process wake-up).
    await invokeRaw(server.url, 'split', { 'x-amzn-sagemaker-inference-id': 'split-2' }, Buffer.from('second'));
    assert.equal((await awaitTerminal(server.url, 'split', 'split-2')).Status, 'Succeeded');

    const models = modelPids(worker.output());
    assert.equal(models.length, 1, worker.output());
    worker.proc.kill('SIGTERM');
    const [code] = (await once(worker.proc, 'exit')) as [number | null];
    assert.equal(code, 0, worker.output());
    assert.equal(isOurModel(models[0]!), false, 'the worker stopped its model process');
  });
});

describe('inferq invoke', () => {
  let server: ServerProcess;
  let dir: string;

  before(async () => {
    server = await h.start(h.config({
      endpoints: [
        { name: 'fixture', model: fixtureModel(), async: { outputPath: 's3://cli/out', failurePath: 's3://cli/err' } },
        { name: 'broken', model: fixtureModel({ FIXTURE_MODE: 'status-500' }), async: { outputPath: 's3://cli/broken-out', failurePath: 's3://cli/broken-err' } },
      ],
    }));
    dir = h.dir('inferq-invoke-');
    writeFileSync(join(dir, 'in.json'), '{"question": "life?"}\n');
  });

  const invoke = (args: string[]) => run(process.execPath, [CLI, 'invoke', ...args, '--endpoint-url', server.url], awsEnv('http://127.0.0.1:1'));

  test('--wait writes the result to stdout and exits 0; the content type reaches the model', async () => {
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--content-type', 'application/json', '--wait', '--inference-id', 'cli-wait-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '{"question": "life?"}\n');
    assert.match(r.stderr, /InferenceId cli-wait-1/);
    assert.match(r.stderr, /succeeded/);
    const out = await readObject(server.url, 's3://cli/out/cli-wait-1.out');
    assert.equal(out?.contentType, 'application/json', 'the fixture echoes the Content-Type it received');
  });

  test('--out FILE writes the result to the file', async () => {
    const target = join(dir, 'result.json');
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--wait', '--out', target]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(target, 'utf8'), '{"question": "life?"}\n');
    assert.match(r.stderr, new RegExp(`result written to ${target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });

  test('without --wait it prints the InferenceId and the locations', async () => {
    const r = await invoke(['fixture', '--input', join(dir, 'in.json'), '--inference-id', 'cli-nowait']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { InferenceId: 'cli-nowait', OutputLocation: 's3://cli/out/cli-nowait.out', FailureLocation: 's3://cli/err/cli-nowait-error.out' });
    assert.equal((await awaitTerminal(server.url, 'fixture', 'cli-nowait')).Status, 'Succeeded');
  });

  test('a failing model: non-zero exit, the reason and the failure object shown', async () => {
    const r = await invoke(['broken', '--input', join(dir, 'in.json'), '--wait', '--inference-id', 'cli-broken']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /request failed: ClientError: Received server error \(500\) from model/);
    assert.match(r.stderr, /s3:\/\/cli\/broken-err\/cli-broken-error\.out/);
    assert.match(r.stderr, /\{"error":"fixture status 500"\}/);
    assert.equal((await getStatus(server.url, 'broken', 'cli-broken')).Status, 'Failed');
  });

  test('an unknown endpoint: non-zero exit with the ValidationError', async () => {
    const r = await invoke(['nope', '--input', join(dir, 'in.json')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ValidationError: Endpoint nope of account 000000000000 not found\./);
  });
});
