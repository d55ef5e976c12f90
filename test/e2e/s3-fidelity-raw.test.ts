/**
 * S3 fidelity at the wire, against the built server: which Host headers are virtual-hosted
 * (SigV4-signed raw requests, signed with @smithy/signature-v4 over the path as sent), a server
 * configured with another `server.s3VirtualHostDomain`, and the aws CLI driving UploadPartCopy
 * (`aws s3 cp` between keys of a multipart-sized object), ListBuckets paging and GetBucketLocation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../bench/lib.js';
import { aws, DEV, REGION } from '../helpers/clients.js';
import { startServer, tempDir, writeConfig, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let work: string;

before(async () => {
  server = await startServer();
  work = tempDir('inferq-fidelity-raw-');
});
after(async () => {
  await server?.stop();
  server?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Reply { status: number; body: string }

const signer = new SignatureV4({ service: 's3', region: REGION, credentials: DEV, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });

/** Sends a SigV4-signed request to `target` (always the loopback port) with the given Host header and raw path. */
async function signed(target: ServerProcess, method: string, host: string, rawPath: string, body = ''): Promise<Reply> {
  const payload = createHash('sha256').update(body).digest('hex');
  const q = rawPath.indexOf('?');
  const query = q < 0 ? {} : Object.fromEntries(new URLSearchParams(rawPath.slice(q + 1)));
  const req = await signer.sign({
    method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path: q < 0 ? rawPath : rawPath.slice(0, q), query,
    headers: { host, 'x-amz-content-sha256': payload, 'content-length': String(Buffer.byteLength(body)) },
  });
  return new Promise((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port: target.port, method, path: rawPath, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

describe('virtual-hosted–style addressing over raw signed requests', () => {
  test('Host <bucket>.localhost:<port> addresses the bucket; the whole path, as sent, is the key and is what was signed', async () => {
    const hostPort = `127.0.0.1:${server.port}`;
    assert.equal((await signed(server, 'PUT', hostPort, '/vraw')).status, 200);
    assert.equal((await signed(server, 'PUT', hostPort, '/vraw/a%20b//c%2Bd', 'spaced')).status, 200);
    const viaHost = await signed(server, 'GET', `vraw.localhost:${server.port}`, '/a%20b//c%2Bd');
    assert.deepEqual(viaHost, { status: 200, body: 'spaced' });
    const listed = await signed(server, 'GET', `vraw.localhost:${server.port}`, '/?list-type=2');
    assert.match(listed.body, /<Name>vraw<\/Name>.*<Key>a b\/\/c\+d<\/Key>/s);
    const put = await signed(server, 'PUT', `VRaw.LocalHost:${server.port}`, '/hosted.txt', 'from the host');
    assert.equal(put.status, 200, put.body);
    assert.deepEqual(await signed(server, 'GET', hostPort, '/vraw/hosted.txt'), { status: 200, body: 'from the host' });
    const missing = await signed(server, 'GET', `vraw.localhost:${server.port}`, '/vraw/hosted.txt');
    assert.equal(missing.status, 404, 'virtual-hosted: /vraw/hosted.txt is the key "vraw/hosted.txt"');
    assert.match(missing.body, /<Code>NoSuchKey<\/Code>/);
  });

  test('any other Host is path style, never misrouted: the server address, localhost, an IP, other names', async () => {
    assert.equal((await signed(server, 'PUT', `127.0.0.1:${server.port}`, '/vpath')).status, 200);
    assert.equal((await signed(server, 'PUT', `127.0.0.1:${server.port}`, '/vpath/k', 'path style')).status, 200);
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, 'localhost', 'example.com', 'my.bucket.example.com', `vpath.example.com:${server.port}`, 'localhost.evil.example']) {
      assert.deepEqual(await signed(server, 'GET', host, '/vpath/k'), { status: 200, body: 'path style' }, host);
    }
  });

  test('server.s3VirtualHostDomain names another domain; <bucket>.localhost is then path style', async () => {
    const dir = tempDir('inferq-vhost-cfg-');
    const other = await startServer({ dataDir: join(dir, 'data'), config: writeConfig(dir, 'server:\n  s3VirtualHostDomain: s3.example.test\n') });
    try {
      const direct = `127.0.0.1:${other.port}`;
      assert.equal((await signed(other, 'PUT', direct, '/my.bucket')).status, 200);
      assert.equal((await signed(other, 'PUT', `my.bucket.s3.example.test:${other.port}`, '/key', 'dotted')).status, 200);
      assert.deepEqual(await signed(other, 'GET', direct, '/my.bucket/key'), { status: 200, body: 'dotted' });
      assert.deepEqual(await signed(other, 'GET', `my.bucket.localhost:${other.port}`, '/my.bucket/key'), { status: 200, body: 'dotted' });
      assert.deepEqual(await signed(other, 'GET', 's3.example.test', '/my.bucket/key'), { status: 200, body: 'dotted' });
    } finally {
      await other.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('aws CLI', () => {
  async function ok(args: string[]): Promise<string> {
    const r = await aws(server.url, args);
    assert.equal(r.code, 0, `aws ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
    return r.stdout;
  }

  test('aws s3 cp between keys of a 12 MiB object copies it with UploadPartCopy', async () => {
    await ok(['s3', 'mb', 's3://cli-fid']);
    const file = join(work, 'twelve.bin');
    const data = randomBytes(12 * 1024 * 1024 + 1);
    writeFileSync(file, data);
    await ok(['s3', 'cp', file, 's3://cli-fid/src.bin']);
    const out = await aws(server.url, ['s3', 'cp', 's3://cli-fid/src.bin', 's3://cli-fid/dst.bin', '--debug']);
    assert.equal(out.code, 0, out.stderr.slice(-2000));
    assert.match(out.stderr, /UploadPartCopy/, 'the CLI copies a multipart-sized object part by part');
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', 'cli-fid', '--key', 'dst.bin'])) as { ContentLength: number; ETag: string };
    assert.equal(head.ContentLength, data.length);
    assert.match(head.ETag, /-\d+"$/);
    const back = join(work, 'back.bin');
    await ok(['s3', 'cp', 's3://cli-fid/dst.bin', back]);
    assert.equal(createHash('sha256').update(data).digest('hex'), createHash('sha256').update(readFileSync(back)).digest('hex'));
  });

  test('s3api list-buckets pages with --page-size and --prefix; get-bucket-location is null', async () => {
    for (const i of [0, 1, 2]) await ok(['s3api', 'create-bucket', '--bucket', `cli-lb-${i}`]);
    const listed = JSON.parse(await ok(['s3api', 'list-buckets', '--prefix', 'cli-lb-', '--page-size', '1'])) as { Buckets: { Name: string }[] };
    assert.deepEqual(listed.Buckets.map((b) => b.Name), ['cli-lb-0', 'cli-lb-1', 'cli-lb-2']);
    const debug = await aws(server.url, ['s3api', 'list-buckets', '--prefix', 'cli-lb-', '--page-size', '1', '--debug']);
    assert.equal((debug.stderr.match(/continuation-token=/g) ?? []).length >= 2, true, 'the CLI followed ContinuationToken page by page');
    assert.deepEqual(JSON.parse(await ok(['s3api', 'get-bucket-location', '--bucket', 'cli-lb-0'])), { LocationConstraint: null });
  });
});
