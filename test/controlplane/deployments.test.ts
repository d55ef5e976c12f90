/**
 * The running side of API-created endpoints (src/controlplane/deployments.ts) on a real SQLite
 * ResourceStore, with the documents made by the control plane itself (createControlPlaneApi):
 * recordStartOutcome is a compare-and-set on the record read (an UpdateEndpoint or DeleteEndpoint
 * made meanwhile wins), a failed update rolls back to the config still serving with the
 * FailureReason, a failed create is Failed, the reason is capped at 1024 characters; a Deleting
 * endpoint is removed; documents that cannot be read are skipped by listEndpointRecords.
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createControlPlaneApi, listEndpointRecords, recordStartOutcome, removeDeletedEndpoint, type ControlPlaneApi, type EndpointRecord,
} from '../../src/controlplane/index.js';
import { openSqliteResourceStore, type ResourceStore } from '../../src/queue/index.js';

interface Fixture {
  readonly store: ResourceStore;
  readonly api: ControlPlaneApi;
  readonly clock: { now(): number };
  call(operation: string, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

let f: Fixture;

beforeEach(() => {
  const dir = mkdtempSync(join(tmpdir(), 'inferq-deployments-'));
  const store = openSqliteResourceStore(join(dir, 'queue.db'));
  let now = 1_700_000_000_000;
  const clock = { now: () => (now += 1000) };
  const api = createControlPlaneApi({
    store, clock, scope: { region: 'us-east-1', account: '000000000000' }, configEndpoints: () => [], knownImage: () => true,
  });
  f = {
    store, api, clock,
    call: (operation, body) => api.handle(`SageMaker.${operation}`, Buffer.from(JSON.stringify(body))),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

afterEach(() => f.close());

/** A model and an endpoint config `config` serving it (one variant, the echo image). */
async function createConfig(config: string, model = `${config}-model`): Promise<void> {
  await f.call('CreateModel', { ModelName: model, PrimaryContainer: { Image: 'inferq/echo' } });
  await f.call('CreateEndpointConfig', { EndpointConfigName: config, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1 }] });
}

/** The stored record of endpoint `name` as a serving process reads it. */
async function recordOf(name: string): Promise<EndpointRecord> {
  const record = (await listEndpointRecords(f.store)).find((r) => r.name === name);
  assert.ok(record, `endpoint ${name} is listed`);
  return record;
}

async function describe(name: string): Promise<Record<string, unknown>> {
  return f.call('DescribeEndpoint', { EndpointName: name });
}

/** An endpoint `name` on config `config`, recorded InService. */
async function inService(name: string, config: string): Promise<void> {
  await createConfig(config);
  await f.call('CreateEndpoint', { EndpointName: name, EndpointConfigName: config });
  assert.equal(await recordStartOutcome(f.store, f.clock, await recordOf(name), { kind: 'in-service' }), true);
}

test('Creating → InService: the record read is written back InService, generation and config kept', async () => {
  await createConfig('c1');
  await f.call('CreateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c1' });
  const creating = await recordOf('ep');
  assert.equal(creating.status, 'Creating');
  assert.equal(creating.generation, 1);
  assert.equal(creating.configName, 'c1');
  assert.equal(await recordStartOutcome(f.store, f.clock, creating, { kind: 'in-service' }), true);
  const after = await recordOf('ep');
  assert.equal(after.status, 'InService');
  assert.equal(after.generation, 1);
  assert.equal(after.configName, 'c1');
  assert.deepEqual(after.config, creating.config);
  assert.equal((await describe('ep'))['EndpointStatus'], 'InService');
  assert.equal(await recordStartOutcome(f.store, f.clock, after, { kind: 'in-service' }), false, 'an endpoint not starting is not written');
});

test('compare-and-set: a record read before an UpdateEndpoint does not overwrite the update', async () => {
  await inService('ep', 'c1');
  const stale = await recordOf('ep');
  await createConfig('c2');
  await f.call('UpdateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c2' });
  const updating = await recordOf('ep');
  assert.equal(updating.status, 'Updating');
  assert.equal(updating.generation, 2);
  assert.equal(updating.previous?.configName, 'c1');

  // A read of the Creating record, taken before InService was written, cannot land either.
  await createConfig('c3');
  await f.call('CreateEndpoint', { EndpointName: 'other', EndpointConfigName: 'c3' });
  const creating = await recordOf('other');
  assert.equal(await recordStartOutcome(f.store, f.clock, creating, { kind: 'in-service' }), true);
  assert.equal(await recordStartOutcome(f.store, f.clock, creating, { kind: 'failed', reason: 'late' }), false, 'the document changed since it was read');
  assert.equal((await recordOf('other')).status, 'InService');

  assert.equal(await recordStartOutcome(f.store, f.clock, stale, { kind: 'failed', reason: 'x' }), false, 'InService record: not starting');
  // The update's record, read before a second writer recorded its outcome, loses.
  assert.equal(await recordStartOutcome(f.store, f.clock, updating, { kind: 'in-service' }), true);
  assert.equal(await recordStartOutcome(f.store, f.clock, updating, { kind: 'failed', reason: 'stale' }), false);
  const now = await recordOf('ep');
  assert.equal(now.status, 'InService');
  assert.equal(now.configName, 'c2');
  assert.equal(now.previous, undefined, 'previous is dropped once the new config serves');
  assert.equal(now.failureReason, undefined);
});

