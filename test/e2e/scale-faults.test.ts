/**
 * Faults of a scaled-out inferq, with real processes: two API processes (`serve` with
 * `worker.enabled: false`) and two `inferq worker` processes share one PostgreSQL schema and one
 * moto_server S3 (`objects.backend: s3`); one of the workers runs in its own network namespace
 * (a veth pair: "another host", reaching PostgreSQL and S3 only through this host's address).
 * A worker SIGKILLed mid-run: its leases run out, a survivor reaps its registry row and finishes
 * its requests. An API process SIGKILLed after its 202s: nothing is lost. S3 unreachable for a
 * while (a TCP proxy cut): the work is retried, not failed. Every acknowledged request ends in
 * exactly one terminal object on the backend. Waits by polling the stores with deadlines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Harness, awaitTerminal, fixtureModel, getStatus, invokeRaw, splitS3, type AsyncStatus } from '../helpers/async.js';
import { s3Client } from '../helpers/clients.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { createNetns, netnsUnavailable, type Netns } from '../helpers/netns.js';
import { PG_URL, dropSchemas, uniqueSchema, withPg } from '../helpers/postgres.js';
import { Workers, type WorkerProcess } from '../helpers/processes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import type { ServerProcess } from '../helpers/server.js';

const unavailable = await netnsUnavailable();
const h = new Harness();
const workers = new Workers();
const SCHEMA = uniqueSchema('t_scalefaults');
const IN = 'sf-in';
const OUT = 'sf-out';
const ERR = 'sf-err';
/** Each request takes this long in the model, so a burst is still running when a process dies. */
const MODEL_MS = 300;

let moto: MotoServer | undefined;
let s3Proxy: TcpProxy | undefined;
let pgProxy: TcpProxy | undefined;
let ns: Netns | undefined;
let direct: S3Client | undefined;
let api1: ServerProcess;
let api2: ServerProcess;
let local: WorkerProcess;
let remote: WorkerProcess;
/** Every request that got a 202, by id, with the API process that accepted it. */
const accepted = new Map<string, string>();

function config(role: 'api' | 'worker', reach: string, pgUrl: string): string {
  return h.config({
    queue: { backend: 'postgres', url: pgUrl, schema: SCHEMA },
    objects: { backend: 's3', s3: { endpoint: `http://${reach}:${s3Proxy!.port}`, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'moto', secretAccessKey: 'moto' } },
    worker: { enabled: role === 'worker', leaseSeconds: 3, sweepIntervalSeconds: 0.5, storageRetryInitialSeconds: 0.2, storageRetryMaxSeconds: 1 },
    endpoints: [{
      name: 'echo',
      model: fixtureModel({ FIXTURE_MODE: `echo-after-${MODEL_MS}` }),
      async: { outputPath: `s3://${OUT}/echo`, failurePath: `s3://${ERR}/echo`, maxConcurrentInvocations: 4 },
    }],
  });
}

/** Polls `probe` until it returns a value other than undefined, failing after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends `n` async requests named `<prefix>-<i>` round-robin to `apis`, asserting each 202. */
async function burst(prefix: string, n: number, apis: readonly ServerProcess[]): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await Promise.all(ids.map(async (id, i) => {
    const api = apis[i % apis.length]!;
    const res = await invokeRaw(api.url, 'echo', { 'x-amzn-sagemaker-inputlocation': `s3://${IN}/${id}.txt`, 'x-amzn-sagemaker-inference-id': id, 'content-type': 'text/plain' });
    assert.equal(res.status, 202, `${id}: ${res.status} ${res.body.toString()}`);
    accepted.set(id, api.url);
  }));
  return ids;
}

async function putInputs(ids: readonly string[]): Promise<void> {
  for (const id of ids) await direct!.send(new PutObjectCommand({ Bucket: IN, Key: `${id}.txt`, Body: `input of ${id}` }));
}

async function allSucceeded(base: string, ids: readonly string[], timeoutMs = 90_000): Promise<AsyncStatus[]> {
  const done = await Promise.all(ids.map((id) => awaitTerminal(base, 'echo', id, timeoutMs)));
  for (const s of done) assert.equal(s.Status, 'Succeeded', `${s.InferenceId}: ${s.Status} ${s.FailureReason ?? ''}`);
  return done;
}

async function keys(bucket: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await direct!.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) out.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

async function ownerOf(pid: number): Promise<string | undefined> {
  return withPg(async (c) => (await c.query<{ owner: string }>(`SELECT owner FROM "${SCHEMA}".workers WHERE pid = $1`, [pid])).rows[0]?.owner);
}

