/**
 * Durability of uploads: a server SIGKILLed mid-upload (single PUT or multipart part) restarts on
 * the same data dir with nothing visible and no leftovers, objects completed before the kill
 * survive byte for byte, and a client that disconnects mid-body leaves nothing behind.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { s3Client } from '../helpers/clients.js';
import { waitForDir, walk } from '../helpers/fs.js';
import { signHeaders } from '../helpers/sigv4.js';

const MiB = 1024 * 1024;
const DECLARED = 300 * MiB;
const KILL_AFTER = 50 * MiB;
const BUCKET = 'crash';

const servers: ServerProcess[] = [];
const clients: S3Client[] = [];

after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.kill();
  for (const s of servers) s.cleanup();
});

async function start(dataDir?: string): Promise<{ server: ServerProcess; s3: S3Client }> {
  const server = await startServer(dataDir ? { dataDir } : {});
  servers.push(server);
  const s3 = s3Client(server.url);
  clients.push(s3);
  return { server, s3 };
}

/** SigV4 headers (UNSIGNED-PAYLOAD) for a request whose body is streamed; the query is signed too. */
function signedHeaders(method: string, url: URL, headers: Record<string, string>): Promise<Record<string, string>> {
  return signHeaders({ method, url, service: 's3', headers, payloadHash: 'UNSIGNED-PAYLOAD' });
}

/** A PUT declaring DECLARED bytes whose body is written on demand. */
interface OpenPut {
  readonly req: ClientRequest;
  /** Writes until at least `bytes` have been handed to the socket, honouring back-pressure ('drain'). */
  writeUntil(bytes: number): Promise<void>;
}

const pattern = randomBytes(MiB);

async function openPut(url: URL): Promise<OpenPut> {
  const headers = await signedHeaders('PUT', url, { 'content-length': String(DECLARED), 'content-type': 'application/octet-stream' });
  const req = request(url, { method: 'PUT', headers, agent: false });
  const errors: Error[] = [];
  req.on('error', (err) => errors.push(err));
  const early = new Promise<never>((_, reject) => {
    req.once('response', (res: IncomingMessage) => reject(new Error(`the server answered ${res.statusCode} before the body was complete`)));
    req.once('error', reject);
  });
  early.catch(() => undefined);
  let written = 0;
  return {
    req,
    async writeUntil(bytes) {
      while (written < bytes) {
        written += pattern.length;
        if (!req.write(pattern)) await Promise.race([once(req, 'drain'), early]);
      }
      assert.deepEqual(errors, []);
    },
  };
}

/** Files and total bytes under `<dataDir>/objects/blobs`. */
function blobs(dataDir: string): { files: number; bytes: number } {
  const files = walk(join(dataDir, 'objects/blobs'));
  return { files: files.length, bytes: files.reduce((sum, f) => sum + statSync(f).size, 0) };
}

const tmpOf = (dataDir: string): string => join(dataDir, 'objects/tmp');
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function status(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return 200;
  } catch (err) {
    return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? (err as Error).name;
  }
}

async function bodyOf(s3: S3Client, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function listed(s3: S3Client): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  return (out.Contents ?? []).map((c) => c.Key!);
}

/** Streams KILL_AFTER bytes of a 300 MiB PUT to `url`, waits for its temp file, SIGKILLs the server. */
async function killMidUpload(server: ServerProcess, url: URL): Promise<void> {
  const put = await openPut(url);
  await put.writeUntil(KILL_AFTER);
  const [temp] = await waitForDir(tmpOf(server.dataDir), (names) => names.length > 0, 'the upload temp file');
  await server.kill();
  put.req.destroy();
  const leftover = statSync(join(tmpOf(server.dataDir), temp!)).size;
  assert.ok(leftover >= 25 * MiB && leftover < DECLARED, `the kill left a partly written temp file (${leftover} bytes) for recovery to remove`);
}

