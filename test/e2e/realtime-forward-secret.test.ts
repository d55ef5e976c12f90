/**
 * The forwarding hop's secret and its limits, with an API-only `serve` and an `inferq worker` on
 * one data directory (the embedded SQLite queue holds the routes): a worker refuses to start a
 * non-loopback listener without a secret; processes sharing INFERQ_FORWARD_SECRET forward, a
 * worker with another secret is refused (503 to the client, the model never called); a worker
 * listening on all interfaces with a secret is reached at its `worker.advertiseUrl`; and an
 * endpoint no worker serves waits for `realtime.startTimeoutSeconds`, then ModelNotReadyException.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Harness, errorOf, signed } from '../helpers/async.js';
import { holdPort } from '../helpers/ports.js';
import { Workers, waitForLine } from '../helpers/processes.js';
import { CLI, type ServerProcess } from '../helpers/server.js';
import { countingModel, modelCalls } from '../helpers/side-effects.js';

const h = new Harness();
const workers = new Workers();
const saved = process.env['INFERQ_FORWARD_SECRET'];

after(async () => {
  if (saved === undefined) delete process.env['INFERQ_FORWARD_SECRET'];
  else process.env['INFERQ_FORWARD_SECRET'] = saved;
  await workers.cleanup();
  await h.cleanup();
});

function config(callLog: string, extra: Record<string, unknown>[] = []): string {
  return h.config({
    worker: { enabled: false, routeIntervalSeconds: 0.3 },
    endpoints: [{ name: 'counted', model: countingModel(callLog), realtime: { startTimeoutSeconds: 60 } }, ...extra],
  });
}

function workerConfig(callLog: string): string {
  return h.config({ worker: { routeIntervalSeconds: 0.3 }, endpoints: [{ name: 'counted', model: countingModel(callLog) }] });
}

function invoke(api: ServerProcess, endpoint: string, id: string): ReturnType<typeof signed> {
  return signed(api.url, 'sagemaker', 'POST', `/endpoints/${endpoint}/invocations`, { 'content-type': 'text/plain', 'x-amzn-sagemaker-inference-id': id }, Buffer.from(id));
}

void describe('the forwarding secret', () => {
  void test('a worker with a non-loopback worker.listen and no secret refuses to start (status 2, one line)', async () => {
    const cfg = h.config({ worker: { listen: '0.0.0.0:0' }, endpoints: [{ name: 'echo', model: { builtin: 'echo' } }] });
    const env = { ...process.env };
    delete env['INFERQ_FORWARD_SECRET'];
    const proc = spawn(process.execPath, [CLI, 'worker', '--config', cfg, '--data-dir', h.dir('inferq-fwd-open-')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    const [code] = await once(proc, 'exit') as [number | null];
    assert.equal(code, 2);
    assert.match(err, /worker\.forwardSecret: worker\.listen 0\.0\.0\.0:0 is not loopback/);
  });

  void test('a shared INFERQ_FORWARD_SECRET forwards; a worker with another secret is refused and its model never called', async () => {
    const dataDir = h.dir('inferq-fwd-secret-');
    const callLog = join(h.dir('inferq-fwd-calls-'), 'calls.log');
    const api = await h.startWith({ config: config(callLog), dataDir, env: { INFERQ_FORWARD_SECRET: 'the-shared-secret-1234' } });
    process.env['INFERQ_FORWARD_SECRET'] = 'another-secret-entirely';
    const wrong = await workers.start(workerConfig(callLog), dataDir);
    const refused = await invoke(api, 'counted', 'refused-1');
    assert.equal(refused.status, 503, refused.body.toString());
    assert.equal(errorOf(refused).type, 'ServiceUnavailable');
    assert.match(errorOf(refused).message, /forwarding signature/);
    assert.deepEqual(modelCalls(callLog), [], 'no model call was made');
    assert.equal(await wrong.stop(), 0);

    process.env['INFERQ_FORWARD_SECRET'] = 'the-shared-secret-1234';
    await workers.start(workerConfig(callLog), dataDir);
    const deadline = Date.now() + 60_000;
    let ok = await invoke(api, 'counted', 'shared-1');
    while (ok.status !== 200 && Date.now() < deadline) ok = await invoke(api, 'counted', `shared-${Date.now()}`);
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(ok.body.toString().length > 0, true);
    assert.ok(modelCalls(callLog).length >= 1, 'the model answered through the worker');
  });

  void test('an endpoint no worker serves waits for realtime.startTimeoutSeconds, then ModelNotReadyException', async () => {
    const callLog = join(h.dir('inferq-fwd-calls-'), 'calls.log');
    const api = await h.startWith({
      config: config(callLog, [{ name: 'orphan', model: { builtin: 'echo' }, realtime: { startTimeoutSeconds: 1.5 } }]),
      dataDir: h.dir('inferq-fwd-orphan-'),
    });
    const t0 = Date.now();
    const res = await invoke(api, 'orphan', 'orphan-1');
    const ms = Date.now() - t0;
    assert.equal(res.status, 429, res.body.toString());
    assert.equal(errorOf(res).type, 'ModelNotReadyException');
    assert.ok(ms >= 1_400 && ms < 10_000, `waited ${ms} ms`);
  });

  void test('a worker on 0.0.0.0 with worker.forwardSecret is reached at its worker.advertiseUrl, not its bound address', async () => {
    const dataDir = h.dir('inferq-fwd-advertise-');
    const callLog = join(h.dir('inferq-fwd-calls-'), 'calls.log');
    const api = await h.startWith({ config: config(callLog), dataDir, env: { INFERQ_FORWARD_SECRET: 'advertised-secret-5678' } });
    const front = await holdPort();
    try {
      delete process.env['INFERQ_FORWARD_SECRET'];
      const cfg = h.config({
        worker: { routeIntervalSeconds: 0.3, listen: '0.0.0.0:0', forwardSecret: 'advertised-secret-5678', advertiseUrl: front.url },
        endpoints: [{ name: 'counted', model: countingModel(callLog) }],
      });
      const worker = await workers.start(cfg, dataDir);
      const [, bound, advertised] = await waitForLine(worker, /forwarding listener ready listen=(\S+) advertised=(\S+)/);
      assert.match(bound!, /^http:\/\/0\.0\.0\.0:\d+$/);
      assert.equal(advertised, front.url);
      front.forwardTo(Number(new URL(bound!).port));
      const res = await invoke(api, 'counted', 'advertised-1');
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(modelCalls(callLog), ['advertised-1']);
    } finally {
      await front.close();
    }
  });
});
