/**
 * The behaviour suite on the S3 backend (S3ObjectStore), against two independent S3 servers:
 * (a) moto_server, started here on a free port, and (b) inferq's own embedded store served by the
 * real `inferq serve` (dist/). Tests of features moto lacks are skipped on moto only, with the
 * reason; they run against inferq. Plus what only the S3 backend has: bodies of unknown length
 * written part by part, and an unreachable or failing backend reported as a retryable storage fault.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isStorageFault } from '../../src/errors/index.js';
import { openS3ObjectStore, type ObjectStore } from '../../src/objects/index.js';
import { DEV } from '../helpers/clients.js';
import { holdPort, type HeldPort } from '../helpers/ports.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { startServer, tempDir, writeConfig, type ServerProcess } from '../helpers/server.js';
import { describeObjectStoreBehaviour, readAll, rejectsWith } from './behaviour.js';
import { etagOf, MiB, pseudoRandomBytes } from './helpers.js';

let moto: MotoServer | undefined;
let inferq: ServerProcess | undefined;

before(async () => {
  await Promise.all([
    startMoto().then((m) => (moto = m)),
    startServer({ config: writeConfig(tempDir(), 'endpoints: []\n') }).then((s) => (inferq = s)),
  ]);
});
after(async () => {
  await Promise.all([moto?.stop(), inferq?.stop()]);
  inferq?.cleanup();
});

function storeAt(url: string): ObjectStore {
  return openS3ObjectStore({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: DEV, maxAttempts: 1 });
}

/** Removes every bucket with its objects and uploads, through the port. */
async function emptyAll(store: ObjectStore): Promise<void> {
  for (const bucket of await store.listBuckets()) {
    for (;;) {
      const uploads = await store.listMultipartUploads(bucket.name, { maxUploads: 1000 });
      for (const u of uploads.uploads) await store.abortMultipartUpload(bucket.name, u.key, u.uploadId);
      const page = await store.listObjects(bucket.name, { maxKeys: 1000 });
      for (const o of page.objects) await store.deleteObject(bucket.name, o.key);
      if (!uploads.isTruncated && !page.isTruncated && uploads.uploads.length === 0 && page.objects.length === 0) break;
    }
    await store.deleteBucket(bucket.name);
  }
}

/** Why moto cannot pass a test (moto 5.x as installed here). */
const MOTO_SKIPS = {
  'rejects invalid completions and unknown uploads': 'moto ignores the part list of an upload that already completed (it answers the object, not NoSuchUpload)',
  'reads one part of a multipart object by its place in the completed list': 'moto ignores partNumber on GetObject (it sends the whole object) and sends no Content-Range on HeadObject',
  'serves part 1 of a single-part object as the whole object, and an empty one as empty': 'moto ignores partNumber on GetObject (no InvalidPartNumber)',
  'lists uploads by key then initiation, with prefix, delimiter and markers': 'moto lists uploads in creation order, not by key, and gives every upload the same Initiated time',
  'copyObject honours a precondition on the destination': 'moto ignores If-Match / If-None-Match on CopyObject',
  'a completion whose precondition fails writes nothing and leaves the upload open': 'moto ignores If-Match on CompleteMultipartUpload',
  'a part records its checksum under the upload algorithm; a part without it is refused and not stored': 'moto names no part checksums in ListParts',
  'completing a COMPOSITE upload checks the listed part checksums and stores the object checksum': 'moto names no part checksums in ListParts, so the listed ones cannot be checked',
  'part reads of a COMPOSITE object name the part checksum; a repeated completion answers the same checksum': 'moto names no part checksums in ListParts and ignores partNumber on GetObject',
} as const;

describeObjectStoreBehaviour('S3 backend on moto_server', () => {
  const url = moto!.url;
  const store = storeAt(url);
  return Promise.resolve({
    store,
    cleanup: async () => {
      await store.close();
      const res = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
      assert.equal(res.status, 200);
    },
  });
}, MOTO_SKIPS);

describeObjectStoreBehaviour("S3 backend on inferq's embedded store", () => {
  const store = storeAt(inferq!.url);
  return Promise.resolve({
    store,
    cleanup: async () => {
      await emptyAll(store);
      await store.close();
    },
  });
});

