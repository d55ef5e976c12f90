/**
 * Durability of InvokeEndpointAsync across a server SIGKILL: every acknowledged request — queued,
 * in flight, or acknowledged an instant before the kill — reaches exactly one terminal object
 * after a restart on the same data directory, and requests that were in flight are recovered at
 * once by the dead-worker recovery (not after their lease runs out: `worker.leaseSeconds` stays at
 * its default of 30 s here, longer than this whole file takes).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  Harness, awaitChange, awaitTerminal, fixtureModel, getStatus, invokeRaw, isOurModel, modelPids, signed, terminalObjects, type AsyncStatus,
} from '../helpers/async.js';

const h = new Harness();
after(() => h.cleanup());

const LEASE_MS = 30_000;

/** One endpoint running the fixture model, two requests at a time; the lease is left at its default. */
function durableConfig(queueDurability: 'power-loss' | 'process-crash' = 'power-loss'): string {
  return h.config({
    server: { queueDurability },
    endpoints: [{ name: 'slow', model: fixtureModel(), async: { maxConcurrentInvocations: 2, outputPath: 's3://durable/out', failurePath: 's3://durable/err' } }],
  });
}

interface Acked {
  id: string;
  body: Buffer;
  output: string;
  failure: string;
}

async function submit(base: string, id: string, mode: string): Promise<Acked> {
  const body = Buffer.from(`${id}:${randomBytes(8).toString('hex')}`);
  const res = await invokeRaw(base, 'slow', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-custom-attributes': `mode=${mode}`, 'x-amzn-sagemaker-content-type': 'text/plain' }, body);
  assert.equal(res.status, 202, res.body.toString());
  return { id, body, output: String(res.headers['x-amzn-sagemaker-outputlocation']), failure: String(res.headers['x-amzn-sagemaker-failurelocation']) };
}

/** Asserts the request succeeded with its own bytes at the acknowledged output location and nothing at the failure location. */
async function assertExactlyOneOutput(base: string, acked: Acked, status: AsyncStatus): Promise<void> {
  assert.equal(status.Status, 'Succeeded', `${acked.id}: ${status.FailureReason ?? ''}`);
  assert.deepEqual([status.OutputLocation, status.FailureLocation], [acked.output, acked.failure], `${acked.id}: locations changed`);
  const { output, failure } = await terminalObjects(base, status);
  assert.ok(output, `${acked.id}: no output object`);
  assert.ok(output.body.equals(acked.body), `${acked.id}: output bytes differ`);
  assert.equal(failure, undefined, `${acked.id}: a failure object exists next to the output`);
}

describe('SIGKILL of the server', () => {
  test('with requests queued and in flight: after a restart every acknowledged request ends in exactly one output; in-flight ones are retried at once', async () => {
    const config = durableConfig();
    const dataDir = h.dir();
    const first = await h.start(config, dataDir);

    // Two long requests occupy both slots; eighteen short ones queue behind them.
    const inFlight = await Promise.all([0, 1].map((i) => submit(first.url, `run-${i}`, 'echo-after-5000')));
    for (const a of inFlight) assert.equal((await awaitChange(first.url, 'slow', a.id, 'Queued', 30_000)).Status, 'Running', `${a.id} did not start`);
    const queued = await Promise.all(Array.from({ length: 18 }, (_, i) => submit(first.url, `queued-${i}`, 'echo-after-100')));
    const all = [...inFlight, ...queued];
    const before = await Promise.all(all.map((a) => getStatus(first.url, 'slow', a.id)));
    assert.deepEqual(before.filter((s) => s.Status === 'Running').map((s) => s.InferenceId).sort(), ['run-0', 'run-1']);
    assert.ok(before.filter((s) => s.Status === 'Queued').length === 18, 'the short requests wait behind the long ones');

    const killedAt = Date.now();
    await h.kill(first);
    for (const pid of modelPids(first.output())) assert.equal(isOurModel(pid), false, `model ${pid} of the killed server still runs`);

    const second = await h.start(config, dataDir);
    const finals = await Promise.all(all.map((a) => awaitTerminal(second.url, 'slow', a.id, LEASE_MS)));
    for (const [i, a] of all.entries()) await assertExactlyOneOutput(second.url, a, finals[i]!);

    for (const status of finals.slice(0, 2)) {
      assert.ok(status.Attempts >= 2, `${status.InferenceId} was in flight, so it ran again (attempts ${status.Attempts})`);
      // Waiting for the lease (renewed every LEASE_MS / 3) would start the re-run at least 2/3 of LEASE_MS after
      // the kill, and the 5 s model call comes on top; a recovery at restart finishes well before that.
      const sinceKill = Date.parse(status.FinishedTime!) - killedAt;
      assert.ok(sinceKill < (LEASE_MS * 2) / 3, `${status.InferenceId} finished ${sinceKill} ms after the kill: recovered before its ${LEASE_MS} ms lease could run out`);
    }
    for (const status of finals.slice(2)) assert.equal(status.Attempts, 1, `${status.InferenceId} was only queued`);
    assert.match(second.output(), /recovered requests of a worker that died .*requests=2/);
  });

  for (const durability of ['power-loss', 'process-crash'] as const) {
    test(`immediately after a 202 (killed in the response callback): every acknowledged request survives and completes (queueDurability ${durability})`, async () => {
      const config = durableConfig(durability);
      const dataDir = h.dir();
      const first = await h.start(config, dataDir);
      const bodies = Array.from({ length: 6 }, (_, i) => ({ id: `instant-${i}`, body: Buffer.from(`instant ${i} ${randomBytes(4).toString('hex')}`) }));
      const acked: Acked[] = [];
      let killed = false;
      await Promise.all(bodies.map(async ({ id, body }) => {
        const headers = { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-content-type': 'text/plain' };
        await invokeRaw(first.url, 'slow', headers, body, (status, res) => {
          if (status !== 202) return;
          if (!killed) first.proc.kill('SIGKILL');
          killed = true;
          acked.push({ id, body, output: String(res['x-amzn-sagemaker-outputlocation']), failure: String(res['x-amzn-sagemaker-failurelocation']) });
        }).catch(() => undefined);
      }));
      assert.ok(killed, 'at least one request was acknowledged before the kill');
      assert.ok(acked.length >= 1);
      await h.kill(first);

      const second = await h.start(config, dataDir);
      for (const a of acked) await assertExactlyOneOutput(second.url, a, await awaitTerminal(second.url, 'slow', a.id, 20_000));
      // Requests whose answer was lost with the server either never existed or complete like any other.
      for (const { id, body } of bodies.filter((b) => !acked.some((a) => a.id === b.id))) {
        const res = await signed(second.url, 'sagemaker', 'GET', `/endpoints/slow/async-invocations/${id}`);
        if (res.status === 400) continue;
        const status = await awaitTerminal(second.url, 'slow', id, 20_000);
        await assertExactlyOneOutput(second.url, { id, body, output: status.OutputLocation, failure: status.FailureLocation }, status);
      }
    });
  }
});
