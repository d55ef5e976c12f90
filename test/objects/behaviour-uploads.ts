/**
 * Multipart fidelity in the ObjectStore behaviour suite (registered by behaviour.ts): reading one
 * part of an object, repeated completion, and listing the uploads in progress.
 */
import assert from 'node:assert/strict';
import type { ListUploadsOptions, ObjectStore } from '../../src/objects/index.js';
import { bodyOf, byteCompare, MiB, pseudoRandomBytes, readAll, rejectsWith } from './helpers.js';
import { it } from './suite.js';

/** Uploads `parts` as one multipart object; returns the completion and the part list. */
async function multipartObject(store: ObjectStore, bucket: string, key: string, parts: readonly Buffer[]): Promise<{ etag: string; list: { partNumber: number; etag: string }[]; uploadId: string }> {
  const upload = await store.createMultipartUpload(bucket, key);
  const list = [];
  // Part numbers with gaps: part N of the object is the N-th listed part.
  for (const [i, p] of parts.entries()) list.push({ partNumber: i * 2 + 1, etag: (await store.uploadPart(bucket, key, upload.uploadId, i * 2 + 1, bodyOf(p))).etag });
  const done = await store.completeMultipartUpload(bucket, key, upload.uploadId, list);
  return { etag: done.etag, list, uploadId: upload.uploadId };
}

/** Every entry of a listing, paging with the given page size. */
async function allUploads(store: ObjectStore, bucket: string, options: Omit<ListUploadsOptions, 'maxUploads'>, pageSize: number): Promise<{ entries: string[]; pages: number }> {
  const entries: string[] = [];
  let marker: Pick<ListUploadsOptions, 'keyMarker' | 'uploadIdMarker'> = {};
  for (let pages = 1; ; pages++) {
    const page = await store.listMultipartUploads(bucket, { ...options, ...marker, maxUploads: pageSize });
    assert.ok(page.uploads.length + page.commonPrefixes.length <= pageSize);
    const merged = [...page.uploads.map((u) => ({ sort: u.key, text: `${u.key}#${u.uploadId}` })), ...page.commonPrefixes.map((cp) => ({ sort: cp, text: `${cp}/` }))];
    entries.push(...merged.sort((a, b) => byteCompare(a.sort, b.sort)).map((e) => e.text));
    if (!page.isTruncated) return { entries, pages };
    assert.ok(page.nextKeyMarker !== undefined);
    marker = { keyMarker: page.nextKeyMarker, ...(page.nextUploadIdMarker === undefined ? {} : { uploadIdMarker: page.nextUploadIdMarker }) };
  }
}