describe('uploads survive a SIGKILL', { timeout: 180_000 }, () => {
  test('a PUT killed mid-body leaves nothing after restart; an object completed before the kill survives intact', async () => {
    const first = await start();
    await first.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const survivor = randomBytes(3 * MiB + 7);
    await first.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'survivor.bin', Body: survivor }));
    assert.deepEqual(blobs(first.server.dataDir), { files: 1, bytes: survivor.length });

    await killMidUpload(first.server, new URL(`${first.server.url}/${BUCKET}/big.bin`));

    const second = await start(first.server.dataDir);
    assert.equal(await status(second.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'big.bin' }))), 404);
    assert.deepEqual(await listed(second.s3), ['survivor.bin']);
    assert.deepEqual(readdirSync(tmpOf(second.server.dataDir)), []);
    assert.deepEqual(blobs(second.server.dataDir), { files: 1, bytes: survivor.length }, 'no orphan blob');
    assert.equal(sha256(await bodyOf(second.s3, 'survivor.bin')), sha256(survivor));
    assert.equal(await second.server.stop(), 0);
  });

  test('a multipart upload killed mid-part keeps its finished parts only and completes after restart', async () => {
    const first = await start();
    await first.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const survivor = randomBytes(MiB + 3);
    await first.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'before.bin', Body: survivor }));
    const { UploadId } = await first.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp.bin' }));
    const part1 = randomBytes(5 * MiB + 11);
    const { ETag } = await first.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId, PartNumber: 1, Body: part1 }));

    const partUrl = new URL(`${first.server.url}/${BUCKET}/mp.bin`);
    partUrl.searchParams.set('partNumber', '2');
    partUrl.searchParams.set('uploadId', UploadId!);
    await killMidUpload(first.server, partUrl);

    const second = await start(first.server.dataDir);
    const { dataDir } = second.server;
    assert.equal(await status(second.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp.bin' }))), 404);
    assert.deepEqual(await listed(second.s3), ['before.bin']);
    assert.deepEqual(readdirSync(tmpOf(dataDir)), []);
    assert.deepEqual(blobs(dataDir), { files: 1, bytes: survivor.length }, 'no orphan blob');
    const parts = await second.s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId }));
    assert.deepEqual(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[1, part1.length, ETag]]);
    assert.deepEqual(walk(join(dataDir, 'objects/parts')).map((f) => statSync(f).size), [part1.length], 'only the finished part is on disk');

    await second.s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
    assert.equal(sha256(await bodyOf(second.s3, 'mp.bin')), sha256(part1));
    assert.equal(sha256(await bodyOf(second.s3, 'before.bin')), sha256(survivor));
    assert.deepEqual(blobs(dataDir), { files: 2, bytes: survivor.length + part1.length });
    assert.deepEqual(walk(join(dataDir, 'objects/parts')), []);
    assert.equal(await second.server.stop(), 0);
  });
});

describe('a client that disconnects mid-body', { timeout: 120_000 }, () => {
  test('leaves nothing visible or on disk, and the server keeps serving', async () => {
    const { server, s3 } = await start();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const put = await openPut(new URL(`${server.url}/${BUCKET}/dropped.bin`));
    await put.writeUntil(20 * MiB);
    const tmp = tmpOf(server.dataDir);
    await waitForDir(tmp, (names) => names.length > 0, 'the upload temp file');
    put.req.destroy();
    await waitForDir(tmp, (names) => names.length === 0, 'the temp file to be removed');

    assert.equal(await status(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'dropped.bin' }))), 404);
    assert.deepEqual(await listed(s3), []);
    assert.deepEqual(blobs(server.dataDir), { files: 0, bytes: 0 });
    assert.equal(server.proc.exitCode, null);
    assert.equal((await fetch(`${server.url}/ping`)).status, 200);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'after.txt', Body: 'still serving' }));
    assert.equal((await bodyOf(s3, 'after.txt')).toString(), 'still serving');
    assert.equal(await server.stop(), 0);
  });
});
