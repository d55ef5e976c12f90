/**
 * ServedEndpoints (src/app/served.ts, internal to src/app, so imported directly), the live maps
 * the runtime API, forwarding and the worker pool read, with real url models on the fixture
 * server: put serves a version and hands back the model it replaced, its slot scheduler reads the
 * new model's capacity; a real-time call starts a model only in a process without workers; remove
 * and putForwarded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServedEndpoints } from '../../src/app/served.js';
import { resolveConfig, type EndpointConfig } from '../../src/config/index.js';
import { createHttpModelClient, createSingleModel, waitForHealthy, type ManagedModel } from '../../src/models/index.js';
import { silentLogger, systemClock } from '../../src/util/index.js';
import { startFixture, type FixtureProcess } from '../helpers/fixture-model.js';

let fixture: FixtureProcess;
let endpoint: EndpointConfig;
const models: ManagedModel[] = [];

before(async () => {
  fixture = await startFixture();
  const dir = mkdtempSync(join(tmpdir(), 'inferq-served-'));
  writeFileSync(join(dir, 'inferq.yaml'), `endpoints:\n  - { name: ep, model: { url: "${fixture.url}" } }\n`);
  endpoint = resolveConfig({ configFile: join(dir, 'inferq.yaml') }, dir).endpoints.find((e) => e.name === 'ep')!;
  rmSync(dir, { recursive: true, force: true });
});

after(async () => {
  await Promise.all(models.map((m) => m.stop()));
  await fixture.kill();
});

/** A url model on the fixture (not started), `concurrency` calls at a time. */
function model(concurrency: number): ManagedModel {
  const m = createSingleModel(createHttpModelClient({ baseUrl: fixture.url, logger: silentLogger, pingIntervalMs: 100 }), concurrency);
  models.push(m);
  return m;
}

test('put serves a version and returns the model it replaced; the slots read the new model', async () => {
  const served = new ServedEndpoints(systemClock, true);
  try {
    const v1 = model(2);
    const first = served.put(endpoint, v1);
    assert.equal(first.replaced, undefined);
    assert.equal(first.pooled.model, v1);
    assert.equal(first.pooled.endpoint, endpoint);
    assert.equal(served.slots.get('ep'), first.pooled.slots);
    assert.deepEqual(served.list(), [endpoint]);
    await v1.start();
    assert.equal(await waitForHealthy(v1, 20_000), true);
    assert.equal(first.pooled.slots.capacity(), 2);

    const v2 = model(5);
    const second = served.put(endpoint, v2);
    assert.equal(second.replaced, v1, 'the replaced model is handed back to drain and stop');
    assert.equal(served.models.get('ep'), v2);
    assert.equal(served.realtime.get('ep')?.model, v2);
    assert.notEqual(second.pooled.slots, first.pooled.slots, 'a new version has slots of its own');
    assert.equal(second.pooled.slots.capacity(), 0, 'v2 is not started yet');
    await v2.start();
    assert.equal(await waitForHealthy(v2, 20_000), true);
    assert.equal(second.pooled.slots.capacity(), 5);
    assert.equal(served.put(endpoint, v2).replaced, undefined, 'the same model again replaces nothing');

    assert.equal(served.remove('ep'), v2);
    for (const map of [served.configs, served.models, served.slots, served.realtime]) assert.equal(map.has('ep'), false);
    assert.equal(served.remove('ep'), undefined);
  } finally {
    served.stop();
  }
});

test('a real-time call starts the model only in a process without workers, once', async () => {
  const withoutWorkers = new ServedEndpoints(systemClock, false);
  const withWorkers = new ServedEndpoints(systemClock, true);
  try {
    const lazy = model(1);
    withoutWorkers.put(endpoint, lazy);
    const target = withoutWorkers.realtime.get('ep')!;
    target.ensureStarted();
    target.ensureStarted();
    assert.equal(await waitForHealthy(lazy, 20_000), true, 'started by the first real-time call');

    const managed = model(1);
    withWorkers.put(endpoint, managed);
    withWorkers.realtime.get('ep')!.ensureStarted();
    assert.equal(await waitForHealthy(managed, 500), false, 'with workers the composition root starts models, not a call');
  } finally {
    withoutWorkers.stop();
    withWorkers.stop();
  }
});

test('putForwarded serves a config without a local model', () => {
  const served = new ServedEndpoints(systemClock, false);
  try {
    served.putForwarded(endpoint);
    assert.deepEqual(served.list(), [endpoint]);
    assert.equal(served.models.has('ep'), false);
    assert.equal(served.realtime.has('ep'), false);
    assert.equal(served.remove('ep'), undefined);
    assert.deepEqual(served.list(), []);
  } finally {
    served.stop();
  }
});
