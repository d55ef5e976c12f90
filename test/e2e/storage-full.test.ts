/**
 * A full data directory, for real: the server's data dir is a small tmpfs the test mounts (skipped,
 * with the reason, where mounting is refused), filled to the last byte by a filler file. While it
 * is full, S3 writes (PutObject inline and streamed, UploadPart, CompleteMultipartUpload,
 * CopyObject) answer 503 ServiceUnavailable saying the storage is full and leave nothing
 * half-visible; InvokeEndpointAsync answers 503 with nothing enqueued; async requests accepted
 * before, whose output cannot be stored, are retried (not failed, not blamed on the model, their
 * attempt not counted). Once the filler is deleted everything works again without a restart, and
 * the requests end with their output as their one terminal object. The server stays up throughout,
 * although SQLite (the queue and the object index, with their WAL files, live there too) gets
 * SQLITE_FULL.
 *
 * The tests tell one story on one server, so each awaits the stages it depends on ({@link stage}:
 * run once, by whichever test needs it first) instead of relying on the tests before it: each
 * passes when run alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListObjectsV2Command,
  ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { s3Client } from '../helpers/clients.js';
import { startServer, tempDir, waitForOutput, type ServerProcess } from '../helpers/server.js';
import { Harness, awaitTerminal, errorOf, fixtureModel, getStatus, invokeRaw, rawRequest, terminalObjects } from '../helpers/async.js';
import { fillDisk, freeDisk, mountTmpfs, unmountTmpfs } from '../helpers/tmpfs.js';

const BUCKET = 'data';
const h = new Harness();
const mount = tempDir('inferq-storage-full-');
const gates = h.dir('inferq-storage-gates-');
const skipReason = mountTmpfs(mount, 8);
let server: ServerProcess;
let s3: S3Client;
let filler: { path: string; bytes: number } | undefined;
/** Where the server output stood when the disk was filled. */
let filledAt = 0;
const oldSmall = Buffer.from('the old small object');
const oldBig = randomBytes(100 * 1024);
const partBytes = randomBytes(100 * 1024);
let pendingUpload = '';
let pendingPartEtag = '';
let openUpload = '';

before(async () => {
  if (skipReason) return;
  const config = h.config({
    endpoints: [{ name: 'held', model: fixtureModel({ FIXTURE_GATE_DIR: gates }), async: { outputPath: 's3://results/out', failurePath: 's3://results/err' } }],
    worker: { leaseSeconds: 120, storageRetryInitialSeconds: 0.2, storageRetryMaxSeconds: 1 },
  });
  server = await startServer({ config, dataDir: mount });
  s3 = s3Client(server.url);
});

after(async () => {
  s3?.destroy();
  if (server) {
    await server.stop();
    h.track(server.output());
  }
  await h.cleanup();
  if (!skipReason) unmountTmpfs(mount);
  rmSync(mount, { recursive: true, force: true });
});

/** The S3 error a JS SDK call rejected with (status, Code, Message), or 'no error'. */
async function s3Error(call: Promise<unknown>): Promise<{ status: number | undefined; code: string; message: string } | 'no error'> {
  try {
    await call;
    return 'no error';
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode, code: e.name, message: e.message };
  }
}

function assertStorageFull(result: Awaited<ReturnType<typeof s3Error>>, what: string): void {
  assert.notEqual(result, 'no error', `${what} succeeded on a full disk`);
  if (result === 'no error') return;
  assert.equal(result.status, 503, `${what}: ${JSON.stringify(result)}`);
  assert.equal(result.code, 'ServiceUnavailable', what);
  assert.match(result.message, /storage is full/, what);
}

async function bodyOf(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function keys(prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!);
}

/** The server answers and is the process the test started (no crash, no restart). */
async function assertServerUp(): Promise<void> {
  assert.equal(server.proc.exitCode, null, `the server exited:\n${server.output()}`);
  assert.equal(server.proc.signalCode, null);
  const ping = await rawRequest('GET', new URL('/ping', server.url), {});
  assert.equal(ping.status, 200);
}