/** A body of `size` pseudo-random bytes in 1 MiB chunks, produced as it is read. */
function generated(size: number, seed: number): { body: Readable; md5: string } {
  const md5 = createHash('md5');
  const chunks: Buffer[] = [];
  for (let at = 0; at < size; at += MiB) chunks.push(pseudoRandomBytes(Math.min(MiB, size - at), seed + at));
  for (const c of chunks) md5.update(c);
  return { body: Readable.from(chunks), md5: md5.digest('hex') };
}

void describe('S3 backend: streaming and faults', () => {
  void it('writes a body of unknown length part by part and one of known length as one PUT', async () => {
    const store = storeAt(inferq!.url);
    try {
      await store.createBucket('stream');
      const size = 33 * MiB + 5;
      const unknown = generated(size, 1);
      const multipart = await store.putObject('stream', 'unknown', unknown.body);
      assert.match(multipart.etag, /-3"$/, 'three 16 MiB parts');
      assert.equal(multipart.size, size);
      const read = createHash('md5').update(await readAll((await store.getObject('stream', 'unknown')).body)).digest('hex');
      assert.equal(read, unknown.md5);
      const known = generated(size, 2);
      const single = await store.putObject('stream', 'known', known.body, { contentLength: size });
      assert.equal(single.etag, `"${known.md5}"`);
      const small = await store.putObject('stream', 'small', Readable.from([Buffer.from('tiny')]));
      assert.equal(small.etag, etagOf(Buffer.from('tiny')));
      assert.deepEqual((await store.listMultipartUploads('stream', { maxUploads: 10 })).uploads, [], 'no upload is left behind');
      await emptyAll(store);
    } finally {
      await store.close();
    }
  });

  void it('aborts the multipart upload of a body that fails after its first part', async () => {
    const store = storeAt(moto!.url);
    try {
      await store.createBucket('failing');
      const boom = new Error('the model stream broke');
      const body = Readable.from((async function* () {
        yield pseudoRandomBytes(17 * MiB, 3);
        await Promise.resolve();
        throw boom;
      })());
      await assert.rejects(store.putObject('failing', 'k', body), (err) => err === boom);
      await rejectsWith(store.headObject('failing', 'k'), 'NoSuchKey');
      assert.deepEqual((await store.listMultipartUploads('failing', { maxUploads: 10 })).uploads, []);
    } finally {
      await store.close();
      await fetch(`${moto!.url}/moto-api/reset`, { method: 'POST' });
    }
  });

  void it('reports an unreachable backend as StorageUnavailable, a storage fault', async () => {
    let port: HeldPort | undefined;
    const store = storeAt((port = await holdPort()).url);
    try {
      const err = await rejectsWith(store.putObject('any', 'k', Readable.from([Buffer.from('x')])), 'StorageUnavailable');
      assert.ok(err);
      await assert.rejects(store.headObject('any', 'k'), (e) => isStorageFault(e));
      await assert.rejects(store.listBuckets(), (e) => isStorageFault(e));
    } finally {
      await store.close();
      await port.close();
    }
  });

  void it('reports 5xx, throttling and refused credentials as StorageUnavailable, and 4xx by their code', async () => {
    const answers: [number, string][] = [[503, 'SlowDown'], [500, 'InternalError'], [403, 'InvalidAccessKeyId'], [404, 'NoSuchBucket']];
    let next = 0;
    const server = createServer((req, res) => {
      req.resume();
      const [status, code] = answers[next % answers.length]!;
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(req.method === 'HEAD' ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>m</Message></Error>`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    const store = storeAt(`http://127.0.0.1:${address.port}`);
    try {
      for (const [i, [, code]] of answers.entries()) {
        next = i;
        const expected = code === 'NoSuchBucket' ? 'NoSuchBucket' : 'StorageUnavailable';
        await rejectsWith(store.listObjects('bucket', { maxKeys: 10 }), expected);
      }
      next = 3;
      await rejectsWith(store.headBucket('bucket'), 'NoSuchBucket');
    } finally {
      await store.close();
      server.close();
    }
  });
});
