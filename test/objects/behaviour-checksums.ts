/**
 * The multipart-checksum part of the ObjectStore behaviour suite (registered by behaviour.ts):
 * an upload's checksum algorithm and type, the checksum each part records, the rules of
 * CompleteMultipartUpload for such uploads and the checksum the object ends up with. Checksum
 * values are the true ones of the bytes (as the S3 front hands over only verified checksums): a
 * store may record them (local) or compute them itself (an S3 backend), and both must agree.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ObjectStore, PartInfo, UploadInfo } from '../../src/objects/index.js';
import { bodyOf, crc32Of, MiB, pseudoRandomBytes, readAll, rejectsWith } from './helpers.js';
import { it } from './suite.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('base64');

/** S3's COMPOSITE SHA-256: the SHA-256 of the concatenated binary part checksums, then `-N`. */
const compositeSha256 = (parts: readonly PartInfo[]): string =>
  `${createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p.checksum ?? '', 'base64')))).digest('base64')}-${parts.length}`;

/** Registers the multipart checksum tests; `get` returns the current test's store. */
export function registerMultipartChecksumTests(get: () => ObjectStore): void {
  void it('an upload records its checksum algorithm and type; invalid combinations are InvalidRequest', async () => {
    const store = get();
    await store.createBucket('mpc');
    const sha = await store.createMultipartUpload('mpc', 'a', { checksumAlgorithm: 'SHA256' });
    assert.equal(sha.checksumAlgorithm, 'SHA256');
    assert.equal(sha.checksumType, 'COMPOSITE');
    const crc64 = await store.createMultipartUpload('mpc', 'b', { checksumAlgorithm: 'CRC64NVME' });
    assert.equal(crc64.checksumType, 'FULL_OBJECT');
    const crc32 = await store.createMultipartUpload('mpc', 'c', { checksumAlgorithm: 'CRC32', checksumType: 'FULL_OBJECT' });
    assert.equal(crc32.checksumType, 'FULL_OBJECT');
    const plain = await store.createMultipartUpload('mpc', 'd');
    assert.equal(plain.checksumAlgorithm, undefined);
    assert.equal(plain.checksumType, undefined);
    assert.equal((await store.listParts('mpc', 'a', sha.uploadId, { maxParts: 0 })).upload.checksumAlgorithm, 'SHA256');
    assert.equal((await store.listParts('mpc', 'b', crc64.uploadId, { maxParts: 0 })).upload.checksumType, 'FULL_OBJECT');
    await rejectsWith(store.createMultipartUpload('mpc', 'e', { checksumAlgorithm: 'SHA1', checksumType: 'FULL_OBJECT' }), 'InvalidRequest');
    await rejectsWith(store.createMultipartUpload('mpc', 'e', { checksumAlgorithm: 'CRC64NVME', checksumType: 'COMPOSITE' }), 'InvalidRequest');
    await rejectsWith(store.createMultipartUpload('mpc', 'e', { checksumType: 'COMPOSITE' }), 'InvalidRequest');
    for (const u of [sha, crc64, crc32, plain]) await store.abortMultipartUpload('mpc', u.key, u.uploadId);
    await store.deleteBucket('mpc');
  });

  void it('a part records its checksum under the upload algorithm; a part without it is refused and not stored', async () => {
    const store = get();
    await store.createBucket('mpc');
    const upload = await store.createMultipartUpload('mpc', 'k', { checksumAlgorithm: 'SHA256' });
    await rejectsWith(store.uploadPart('mpc', 'k', upload.uploadId, 1, bodyOf('no checksum')), 'InvalidRequest');
    await rejectsWith(store.uploadPart('mpc', 'k', upload.uploadId, 1, bodyOf('other algorithm'), { checksums: { CRC32: 'AAAAAA==' } }), 'InvalidRequest');
    assert.deepEqual((await store.listParts('mpc', 'k', upload.uploadId, { maxParts: 10 })).parts, []);
    const first = await store.uploadPart('mpc', 'k', upload.uploadId, 1, bodyOf('first'), { checksums: () => ({ SHA256: sha256('first') }) });
    assert.equal(first.checksum, sha256('first'));
    const again = await store.uploadPart('mpc', 'k', upload.uploadId, 1, bodyOf('again'), { checksums: { SHA256: sha256('again'), CRC32: 'AAAAAA==' } });
    assert.equal(again.checksum, sha256('again'));
    const listed = await store.listParts('mpc', 'k', upload.uploadId, { maxParts: 10 });
    assert.deepEqual(listed.parts.map((p) => [p.partNumber, p.checksum]), [[1, sha256('again')]]);
    const plain = await store.createMultipartUpload('mpc', 'plain');
    const part = await store.uploadPart('mpc', 'plain', plain.uploadId, 1, bodyOf('x'), { checksums: { SHA256: sha256('x') } });
    assert.equal(part.checksum, undefined, 'an upload without an algorithm records no part checksum');
    await store.abortMultipartUpload('mpc', 'k', upload.uploadId);
    await store.abortMultipartUpload('mpc', 'plain', plain.uploadId);
    await store.deleteBucket('mpc');
  });

  void it('completing a COMPOSITE upload checks the listed part checksums and stores the object checksum', async () => {
    const store = get();
    await store.createBucket('mpc');
    const upload = await store.createMultipartUpload('mpc', 'obj', { checksumAlgorithm: 'SHA256', contentType: 'text/x-mp' });
    const bodies = [pseudoRandomBytes(5 * MiB, 1), pseudoRandomBytes(777, 2)];
    const parts = await Promise.all(bodies.map((b, i) => store.uploadPart('mpc', 'obj', upload.uploadId, i + 1, bodyOf(b), { checksums: { SHA256: sha256(b) } })));
    const listed = parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, checksums: { SHA256: p.checksum ?? '' } }));
    const seen: { upload: UploadInfo; parts: readonly PartInfo[] }[] = [];
    const objectChecksum = (u: UploadInfo, ps: readonly PartInfo[]): string => {
      seen.push({ upload: u, parts: ps });
      return compositeSha256(ps);
    };
    const composite = `${createHash('sha256').update(Buffer.concat(bodies.map((b) => createHash('sha256').update(b).digest()))).digest('base64')}-2`;

    await rejectsWith(store.completeMultipartUpload('mpc', 'obj', upload.uploadId, listed.map(({ partNumber, etag }) => ({ partNumber, etag })), { objectChecksum }), 'InvalidRequest');
    const wrong = [listed[0]!, { ...listed[1]!, checksums: { SHA256: sha256('not it') } }];
    await rejectsWith(store.completeMultipartUpload('mpc', 'obj', upload.uploadId, wrong, { objectChecksum }), 'InvalidPart');
    const otherAlg = [listed[0]!, { ...listed[1]!, checksums: { SHA256: listed[1]!.checksums.SHA256, CRC32: 'AAAAAA==' } }];
    await rejectsWith(store.completeMultipartUpload('mpc', 'obj', upload.uploadId, otherAlg, { objectChecksum }), 'InvalidPart');
    const failing = (): string => {
      throw new Error('refused by the caller');
    };
    await assert.rejects(store.completeMultipartUpload('mpc', 'obj', upload.uploadId, listed, { objectChecksum: failing }), /refused by the caller/);
    await rejectsWith(store.headObject('mpc', 'obj'), 'NoSuchKey');
    assert.equal(seen.length, 0);

    const done = await store.completeMultipartUpload('mpc', 'obj', upload.uploadId, listed, { objectChecksum });
    assert.deepEqual(done.checksums, { SHA256: composite });
    assert.equal(done.checksumType, 'COMPOSITE');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.upload.checksumAlgorithm, 'SHA256');
    assert.deepEqual(seen[0]!.parts.map((p) => [p.partNumber, p.size, p.checksum]), bodies.map((b, i) => [i + 1, b.length, sha256(b)]));
    const head = await store.headObject('mpc', 'obj');
    assert.deepEqual(head.checksums, { SHA256: composite });
    assert.equal(head.checksumType, 'COMPOSITE');
    assert.equal(head.contentType, 'text/x-mp');
    assert.ok((await readAll((await store.getObject('mpc', 'obj')).body)).equals(Buffer.concat(bodies)));
    await store.deleteObject('mpc', 'obj');
    await store.deleteBucket('mpc');
  });

  void it('an upload with an algorithm must list parts 1, 2, 3, …; FULL_OBJECT needs no listed part checksums', async () => {
    const store = get();
    await store.createBucket('mpc');
    const upload = await store.createMultipartUpload('mpc', 'full', { checksumAlgorithm: 'CRC32', checksumType: 'FULL_OBJECT' });
    const bodies = [pseudoRandomBytes(5 * MiB, 3), pseudoRandomBytes(5 * MiB, 4), Buffer.from('tail')] as const;
    const a = await store.uploadPart('mpc', 'full', upload.uploadId, 1, bodyOf(bodies[0]), { checksums: { CRC32: crc32Of(bodies[0]) } });
    const c = await store.uploadPart('mpc', 'full', upload.uploadId, 3, bodyOf(bodies[2]), { checksums: { CRC32: crc32Of(bodies[2]) } });
    const whole = crc32Of(Buffer.concat(bodies));
    const objectChecksum = (_u: UploadInfo, ps: readonly PartInfo[]): string => (ps.length === 3 ? whole : assert.fail('three parts'));
    await rejectsWith(store.completeMultipartUpload('mpc', 'full', upload.uploadId, [a, c].map((p) => ({ partNumber: p.partNumber, etag: p.etag })), { objectChecksum }), 'InvalidPartOrder');
    const b = await store.uploadPart('mpc', 'full', upload.uploadId, 2, bodyOf(bodies[1]), { checksums: { CRC32: crc32Of(bodies[1]) } });
    const done = await store.completeMultipartUpload('mpc', 'full', upload.uploadId, [a, b, c].map((p) => ({ partNumber: p.partNumber, etag: p.etag })), { objectChecksum });
    assert.deepEqual(done.checksums, { CRC32: whole });
    assert.equal((await store.headObject('mpc', 'full')).checksumType, 'FULL_OBJECT');

    const plain = await store.createMultipartUpload('mpc', 'plain');
    const p2 = await store.uploadPart('mpc', 'plain', plain.uploadId, 2, bodyOf('only'));
    const never = (): string => assert.fail('objectChecksum is not called for an upload without an algorithm');
    const plainDone = await store.completeMultipartUpload('mpc', 'plain', plain.uploadId, [{ partNumber: 2, etag: p2.etag, checksums: { SHA256: sha256('only') } }], { objectChecksum: never });
    assert.deepEqual(plainDone.checksums, {});
    assert.equal(plainDone.checksumType, undefined);
    await store.deleteObject('mpc', 'full');
    await store.deleteObject('mpc', 'plain');
    await store.deleteBucket('mpc');
  });

  void it('part reads of a COMPOSITE object name the part checksum; a repeated completion answers the same checksum', async () => {
    const store = get();
    await store.createBucket('mpc');
    const upload = await store.createMultipartUpload('mpc', 'parts', { checksumAlgorithm: 'SHA256' });
    const bodies = [pseudoRandomBytes(5 * MiB, 5), Buffer.from('second part')];
    const parts = [];
    for (const [i, b] of bodies.entries()) parts.push(await store.uploadPart('mpc', 'parts', upload.uploadId, i + 1, bodyOf(b), { checksums: { SHA256: sha256(b) } }));
    const listed = parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag, checksums: { SHA256: p.checksum ?? '' } }));
    const objectChecksum = (_u: UploadInfo, ps: readonly PartInfo[]): string => compositeSha256(ps);
    const done = await store.completeMultipartUpload('mpc', 'parts', upload.uploadId, listed, { objectChecksum });
    const again = await store.completeMultipartUpload('mpc', 'parts', upload.uploadId, listed, { objectChecksum: () => assert.fail('not recomputed') });
    assert.deepEqual([again.etag, again.checksums, again.checksumType], [done.etag, done.checksums, 'COMPOSITE']);
    assert.match(done.checksums.SHA256 ?? '', /-2$/);
    for (const [i, b] of bodies.entries()) {
      const read = await store.getObject('mpc', 'parts', { partNumber: i + 1 });
      assert.ok((await readAll(read.body)).equals(b));
      assert.deepEqual(read.partChecksums, { SHA256: sha256(b) });
      assert.deepEqual((await store.headObjectPart('mpc', 'parts', { partNumber: i + 1 })).partChecksums, { SHA256: sha256(b) });
    }
    assert.equal((await store.getObject('mpc', 'parts', { start: 0, end: 3 })).partChecksums, undefined, 'a range read names no part');

    const full = await store.createMultipartUpload('mpc', 'full', { checksumAlgorithm: 'CRC32', checksumType: 'FULL_OBJECT' });
    const only = await store.uploadPart('mpc', 'full', full.uploadId, 1, bodyOf('whole'), { checksums: { CRC32: crc32Of(Buffer.from('whole')) } });
    await store.completeMultipartUpload('mpc', 'full', full.uploadId, [{ partNumber: 1, etag: only.etag }], { objectChecksum: () => crc32Of(Buffer.from('whole')) });
    assert.equal((await store.headObjectPart('mpc', 'full', { partNumber: 1 })).partChecksums, undefined, 'a FULL_OBJECT checksum is of the whole object only');
    await store.deleteObject('mpc', 'parts');
    await store.deleteObject('mpc', 'full');
    await store.deleteBucket('mpc');
  });
}