function invoke(id: string, mode: string): ReturnType<typeof invokeRaw> {
  return invokeRaw(server.url, 'held', { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-custom-attributes': `mode=${mode}` }, Buffer.from(`input of ${id}`));
}

/** A step of the story, run once by the first test that awaits it (later awaits get the same outcome). */
function stage(run: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= run());
}

/** Objects, multipart uploads, and two async requests the model holds (Running). */
const seeded = stage(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: oldSmall }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/big', Body: oldBig }));
  pendingUpload = (await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi/pending' }))).UploadId!;
  pendingPartEtag = (await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'multi/pending', UploadId: pendingUpload, PartNumber: 1, Body: partBytes }))).ETag!;
  openUpload = (await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi/open' }))).UploadId!;
  // A 1 KiB answer is stored inline in the object index (SQLite); 200 KiB go to a blob file.
  for (const [id, mode] of [['small-1', 'held-go-1'], ['big-1', 'held-go-200']] as const) {
    const res = await invoke(id, mode);
    assert.equal(res.status, 202, res.body.toString());
    await waitForOutput(server, new RegExp(`fixture held inference-id=${id}\\b`), 0, 90_000); // the first one waits for the model to start
    assert.equal((await getStatus(server.url, 'held', id)).Status, 'Running');
  }
});

/** The disk filled to the last byte, and both held requests answered: storing each result failed once. */
const full = stage(async () => {
  await seeded();
  filledAt = server.output().length;
  filler = fillDisk(mount);
  assert.ok(filler.bytes > 1024 * 1024, `the filler took ${filler.bytes} bytes`);
  writeFileSync(join(gates, 'go'), ''); // the model answers both requests now
  // The inline answer fails in the object index (SQLite), the big one writing its blob file.
  for (const [id, cause] of [['small-1', 'SQLITE_FULL'], ['big-1', 'ENOSPC']] as const) {
    await waitForOutput(server, new RegExp(`could not store the result of a request.*inferenceId=${id} error="StorageFull \\(${cause}\\)`), filledAt);
  }
});

