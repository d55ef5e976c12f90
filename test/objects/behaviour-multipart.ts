/** The multipart part of the ObjectStore behaviour suite (registered by behaviour.ts). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../src/objects/index.js';
import { bodyOf, etagOf, failingBody, MiB, pseudoRandomBytes, readAll, rejectsWith } from './helpers.js';
import { it } from './suite.js';

/** Registers the multipart tests; `get` returns the current test's store. */
export function registerMultipartTests(get: () => ObjectStore): void {
  void it('assembles a multipart upload', async () => {
    const store = get();
    await store.createBucket('mpu');
    const upload = await store.createMultipartUpload('mpu', 'big/object', { contentType: 'video/mp4', userMetadata: { kind: 'mp' } });
    assert.equal(upload.key, 'big/object');
    const parts = [pseudoRandomBytes(5 * MiB, 11), pseudoRandomBytes(5 * MiB, 12), pseudoRandomBytes(1234, 13)];
    await store.uploadPart('mpu', 'big/object', upload.uploadId, 1, bodyOf('will be replaced'));
    const infos = await Promise.all(parts.map((p, i) => store.uploadPart('mpu', 'big/object', upload.uploadId, i + 1, bodyOf(p))));
    infos.forEach((info, i) => {
      assert.equal(info.etag, etagOf(parts[i]!));
      assert.equal(info.size, parts[i]!.length);
    });
    const page1 = await store.listParts('mpu', 'big/object', upload.uploadId, { maxParts: 2 });
    assert.deepEqual(page1.parts.map((p) => p.partNumber), [1, 2]);
    assert.equal(page1.isTruncated, true);
    assert.equal(page1.nextPartNumberMarker, 2);
    assert.equal(page1.parts[0]?.size, 5 * MiB);
    const page2 = await store.listParts('mpu', 'big/object', upload.uploadId, { maxParts: 2, partNumberMarker: 2 });
    assert.deepEqual(page2.parts.map((p) => p.partNumber), [3]);
    assert.equal(page2.isTruncated, false);

    const done = await store.completeMultipartUpload('mpu', 'big/object', upload.uploadId, infos.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
    const md5s = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
    assert.equal(done.etag, `"${createHash('md5').update(md5s).digest('hex')}-3"`);
    assert.match(done.etag, /^"[0-9a-f]{32}-3"$/);
    const whole = Buffer.concat(parts);
    const head = await store.headObject('mpu', 'big/object');
    assert.equal(head.size, whole.length);
    assert.equal(head.partsCount, 3);
    assert.equal(head.contentType, 'video/mp4');
    assert.deepEqual(head.userMetadata, { kind: 'mp' });
    assert.ok((await readAll((await store.getObject('mpu', 'big/object')).body)).equals(whole));
    const across = await store.getObject('mpu', 'big/object', { start: 5 * MiB - 10, end: 5 * MiB + 9 });
    assert.ok((await readAll(across.body)).equals(whole.subarray(5 * MiB - 10, 5 * MiB + 10)));
    await rejectsWith(store.listParts('mpu', 'big/object', upload.uploadId, { maxParts: 10 }), 'NoSuchUpload');

    const copy = await store.copyObject('mpu', 'big/object', 'mpu', 'copy', { metadataDirective: 'COPY' });
    assert.equal(copy.etag, etagOf(whole));
    assert.equal(copy.partsCount, undefined);
    await store.deleteObject('mpu', 'big/object');
    await store.deleteObject('mpu', 'copy');
    await store.deleteBucket('mpu');
  });

  void it('completes a single small part and accepts unquoted etags', async () => {
    const store = get();
    await store.createBucket('mpu');
    const upload = await store.createMultipartUpload('mpu', 'one');
    const part = await store.uploadPart('mpu', 'one', upload.uploadId, 7, bodyOf('tiny'));
    const done = await store.completeMultipartUpload('mpu', 'one', upload.uploadId, [{ partNumber: 7, etag: part.etag.replaceAll('"', '') }]);
    assert.match(done.etag, /^"[0-9a-f]{32}-1"$/);
    assert.equal((await readAll((await store.getObject('mpu', 'one')).body)).toString(), 'tiny');
    assert.equal((await store.headObject('mpu', 'one')).contentType, 'binary/octet-stream');
  });

  void it('rejects invalid completions and unknown uploads', async () => {
    const store = get();
    await store.createBucket('mpu');
    const upload = await store.createMultipartUpload('mpu', 'k');
    const id = upload.uploadId;
    const big = await store.uploadPart('mpu', 'k', id, 1, bodyOf(pseudoRandomBytes(5 * MiB, 5)));
    const small = await store.uploadPart('mpu', 'k', id, 2, bodyOf('small'));
    const last = await store.uploadPart('mpu', 'k', id, 3, bodyOf('last'));
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 2, etag: small.etag }, { partNumber: 1, etag: big.etag }]), 'InvalidPartOrder');
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 1, etag: big.etag }, { partNumber: 1, etag: big.etag }]), 'InvalidPartOrder');
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 1, etag: small.etag }]), 'InvalidPart');
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 1, etag: big.etag }, { partNumber: 4, etag: last.etag }]), 'InvalidPart');
    await rejectsWith(
      store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 2, etag: small.etag }, { partNumber: 3, etag: last.etag }]),
      'EntityTooSmall',
    );
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', id, []), 'InvalidRequest', 'MalformedXML');
    for (const n of [0, 10001, 1.5]) await rejectsWith(store.uploadPart('mpu', 'k', id, n, bodyOf('x')), 'InvalidArgument');
    await rejectsWith(store.uploadPart('mpu', 'other-key', id, 1, bodyOf('x')), 'NoSuchUpload');
    await assert.rejects(store.uploadPart('mpu', 'k', id, 4, failingBody(Buffer.from('part'), new Error('bad chunk'))));
    assert.deepEqual((await store.listParts('mpu', 'k', id, { maxParts: 100 })).parts.map((p) => p.partNumber), [1, 2, 3]);
    await rejectsWith(store.headObject('mpu', 'k'), 'NoSuchKey');
    // The upload survives failed completions.
    await store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 1, etag: big.etag }, { partNumber: 3, etag: last.etag }]);
    assert.equal((await store.headObject('mpu', 'k')).size, 5 * MiB + 4);

    const unknown = 'does-not-exist';
    await rejectsWith(store.uploadPart('mpu', 'k', unknown, 1, bodyOf('x')), 'NoSuchUpload');
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', unknown, [{ partNumber: 1, etag: big.etag }]), 'NoSuchUpload');
    await rejectsWith(store.abortMultipartUpload('mpu', 'k', unknown), 'NoSuchUpload');
    await rejectsWith(store.listParts('mpu', 'k', unknown, { maxParts: 10 }), 'NoSuchUpload');
    await rejectsWith(store.completeMultipartUpload('mpu', 'k', id, [{ partNumber: 1, etag: big.etag }]), 'NoSuchUpload');
  });

  void it('aborts uploads', async () => {
    const store = get();
    await store.createBucket('mpu');
    const upload = await store.createMultipartUpload('mpu', 'k');
    await store.uploadPart('mpu', 'k', upload.uploadId, 1, bodyOf('data'));
    await store.abortMultipartUpload('mpu', 'k', upload.uploadId);
    await rejectsWith(store.listParts('mpu', 'k', upload.uploadId, { maxParts: 10 }), 'NoSuchUpload');
    await rejectsWith(store.uploadPart('mpu', 'k', upload.uploadId, 2, bodyOf('late')), 'NoSuchUpload');
    await rejectsWith(store.headObject('mpu', 'k'), 'NoSuchKey');
    await store.deleteBucket('mpu');
  });
}
