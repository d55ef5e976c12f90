/**
 * The behaviour suite on the local-disk backend (with small objects inline, and with every object
 * in a file), plus local-only guarantees (paths, recovery, persistence).
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { INLINE_MAX_BYTES, openLocalObjectStore } from '../../src/objects/index.js';
import { SCHEMA_VERSION } from '../../src/objects/local/index.js';
import { waitForDir, walk } from '../helpers/fs.js';
import { bodyOf, describeObjectStoreBehaviour, readAll, rejectsWith } from './behaviour.js';

async function freshDir(): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), 'inferq-objects-'));
}


for (const [name, extra] of [
  ['local', {}],
  ['local, inlineMaxBytes 0 (always files)', { inlineMaxBytes: 0 }],
] as const) {
  describeObjectStoreBehaviour(name, async () => {
    const dir = await freshDir();
    const store = await openLocalObjectStore({ dataDir: dir, ...extra });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await fsp.rm(dir, { recursive: true, force: true });
      },
    };
  });
}

void describe('local object store', () => {
  const dirs: string[] = [];
  const newDir = async (): Promise<string> => {
    const dir = await freshDir();
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await fsp.rm(dir, { recursive: true, force: true });
  });

  void it('never creates files outside the data dir for traversal-shaped keys', async () => {
    const parent = await newDir();
    const dataDir = join(parent, 'data');
    const store = await openLocalObjectStore({ dataDir });
    await store.createBucket('trav');
    const keys = ['../escape', '../../escape2', '/etc/passwd-x', 'a/../../../b', '..', '.', './x', '..\\win', 'objects/../index.db', 'tmp/../../x'];
    for (const key of keys) await store.putObject('trav', key, bodyOf(key));
    const upload = await store.createMultipartUpload('trav', '../../mp');
    await store.uploadPart('trav', '../../mp', upload.uploadId, 1, bodyOf('p'));
    await store.completeMultipartUpload('trav', '../../mp', upload.uploadId, [{ partNumber: 1, etag: '"83878c91171338902e0fe0fb97a8c47a"' }]);
    await store.copyObject('trav', '../escape', 'trav', '../../copied', { metadataDirective: 'COPY' });
    for (const file of walk(parent)) {
      const rel = relative(join(dataDir, 'objects'), file);
      assert.ok(!rel.startsWith('..') && !rel.startsWith(sep), `file outside the store: ${file}`);
    }
    for (const key of keys) assert.equal((await readAll((await store.getObject('trav', key)).body)).toString(), key);
    await store.close();
  });

  void it('removes crash leftovers on reopen and keeps referenced files', async () => {
    const dataDir = await newDir();
    const root = join(dataDir, 'objects');
    let store = await openLocalObjectStore({ dataDir });
    await store.createBucket('keep');
    await store.putObject('keep', 'k', bodyOf('kept bytes'));
    const upload = await store.createMultipartUpload('keep', 'mp');
    await store.uploadPart('keep', 'mp', upload.uploadId, 1, bodyOf('kept part'));
    await store.close();
    const before = new Set(walk(root));

    const leftovers = [
      join(root, 'tmp', 'dead-temp'),
      join(root, 'blobs', 'zz', '00000000-dead-beef-0000-000000000000'),
      join(root, 'parts', 'unknownUpload', '1'),
      join(root, 'parts', upload.uploadId, '2'),
    ];
    for (const file of leftovers) {
      await fsp.mkdir(join(file, '..'), { recursive: true });
      await fsp.writeFile(file, 'junk');
    }
    store = await openLocalObjectStore({ dataDir });
    for (const file of leftovers) assert.equal(existsSync(file), false, file);
    for (const file of before) assert.equal(existsSync(file), true, file);
    assert.equal((await readAll((await store.getObject('keep', 'k')).body)).toString(), 'kept bytes');
    const parts = await store.listParts('keep', 'mp', upload.uploadId, { maxParts: 10 });
    assert.deepEqual(parts.parts.map((p) => p.partNumber), [1]);
    await store.close();
  });

  void it('persists buckets, objects and uploads across close and reopen', async () => {
    const dataDir = await newDir();
    let store = await openLocalObjectStore({ dataDir });
    await store.createBucket('persist');
    await store.putObject('persist', 'a/b', bodyOf('hello'), { contentType: 'text/plain', userMetadata: { x: 'y' } });
    const upload = await store.createMultipartUpload('persist', 'mp');
    const part = await store.uploadPart('persist', 'mp', upload.uploadId, 1, bodyOf('part one'));
    await store.close();
    await rejectsWith(store.headObject('persist', 'a/b'), 'ServiceUnavailable');

    store = await openLocalObjectStore({ dataDir });
    assert.deepEqual((await store.listBuckets()).map((b) => b.name), ['persist']);
    const got = await store.getObject('persist', 'a/b');
    assert.equal((await readAll(got.body)).toString(), 'hello');
    assert.equal(got.info.contentType, 'text/plain');
    assert.deepEqual(got.info.userMetadata, { x: 'y' });
    await store.completeMultipartUpload('persist', 'mp', upload.uploadId, [{ partNumber: 1, etag: part.etag }]);
    assert.equal((await readAll((await store.getObject('persist', 'mp')).body)).toString(), 'part one');
    await store.close();
    const db = new Database(join(dataDir, 'objects', 'index.db'), { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  void it('fails a PUT whose bucket another store on the same data dir deleted after this one saw it', async () => {
    const dataDir = await newDir();
    const writer = await openLocalObjectStore({ dataDir });
    const other = await openLocalObjectStore({ dataDir });
    await writer.createBucket('shared');
    await writer.putObject('shared', 'first', bodyOf('seen'));
    await other.deleteObject('shared', 'first');
    await other.deleteBucket('shared');
    await rejectsWith(writer.putObject('shared', 'second', bodyOf('too late')), 'NoSuchBucket');
    await rejectsWith(other.headObject('shared', 'second'), 'NoSuchBucket');
    await rejectsWith(writer.getObject('shared', 'first'), 'NoSuchBucket');
    await writer.close();
    await other.close();
  });

  void it('aborts a write in progress when closed, leaving nothing behind', async () => {
    const dataDir = await newDir();
    let store = await openLocalObjectStore({ dataDir });
    await store.createBucket('bkt');
    const body = new PassThrough();
    // More than the inline limit, and the body never ends: the store streams it into a temp file.
    body.write(Buffer.alloc(INLINE_MAX_BYTES + 4096, 1));
    const pending = store.putObject('bkt', 'k', body);
    pending.catch(() => undefined);
    const tmp = join(dataDir, 'objects', 'tmp');
    const [temp] = await waitForDir(tmp, (names) => names.length === 1, 'the temp file of the upload');
    await waitForDir(tmp, () => statSync(join(tmp, temp!)).size > 0, 'bytes in the temp file');
    assert.equal(body.readableLength, 0, 'the store has taken every byte written so far');
    await store.close();
    await rejectsWith(pending, 'ServiceUnavailable');
    assert.deepEqual(await fsp.readdir(join(dataDir, 'objects', 'tmp')), []);
    store = await openLocalObjectStore({ dataDir });
    await rejectsWith(store.headObject('bkt', 'k'), 'NoSuchKey');
    await store.close();
  });

  void describe('listing a large bucket', () => {
    let dataDir: string;
    before(async () => {
      dataDir = await newDir();
      const store = await openLocalObjectStore({ dataDir });
      await store.createBucket('huge');
      await store.putObject('huge', 'top', bodyOf('x'));
      await store.close();
      // Seed 100k index rows directly (their blobs are never read by listing).
      const db = new Database(join(dataDir, 'objects', 'index.db'));
      const insert = db.prepare('INSERT INTO objects (bucket, key, size, etag, last_modified, parts_count, blob, meta) VALUES (?, ?, 1, ?, 0, NULL, ?, ?)');
      const meta = JSON.stringify({ contentType: 'binary/octet-stream', userMetadata: {}, httpHeaders: {}, checksums: {} });
      db.transaction(() => {
        for (let i = 0; i < 100_000; i++) insert.run('huge', Buffer.from(`deep/${String(i).padStart(6, '0')}`), '"x"', `fake/${i}`, meta);
        for (let i = 0; i < 50; i++) insert.run('huge', Buffer.from(`dir${i}/leaf`), '"x"', `fake/dir${i}`, meta);
      })();
      db.close();
    });

    void it('rolls up a prefix with 100k keys without visiting them', async () => {
      const store = await openLocalObjectStore({ dataDir });
      const started = performance.now();
      const page = await store.listObjects('huge', { delimiter: '/', maxKeys: 1000 });
      const elapsed = performance.now() - started;
      assert.deepEqual(page.commonPrefixes.slice(0, 2), ['deep/', 'dir0/']);
      assert.equal(page.commonPrefixes.length, 51);
      assert.deepEqual(page.objects.map((o) => o.key), ['top']);
      // Visiting the 100k keys takes far longer; the bound is generous for 2 shared cores.
      assert.ok(elapsed < 1000, `top-level listing took ${elapsed.toFixed(1)} ms`);
      const inside = await store.listObjects('huge', { prefix: 'deep/', delimiter: '/', maxKeys: 2, after: 'deep/099998' });
      assert.deepEqual(inside.objects.map((o) => o.key), ['deep/099999']);
      await store.close();
    });
  });
});
