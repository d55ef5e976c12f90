/**
 * Local-only tests of inline small objects: which bodies get blob files, no orphans across
 * overwrites and failures, persistence, and the migration from the schema before inline storage.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { INLINE_MAX_BYTES, openLocalObjectStore, type ObjectStore } from '../../src/objects/index.js';
import { SCHEMA_VERSION } from '../../src/objects/local/index.js';
import { filesUnder } from '../helpers/fs.js';
import { bodyOf, etagOf, failingBody, pseudoRandomBytes, readAll, rejectsWith } from './helpers.js';


/** A body delivered in `chunkSize` pieces. */
function chunkedBody(data: Buffer, chunkSize: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize) chunks.push(data.subarray(at, at + chunkSize));
  return Readable.from(chunks);
}

/** A body that sends `chunks` and then fails with `error`. */
function failingChunks(chunks: readonly Buffer[], error: Error): Readable {
  let at = 0;
  return new Readable({
    read() {
      const next = chunks[at++];
      if (next) this.push(next);
      else setImmediate(() => this.destroy(error));
    },
  });
}

void describe('local object store: inline small objects', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await fsp.rm(dir, { recursive: true, force: true });
  });
  const open = async (inlineMaxBytes?: number): Promise<{ store: ObjectStore; dataDir: string; blobs: () => Promise<string[]>; temps: () => Promise<string[]> }> => {
    const dataDir = await fsp.mkdtemp(join(tmpdir(), 'inferq-inline-'));
    dirs.push(dataDir);
    const store = await openLocalObjectStore({ dataDir, ...(inlineMaxBytes === undefined ? {} : { inlineMaxBytes }) });
    await store.createBucket('bkt');
    const root = join(dataDir, 'objects');
    return { store, dataDir, blobs: () => Promise.resolve(filesUnder(join(root, 'blobs'))), temps: () => Promise.resolve(filesUnder(join(root, 'tmp'))) };
  };

  void it('stores a small object without any file and reads it back, whole and ranged', async () => {
    const { store, blobs, temps } = await open();
    const bytes = pseudoRandomBytes(100, 1);
    const info = await store.putObject('bkt', 'small', bodyOf(bytes), { contentType: 'text/x' });
    assert.equal(info.etag, etagOf(bytes));
    assert.deepEqual(await blobs(), []);
    assert.deepEqual(await temps(), []);
    const got = await store.getObject('bkt', 'small');
    assert.ok((await readAll(got.body)).equals(bytes));
    assert.equal(got.info.contentType, 'text/x');
    const ranged = await store.getObject('bkt', 'small', { start: 10, end: 19 });
    assert.ok((await readAll(ranged.body)).equals(bytes.subarray(10, 20)));
    await store.close();
  });

  void it('inlines up to the threshold and uses a file just over it, however the body is chunked', async () => {
    const { store, blobs } = await open();
    const limit = pseudoRandomBytes(INLINE_MAX_BYTES, 2);
    await store.putObject('bkt', 'at-limit', chunkedBody(limit, 1000));
    assert.deepEqual(await blobs(), []);
    const over = pseudoRandomBytes(INLINE_MAX_BYTES + 1, 3);
    const info = await store.putObject('bkt', 'over', chunkedBody(over, 1000));
    assert.equal(info.etag, etagOf(over));
    assert.equal(info.size, over.length);
    assert.equal((await blobs()).length, 1);
    assert.ok((await readAll((await store.getObject('bkt', 'over')).body)).equals(over));
    assert.ok((await readAll((await store.getObject('bkt', 'at-limit')).body)).equals(limit));
    await store.close();

    const small = await open(10);
    await small.store.putObject('bkt', 'ten', bodyOf('0123456789'));
    assert.deepEqual(await small.blobs(), []);
    await small.store.putObject('bkt', 'eleven', chunkedBody(Buffer.from('0123456789A'), 3));
    assert.equal((await small.blobs()).length, 1);
    assert.equal((await readAll((await small.store.getObject('bkt', 'eleven')).body)).toString(), '0123456789A');
    await small.store.close();
  });

  void it('stores even empty objects in files when inlineMaxBytes is 0', async () => {
    const { store, blobs } = await open(0);
    await store.putObject('bkt', 'empty', bodyOf(''));
    assert.equal((await blobs()).length, 1);
    assert.equal((await readAll((await store.getObject('bkt', 'empty')).body)).length, 0);
    await store.close();
    await assert.rejects(openLocalObjectStore({ dataDir: join(tmpdir(), 'unused'), inlineMaxBytes: -1 }), RangeError);
  });

  void it('leaves no orphan files across inline/file overwrites, copies, deletes and multipart', async () => {
    const { store, blobs } = await open();
    const big = pseudoRandomBytes(INLINE_MAX_BYTES * 2, 4);
    await store.putObject('bkt', 'k', bodyOf('small'));
    assert.deepEqual(await blobs(), []);
    await store.putObject('bkt', 'k', bodyOf(big));
    const [file] = await blobs();
    assert.ok(file);
    await store.putObject('bkt', 'k', bodyOf('small again'));
    assert.deepEqual(await blobs(), []);
    assert.equal((await readAll((await store.getObject('bkt', 'k')).body)).toString(), 'small again');
    await store.copyObject('bkt', 'k', 'bkt', 'copy', { metadataDirective: 'COPY' });
    assert.deepEqual(await blobs(), []);
    assert.equal((await readAll((await store.getObject('bkt', 'copy')).body)).toString(), 'small again');
    await store.putObject('bkt', 'k', bodyOf(big));
    await store.copyObject('bkt', 'k', 'bkt', 'copy', { metadataDirective: 'COPY' });
    assert.equal((await blobs()).length, 2);
    await store.deleteObject('bkt', 'k');
    await store.deleteObject('bkt', 'copy');
    assert.deepEqual(await blobs(), []);

    const upload = await store.createMultipartUpload('bkt', 'mp');
    const part = await store.uploadPart('bkt', 'mp', upload.uploadId, 1, bodyOf('tiny part'));
    await store.completeMultipartUpload('bkt', 'mp', upload.uploadId, [{ partNumber: 1, etag: part.etag }]);
    assert.equal((await blobs()).length, 1, 'a completed multipart object stays a file');
    await store.putObject('bkt', 'mp', bodyOf('inline now'));
    assert.deepEqual(await blobs(), []);
    await store.deleteObject('bkt', 'mp');
    await store.deleteBucket('bkt');
    await store.close();
  });

  void it('leaves nothing behind when a body fails after passing the threshold', async () => {
    const { store, blobs, temps } = await open();
    await store.putObject('bkt', 'k', bodyOf('previous'));
    const boom = new Error('stream broke');
    const chunk = Buffer.alloc(16 * 1024, 7);
    const chunks = Array.from({ length: 8 }, () => chunk);
    await assert.rejects(store.putObject('bkt', 'k', failingChunks(chunks, boom)), (err) => err === boom);
    await assert.rejects(store.putObject('bkt', 'k', failingBody(Buffer.alloc(INLINE_MAX_BYTES + 1), boom)), (err) => err === boom);
    await assert.rejects(store.putObject('bkt', 'fresh', failingChunks([Buffer.from('below')], boom)), (err) => err === boom);
    assert.deepEqual(await temps(), []);
    assert.deepEqual(await blobs(), []);
    assert.equal((await readAll((await store.getObject('bkt', 'k')).body)).toString(), 'previous');
    await rejectsWith(store.headObject('bkt', 'fresh'), 'NoSuchKey');
    await store.close();
  });

  void it('keeps an inline body readable across a concurrent overwrite and delete', async () => {
    const { store } = await open();
    await store.putObject('bkt', 'k', bodyOf('version one'));
    const first = await store.getObject('bkt', 'k');
    const ranged = await store.getObject('bkt', 'k', { suffix: 3 });
    await store.putObject('bkt', 'k', bodyOf('version two'));
    await store.deleteObject('bkt', 'k');
    assert.equal((await readAll(first.body)).toString(), 'version one');
    assert.equal((await readAll(ranged.body)).toString(), 'one');
    await store.close();
  });

  void it('keeps inline objects across close, crash-leftover sweep and reopen', async () => {
    const { store, dataDir, blobs } = await open();
    await store.putObject('bkt', 'a', bodyOf('alpha'), { userMetadata: { m: '1' } });
    await store.putObject('bkt', 'empty', bodyOf(''));
    await store.close();
    const stray = join(dataDir, 'objects', 'blobs', 'ab', 'abcdef00-0000-0000-0000-000000000000');
    await fsp.mkdir(join(stray, '..'), { recursive: true });
    await fsp.writeFile(stray, 'junk');
    const reopened = await openLocalObjectStore({ dataDir });
    assert.equal(existsSync(stray), false);
    assert.deepEqual(await blobs(), []);
    const got = await reopened.getObject('bkt', 'a');
    assert.equal((await readAll(got.body)).toString(), 'alpha');
    assert.deepEqual(got.info.userMetadata, { m: '1' });
    assert.equal((await reopened.headObject('bkt', 'empty')).size, 0);
    assert.deepEqual((await reopened.listObjects('bkt', { maxKeys: 10 })).objects.map((o) => o.key), ['a', 'empty']);
    await reopened.close();
  });
});