/** Registers the tests; `get` returns the current test's store. */
export function registerUploadFidelityTests(get: () => ObjectStore): void {
  void it('reads one part of a multipart object by its place in the completed list', async () => {
    const store = get();
    await store.createBucket('parts');
    const parts = [pseudoRandomBytes(5 * MiB + 3, 21), pseudoRandomBytes(5 * MiB, 22), Buffer.from('the last part')];
    const made = await multipartObject(store, 'parts', 'obj', parts);
    let start = 0;
    for (const [i, bytes] of parts.entries()) {
      const got = await store.getObject('parts', 'obj', { partNumber: i + 1 });
      assert.deepEqual(got.range, { start, end: start + bytes.length - 1 });
      assert.equal(got.info.partsCount, 3);
      assert.equal(got.info.etag, made.etag);
      assert.ok((await readAll(got.body)).equals(bytes), `part ${i + 1}`);
      const head = await store.headObjectPart('parts', 'obj', { partNumber: i + 1 });
      assert.deepEqual(head.range, got.range);
      start += bytes.length;
    }
    const beyond = await rejectsWith(store.getObject('parts', 'obj', { partNumber: 4 }), 'InvalidPartNumber');
    assert.equal(beyond.ActualPartCount, '3');
    await rejectsWith(store.headObjectPart('parts', 'obj', { partNumber: 4 }), 'InvalidPartNumber');
    for (const n of [0, 10001]) await rejectsWith(store.getObject('parts', 'obj', { partNumber: n }), 'InvalidArgument');

    // Overwritten by a single PUT, the key is one part again.
    await store.putObject('parts', 'obj', bodyOf('plain'));
    await rejectsWith(store.getObject('parts', 'obj', { partNumber: 2 }), 'InvalidPartNumber');
    const whole = await store.getObject('parts', 'obj', { partNumber: 1 });
    assert.deepEqual(whole.range, { start: 0, end: 4 });
    assert.equal((await readAll(whole.body)).toString(), 'plain');
    await rejectsWith(store.getObject('parts', 'missing', { partNumber: 1 }), 'NoSuchKey');
  });

  void it('serves part 1 of a single-part object as the whole object, and an empty one as empty', async () => {
    const store = get();
    await store.createBucket('parts');
    await store.putObject('parts', 'one', bodyOf('0123456789'));
    const got = await store.getObject('parts', 'one', { partNumber: 1 });
    assert.deepEqual(got.range, { start: 0, end: 9 });
    assert.equal(got.info.partsCount, undefined);
    assert.equal((await readAll(got.body)).toString(), '0123456789');
    await rejectsWith(store.getObject('parts', 'one', { partNumber: 2 }), 'InvalidPartNumber');
    await store.putObject('parts', 'empty', bodyOf(Buffer.alloc(0)));
    const empty = await store.getObject('parts', 'empty', { partNumber: 1 });
    assert.deepEqual(empty.range, { start: 0, end: -1 });
    assert.equal((await readAll(empty.body)).length, 0);
    assert.deepEqual((await store.headObjectPart('parts', 'empty', { partNumber: 1 })).range, { start: 0, end: -1 });
  });

  void it('answers a repeated completion with the object the upload made, while it is current', async () => {
    const store = get();
    await store.createBucket('again');
    const made = await multipartObject(store, 'again', 'k', [pseudoRandomBytes(5 * MiB, 3), Buffer.from('end')]);
    const again = await store.completeMultipartUpload('again', 'k', made.uploadId, made.list);
    assert.equal(again.etag, made.etag);
    assert.equal(again.partsCount, 2);
    const unquoted = await store.completeMultipartUpload('again', 'k', made.uploadId, made.list.map((p) => ({ ...p, etag: p.etag.replaceAll('"', '') })));
    assert.equal(unquoted.etag, made.etag);
    await rejectsWith(store.completeMultipartUpload('again', 'k', made.uploadId, made.list.slice(0, 1)), 'NoSuchUpload');
    await rejectsWith(store.completeMultipartUpload('again', 'other', made.uploadId, made.list), 'NoSuchUpload');
    await store.putObject('again', 'k', bodyOf('replaced'));
    await rejectsWith(store.completeMultipartUpload('again', 'k', made.uploadId, made.list), 'NoSuchUpload');
    assert.equal((await readAll((await store.getObject('again', 'k')).body)).toString(), 'replaced');
  });

  void it('lists uploads by key then initiation, with prefix, delimiter and markers', async () => {
    const store = get();
    await store.createBucket('lsu');
    await rejectsWith(store.listMultipartUploads('missing-bucket', { maxUploads: 10 }), 'NoSuchBucket');
    const keys = ['a', 'b/1', 'b/2', 'b/2', 'c', 'c', 'c', 'd/x/y', 'é', 'e/1'];
    const ids: string[] = [];
    for (const key of keys) ids.push(`${key}#${(await store.createMultipartUpload('lsu', key)).uploadId}`);
    const done = await store.createMultipartUpload('lsu', 'gone');
    const part = await store.uploadPart('lsu', 'gone', done.uploadId, 1, bodyOf('x'));
    await store.completeMultipartUpload('lsu', 'gone', done.uploadId, [{ partNumber: 1, etag: part.etag }]);
    const aborted = await store.createMultipartUpload('lsu', 'gone');
    await store.abortMultipartUpload('lsu', 'gone', aborted.uploadId);

    const byKey = [...ids].sort((x, y) => byteCompare(x.split('#')[0]!, y.split('#')[0]!));
    const full = await store.listMultipartUploads('lsu', { maxUploads: 1000 });
    assert.equal(full.isTruncated, false);
    assert.deepEqual(full.uploads.map((u) => `${u.key}#${u.uploadId}`), byKey, 'key order, then creation order within a key');
    assert.ok(full.uploads.every((u) => u.bucket === 'lsu' && u.initiated instanceof Date));
    for (const size of [1, 2, 3, 1000]) assert.deepEqual((await allUploads(store, 'lsu', {}, size)).entries, byKey, `page size ${size}`);
    assert.equal((await allUploads(store, 'lsu', {}, 1)).pages, keys.length);

    const rolled = ['a', 'b/', 'c', 'c', 'c', 'd/', 'e/', 'é'];
    const withDelimiter = await allUploads(store, 'lsu', { delimiter: '/' }, 2);
    assert.deepEqual(withDelimiter.entries.map((e) => e.split('#')[0]), rolled.map((e) => (e.endsWith('/') ? `${e}/` : e)));
    const underB = await store.listMultipartUploads('lsu', { prefix: 'b/', maxUploads: 10 });
    assert.deepEqual(underB.uploads.map((u) => u.key), ['b/1', 'b/2', 'b/2']);
    const nested = await store.listMultipartUploads('lsu', { prefix: 'd/', delimiter: '/', maxUploads: 10 });
    assert.deepEqual(nested.commonPrefixes, ['d/x/']);
    assert.deepEqual(nested.uploads, []);

    const afterKey = await store.listMultipartUploads('lsu', { keyMarker: 'c', maxUploads: 10 });
    assert.deepEqual(afterKey.uploads.map((u) => u.key), ['d/x/y', 'e/1', 'é']);
    const cIds = full.uploads.filter((u) => u.key === 'c').map((u) => u.uploadId);
    const afterUpload = await store.listMultipartUploads('lsu', { keyMarker: 'c', uploadIdMarker: cIds[0], maxUploads: 2 });
    assert.deepEqual(afterUpload.uploads.map((u) => u.uploadId), cIds.slice(1));
    assert.equal(afterUpload.isTruncated, true);
    assert.equal(afterUpload.nextKeyMarker, 'c');
    assert.equal(afterUpload.nextUploadIdMarker, cIds[2]);
    assert.deepEqual((await store.listMultipartUploads('lsu', { maxUploads: 0 })).uploads, []);

    for (const u of full.uploads) await store.abortMultipartUpload('lsu', u.key, u.uploadId);
    assert.deepEqual((await store.listMultipartUploads('lsu', { maxUploads: 10 })).uploads, []);
    await store.deleteObject('lsu', 'gone');
    await store.deleteBucket('lsu');
  });
}
