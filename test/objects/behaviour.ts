/**
 * Backend-neutral behaviour suite for the ObjectStore port. Every backend (local disk, S3) must
 * pass it; it uses only the port and the error catalogue.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe } from 'node:test';
import type { ObjectStore } from '../../src/objects/index.js';
import { registerMultipartChecksumTests } from './behaviour-checksums.js';
import { registerConditionalWriteTests } from './behaviour-conditional.js';
import { registerMultipartTests } from './behaviour-multipart.js';
import { registerUploadFidelityTests } from './behaviour-uploads.js';
import { it, withSkips, type SuiteSkips } from './suite.js';
import {
  bodyOf,
  byteCompare,
  crc32Of,
  etagOf,
  failingBody,
  listingKeys,
  MiB,
  pseudoRandomBytes,
  readAll,
  referencePage,
  rejectsWith,
  simplify,
} from './helpers.js';

export { bodyOf, readAll, rejectsWith } from './helpers.js';

/** Opens a fresh, empty store and returns a way to dispose of it. */
export type OpenStore = () => Promise<{ store: ObjectStore; cleanup: () => Promise<void> }>;

/**
 * Registers the behaviour suite for one backend. `skips` names tests the backend cannot pass
 * because its server lacks a feature, each with the reason (shown as the skip message).
 */
export function describeObjectStoreBehaviour(name: string, open: OpenStore, skips: SuiteSkips = {}): void {
  void describe(`ObjectStore behaviour: ${name}`, () => withSkips(skips, () => {
    let store: ObjectStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    registerBucketTests(() => store);
    registerObjectTests(() => store);
    registerListingTests(() => store);
    registerMultipartTests(() => store);
    registerConditionalWriteTests(() => store);
    registerUploadFidelityTests(() => store);
    registerMultipartChecksumTests(() => store);
  }));
}

function registerBucketTests(get: () => ObjectStore): void {
  void it('creates, lists, heads and deletes buckets', async () => {
    const store = get();
    await store.createBucket('alpha-1');
    await store.createBucket('beta.bucket');
    assert.equal((await store.headBucket('alpha-1')).name, 'alpha-1');
    const names = (await store.listBuckets()).map((b) => b.name);
    assert.ok(names.includes('alpha-1') && names.includes('beta.bucket'));
    assert.ok((await store.headBucket('beta.bucket')).createdAt instanceof Date);
    await rejectsWith(store.createBucket('alpha-1'), 'BucketAlreadyOwnedByYou');
    await store.deleteBucket('alpha-1');
    const details = await rejectsWith(store.headBucket('alpha-1'), 'NoSuchBucket');
    assert.equal(details.BucketName, 'alpha-1');
    await rejectsWith(store.deleteBucket('alpha-1'), 'NoSuchBucket');
  });

  void it('rejects invalid bucket names', async () => {
    const store = get();
    const bad = ['ab', 'a'.repeat(64), 'Upper', 'under_score', '-start', 'end-', 'dot..dot', '192.168.1.1', 'xn--abc', 'name-s3alias', 'sp ace', '.dot'];
    for (const name of bad) await rejectsWith(store.createBucket(name), 'InvalidBucketName');
    await store.createBucket('a'.repeat(63));
    await store.createBucket('1.2.3');
  });

  void it('refuses to delete a bucket holding objects or uploads', async () => {
    const store = get();
    await store.createBucket('full');
    await store.putObject('full', 'k', bodyOf('x'));
    await rejectsWith(store.deleteBucket('full'), 'BucketNotEmpty');
    await store.deleteObject('full', 'k');
    const upload = await store.createMultipartUpload('full', 'm');
    await rejectsWith(store.deleteBucket('full'), 'BucketNotEmpty');
    await store.abortMultipartUpload('full', 'm', upload.uploadId);
    await store.deleteBucket('full');
  });

  void it('reports NoSuchBucket for object operations on a missing bucket', async () => {
    const store = get();
    await rejectsWith(store.putObject('missing', 'k', bodyOf('x')), 'NoSuchBucket');
    await rejectsWith(store.getObject('missing', 'k'), 'NoSuchBucket');
    await rejectsWith(store.headObject('missing', 'k'), 'NoSuchBucket');
    await rejectsWith(store.deleteObject('missing', 'k'), 'NoSuchBucket');
    await rejectsWith(store.listObjects('missing', { maxKeys: 10 }), 'NoSuchBucket');
    await rejectsWith(store.createMultipartUpload('missing', 'k'), 'NoSuchBucket');
  });
}

