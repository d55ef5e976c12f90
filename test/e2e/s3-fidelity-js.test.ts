/**
 * S3 fidelity with the real JS SDK v3 (@aws-sdk/client-s3, lib-storage) against the built server:
 * lib-storage Upload with ChecksumAlgorithm (composite and full-object checksums, compared with
 * the SDK's own CRC implementations), UploadPartCopyCommand, the ListBuckets paginator, FetchOwner, and
 * virtual-hosted–style requests from an unmodified client (forcePathStyle: false).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns';
import { Agent } from 'node:http';
import type { LookupFunction } from 'node:net';
import {
  ChecksumAlgorithm, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand, DeleteObjectCommand,
  GetBucketAclCommand, GetBucketVersioningCommand, GetObjectAclCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketTaggingCommand, ListPartsCommand, paginateListBuckets, PutObjectCommand, S3Client, UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { Upload } from '@aws-sdk/lib-storage';
import { DEV, REGION, s3Client } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const MiB = 1024 * 1024;
let server: ServerProcess;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: 'jsfid' }));
});
after(async () => {
  s3?.destroy();
  await server?.stop();
  server?.cleanup();
});

async function sdkCrc(kind: 'CRC32' | 'CRC32C' | 'CRC64NVME', data: Uint8Array): Promise<string> {
  const h = kind === 'CRC32' ? new Crc32() : kind === 'CRC32C' ? new Crc32c() : new Crc64Nvme();
  h.update(data);
  return Buffer.from(await h.digest()).toString('base64');
}

async function readBody(key: string, bucket = 'jsfid'): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function errorOf(p: Promise<unknown>): Promise<[string, number | undefined]> {
  try {
    await p;
  } catch (err) {
    return [(err as Error).name, (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode];
  }
  return ['no error', undefined];
}

describe('JS SDK: lib-storage Upload with ChecksumAlgorithm', () => {
  for (const alg of ['SHA256', 'CRC32C', 'CRC64NVME'] as const) {
    test(`ChecksumAlgorithm ${alg}: the object's checksum on HEAD (computed here with the SDK's own CRCs), the bytes on GET with ChecksumMode`, async () => {
      const data = randomBytes(11 * MiB + 7);
      const key = `upload/${alg}`;
      await new Upload({ client: s3, params: { Bucket: 'jsfid', Key: key, Body: data, ChecksumAlgorithm: alg }, partSize: 5 * MiB, queueSize: 2 }).done();
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'jsfid', Key: key, ChecksumMode: 'ENABLED' }));
      const value = head[`Checksum${alg}`];
      if (alg === 'CRC64NVME') {
        assert.equal(head.ChecksumType, 'FULL_OBJECT', 'CRC64NVME uploads are full-object by default');
        assert.equal(value, await sdkCrc('CRC64NVME', data));
      } else {
        assert.equal(head.ChecksumType, 'COMPOSITE');
        const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
        const raw = await Promise.all(parts.map(async (p) => Buffer.from(alg === 'SHA256' ? createHash('sha256').update(p).digest() : Buffer.from(await sdkCrc('CRC32C', p), 'base64'))));
        const composite = alg === 'SHA256' ? createHash('sha256').update(Buffer.concat(raw)).digest('base64') : await sdkCrc('CRC32C', Buffer.concat(raw));
        assert.equal(value, `${composite}-3`);
      }
      assert.ok((await readBody(key)).equals(data));
    });
  }

  test('default settings: lib-storage asks for CRC32 and gets a composite CRC32', async () => {
    const data = randomBytes(6 * MiB);
    await new Upload({ client: s3, params: { Bucket: 'jsfid', Key: 'upload/default', Body: data }, partSize: 5 * MiB }).done();
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'jsfid', Key: 'upload/default', ChecksumMode: 'ENABLED' }));
    assert.match(head.ChecksumCRC32 ?? '', /^[A-Za-z0-9+/]{6}==-2$/);
    assert.equal(head.ChecksumType, 'COMPOSITE');
  });
});

describe('JS SDK: UploadPartCopyCommand', () => {
  test('range copies into a CRC32 FULL_OBJECT upload: CopyPartResult checksums, ListParts, the combined CRC on Complete', async () => {
    const data = randomBytes(10 * MiB + 99);
    const src = await s3.send(new PutObjectCommand({ Bucket: 'jsfid', Key: 'copy/src', Body: data }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'jsfid', Key: 'copy/dst', ChecksumAlgorithm: ChecksumAlgorithm.CRC32, ChecksumType: 'FULL_OBJECT' }));
    assert.equal(created.ChecksumAlgorithm, 'CRC32');
    assert.equal(created.ChecksumType, 'FULL_OBJECT');
    const ranges = [[0, 5 * MiB - 1], [5 * MiB, data.length - 1]] as const;
    const parts = [];
    for (const [i, [a, b]] of ranges.entries()) {
      const out = await s3.send(new UploadPartCopyCommand({
        Bucket: 'jsfid', Key: 'copy/dst', UploadId: created.UploadId, PartNumber: i + 1,
        CopySource: 'jsfid/copy/src', CopySourceRange: `bytes=${a}-${b}`, CopySourceIfMatch: src.ETag,
      }));
      assert.equal(out.CopyPartResult?.ChecksumCRC32, await sdkCrc('CRC32', data.subarray(a, b + 1)));
      parts.push({ PartNumber: i + 1, ETag: out.CopyPartResult?.ETag });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'jsfid', Key: 'copy/dst', UploadId: created.UploadId }));
    assert.equal(listed.ChecksumAlgorithm, 'CRC32');
    assert.equal(listed.ChecksumType, 'FULL_OBJECT');
    assert.deepEqual(listed.Parts?.map((p) => p.Size), [5 * MiB, data.length - 5 * MiB]);
    assert.deepEqual(await errorOf(s3.send(new UploadPartCopyCommand({
      Bucket: 'jsfid', Key: 'copy/dst', UploadId: created.UploadId, PartNumber: 3, CopySource: 'jsfid/copy/src', CopySourceIfNoneMatch: src.ETag,
    }))), ['PreconditionFailed', 412]);
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'jsfid', Key: 'copy/dst', UploadId: created.UploadId, MultipartUpload: { Parts: parts }, ChecksumType: 'FULL_OBJECT', MpuObjectSize: data.length }));
    assert.equal(done.ChecksumCRC32, await sdkCrc('CRC32', data), 'the full-object CRC32 combined from the part CRCs');
    assert.equal(done.ChecksumType, 'FULL_OBJECT');
    assert.ok((await readBody('copy/dst')).equals(data));
  });

  test('a wrong x-amz-mp-object-size is InvalidRequest and nothing is written', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'jsfid', Key: 'copy/size-src', Body: randomBytes(1000) }));
    const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'jsfid', Key: 'copy/size', ChecksumAlgorithm: ChecksumAlgorithm.CRC32C }));
    const part = await s3.send(new UploadPartCopyCommand({ Bucket: 'jsfid', Key: 'copy/size', UploadId: created.UploadId, PartNumber: 1, CopySource: 'jsfid/copy/size-src', CopySourceRange: 'bytes=0-9' }));
    const parts = [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag, ChecksumCRC32C: part.CopyPartResult?.ChecksumCRC32C }];
    assert.deepEqual(await errorOf(s3.send(new CompleteMultipartUploadCommand({ Bucket: 'jsfid', Key: 'copy/size', UploadId: created.UploadId, MultipartUpload: { Parts: parts }, MpuObjectSize: 11 }))), ['InvalidRequest', 400]);
    assert.deepEqual(await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'jsfid', Key: 'copy/size' }))), ['NotFound', 404]);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'jsfid', Key: 'copy/size', UploadId: created.UploadId, MultipartUpload: { Parts: parts }, MpuObjectSize: 10 }));
    assert.equal((await readBody('copy/size')).length, 10);
  });
});

describe('JS SDK: listings', () => {
  test('paginateListBuckets with MaxBuckets and Prefix follows ContinuationToken', async () => {
    for (let i = 0; i < 5; i++) await s3.send(new CreateBucketCommand({ Bucket: `jslb-${i}` }));
    const pages: string[][] = [];
    for await (const page of paginateListBuckets({ client: s3, pageSize: 2 }, { Prefix: 'jslb-' })) pages.push((page.Buckets ?? []).map((b) => b.Name ?? ''));
    assert.deepEqual(pages, [['jslb-0', 'jslb-1'], ['jslb-2', 'jslb-3'], ['jslb-4']]);
    for (let i = 0; i < 5; i++) await s3.send(new DeleteBucketCommand({ Bucket: `jslb-${i}` }));
  });

  test('ListObjectsV2 FetchOwner', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'jsfid', Key: 'owned', Body: 'x' }));
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: 'jsfid', Prefix: 'owned' }));
    const owned = await s3.send(new ListObjectsV2Command({ Bucket: 'jsfid', Prefix: 'owned', FetchOwner: true }));
    assert.equal(plain.Contents?.[0]?.Owner, undefined);
    assert.deepEqual(owned.Contents?.[0]?.Owner, { ID: 'inferq', DisplayName: 'inferq' });
  });
});

describe('JS SDK: settings inferq has one answer for', () => {
  test('GetBucketVersioning is never enabled; GetBucketAcl and GetObjectAcl give the owner FULL_CONTROL; missing targets are 404', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'jsfid', Key: 'acl-target', Body: 'x' }));
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: 'jsfid' }));
    assert.deepEqual([versioning.Status, versioning.MFADelete], [undefined, undefined]);
    const owner = { ID: 'inferq', DisplayName: 'inferq' };
    const grants = [{ Grantee: { ...owner, Type: 'CanonicalUser' }, Permission: 'FULL_CONTROL' }];
    const bucketAcl = await s3.send(new GetBucketAclCommand({ Bucket: 'jsfid' }));
    assert.deepEqual([bucketAcl.Owner, bucketAcl.Grants], [owner, grants]);
    const objectAcl = await s3.send(new GetObjectAclCommand({ Bucket: 'jsfid', Key: 'acl-target' }));
    assert.deepEqual([objectAcl.Owner, objectAcl.Grants], [owner, grants]);
    assert.deepEqual(await errorOf(s3.send(new GetObjectAclCommand({ Bucket: 'jsfid', Key: 'acl-missing' }))), ['NoSuchKey', 404]);
    assert.deepEqual(await errorOf(s3.send(new GetBucketAclCommand({ Bucket: 'jsfid-missing' }))), ['NoSuchBucket', 404]);
  });

  test('a sub-resource inferq does not serve is 400 NotImplemented (never a 5xx), and changes nothing', async () => {
    const tagging = s3.send(new PutBucketTaggingCommand({ Bucket: 'jsfid', Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }));
    assert.deepEqual(await errorOf(tagging), ['NotImplemented', 400]);
  });
});

describe('JS SDK: virtual-hosted–style requests', () => {
  test('forcePathStyle false against http://localhost:<port>: the bucket travels in the Host header', async () => {
    // <bucket>.localhost does not resolve on this glibc host: the client's agent resolves it to
    // 127.0.0.1, as an /etc/hosts line would. Everything else is the unmodified SDK.
    const resolveLocal = ((hostname: string, options: object, callback: never) =>
      lookup(hostname.endsWith('.localhost') ? '127.0.0.1' : hostname, options, callback)) as unknown as LookupFunction;
    const agent = new Agent({ keepAlive: true, lookup: resolveLocal });
    const client = new S3Client({ endpoint: `http://localhost:${server.port}`, region: REGION, credentials: DEV, forcePathStyle: false, maxAttempts: 1, requestHandler: { httpAgent: agent } });
    const hosts = new Set<string>();
    client.middlewareStack.add((next) => async (args) => {
      const request = args.request as { hostname?: string; port?: number };
      hosts.add(`${request.hostname}:${request.port}`);
      return next(args);
    }, { step: 'finalizeRequest', name: 'recordHost' });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'js-vhost' }));
      await client.send(new PutObjectCommand({ Bucket: 'js-vhost', Key: 'dir/ü b.txt', Body: 'hosted' }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'js-vhost', Key: 'dir/ü b.txt' }));
      assert.equal(await got.Body?.transformToString(), 'hosted');
      const data = randomBytes(6 * MiB);
      await new Upload({ client, params: { Bucket: 'js-vhost', Key: 'big', Body: data }, partSize: 5 * MiB }).done();
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'js-vhost' }));
      assert.deepEqual(listed.Contents?.map((c) => c.Key), ['big', 'dir/ü b.txt']);
      await client.send(new DeleteObjectCommand({ Bucket: 'js-vhost', Key: 'big' }));
      await client.send(new DeleteObjectCommand({ Bucket: 'js-vhost', Key: 'dir/ü b.txt' }));
      await client.send(new DeleteBucketCommand({ Bucket: 'js-vhost' }));
      assert.deepEqual([...hosts], [`js-vhost.localhost:${server.port}`]);
    } finally {
      client.destroy();
      agent.destroy();
    }
  });
});
