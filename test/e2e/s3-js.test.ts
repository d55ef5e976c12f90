/** The S3 API with the real JS SDK v3 (@aws-sdk/client-s3, lib-storage, s3-request-presigner), default checksum settings. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startServer, type ServerProcess } from '../helpers/server.js';
import { s3Client } from '../helpers/clients.js';
import { errorName } from '../helpers/errors.js';

let server: ServerProcess;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'js-bucket' }));
});
after(async () => {
  s3?.destroy();
  await server?.stop();
  server?.cleanup();
});

async function bodyOf(key: string, range?: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: 'js-bucket', Key: key, ...(range ? { Range: range } : {}) }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('JS SDK v3 against the embedded store', () => {
  test('buckets: list, head, duplicate create, invalid name', async () => {
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'js-bucket'));
    await s3.send(new HeadBucketCommand({ Bucket: 'js-bucket' }));
    assert.equal(await errorName(s3.send(new CreateBucketCommand({ Bucket: 'js-bucket' }))), 'BucketAlreadyOwnedByYou');
    assert.equal(await errorName(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' }))), 'InvalidBucketName');
    assert.equal(await errorName(s3.send(new HeadBucketCommand({ Bucket: 'missing-bucket' }))), 'NotFound');
  });

  test('put/get/head round trip with metadata, content type and a CRC32 trailer checksum', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'js-bucket', Key: 'dir/a b+c~(d).json', Body: '{"x":1}', ContentType: 'application/json', Metadata: { owner: 'alice', 'trace-id': '42' } }));
    assert.equal(put.ETag, `"${createHash('md5').update('{"x":1}').digest('hex')}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'js-bucket', Key: 'dir/a b+c~(d).json' }));
    assert.equal(head.ContentType, 'application/json');
    assert.equal(head.ContentLength, 7);
    assert.deepEqual(head.Metadata, { owner: 'alice', 'trace-id': '42' });
    assert.equal((await bodyOf('dir/a b+c~(d).json')).toString(), '{"x":1}');
  });

  test('a streamed body of unknown length (aws-chunked with trailer) round-trips', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    await new Upload({ client: s3, params: { Bucket: 'js-bucket', Key: 'stream/small.bin', Body: Readable.from([data.subarray(0, 1000), data.subarray(1000)]) } }).done();
    assert.ok((await bodyOf('stream/small.bin')).equals(data));
  });

  test('lib-storage multipart upload (3 parts) round-trips with an S3-style multipart ETag', async () => {
    const data = randomBytes(12 * 1024 * 1024 + 5);
    const upload = new Upload({ client: s3, partSize: 5 * 1024 * 1024, queueSize: 2, params: { Bucket: 'js-bucket', Key: 'multi/big.bin', Body: Readable.from(chunks(data, 64 * 1024)) } });
    const done = await upload.done();
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-3"$/);
    const got = await bodyOf('multi/big.bin');
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'js-bucket', Key: 'multi/big.bin' }));
    assert.equal(head.ContentLength, data.length);
  });

  test('ranges: bytes=a-b, open-ended, suffix, and an unsatisfiable range', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'js-bucket', Key: 'range.txt', Body: '0123456789' }));
    assert.equal((await bodyOf('range.txt', 'bytes=2-4')).toString(), '234');
    assert.equal((await bodyOf('range.txt', 'bytes=7-')).toString(), '789');
    assert.equal((await bodyOf('range.txt', 'bytes=-3')).toString(), '789');
    assert.equal(await errorName(bodyOf('range.txt', 'bytes=50-60')), 'InvalidRange');
  });

  test('ListObjectsV2 pagination with delimiter, start-after, and v1 markers', async () => {
    const keys = ['p/a', 'p/b/1', 'p/b/2', 'p/c', 'p/d/1', 'p/e'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'js-bucket', Key, Body: Key }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'js-bucket', Prefix: 'p/', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((c) => c.Prefix!));
      assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(seen.sort(), ['p/a', 'p/b/', 'p/c', 'p/d/', 'p/e']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'js-bucket', Prefix: 'p/', StartAfter: 'p/c' }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['p/d/1', 'p/e']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'js-bucket', Prefix: 'p/', Marker: 'p/b/2', MaxKeys: 2 }));
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['p/c', 'p/d/1']);
    assert.equal(v1.IsTruncated, true);
  });

  test('copy, delete, delete-objects', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'js-bucket', Key: 'src.txt', Body: 'copy me', ContentType: 'text/plain', Metadata: { a: '1' } }));
    await s3.send(new CopyObjectCommand({ Bucket: 'js-bucket', Key: 'dst.txt', CopySource: 'js-bucket/src.txt' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'js-bucket', Key: 'dst.txt' }));
    assert.deepEqual(head.Metadata, { a: '1' });
    assert.equal((await bodyOf('dst.txt')).toString(), 'copy me');
    await s3.send(new DeleteObjectCommand({ Bucket: 'js-bucket', Key: 'dst.txt' }));
    assert.equal(await errorName(bodyOf('dst.txt')), 'NoSuchKey');
    const del = await s3.send(new DeleteObjectsCommand({ Bucket: 'js-bucket', Delete: { Objects: [{ Key: 'src.txt' }, { Key: 'never-existed' }] } }));
    assert.deepEqual(del.Deleted?.map((d) => d.Key).sort(), ['never-existed', 'src.txt']);
    assert.equal(await errorName(s3.send(new HeadObjectCommand({ Bucket: 'js-bucket', Key: 'src.txt' }))), 'NotFound');
  });

  test('presigned GET and PUT via fetch; an expired presigned URL is 403 and writes nothing', async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'js-bucket', Key: 'presigned.txt' }), { expiresIn: 60 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'via presign' });
    assert.equal(put.status, 200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'js-bucket', Key: 'presigned.txt' }), { expiresIn: 60 });
    assert.equal(await (await fetch(getUrl)).text(), 'via presign');
    const expiredUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'js-bucket', Key: 'expired.txt' }), { expiresIn: 1, signingDate: new Date(Date.now() - 10_000) });
    const expired = await fetch(expiredUrl, { method: 'PUT', body: 'late' });
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /<Code>AccessDenied<\/Code>/);
    assert.equal(await errorName(s3.send(new HeadObjectCommand({ Bucket: 'js-bucket', Key: 'expired.txt' }))), 'NotFound');
  });

  test('bucket deletion: not empty, then empty', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'js-tmp' }));
    await s3.send(new PutObjectCommand({ Bucket: 'js-tmp', Key: 'k', Body: 'v' }));
    assert.equal(await errorName(s3.send(new DeleteBucketCommand({ Bucket: 'js-tmp' }))), 'BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'js-tmp', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'js-tmp' }));
    assert.equal(await errorName(s3.send(new PutObjectCommand({ Bucket: 'js-tmp', Key: 'k', Body: 'v' }))), 'NoSuchBucket');
  });
});

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
