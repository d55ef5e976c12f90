/**
 * Local backend only: an index written before schema version 3 (no part boundaries, no completing
 * upload, uploads indexed by key) and version 4 (no multipart checksums) upgrades at open through
 * both, keeps every object and upload, and answers part reads of its old multipart objects honestly.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openLocalObjectStore } from '../../src/objects/index.js';
import { SCHEMA_VERSION } from '../../src/objects/local/index.js';
import { bodyOf, MiB, pseudoRandomBytes, readAll, rejectsWith } from './helpers.js';

/** Rewrites a current index into the version-2 layout (what inferq wrote before), keeping the rows. */
function downgradeToV2(file: string): void {
  const db = new Database(file);
  db.exec(`
    ALTER TABLE uploads DROP COLUMN checksum_algorithm;
    ALTER TABLE uploads DROP COLUMN checksum_type;
    ALTER TABLE parts DROP COLUMN checksum;
    DROP TABLE object_parts;
    ALTER TABLE objects DROP COLUMN upload_id;
    DROP INDEX uploads_listing;
    CREATE INDEX uploads_bucket_key ON uploads (bucket, key);
    PRAGMA user_version = 2;
  `);
  db.close();
}

function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare<[], { sql: string | null }>("SELECT sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all();
  db.close();
  return rows.map((r) => (r.sql ?? '').replace(/\s+/g, ' '));
}

void describe('local object store: upgrade from schema version 2', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await fsp.rm(dir, { recursive: true, force: true });
  });
  const newDir = async (): Promise<string> => {
    const dir = await fsp.mkdtemp(join(tmpdir(), 'inferq-upgrade-'));
    dirs.push(dir);
    return dir;
  };

  void it('migrates a version-2 index in place and keeps objects, uploads and multipart objects readable', async () => {
    const dataDir = await newDir();
    const index = join(dataDir, 'objects', 'index.db');
    let store = await openLocalObjectStore({ dataDir });
    await store.createBucket('old');
    await store.putObject('old', 'plain', bodyOf('plain bytes'));
    const parts = [pseudoRandomBytes(5 * MiB, 1), Buffer.from('second')];
    const mp = await store.createMultipartUpload('old', 'multi');
    const list = [];
    for (const [i, p] of parts.entries()) list.push({ partNumber: i + 1, etag: (await store.uploadPart('old', 'multi', mp.uploadId, i + 1, bodyOf(p))).etag });
    const made = await store.completeMultipartUpload('old', 'multi', mp.uploadId, list);
    const single = await store.createMultipartUpload('old', 'single');
    const only = await store.uploadPart('old', 'single', single.uploadId, 1, bodyOf('one part'));
    await store.completeMultipartUpload('old', 'single', single.uploadId, [{ partNumber: 1, etag: only.etag }]);
    const open = await store.createMultipartUpload('old', 'open');
    await store.uploadPart('old', 'open', open.uploadId, 1, bodyOf('pending'));
    await store.close();
    const fresh = schemaOf(index);
    downgradeToV2(index);

    store = await openLocalObjectStore({ dataDir });
    assert.deepEqual(schemaOf(index), fresh, 'the upgraded schema is the one a new store creates');
    const db = new Database(index, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    db.close();

    assert.equal((await readAll((await store.getObject('old', 'plain')).body)).toString(), 'plain bytes');
    assert.ok((await readAll((await store.getObject('old', 'multi')).body)).equals(Buffer.concat(parts)));
    assert.equal((await store.headObject('old', 'multi')).etag, made.etag);
    // Old multipart objects: one part is the whole object; the boundaries of several are unknown.
    assert.equal((await readAll((await store.getObject('old', 'single', { partNumber: 1 })).body)).toString(), 'one part');
    await rejectsWith(store.getObject('old', 'multi', { partNumber: 1 }), 'NotImplemented');
    await rejectsWith(store.getObject('old', 'multi', { partNumber: 3 }), 'InvalidPartNumber');
    await rejectsWith(store.completeMultipartUpload('old', 'multi', mp.uploadId, list), 'NoSuchUpload');

    const uploads = await store.listMultipartUploads('old', { maxUploads: 10 });
    assert.deepEqual(uploads.uploads.map((u) => [u.key, u.uploadId, u.checksumAlgorithm, u.checksumType]), [['open', open.uploadId, undefined, undefined]]);
    const part = (await store.listParts('old', 'open', open.uploadId, { maxParts: 10 })).parts[0];
    assert.ok(part);
    assert.equal(part.checksum, undefined, 'a part stored before multipart checksums has none');
    await store.completeMultipartUpload('old', 'open', open.uploadId, [{ partNumber: 1, etag: part.etag }]);
    assert.equal((await readAll((await store.getObject('old', 'open', { partNumber: 1 })).body)).toString(), 'pending');

    // Uploads with a checksum algorithm (schema version 4) work on the upgraded index.
    const summed = await store.createMultipartUpload('old', 'summed', { checksumAlgorithm: 'SHA256' });
    const sha = createHash('sha256').update('summed').digest('base64');
    const summedPart = await store.uploadPart('old', 'summed', summed.uploadId, 1, bodyOf('summed'), { checksums: { SHA256: sha } });
    assert.equal(summedPart.checksum, sha);
    const summedInfo = await store.completeMultipartUpload('old', 'summed', summed.uploadId, [{ partNumber: 1, etag: summedPart.etag, checksums: { SHA256: sha } }], {
      objectChecksum: (_upload, stored) => `${stored.map((p) => p.checksum).join('+')}-1`,
    });
    assert.deepEqual([summedInfo.checksums, summedInfo.checksumType], [{ SHA256: `${sha}-1` }, 'COMPOSITE']);

    // Overwriting and deleting old multipart objects works as for new ones.
    await store.putObject('old', 'multi', bodyOf('now plain'));
    await rejectsWith(store.getObject('old', 'multi', { partNumber: 2 }), 'InvalidPartNumber');
    await store.deleteObject('old', 'single');
    await store.close();
  });

  void it('drops the part boundaries of an object once it is overwritten or deleted', async () => {
    const dataDir = await newDir();
    const store = await openLocalObjectStore({ dataDir });
    await store.createBucket('rows');
    const make = async (key: string): Promise<void> => {
      const up = await store.createMultipartUpload('rows', key);
      const a = await store.uploadPart('rows', key, up.uploadId, 1, bodyOf(pseudoRandomBytes(5 * MiB, 2)));
      const b = await store.uploadPart('rows', key, up.uploadId, 2, bodyOf('b'));
      await store.completeMultipartUpload('rows', key, up.uploadId, [{ partNumber: 1, etag: a.etag }, { partNumber: 2, etag: b.etag }]);
    };
    await make('overwritten');
    await make('deleted');
    await make('copied-over');
    await make('kept');
    await store.putObject('rows', 'overwritten', bodyOf('x'));
    await store.deleteObject('rows', 'deleted');
    await store.putObject('rows', 'src', bodyOf('y'));
    await store.copyObject('rows', 'src', 'rows', 'copied-over', { metadataDirective: 'COPY' });
    await store.close();
    const db = new Database(join(dataDir, 'objects', 'index.db'), { readonly: true });
    const rows = db.prepare<[], { key: Buffer; n: number }>('SELECT key, count(*) AS n FROM object_parts GROUP BY key ORDER BY key').all();
    db.close();
    assert.deepEqual(rows.map((r) => [r.key.toString(), r.n]), [['kept', 2]]);
  });
});
