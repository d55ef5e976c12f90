/**
 * `objects.backend: s3` end to end: the real `inferq serve` (dist/) with its objects on a
 * moto_server started here. The S3 front on inferq's port serves the backend, so objects written
 * through inferq (boto3, JS SDK) are read directly from moto and objects written to moto are read
 * through inferq; an InvokeEndpointAsync whose input and output live on moto ends with the output
 * object at the documented location on moto; the output and failure buckets exist on moto from
 * the start.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeEndpointAsyncCommand } from '@aws-sdk/client-sagemaker-runtime';
import { Harness, awaitTerminal, splitS3 } from '../helpers/async.js';
import { python, s3Client } from '../helpers/clients.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import type { ServerProcess } from '../helpers/server.js';

const h = new Harness();
let moto: MotoServer | undefined;
let server: ServerProcess;
let direct: S3Client;
let through: S3Client;

const OUT = 's3://moto-results/echo/out';
const ERR = 's3://moto-failures/echo/err';

before(async () => {
  moto = await startMoto();
  server = await h.start(h.config({
    objects: { backend: 's3', s3: { endpoint: moto.url, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'moto', secretAccessKey: 'moto' } },
    endpoints: [{ name: 'echo', model: { builtin: 'echo' }, async: { outputPath: OUT, failurePath: ERR } }],
  }));
  direct = s3Client(moto.url);
  through = s3Client(server.url);
});
after(async () => {
  direct?.destroy();
  through?.destroy();
  await h.cleanup();
  await moto?.stop();
});

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

async function bytesOf(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('objects on moto_server through inferq', () => {
  test('the output and failure buckets are created on the backend at start', async () => {
    for (const uri of [OUT, ERR]) {
      const { bucket } = splitS3(`${uri}/x`);
      const head = await direct.send(new HeadBucketCommand({ Bucket: bucket }));
      assert.equal(head.$metadata.httpStatusCode, 200, bucket);
    }
  });

  test('boto3 writes through inferq, moto has the object; moto writes, boto3 reads it through inferq', async () => {
    const code = `
import boto3, hashlib, json
s3 = boto3.client('s3')
s3.create_bucket(Bucket='shared')
body = bytes(range(256)) * 40000
s3.put_object(Bucket='shared', Key='from/boto3.bin', Body=body, ContentType='application/x-test', Metadata={'who': 'boto3'}, ChecksumAlgorithm='SHA256')
s3.upload_fileobj(__import__('io').BytesIO(body * 3), 'shared', 'from/boto3-multipart.bin', Config=boto3.s3.transfer.TransferConfig(multipart_threshold=8*1024*1024, multipart_chunksize=8*1024*1024))
print(json.dumps({'md5': hashlib.md5(body).hexdigest(), 'md5x3': hashlib.md5(body * 3).hexdigest()}))
`;
    const r = await python(server.url, code);
    assert.equal(r.code, 0, r.stderr);
    const sums = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { md5: string; md5x3: string };
    const head = await direct.send(new GetObjectCommand({ Bucket: 'shared', Key: 'from/boto3.bin' }));
    assert.equal(head.ContentType, 'application/x-test');
    assert.deepEqual(head.Metadata, { who: 'boto3' });
    assert.equal(md5(Buffer.from(await head.Body!.transformToByteArray())), sums.md5);
    assert.equal(md5(await bytesOf(direct, 'shared', 'from/boto3-multipart.bin')), sums.md5x3);

    const body = Buffer.from('written straight to moto');
    await direct.send(new PutObjectCommand({ Bucket: 'shared', Key: 'from/moto.txt', Body: body, ContentType: 'text/plain' }));
    const read = await python(server.url, `
import boto3, json
o = boto3.client('s3').get_object(Bucket='shared', Key='from/moto.txt')
print(json.dumps({'body': o['Body'].read().decode(), 'type': o['ContentType']}))
`);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(JSON.parse(read.stdout.trim().split('\n').at(-1)!), { body: body.toString(), type: 'text/plain' });
    const listed = await through.send(new ListObjectsV2Command({ Bucket: 'shared', Prefix: 'from/' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['from/boto3-multipart.bin', 'from/boto3.bin', 'from/moto.txt']);
  });

  test('the JS SDK writes through inferq with a trailing checksum; moto holds the bytes and the checksum', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    const put = await through.send(new PutObjectCommand({ Bucket: 'shared', Key: 'from/js.bin', Body: body, ChecksumAlgorithm: 'CRC32' }));
    const got = await direct.send(new GetObjectCommand({ Bucket: 'shared', Key: 'from/js.bin', ChecksumMode: 'ENABLED' }));
    assert.equal(got.ChecksumCRC32, put.ChecksumCRC32);
    assert.ok(put.ChecksumCRC32, 'the checksum is answered');
    assert.equal(md5(Buffer.from(await got.Body!.transformToByteArray())), md5(body));
  });

  test('InvokeEndpointAsync with echo: the input is read from moto and the output written to moto at the OutputLocation', async () => {
    const input = Buffer.from(JSON.stringify({ hello: 'moto', n: 42 }));
    await direct.send(new CreateBucketCommand({ Bucket: 'moto-inputs' }));
    await direct.send(new PutObjectCommand({ Bucket: 'moto-inputs', Key: 'req/1.json', Body: input }));
    const sm = h.client(server.url);
    const res = await sm.send(new InvokeEndpointAsyncCommand({ EndpointName: 'echo', InputLocation: 's3://moto-inputs/req/1.json', ContentType: 'application/json', InferenceId: 'moto-1' }));
    assert.equal(res.$metadata.httpStatusCode, 202);
    assert.equal(res.OutputLocation, `${OUT}/moto-1.out`);
    const status = await awaitTerminal(server.url, 'echo', 'moto-1', 60_000);
    assert.equal(status.Status, 'Succeeded', status.FailureReason);
    const { bucket, key } = splitS3(res.OutputLocation);
    const output = await direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.ok(Buffer.from(await output.Body!.transformToByteArray()).equals(input), 'echo answers the input, stored on moto');
    assert.equal(output.Metadata?.['inference-id'], 'moto-1');
    const failure = splitS3(res.FailureLocation!);
    const missing = await direct.send(new GetObjectCommand({ Bucket: failure.bucket, Key: failure.key })).then(() => 'exists', (err: { name?: string }) => err.name);
    assert.equal(missing, 'NoSuchKey', 'no failure object next to the output');
  });
});