function registerObjectTests(get: () => ObjectStore): void {
  void it('round-trips bytes, metadata and content type', async () => {
    const store = get();
    await store.createBucket('data');
    const bytes = pseudoRandomBytes(100_000, 7);
    const before = Date.now();
    const put = await store.putObject('data', 'dir/obj.bin', bodyOf(bytes), {
      contentType: 'application/x-test',
      userMetadata: { owner: 'me', 'x-odd': 'ü' },
      httpHeaders: { 'cache-control': 'no-cache' },
      checksums: { SHA256: createHash('sha256').update(bytes).digest('base64') },
    });
    assert.equal(put.etag, etagOf(bytes));
    assert.equal(put.size, bytes.length);
    const head = await store.headObject('data', 'dir/obj.bin');
    assert.equal(head.etag, etagOf(bytes));
    assert.equal(head.size, bytes.length);
    assert.equal(head.contentType, 'application/x-test');
    assert.deepEqual(head.userMetadata, { owner: 'me', 'x-odd': 'ü' });
    assert.deepEqual(head.httpHeaders, { 'cache-control': 'no-cache' });
    assert.equal(head.checksums.SHA256, createHash('sha256').update(bytes).digest('base64'));
    assert.ok(head.lastModified.getTime() >= Math.floor(before / 1000) * 1000 - 1000);
    assert.equal(head.partsCount, undefined);
    const got = await store.getObject('data', 'dir/obj.bin');
    assert.equal(got.range, undefined);
    assert.equal(got.info.etag, etagOf(bytes));
    assert.ok((await readAll(got.body)).equals(bytes));
    await store.deleteObject('data', 'dir/obj.bin');
    const details = await rejectsWith(store.headObject('data', 'dir/obj.bin'), 'NoSuchKey');
    assert.equal(details.Key, 'dir/obj.bin');
    await rejectsWith(store.getObject('data', 'dir/obj.bin'), 'NoSuchKey');
    await store.deleteObject('data', 'dir/obj.bin');
  });

  void it('defaults content type and stores empty objects', async () => {
    const store = get();
    await store.createBucket('data');
    const info = await store.putObject('data', 'empty', bodyOf(Buffer.alloc(0)));
    assert.equal(info.etag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const head = await store.headObject('data', 'empty');
    assert.equal(head.contentType, 'binary/octet-stream');
    assert.equal(head.size, 0);
    assert.equal((await readAll((await store.getObject('data', 'empty')).body)).length, 0);
  });

  void it('records the checksum of the body, a checksums function called only after the body ended', async () => {
    const store = get();
    await store.createBucket('data');
    let ended = false;
    const body = bodyOf('payload');
    body.on('end', () => (ended = true));
    await store.putObject('data', 'k', body, {
      checksumAlgorithm: 'CRC32',
      checksums: () => {
        assert.ok(ended, 'checksums called before the body ended');
        return { CRC32: crc32Of(Buffer.from('payload')) };
      },
    });
    assert.equal((await store.headObject('data', 'k')).checksums.CRC32, crc32Of(Buffer.from('payload')));
  });

  void it('overwrites content and metadata', async () => {
    const store = get();
    await store.createBucket('data');
    await store.putObject('data', 'k', bodyOf('first version'), { contentType: 'text/plain', userMetadata: { a: '1' } });
    await store.putObject('data', 'k', bodyOf('second'), { userMetadata: { b: '2' } });
    const got = await store.getObject('data', 'k');
    assert.equal((await readAll(got.body)).toString(), 'second');
    assert.equal(got.info.contentType, 'binary/octet-stream');
    assert.deepEqual(got.info.userMetadata, { b: '2' });
    assert.equal(got.info.size, 6);
  });

  void it('serves ranges and rejects unsatisfiable ones', async () => {
    const store = get();
    await store.createBucket('data');
    const bytes = Buffer.from('0123456789');
    await store.putObject('data', 'k', bodyOf(bytes));
    const cases: [Parameters<ObjectStore['getObject']>[2], number, number][] = [
      [{ start: 0, end: 0 }, 0, 0],
      [{ start: 2, end: 5 }, 2, 5],
      [{ start: 7 }, 7, 9],
      [{ start: 8, end: 100 }, 8, 9],
      [{ suffix: 3 }, 7, 9],
      [{ suffix: 10 }, 0, 9],
      [{ suffix: 50 }, 0, 9],
    ];
    for (const [range, start, end] of cases) {
      const got = await store.getObject('data', 'k', range);
      assert.deepEqual(got.range, { start, end }, JSON.stringify(range));
      assert.equal((await readAll(got.body)).toString(), bytes.subarray(start, end + 1).toString());
      assert.equal(got.info.size, 10);
    }
    await rejectsWith(store.getObject('data', 'k', { start: 10 }), 'InvalidRange');
    await rejectsWith(store.getObject('data', 'k', { start: 10, end: 20 }), 'InvalidRange');
    await rejectsWith(store.getObject('data', 'k', { suffix: 0 }), 'InvalidRange');
    await store.putObject('data', 'empty', bodyOf(''));
    await rejectsWith(store.getObject('data', 'empty', { start: 0 }), 'InvalidRange');
    await rejectsWith(store.getObject('data', 'empty', { suffix: 5 }), 'InvalidRange');
  });

  void it('accepts any key S3 allows, up to 1024 bytes', async () => {
    const store = get();
    await store.createBucket('data');
    const keys = ['..', '../x', 'a/../../b', '//', 'a//b', '/leading', '/', ' spaced key ', 'ünïcödé/日本語/\u{1F600}', '.', './a', 'a'.repeat(1024), 'é'.repeat(512)];
    for (const [i, key] of keys.entries()) await store.putObject('data', key, bodyOf(`body ${i}`));
    for (const [i, key] of keys.entries()) {
      assert.equal((await readAll((await store.getObject('data', key)).body)).toString(), `body ${i}`, key);
    }
    const listed = await store.listObjects('data', { maxKeys: 1000 });
    assert.deepEqual(listed.objects.map((o) => o.key), [...keys].sort(byteCompare));
    await rejectsWith(store.putObject('data', 'a'.repeat(1025), bodyOf('x')), 'KeyTooLongError');
    await rejectsWith(store.putObject('data', 'é'.repeat(512) + 'a', bodyOf('x')), 'KeyTooLongError');
    await rejectsWith(store.putObject('data', '', bodyOf('x')), 'InvalidArgument');
  });

  void it('leaves nothing visible when the body fails, keeping the previous version', async () => {
    const store = get();
    await store.createBucket('data');
    await store.putObject('data', 'k', bodyOf('good'));
    const boom = new Error('decoder says no');
    await assert.rejects(store.putObject('data', 'k', failingBody(Buffer.alloc(256 * 1024, 1), boom)), (err) => err === boom);
    assert.equal((await readAll((await store.getObject('data', 'k')).body)).toString(), 'good');
    await assert.rejects(store.putObject('data', 'fresh', failingBody(Buffer.from('partial'), boom)));
    await rejectsWith(store.headObject('data', 'fresh'), 'NoSuchKey');
    assert.deepEqual((await store.listObjects('data', { maxKeys: 10 })).objects.map((o) => o.key), ['k']);
  });

  void it('keeps an open body readable across a concurrent overwrite and delete', async () => {
    const store = get();
    await store.createBucket('data');
    const v1 = pseudoRandomBytes(3 * MiB, 1);
    await store.putObject('data', 'k', bodyOf(v1));
    const first = await store.getObject('data', 'k');
    const ranged = await store.getObject('data', 'k', { start: MiB, end: 2 * MiB - 1 });
    await store.putObject('data', 'k', bodyOf('v2'));
    const afterOverwrite = await store.getObject('data', 'k');
    await store.deleteObject('data', 'k');
    assert.ok((await readAll(first.body)).equals(v1));
    assert.ok((await readAll(ranged.body)).equals(v1.subarray(MiB, 2 * MiB)));
    assert.equal((await readAll(afterOverwrite.body)).toString(), 'v2');
  });

  void it('copies objects with COPY and REPLACE directives', async () => {
    const store = get();
    await store.createBucket('src');
    await store.createBucket('dst');
    const bytes = pseudoRandomBytes(200_000, 3);
    await store.putObject('src', 'a', bodyOf(bytes), { contentType: 'text/x', userMetadata: { m: '1' } });
    const copied = await store.copyObject('src', 'a', 'dst', 'b', { metadataDirective: 'COPY' });
    assert.equal(copied.etag, etagOf(bytes));
    const head = await store.headObject('dst', 'b');
    assert.equal(head.contentType, 'text/x');
    assert.deepEqual(head.userMetadata, { m: '1' });
    assert.ok((await readAll((await store.getObject('dst', 'b')).body)).equals(bytes));
    await store.copyObject('src', 'a', 'dst', 'c', { metadataDirective: 'REPLACE', metadata: { contentType: 'image/png', userMetadata: { n: '2' } } });
    const replaced = await store.headObject('dst', 'c');
    assert.equal(replaced.contentType, 'image/png');
    assert.deepEqual(replaced.userMetadata, { n: '2' });
    await rejectsWith(store.copyObject('src', 'a', 'src', 'a', { metadataDirective: 'COPY' }), 'InvalidRequest');
    await store.copyObject('src', 'a', 'src', 'a', { metadataDirective: 'REPLACE', metadata: { userMetadata: { o: '3' } } });
    assert.deepEqual((await store.headObject('src', 'a')).userMetadata, { o: '3' });
    assert.ok((await readAll((await store.getObject('src', 'a')).body)).equals(bytes));
    await rejectsWith(store.copyObject('src', 'nope', 'dst', 'x', { metadataDirective: 'COPY' }), 'NoSuchKey');
    await rejectsWith(store.copyObject('src', 'a', 'nobucket', 'x', { metadataDirective: 'COPY' }), 'NoSuchBucket');
  });
}

function registerListingTests(get: () => ObjectStore): void {
  const populate = async (store: ObjectStore, keys: readonly string[]): Promise<void> => {
    await store.createBucket('list');
    for (let i = 0; i < keys.length; i += 16) {
      await Promise.all(keys.slice(i, i + 16).map((key) => store.putObject('list', key, bodyOf(key))));
    }
  };

  void it('lists like the reference, page by page, for prefixes and delimiters', async () => {
    const store = get();
    const keys = listingKeys();
    await populate(store, keys);
    const combos: { prefix?: string; delimiter?: string }[] = [
      {},
      { delimiter: '/' },
      { prefix: 'a' },
      { prefix: 'a/', delimiter: '/' },
      { prefix: 'photos/2024/' },
      { prefix: 'é/', delimiter: '/' },
      { delimiter: '//' },
      { prefix: 'a', delimiter: 'b' },
      { prefix: 'nothing-here', delimiter: '/' },
      { delimiter: '0' },
    ];
    for (const combo of combos) {
      for (const maxKeys of [1, 3, 7, 1000]) {
        const all = referencePage(keys, { ...combo, maxKeys: 100_000 });
        const collectedKeys: string[] = [];
        const collectedPrefixes: string[] = [];
        let after: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages < 1000, 'too many pages');
          const page = await store.listObjects('list', { ...combo, maxKeys, ...(after === undefined ? {} : { after }) });
          const expected = referencePage(keys, { ...combo, maxKeys, ...(after === undefined ? {} : { after }) });
          assert.deepEqual(simplify(page), expected, JSON.stringify({ combo, maxKeys, after }));
          assert.ok(page.objects.length + page.commonPrefixes.length <= maxKeys);
          collectedKeys.push(...page.objects.map((o) => o.key));
          collectedPrefixes.push(...page.commonPrefixes);
          if (!page.isTruncated) break;
          after = page.nextAfter;
        }
        assert.deepEqual(collectedKeys, all.keys);
        assert.deepEqual(collectedPrefixes, all.prefixes);
      }
    }
  });

  void it('returns listed objects with their metadata', async () => {
    const store = get();
    await store.createBucket('list');
    await store.putObject('list', 'x', bodyOf('12345'), { contentType: 'text/plain' });
    const [obj] = (await store.listObjects('list', { maxKeys: 10 })).objects;
    assert.equal(obj?.key, 'x');
    assert.equal(obj?.size, 5);
    assert.equal(obj?.etag, etagOf(Buffer.from('12345')));
    assert.equal(obj?.bucket, 'list');
  });

  void it('continues after a rolled-up prefix and honours maxKeys 0', async () => {
    const store = get();
    await populate(store, ['a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'd']);
    const list = (after?: string, maxKeys = 100) =>
      store.listObjects('list', { delimiter: '/', maxKeys, ...(after === undefined ? {} : { after }) }).then(simplify);
    assert.deepEqual(await list(), { keys: ['b', 'd'], prefixes: ['a/', 'c/'], isTruncated: false, nextAfter: undefined });
    assert.deepEqual(await list('a/1'), { keys: ['b', 'd'], prefixes: ['c/'], isTruncated: false, nextAfter: undefined });
    assert.deepEqual(await list('a/'), { keys: ['b', 'd'], prefixes: ['c/'], isTruncated: false, nextAfter: undefined });
    assert.deepEqual(await list('a'), { keys: ['b', 'd'], prefixes: ['a/', 'c/'], isTruncated: false, nextAfter: undefined });
    assert.deepEqual(await list(undefined, 2), { keys: ['b'], prefixes: ['a/'], isTruncated: true, nextAfter: 'b' });
    assert.deepEqual(await list(undefined, 1), { keys: [], prefixes: ['a/'], isTruncated: true, nextAfter: 'a/' });
    assert.deepEqual(await list('c/', 1), { keys: ['d'], prefixes: [], isTruncated: false, nextAfter: undefined });
    assert.deepEqual(await list('d'), { keys: [], prefixes: [], isTruncated: false, nextAfter: undefined });
    assert.deepEqual(simplify(await store.listObjects('list', { maxKeys: 0 })), { keys: [], prefixes: [], isTruncated: false, nextAfter: undefined });
    const inside = simplify(await store.listObjects('list', { prefix: 'a/', delimiter: '/', maxKeys: 10, after: 'a/b/3' }));
    assert.deepEqual(inside, { keys: [], prefixes: [], isTruncated: false, nextAfter: undefined });
  });
}