/** The objects table and its index as created by schema version 1 (before inline storage). */
const SCHEMA_V1_OBJECTS = `
  CREATE TABLE buckets (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL) STRICT;
  CREATE TABLE objects (
    bucket TEXT NOT NULL, key BLOB NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL, parts_count INTEGER, blob TEXT NOT NULL, meta TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
  ) STRICT, WITHOUT ROWID;
  CREATE UNIQUE INDEX objects_blob ON objects (blob);
  CREATE TABLE uploads (id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated INTEGER NOT NULL, meta TEXT NOT NULL) STRICT;
  CREATE INDEX uploads_bucket_key ON uploads (bucket, key);
  CREATE TABLE parts (
    upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, etag TEXT NOT NULL, size INTEGER NOT NULL,
    last_modified INTEGER NOT NULL, PRIMARY KEY (upload_id, part_number)
  ) STRICT, WITHOUT ROWID;
`;

void describe('local object store: schema migration to inline storage', () => {
  void it('keeps the rows, files and indexes of a version 1 index', async () => {
    const dataDir = await fsp.mkdtemp(join(tmpdir(), 'inferq-migrate-'));
    try {
      const root = join(dataDir, 'objects');
      const blob = 'c0/c0ffee00-0000-4000-8000-000000000001';
      const bytes = Buffer.from('migrated bytes');
      await fsp.mkdir(join(root, 'blobs', 'c0'), { recursive: true });
      await fsp.writeFile(join(root, 'blobs', blob), bytes);
      const meta = JSON.stringify({ contentType: 'text/old', userMetadata: { v: '1' }, httpHeaders: {}, checksums: {} });
      const old = new Database(join(root, 'index.db'));
      old.pragma('journal_mode = WAL');
      old.exec(SCHEMA_V1_OBJECTS);
      old.prepare('INSERT INTO buckets VALUES (?, ?)').run('old', 1_700_000_000_000);
      old.prepare('INSERT INTO objects VALUES (?, ?, ?, ?, ?, NULL, ?, ?)').run('old', Buffer.from('k'), bytes.length, etagOf(bytes), 1_700_000_000_000, blob, meta);
      old.pragma('user_version = 1');
      old.close();

      const store = await openLocalObjectStore({ dataDir });
      const got = await store.getObject('old', 'k');
      assert.equal((await readAll(got.body)).toString(), 'migrated bytes');
      assert.equal(got.info.contentType, 'text/old');
      assert.equal(got.info.etag, etagOf(bytes));
      assert.equal(got.info.lastModified.getTime(), 1_700_000_000_000);
      assert.equal((await store.listBuckets())[0]?.name, 'old');
      await store.putObject('old', 'new', bodyOf('inline'));
      await store.putObject('old', 'k', bodyOf('now inline'));
      assert.equal(existsSync(join(root, 'blobs', blob)), false, 'the replaced blob is unlinked');
      await store.close();

      const db = new Database(join(root, 'index.db'), { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const indexSql = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_schema WHERE name = 'objects_blob'").get()?.sql ?? '';
      assert.match(indexSql, /WHERE blob IS NOT NULL/);
      const rows = db.prepare<[], { key: Buffer; blob: string | null; inline_data: Buffer | null }>('SELECT key, blob, inline_data FROM objects ORDER BY key').all();
      assert.deepEqual(rows.map((r) => [r.key.toString(), r.blob, r.inline_data?.toString()]), [['k', null, 'now inline'], ['new', null, 'inline']]);
      const md5 = createHash('md5').update('inline').digest('hex');
      assert.equal(db.prepare<[], { etag: string }>("SELECT etag FROM objects WHERE key = CAST('new' AS BLOB)").get()?.etag, `"${md5}"`);
      db.close();
    } finally {
      await fsp.rm(dataDir, { recursive: true, force: true });
    }
  });
});
