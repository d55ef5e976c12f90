/**
 * S3 fidelity against the built server, with the JS SDK v3 and raw signed requests where clients
 * cannot express the case: XML character references (`&#39;` in DeleteObjects keys, Go-style
 * `&#34;` ETags in CompleteMultipartUpload), malformed XML, GET/HEAD ?partNumber=N, conditional
 * writes (and racing writers), 304 headers, conditional reads and ListMultipartUploads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, PutObjectCommand, UploadPartCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { signed, type Raw } from '../helpers/async.js';
import { s3Client } from '../helpers/clients.js';
import { startServer, type ServerProcess } from '../helpers/server.js';

const MiB = 1024 * 1024;
const BUCKET = 'fidelity';
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

/** A raw signed S3 request to `path` (bucket-relative paths start with `/${BUCKET}`). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Raw> {
  return signed(server.url, 's3', method, path, headers, body === undefined ? undefined : Buffer.from(body));
}

const codeOf = (res: Raw): string => /<Code>([^<]*)<\/Code>/.exec(res.body.toString('utf8'))?.[1] ?? '';
const keyPath = (key: string): string => `/${BUCKET}/${key.split('/').map(encodeURIComponent).join('/')}`;

async function put(key: string, body: string | Buffer): Promise<string> {
  return (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).ETag ?? '';
}

async function read(key: string, extra: { PartNumber?: number; Range?: string } = {}): Promise<{ body: Buffer; status: number; range?: string; partsCount?: number; length?: number }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, ...extra }));
  return {
    body: Buffer.from(await out.Body!.transformToByteArray()),
    status: out.$metadata.httpStatusCode ?? 0,
    ...(out.ContentRange ? { range: out.ContentRange } : {}),
    ...(out.PartsCount !== undefined ? { partsCount: out.PartsCount } : {}),
    ...(out.ContentLength !== undefined ? { length: out.ContentLength } : {}),
  };
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

/** Starts an upload of `parts` (uploaded, not completed); returns its id and part list. */
async function stagedUpload(key: string, parts: readonly Buffer[]): Promise<{ id: string; parts: { PartNumber: number; ETag: string }[] }> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
  const list = [];
  for (const [i, Body] of parts.entries()) {
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: i + 1, Body }));
    list.push({ PartNumber: i + 1, ETag: ETag ?? '' });
  }
  return { id: UploadId ?? '', parts: list };
}

function complete(key: string, upload: { id: string; parts: { PartNumber: number; ETag: string }[] }, extra: { IfNoneMatch?: string; IfMatch?: string } = {}): Promise<{ ETag?: string }> {
  return s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: upload.id, MultipartUpload: { Parts: upload.parts }, ...extra }));
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const md5 = (b: Buffer | string): string => createHash('md5').update(b).digest('base64');