test('compare-and-set: a record read before a rollback and a new UpdateEndpoint to the same config is not written', async () => {
  await inService('ep', 'c1');
  await createConfig('c2');
  await f.call('UpdateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c2' });
  const first = await recordOf('ep');
  assert.equal(await recordStartOutcome(f.store, f.clock, first, { kind: 'failed', reason: 'exited' }), true);
  await f.call('UpdateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c2' });
  const second = await recordOf('ep');
  assert.equal(second.status, 'Updating');
  assert.deepEqual(second.config, first.config, 'the same config again');
  assert.equal(second.generation, first.generation + 2);
  assert.equal(await recordStartOutcome(f.store, f.clock, first, { kind: 'in-service' }), false, 'the first update\'s record is stale');
  assert.equal((await recordOf('ep')).status, 'Updating');
  assert.equal(await recordStartOutcome(f.store, f.clock, second, { kind: 'in-service' }), true);
  assert.equal((await recordOf('ep')).status, 'InService');
});

test('compare-and-set: the outcome for an Updating record read before DeleteEndpoint is not written', async () => {
  await inService('ep', 'c1');
  await createConfig('c2');
  await f.call('UpdateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c2' });
  const updating = await recordOf('ep');
  await f.call('DeleteEndpoint', { EndpointName: 'ep' });
  assert.equal(await recordStartOutcome(f.store, f.clock, updating, { kind: 'in-service' }), false);
  assert.equal(await recordStartOutcome(f.store, f.clock, updating, { kind: 'failed', reason: 'x' }), false);
  const deleting = await recordOf('ep');
  assert.equal(deleting.status, 'Deleting');
  assert.equal(deleting.generation, 3);
});

test('a failed update rolls back to InService with the old config and the FailureReason', async () => {
  await inService('ep', 'c1');
  const before = await recordOf('ep');
  await createConfig('c2');
  await f.call('UpdateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c2' });
  const updating = await recordOf('ep');
  assert.notDeepEqual(updating.config, before.config);
  assert.equal(await recordStartOutcome(f.store, f.clock, updating, { kind: 'failed', reason: 'The model process exited with status 3 before it answered GET /ping.' }), true);
  const after = await recordOf('ep');
  assert.equal(after.status, 'InService');
  assert.equal(after.configName, 'c1');
  assert.deepEqual(after.config, before.config);
  assert.equal(after.previous, undefined);
  assert.equal(after.failureReason, 'The model process exited with status 3 before it answered GET /ping.');
  assert.equal(after.generation, updating.generation + 1, 'the rollback is a new generation (the serving processes see a change)');
  const described = await describe('ep');
  assert.equal(described['EndpointStatus'], 'InService');
  assert.equal(described['EndpointConfigName'], 'c1');
  assert.equal(described['FailureReason'], 'The model process exited with status 3 before it answered GET /ping.');

  // The next update clears the FailureReason.
  await f.call('UpdateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c2' });
  const again = await recordOf('ep');
  assert.equal(again.status, 'Updating');
  assert.equal(again.failureReason, undefined);
  assert.equal(again.previous?.configName, 'c1');
});

test('a failed create is Failed with the FailureReason, capped at 1024 characters', async () => {
  await createConfig('c1');
  await f.call('CreateEndpoint', { EndpointName: 'ep', EndpointConfigName: 'c1' });
  const long = `The model did not answer GET /ping with 200 within 60 s. Last log lines: ${'x'.repeat(2000)}`;
  assert.equal(await recordStartOutcome(f.store, f.clock, await recordOf('ep'), { kind: 'failed', reason: long }), true);
  const failed = await recordOf('ep');
  assert.equal(failed.status, 'Failed');
  assert.equal(failed.failureReason, long.slice(0, 1024));
  assert.equal(failed.failureReason?.length, 1024);
  assert.equal(failed.configName, 'c1');
  const described = await describe('ep');
  assert.equal(described['EndpointStatus'], 'Failed');
  assert.equal(described['FailureReason'], long.slice(0, 1024));
  assert.equal(await recordStartOutcome(f.store, f.clock, failed, { kind: 'in-service' }), false, 'a Failed endpoint is not starting');
});

test('removeDeletedEndpoint removes a Deleting endpoint only', async () => {
  await inService('keep', 'c1');
  await inService('gone', 'c2');
  await removeDeletedEndpoint(f.store, await recordOf('keep'));
  assert.equal((await recordOf('keep')).status, 'InService', 'an endpoint not Deleting stays');
  await f.call('DeleteEndpoint', { EndpointName: 'gone' });
  const deleting = await recordOf('gone');
  assert.equal(deleting.status, 'Deleting');
  await removeDeletedEndpoint(f.store, deleting);
  assert.deepEqual((await listEndpointRecords(f.store)).map((r) => r.name), ['keep']);
  await assert.rejects(describe('gone'), /Could not find endpoint "gone"/);
  await removeDeletedEndpoint(f.store, deleting); // already gone: no error
});

test('listEndpointRecords skips documents that cannot be read and lists the rest by key', async () => {
  await inService('b-ep', 'c1');
  await createConfig('c2');
  await f.call('CreateEndpoint', { EndpointName: 'A-ep', EndpointConfigName: 'c2' });
  const now = f.clock.now();
  await f.store.create({ kind: 'endpoint', key: 'broken-json', doc: '{not json', createdAt: now, modifiedAt: now });
  await f.store.create({ kind: 'endpoint', key: 'broken-shape', doc: JSON.stringify({ name: 'broken-shape', status: 'Sleeping' }), createdAt: now, modifiedAt: now });
  const records = await listEndpointRecords(f.store);
  assert.deepEqual(records.map((r) => [r.name, r.status]), [['A-ep', 'Creating'], ['b-ep', 'InService']]);
  assert.equal(records[0]?.raw.key, 'a-ep');
});
