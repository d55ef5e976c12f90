/**
 * S3 fidelity where its two halves meet, with the real JS SDK v3 against the built server: part
 * reads (`?partNumber=N`) of a COMPOSITE-checksummed multipart object name the part's own checksum
 * (and the SDK validates the bytes against it), a repeated CompleteMultipartUpload that carries
 * checksum headers answers the same object, ListMultipartUploads names each upload's checksum
 * algorithm and type, and a conditional Complete of a checksummed upload leaves it open on 412.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand,
  ListMultipartUploadsCommand, ListPartsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { Crc32 } from '@aws-sdk/checksums/crc';
import { s3Client } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const MiB = 1024 * 1024;
const BUCKET = 'combined';
let server: ServerProcess;
let s3: S3Client;

before(async () => {
  server = await startServer();
  s3 = s3Client(server.url);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
after(async () => {
  s3?.destroy();
  await server?.stop();
  server?.cleanup();
});

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('base64');

async function crc32(data: Buffer): Promise<string> {
  const h = new Crc32();
  h.update(data);
  return Buffer.from(await h.digest()).toString('base64');
}

/** The error name and HTTP status a call fails with. */
async function failure(p: Promise<unknown>): Promise<[string, number]> {
  try {
    await p;
  } catch (err) {
    const e = err as Error & { $metadata?: { httpStatusCode?: number } };
    return [e.name, e.$metadata?.httpStatusCode ?? 0];
  }
  return ['no error', 0];
}

describe('multipart checksums with part reads and repeated completion', () => {
  test('GET/HEAD ?partNumber with ChecksumMode answer the part checksum; a repeated Complete with checksum headers answers the same object', async () => {
    const key = 'composite/parts';
    const bodies = [randomBytes(5 * MiB), randomBytes(4321)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'SHA256' }));
    const parts = [];
    for (const [i, Body] of bodies.entries()) {
      const up = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'SHA256' }));
      assert.equal(up.ChecksumSHA256, sha256(Body));
      parts.push({ PartNumber: i + 1, ETag: up.ETag, ChecksumSHA256: up.ChecksumSHA256 });
    }
    const composite = createHash('sha256').update(Buffer.concat(bodies.map((b) => createHash('sha256').update(b).digest()))).digest('base64');
    const completion = {
      Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts },
      ChecksumType: 'COMPOSITE' as const, ChecksumSHA256: `${composite}-2`, MpuObjectSize: bodies[0]!.length + bodies[1]!.length,
    };
    const done = await s3.send(new CompleteMultipartUploadCommand(completion));
    assert.deepEqual([done.ChecksumSHA256, done.ChecksumType], [`${composite}-2`, 'COMPOSITE']);
    const again = await s3.send(new CompleteMultipartUploadCommand(completion));
    assert.deepEqual([again.$metadata.httpStatusCode, again.ETag, again.ChecksumSHA256], [200, done.ETag, `${composite}-2`]);

    for (const [i, body] of bodies.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
      assert.equal(got.ChecksumSHA256, sha256(body), `part ${i + 1}'s own checksum`);
      assert.equal(got.PartsCount, 2);
      // The SDK checks the streamed bytes against the checksum header (it is not composite).
      assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(body));
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: i + 1, ChecksumMode: 'ENABLED' }));
      assert.deepEqual([head.$metadata.httpStatusCode, head.ChecksumSHA256, head.ContentLength], [206, sha256(body), body.length]);
    }
    const whole = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));
    assert.deepEqual([whole.ChecksumSHA256, whole.ChecksumType], [`${composite}-2`, 'COMPOSITE']);
    const unasked = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 1 }));
    assert.equal(unasked.ChecksumSHA256, undefined, 'no checksum without ChecksumMode');
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  });

  test('ListMultipartUploads names checksum algorithm and type; If-None-Match on Complete leaves a checksummed upload open', async () => {
    const key = 'full/taken';
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'already here' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }));
    const plain = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'full/plain' }));
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'full/' }));
    assert.deepEqual(listed.Uploads?.map((u) => [u.Key, u.ChecksumAlgorithm, u.ChecksumType]), [['full/plain', undefined, undefined], [key, 'CRC32', 'FULL_OBJECT']]);

    const data = randomBytes(3 * MiB);
    const up = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: data, ChecksumAlgorithm: 'CRC32' }));
    const Parts = [{ PartNumber: 1, ETag: up.ETag }];
    const refused = s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts }, IfNoneMatch: '*' }));
    assert.deepEqual(await failure(refused), ['PreconditionFailed', 412]);
    const still = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key: key, UploadId }));
    assert.deepEqual(still.Parts?.map((p) => [p.PartNumber, p.ChecksumCRC32]), [[1, await crc32(data)]]);

    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts } }));
    assert.deepEqual([done.ChecksumCRC32, done.ChecksumType], [await crc32(data), 'FULL_OBJECT']);
    const part = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, PartNumber: 1, ChecksumMode: 'ENABLED' }));
    assert.equal(part.ChecksumCRC32, undefined, 'a FULL_OBJECT checksum describes the whole object, not a part');
    assert.equal(part.ContentLength, data.length);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'full/plain', UploadId: plain.UploadId }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  });
});