before(async () => {
  if (unavailable) return;
  moto = await startMoto();
  ns = await createNetns('sf');
  // One cuttable proxy to moto on every address (loopback for this host, the veth end for the
  // namespace), and a relay to PostgreSQL on the veth end for the worker in the namespace.
  s3Proxy = await startTcpProxy(moto.port, '0.0.0.0');
  pgProxy = await startTcpProxy(5432, ns.hostIp);
  direct = s3Client(moto.url);
  for (const b of [IN, OUT, ERR]) await direct.send(new CreateBucketCommand({ Bucket: b }));
  api1 = await h.start(config('api', '127.0.0.1', PG_URL));
  api2 = await h.start(config('api', '127.0.0.1', PG_URL));
  local = await workers.start(config('worker', '127.0.0.1', PG_URL), h.dir('inferq-sf-w1-'));
  remote = await workers.start(config('worker', ns.hostIp, `postgres://root@${ns.hostIp}:${pgProxy.port}/test`), h.dir('inferq-sf-w2-'), ns.prefix);
});

after(async () => {
  direct?.destroy();
  await workers.cleanup();
  await h.cleanup();
  await pgProxy?.close();
  await s3Proxy?.close();
  await moto?.stop();
  await ns?.remove();
  await dropSchemas([SCHEMA]);
});

void describe('two API and two worker processes on one PostgreSQL schema and one S3', { skip: unavailable }, () => {
  void test('both workers are registered, one of them from its own network namespace', async () => {
    const rows = await withPg(async (c) => (await c.query<{ pid: number }>(`SELECT pid FROM "${SCHEMA}".workers ORDER BY pid`)).rows);
    assert.deepEqual(rows.map((r) => r.pid).sort(), [local.proc.pid, remote.proc.pid].sort(), 'only the worker processes registered');
    const netOf = (pid: number | string): string => readlinkSync(`/proc/${pid}/ns/net`);
    assert.notEqual(netOf(remote.proc.pid!), netOf('self'), 'the remote worker runs in another network namespace');
    assert.equal(netOf(local.proc.pid!), netOf('self'));
  });

  void test('a worker SIGKILLed mid-run: a survivor reaps its registry row and its requests finish there', async () => {
    const ids = Array.from({ length: 24 }, (_, i) => `kill-worker-${i}`);
    await putInputs(ids);
    await burst('kill-worker', ids.length, [api1, api2]);
    const victim = (await ownerOf(local.proc.pid!))!;
    assert.ok(victim, 'the local worker is registered');
    const held = await until('the local worker to hold leases', async () => {
      const n = await withPg(async (c) => Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${SCHEMA}".jobs WHERE state = 'running' AND lease_owner = $1`, [victim])).rows[0]!.n));
      return n > 0 ? n : undefined;
    });
    await local.kill();
    process.stdout.write(`# SIGKILLed the local worker holding ${held} leases\n`);
    const started = Date.now();
    await until('the dead worker to leave the registry', async () => ((await ownerOf(local.proc.pid!)) === undefined ? true : undefined), 30_000);
    process.stdout.write(`# its registry row was reaped ${Date.now() - started} ms after the SIGKILL\n`);
    // The survivor deletes the row before it logs the reap (and its output arrives through a pipe): wait for the line.
    await until('the survivor to log the reap', () => Promise.resolve(/a worker stopped sending heartbeats/.test(remote.output()) ? true : undefined), 10_000);
    const done = await allSucceeded(api2.url, ids);
    assert.ok(done.some((s) => s.Attempts >= 2), 'some request was taken over after the lease ran out');
    const stillHeld = await withPg(async (c) => (await c.query(`SELECT 1 FROM "${SCHEMA}".jobs WHERE lease_owner = $1 AND state = 'running'`, [victim])).rowCount);
    assert.equal(stillHeld, 0);
  });

  void test('an API process SIGKILLed after its 202s: nothing is lost', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => `kill-api-${i}`);
    await putInputs(ids);
    await burst('kill-api', ids.length, [api1]);
    await h.kill(api1);
    await allSucceeded(api2.url, ids);
  });

  void test('S3 unreachable for a while: the work is retried, not failed, and finishes once it is back', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `s3-outage-${i}`);
    await putInputs(ids);
    s3Proxy!.cut();
    await burst('s3-outage', ids.length, [api2]);
    await s3Proxy!.awaitRefused(20);
    const during = await Promise.all(ids.map((id) => getStatus(api2.url, 'echo', id)));
    for (const s of during) assert.ok(['Queued', 'Running'].includes(s.Status), `${s.InferenceId} during the outage: ${s.Status} ${s.FailureReason ?? ''}`);
    s3Proxy!.restore();
    await allSucceeded(api2.url, ids);
  });

  void test('every acknowledged request ends in exactly one terminal object', async () => {
    const outputs = await keys(OUT);
    const failures = await keys(ERR);
    assert.deepEqual(failures, [], 'no request failed');
    assert.equal(outputs.length, accepted.size, `${outputs.length} outputs for ${accepted.size} acknowledged requests`);
    const statuses = await Promise.all([...accepted.keys()].map((id) => getStatus(api2.url, 'echo', id)));
    const named = new Set(statuses.map((s) => splitS3(s.OutputLocation).key));
    assert.deepEqual([...named].sort(), [...outputs].sort(), 'each output object is the one its status names');
  });
});