describe('a full data directory', () => {
  test('before it fills: objects, multipart uploads, and async requests the model holds', async (t) => {
    if (skipReason) return t.skip(skipReason);
    await seeded();
  });

  test('while full: async requests whose output cannot be stored are retried, not failed', async (t) => {
    if (skipReason) return t.skip(skipReason);
    await full();
    for (const id of ['small-1', 'big-1']) {
      const status = await getStatus(server.url, 'held', id);
      assert.equal(status.Status, 'Running', `${id}: ${JSON.stringify(status)}`);
      assert.ok(status.Attempts <= 1, `${id}: ${status.Attempts} attempts (a deferred request shows its refunded attempt as 0)`);
      assert.equal(status.FailureReason, undefined, id);
      const objects = await terminalObjects(server.url, status);
      assert.equal(objects.output, undefined, `${id}: an output object while the disk is full`);
      assert.equal(objects.failure, undefined, `${id}: a failure object`);
    }
    assert.doesNotMatch(server.output().slice(filledAt), /Received server error \(0\) from model/);
    await assertServerUp();
  });

  test('while full: PUT, UploadPart, CompleteMultipartUpload and CopyObject answer 503 and leave nothing half-visible', async (t) => {
    if (skipReason) return t.skip(skipReason);
    await full();
    assertStorageFull(await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: Buffer.from('a new small version') }))), 'inline PutObject');
    assertStorageFull(await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/big', Body: randomBytes(1024 * 1024) }))), 'streamed PutObject');
    assertStorageFull(await s3Error(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'new/partial', Body: randomBytes(1024 * 1024) }))), 'PutObject of a new key');
    assertStorageFull(await s3Error(s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'new/copy', CopySource: `${BUCKET}/keep/big` }))), 'CopyObject');
    assertStorageFull(await s3Error(s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'multi/open', UploadId: openUpload, PartNumber: 1, Body: randomBytes(200 * 1024) }))), 'UploadPart');
    assertStorageFull(await s3Error(s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'multi/pending', UploadId: pendingUpload, PartNumber: 1, Body: randomBytes(200 * 1024) }))), 'UploadPart replacing a part');
    assertStorageFull(await s3Error(s3.send(new CompleteMultipartUploadCommand({
      Bucket: BUCKET, Key: 'multi/pending', UploadId: pendingUpload, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: pendingPartEtag }] },
    }))), 'CompleteMultipartUpload');

    assert.deepEqual(await bodyOf('keep/small'), oldSmall, 'the previous small version is intact');
    assert.deepEqual(await bodyOf('keep/big'), oldBig, 'the previous big version is intact');
    assert.deepEqual(await keys('new/'), [], 'nothing partial is listed');
    assert.deepEqual(await keys('multi/'), [], 'no completed upload is listed');
    assert.equal(await s3Error(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'new/partial' }))) === 'no error', false);
    const parts = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'multi/pending', UploadId: pendingUpload }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]), [[1, pendingPartEtag, partBytes.length]], 'the upload keeps its part');
    assert.equal((await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'multi/open', UploadId: openUpload }))).Parts, undefined);
    assert.deepEqual(readdirSync(join(mount, 'objects', 'tmp')), [], 'staging files are cleaned up');
    await assertServerUp();
  });

  test('while full: InvokeEndpointAsync answers 503 and enqueues nothing', async (t) => {
    if (skipReason) return t.skip(skipReason);
    await full();
    const res = await invoke('refused-1', 'held-go-1');
    assert.equal(res.status, 503, res.body.toString());
    const error = errorOf(res);
    assert.equal(error.type, 'ServiceUnavailable');
    assert.match(error.message, /storage is full/);
    await assert.rejects(getStatus(server.url, 'held', 'refused-1'), /not found/);
    await assertServerUp();
  });

  test('space freed: the retried requests end with their output, and writes work again, without a restart', async (t) => {
    if (skipReason) return t.skip(skipReason);
    await full();
    assert.ok(filler);
    freeDisk(filler);
    for (const [id, kib] of [['small-1', 1], ['big-1', 200]] as const) {
      const status = await awaitTerminal(server.url, 'held', id, 60_000);
      assert.equal(status.Status, 'Succeeded', `${id}: ${JSON.stringify(status)}`);
      assert.equal(status.Attempts, 1, `${id}: the storage faults did not count as attempts`);
      const { output, failure } = await terminalObjects(server.url, status);
      assert.deepEqual(output?.body, Buffer.alloc(kib * 1024, 'y'), id);
      assert.equal(failure, undefined, `${id}: a failure object exists`);
    }
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'keep/small', Body: Buffer.from('a new small version') }));
    assert.equal((await bodyOf('keep/small')).toString(), 'a new small version');
    const big = randomBytes(1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'new/partial', Body: big }));
    assert.deepEqual(await bodyOf('new/partial'), big);
    await s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'new/copy', CopySource: `${BUCKET}/keep/big` }));
    assert.deepEqual(await bodyOf('new/copy'), oldBig);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'multi/pending', UploadId: pendingUpload, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: pendingPartEtag }] } }));
    assert.deepEqual(await bodyOf('multi/pending'), partBytes);
    const res = await invoke('after-1', 'held-go-1');
    assert.equal(res.status, 202, res.body.toString());
    assert.equal((await awaitTerminal(server.url, 'held', 'after-1', 60_000)).Status, 'Succeeded');
    await assertServerUp();
    assert.equal((server.output().match(/listening on/g) ?? []).length, 1, 'the server was not restarted');
  });
});
