/**
 * An object is durable once its 200 is sent, for PutObject and for CompleteMultipartUpload: the
 * server is SIGKILLed the moment the client sees the 200's status line, restarted on the same data
 * dir, and the object is there with the right bytes and the ETag the 200 promised. With many PUTs
 * in flight when the kill lands, every acknowledged one survives and none is ever half there.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Harness, signed, type Raw } from '../helpers/async.js';
import type { ServerProcess } from '../helpers/server.js';

const MiB = 1024 * 1024;
const h = new Harness();
after(() => h.cleanup());

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

/** Sends a signed request and SIGKILLs `server` synchronously when its 200 status line arrives; resolves with the status and ETag seen. */
async function killOn200(server: ServerProcess, method: string, path: string, body: Buffer): Promise<{ status: number; etag: string | undefined }> {
  let seen: { status: number; etag: string | undefined } | undefined;
  const sent = signed(server.url, 's3', method, path, {}, body, (status, headers) => {
    seen = { status, etag: typeof headers.etag === 'string' ? headers.etag : undefined };
    if (status === 200) server.proc.kill('SIGKILL');
  });
  await sent.catch(() => undefined); // the rest of the answer may be lost with the process
  await h.kill(server);
  assert.ok(seen, 'a status line arrived');
  return seen;
}

/** Restarts on the same data dir and reads `path`. */
async function restartAndGet(dataDir: string, path: string): Promise<{ server: ServerProcess; got: Raw }> {
  const server = await h.start(undefined, dataDir);
  return { server, got: await signed(server.url, 's3', 'GET', path) };
}

async function freshServerWithBucket(): Promise<ServerProcess> {
  const server = await h.start();
  assert.equal((await signed(server.url, 's3', 'PUT', '/durable')).status, 200);
  return server;
}

describe('an acknowledged object survives a SIGKILL right after its 200', () => {
  for (const [name, size] of [['a small (inline) object', 1024], ['a 4 MiB object (its own file)', 4 * MiB]] as const) {
    test(`PutObject, ${name}`, async () => {
      const server = await freshServerWithBucket();
      const data = randomBytes(size);
      const answer = await killOn200(server, 'PUT', '/durable/put', data);
      assert.equal(answer.status, 200);
      assert.equal(answer.etag, `"${md5(data)}"`);
      const { server: again, got } = await restartAndGet(server.dataDir, '/durable/put');
      assert.equal(got.status, 200, got.body.toString().slice(0, 300));
      assert.ok(got.body.equals(data), 'the bytes of the acknowledged PUT');
      assert.equal(got.headers.etag, answer.etag);
      await again.stop();
    });
  }

  test('CompleteMultipartUpload (5 MiB + 1 MiB parts)', async () => {
    const server = await freshServerWithBucket();
    const created = await signed(server.url, 's3', 'POST', '/durable/multi?uploads=');
    const uploadId = encodeURIComponent(/<UploadId>([^<]+)<\/UploadId>/.exec(created.body.toString())![1]!);
    const parts = [randomBytes(5 * MiB), randomBytes(MiB)];
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) {
      const res = await signed(server.url, 's3', 'PUT', `/durable/multi?partNumber=${i + 1}&uploadId=${uploadId}`, {}, part);
      assert.equal(res.status, 200);
      etags.push(String(res.headers.etag));
    }
    const xml = Buffer.from(`<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`);
    const answer = await killOn200(server, 'POST', `/durable/multi?uploadId=${uploadId}`, xml);
    assert.equal(answer.status, 200);
    const expectedEtag = `"${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))))}-2"`;
    const { server: again, got } = await restartAndGet(server.dataDir, '/durable/multi');
    assert.equal(got.status, 200, got.body.toString().slice(0, 300));
    assert.ok(got.body.equals(Buffer.concat(parts)), 'the bytes of the completed upload');
    assert.equal(got.headers.etag, expectedEtag);
    await again.stop();
  });

  test('16 PUTs in flight when the kill lands: every acknowledged one is there, none is half there', async () => {
    const server = await freshServerWithBucket();
    const bodies = Array.from({ length: 16 }, (_, i) => randomBytes(256 * 1024 + i));
    const acknowledged = new Set<number>();
    let killed = false;
    const puts = bodies.map((body, i) => signed(server.url, 's3', 'PUT', `/durable/many-${i}`, {}, body, (status) => {
      if (status !== 200) return;
      acknowledged.add(i);
      if (!killed) server.proc.kill('SIGKILL');
      killed = true;
    }).catch(() => undefined));
    await Promise.all(puts);
    await h.kill(server);
    assert.ok(acknowledged.size >= 1);
    const again = await h.start(undefined, server.dataDir);
    for (const [i, body] of bodies.entries()) {
      const got = await signed(again.url, 's3', 'GET', `/durable/many-${i}`);
      if (acknowledged.has(i)) assert.equal(got.status, 200, `acknowledged PUT ${i} survived`);
      assert.ok(got.status === 404 || (got.status === 200 && got.body.equals(body)), `PUT ${i} is whole or absent (status ${got.status}, ${got.body.length} bytes)`);
    }
    await again.stop();
  });
});