describe('XML request bodies', () => {
  test('DeleteObjects decodes character references: <Key>it&#39;s</Key> deletes "it\'s"', async () => {
    const keys = ["it's", 'a&b', 'say "hi"', 'é/ü', 'tab\there', 'lt<gt>'];
    for (const key of keys) await put(key, key);
    const xml = '<?xml version="1.0" encoding="UTF-8"?><Delete><Object><Key>it&#39;s</Key></Object><Object><Key>a&#38;b</Key></Object>'
      + '<Object><Key>say &#x22;hi&quot;</Key></Object><Object><Key>&#233;/&#xFC;</Key></Object><Object><Key>tab&#9;here</Key></Object>'
      + '<Object><Key>lt&lt;gt&#62;</Key></Object></Delete>';
    const res = await raw('POST', `/${BUCKET}?delete`, { 'content-md5': md5(xml), 'content-type': 'application/xml' }, xml);
    assert.equal(res.status, 200, res.body.toString());
    const deleted = [...res.body.toString().matchAll(/<Deleted><Key>([^<]*)<\/Key><\/Deleted>/g)].map((m) => m[1]);
    assert.equal(deleted.length, keys.length);
    for (const key of keys) assert.deepEqual(await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))), ['NotFound', 404], `${key} is gone`);
  });

  test('CompleteMultipartUpload accepts ETags written as &#34;…&#34; (as Go clients such as rclone send them)', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1000)];
    const upload = await stagedUpload('go-style', parts);
    const xml = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${upload.parts.map((p) => `<Part><ETag>${p.ETag.replaceAll('"', '&#34;')}</ETag><PartNumber>${p.PartNumber}</PartNumber></Part>`).join('')}</CompleteMultipartUpload>`;
    const res = await raw('POST', `${keyPath('go-style')}?uploadId=${encodeURIComponent(upload.id)}`, { 'content-type': 'application/xml' }, xml);
    assert.equal(res.status, 200, res.body.toString());
    assert.match(res.body.toString(), /<ETag>&quot;[0-9a-f]{32}-2&quot;<\/ETag>/);
    assert.ok((await read('go-style')).body.equals(Buffer.concat(parts)));
  });

  test('malformed XML, entity declarations and undefined entities are 400 MalformedXML and delete nothing', async () => {
    await put('keep-me', 'still here');
    const laughs = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "keep-me"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Delete><Object><Key>&a;</Key></Object></Delete>';
    const bodies = [
      laughs,
      '<Delete><Object><Key>&ent;</Key></Object></Delete>',
      '<Delete><Object><Key>keep-me & more</Key></Object></Delete>',
      '<Delete><Object><Key>&#0;</Key></Object></Delete>',
      '<Delete><Object><Key>keep-me</Key></Object>',
      '<Delete><Object><Key>keep-me</Key></Object></Delete><Delete/>',
      `${'<Delete>'.repeat(100)}${'</Delete>'.repeat(100)}`,
      'not xml at all',
    ];
    for (const xml of bodies) {
      const res = await raw('POST', `/${BUCKET}?delete`, { 'content-md5': md5(xml) }, xml);
      assert.deepEqual([res.status, codeOf(res)], [400, 'MalformedXML'], xml);
    }
    assert.equal((await read('keep-me')).body.toString(), 'still here');
  });
});

describe('GET/HEAD ?partNumber=N', () => {
  const parts = [randomBytes(5 * MiB + 1), randomBytes(5 * MiB), randomBytes(777)];
  before(async () => {
    const upload = await stagedUpload('by-parts', parts);
    await complete('by-parts', upload);
    await put('single', '0123456789');
  });

  test('each part of a multipart object is a 206 with its bytes, Content-Range and the parts count; assembling them gives the object', async () => {
    const total = parts.reduce((n, p) => n + p.length, 0);
    let start = 0;
    const assembled: Buffer[] = [];
    for (const [i, bytes] of parts.entries()) {
      const got = await read('by-parts', { PartNumber: i + 1 });
      assert.equal(got.status, 206);
      assert.equal(got.range, `bytes ${start}-${start + bytes.length - 1}/${total}`);
      assert.equal(got.partsCount, 3);
      assert.equal(got.length, bytes.length);
      assert.ok(got.body.equals(bytes), `part ${i + 1}`);
      assembled.push(got.body);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'by-parts', PartNumber: i + 1 }));
      assert.equal(head.$metadata.httpStatusCode, 206);
      assert.equal(head.ContentLength, bytes.length);
      assert.equal(head.PartsCount, 3);
      start += bytes.length;
    }
    assert.ok(Buffer.concat(assembled).equals((await read('by-parts')).body));
    const plain = await read('by-parts');
    assert.equal(plain.status, 200);
    assert.equal(plain.partsCount, undefined, 'x-amz-mp-parts-count only answers a partNumber request, as in S3');
  });

  test('a part beyond the count is 416 InvalidPartNumber; partNumber with Range is 400; a bad number is 400', async () => {
    assert.deepEqual(await failure(read('by-parts', { PartNumber: 4 })), ['InvalidPartNumber', 416]);
    assert.equal((await failure(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'by-parts', PartNumber: 4 }))))[1], 416);
    assert.deepEqual(await failure(read('by-parts', { PartNumber: 1, Range: 'bytes=0-1' })), ['InvalidRequest', 400]);
    for (const n of ['0', '10001', 'x']) {
      const res = await raw('GET', `${keyPath('by-parts')}?partNumber=${n}`);
      assert.deepEqual([res.status, codeOf(res)], [400, 'InvalidArgument'], n);
    }
  });

  test('part 1 of a single-PUT object is the whole object as 206 without a parts count; part 2 is 416', async () => {
    const got = await read('single', { PartNumber: 1 });
    assert.deepEqual([got.status, got.range, got.partsCount, got.body.toString()], [206, 'bytes 0-9/10', undefined, '0123456789']);
    assert.deepEqual(await failure(read('single', { PartNumber: 2 })), ['InvalidPartNumber', 416]);
  });
});

describe('conditional writes', () => {
  test('PutObject If-None-Match: * creates once; If-Match needs the current ETag; If-Match on a missing key is 404 NoSuchKey', async () => {
    const first = (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw', Body: 'first', IfNoneMatch: '*' }))).ETag ?? '';
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw', Body: 'second', IfNoneMatch: '*' }))), ['PreconditionFailed', 412]);
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw', Body: 'second', IfMatch: '"00000000000000000000000000000000"' }))), ['PreconditionFailed', 412]);
    assert.equal((await read('cw')).body.toString(), 'first');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw', Body: 'second', IfMatch: first }));
    assert.equal((await read('cw')).body.toString(), 'second');
    assert.deepEqual(await failure(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cw-missing', Body: 'x', IfMatch: first }))), ['NoSuchKey', 404]);
    const notStar = await raw('PUT', keyPath('cw'), { 'if-none-match': first }, 'third');
    assert.deepEqual([notStar.status, codeOf(notStar)], [400, 'NotImplemented']);
    assert.equal((await read('cw')).body.toString(), 'second');
  });

  test('10 racing If-None-Match: * PUTs of 1 MiB: exactly one 200, the others 412 or 409, and no staged bytes are left', async () => {
    const objectsDir = join(server.dataDir, 'objects');
    const before = walk(join(objectsDir, 'blobs')).length;
    const bodies = Array.from({ length: 10 }, () => randomBytes(MiB));
    const clients = bodies.map(() => s3Client(server.url));
    try {
      const settled = await Promise.allSettled(bodies.map((Body, i) => clients[i]!.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'race', Body, IfNoneMatch: '*' }))));
      const winners = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [i] : []));
      const losers = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode] : []));
      assert.equal(winners.length, 1, `one winner, got ${winners.length}`);
      assert.ok(losers.every((status) => status === 412 || status === 409), losers.join(','));
      assert.ok((await read('race')).body.equals(bodies[winners[0]!]!));
    } finally {
      for (const c of clients) c.destroy();
    }
    assert.deepEqual(readdirSync(join(objectsDir, 'tmp')), []);
    assert.equal(walk(join(objectsDir, 'blobs')).length, before + 1, 'only the winner\'s body is stored');
  });

  test('CompleteMultipartUpload If-None-Match: * with racing uploads: one 200, the other 412 with its upload still open', async () => {
    const a = await stagedUpload('mp-race', [Buffer.from('upload a')]);
    const b = await stagedUpload('mp-race', [Buffer.from('upload b')]);
    const settled = await Promise.allSettled([complete('mp-race', a, { IfNoneMatch: '*' }), complete('mp-race', b, { IfNoneMatch: '*' })]);
    const won = settled.findIndex((s) => s.status === 'fulfilled');
    const lost = settled.find((s) => s.status === 'rejected');
    assert.ok(won >= 0 && lost?.status === 'rejected', 'one completion wins');
    assert.ok([412, 409].includes((lost.reason as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode));
    assert.equal((await read('mp-race')).body.toString(), won === 0 ? 'upload a' : 'upload b');
    const loser = won === 0 ? b : a;
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: 'mp-race' }));
    assert.deepEqual(listed.Uploads?.map((u) => u.UploadId), [loser.id]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp-race', UploadId: loser.id }));
  });

  test('a repeated CompleteMultipartUpload answers 200 with the same ETag while the object is the one it made', async () => {
    const upload = await stagedUpload('again', [randomBytes(5 * MiB), Buffer.from('end')]);
    const first = await complete('again', upload);
    const second = await complete('again', upload);
    assert.match(first.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    assert.equal(second.ETag, first.ETag);
    await put('again', 'overwritten');
    assert.deepEqual(await failure(complete('again', upload)), ['NoSuchUpload', 404]);
  });
});

describe('conditional reads', () => {
  let etag = '';
  let lastModified = '';
  before(async () => {
    etag = await put('cond-read', 'conditional');
    lastModified = String((await raw('HEAD', keyPath('cond-read'))).headers['last-modified']);
  });

  test('304 Not Modified carries ETag and Last-Modified (GET and HEAD)', async () => {
    for (const method of ['GET', 'HEAD']) {
      for (const headers of [{ 'if-none-match': etag }, { 'if-modified-since': lastModified }] as Record<string, string>[]) {
        const res = await raw(method, keyPath('cond-read'), headers);
        assert.equal(res.status, 304, `${method} ${JSON.stringify(headers)}`);
        assert.equal(res.headers['etag'], etag);
        assert.equal(res.headers['last-modified'], lastModified);
        assert.equal(res.body.length, 0);
      }
    }
  });

  test('each condition alone, and the documented precedence combinations', async () => {
    const earlier = new Date(Date.parse(lastModified) - 3600_000).toUTCString();
    const other = '"0123456789abcdef0123456789abcdef"';
    const cases: [string, Record<string, string>, number][] = [
      ['If-Match: current', { 'if-match': etag }, 200],
      ['If-Match: other', { 'if-match': other }, 412],
      ['If-Match: *', { 'if-match': '*' }, 200],
      ['If-None-Match: current', { 'if-none-match': etag }, 304],
      ['If-None-Match: other', { 'if-none-match': other }, 200],
      ['If-Modified-Since: earlier', { 'if-modified-since': earlier }, 200],
      ['If-Modified-Since: Last-Modified', { 'if-modified-since': lastModified }, 304],
      ['If-Unmodified-Since: earlier', { 'if-unmodified-since': earlier }, 412],
      ['If-Unmodified-Since: Last-Modified', { 'if-unmodified-since': lastModified }, 200],
      // S3's documented combinations: If-Match true wins over If-Unmodified-Since false,
      ['If-Match true + If-Unmodified-Since false', { 'if-match': etag, 'if-unmodified-since': earlier }, 200],
      // and If-None-Match false with If-Modified-Since true is 304.
      ['If-None-Match false + If-Modified-Since true', { 'if-none-match': etag, 'if-modified-since': earlier }, 304],
      ['If-Match false + If-None-Match false', { 'if-match': other, 'if-none-match': etag }, 412],
    ];
    for (const method of ['GET', 'HEAD']) {
      for (const [name, headers, status] of cases) {
        const res = await raw(method, keyPath('cond-read'), headers);
        assert.equal(res.status, status, `${method} ${name}`);
        if (method === 'GET' && status === 412) assert.equal(codeOf(res), 'PreconditionFailed');
        if (method === 'GET' && status === 200) assert.equal(res.body.toString(), 'conditional');
      }
    }
  });
});

describe('ListMultipartUploads', () => {
  test('a bucket with a lost upload id can be emptied: list, abort, delete bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lost-upload' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'lost-upload', Key: 'forgotten/one' }));
    assert.deepEqual(await failure(s3.send(new DeleteBucketCommand({ Bucket: 'lost-upload' }))), ['BucketNotEmpty', 409]);
    const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'lost-upload' }));
    assert.equal(listed.Uploads?.length, 1);
    const [upload] = listed.Uploads ?? [];
    assert.equal(upload?.Key, 'forgotten/one');
    assert.ok(upload?.Initiated instanceof Date);
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'lost-upload', Key: upload.Key, UploadId: upload.UploadId }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'lost-upload' }));
  });

  test('pages with key and upload-id markers, rolls up with a delimiter, URL-encodes with encoding-type=url', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many-uploads' }));
    const keys = ['a b', 'a b', 'dir/1', 'dir/2', 'z+~'];
    const ids: string[] = [];
    for (const Key of keys) ids.push((await s3.send(new CreateMultipartUploadCommand({ Bucket: 'many-uploads', Key }))).UploadId ?? '');
    const seen: string[] = [];
    let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'many-uploads', MaxUploads: 2, ...markers }));
      seen.push(...(page.Uploads ?? []).map((u) => u.UploadId ?? ''));
      if (!page.IsTruncated) break;
      markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
    }
    assert.deepEqual(seen, ids, 'every upload once, by key then creation');
    const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'many-uploads', Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['dir/']);
    assert.deepEqual(rolled.Uploads?.map((u) => u.Key), ['a b', 'a b', 'z+~']);
    const encoded = await raw('GET', '/many-uploads?uploads&encoding-type=url&prefix=a%20');
    assert.equal(encoded.status, 200);
    const xml = encoded.body.toString();
    assert.match(xml, /<EncodingType>url<\/EncodingType>/);
    // As S3 encodes (and ListObjects here): a space is `+`.
    assert.match(xml, /<Prefix>a\+<\/Prefix>/);
    assert.equal([...xml.matchAll(/<Key>a\+b<\/Key>/g)].length, 2);
    const bad = await raw('GET', '/many-uploads?uploads&max-uploads=-1');
    assert.deepEqual([bad.status, codeOf(bad)], [400, 'InvalidArgument']);
    assert.equal((await raw('GET', '/no-such-bucket-here?uploads')).status, 404);
    for (const [i, Key] of keys.entries()) await s3.send(new AbortMultipartUploadCommand({ Bucket: 'many-uploads', Key, UploadId: ids[i] }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'many-uploads' }));
  });
});
