/**
 * Body decoders: signed payload hash, aws-chunked with chunk and trailer signatures (AWS's documented
 * example, every split point, random splits, tampering) and unsigned trailers from the real SDK.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SigV4Verifier, createChecksumVerifier, createPayloadDecoder, type AuthResult, type PayloadDecoder, type SignableRequest } from '../../src/auth/index.js';
import { isInferqError, type ErrorCode } from '../../src/errors/index.js';
import { AKID, FakeClock, SECRET, capturingS3Client, credentials, request, sha256, signer, toSignable, type Captured } from './helpers.js';

const EMPTY = sha256('');

/** Feeds `pieces` through `decoder`, returning the decoded bytes. */
async function decode(decoder: PayloadDecoder, pieces: readonly Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    decoder,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        out.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

async function decodeFails(code: ErrorCode, decoder: PayloadDecoder, pieces: readonly Buffer[]): Promise<void> {
  await assert.rejects(decode(decoder, pieces), (err: unknown) => {
    assert.ok(isInferqError(err), String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSplits(buf: Buffer, rnd: () => number, maxPiece: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * maxPiece);
    pieces.push(buf.subarray(i, i + n));
    i += n;
  }
  return pieces;
}

// ------------------------------------------------------------------ AWS documented example

const EX_DATE = Date.UTC(2013, 4, 24);
const EX_AKID = 'AKIAIOSFODNN7EXAMPLE';
const EX_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const EX_SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const EX_CHUNK_SIGNATURES = [
  'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
  '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
  'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
];

/** Independently computes chunk / trailer signatures with @smithy/signature-v4's signString. */
async function signString(stringToSign: string, date: Date, secret: string, accessKeyId: string, service = 's3'): Promise<string> {
  return signer(service, { secret, accessKeyId }).sign(stringToSign, { signingDate: date, signingService: service });
}

interface ChunkedBody {
  readonly body: Buffer;
  readonly signatures: string[];
}

/** Encodes `data` as a signed aws-chunked body (optionally with signed trailers). */
async function signedChunked(
  data: Buffer,
  chunkSize: number,
  ctx: { seed: string; date: Date; secret: string; accessKeyId: string; amzDate: string; scope: string },
  trailers?: Record<string, string>,
): Promise<ChunkedBody> {
  const parts: Buffer[] = [];
  const signatures: string[] = [];
  let prev = ctx.seed;
  const sizes: number[] = [];
  for (let i = 0; i < data.length; i += chunkSize) sizes.push(Math.min(chunkSize, data.length - i));
  sizes.push(0);
  let offset = 0;
  for (const size of sizes) {
    const chunk = data.subarray(offset, offset + size);
    offset += size;
    const sig = await signString(`AWS4-HMAC-SHA256-PAYLOAD\n${ctx.amzDate}\n${ctx.scope}\n${prev}\n${EMPTY}\n${sha256(chunk)}`, ctx.date, ctx.secret, ctx.accessKeyId);
    signatures.push(sig);
    prev = sig;
    parts.push(Buffer.from(`${size.toString(16)};chunk-signature=${sig}\r\n`), chunk);
    if (size > 0 || trailers === undefined) parts.push(Buffer.from('\r\n'));
  }
  if (trailers !== undefined) {
    const canonical = Object.entries(trailers)
      .map(([k, v]) => `${k}:${v}\n`)
      .join('');
    const sig = await signString(`AWS4-HMAC-SHA256-TRAILER\n${ctx.amzDate}\n${ctx.scope}\n${prev}\n${sha256(canonical)}`, ctx.date, ctx.secret, ctx.accessKeyId);
    for (const [k, v] of Object.entries(trailers)) parts.push(Buffer.from(`${k}:${v}\r\n`));
    parts.push(Buffer.from(`x-amz-trailer-signature:${sig}\r\n\r\n`));
  }
  return { body: Buffer.concat(parts), signatures };
}

function exampleRequest(): SignableRequest {
  const headers = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
    authorization:
      `AWS4-HMAC-SHA256 Credential=${EX_AKID}/20130524/us-east-1/s3/aws4_request,` +
      'SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,' +
      `Signature=${EX_SEED}`,
  };
  return { method: 'PUT', rawUrl: '/examplebucket/chunkObject.txt', headers };
}

function exampleAuth(): AuthResult {
  const v = new SigV4Verifier({ secretFor: (id) => (id === EX_AKID ? EX_SECRET : undefined) }, new FakeClock(EX_DATE), { maxClockSkewSeconds: 900 });
  return v.verify(exampleRequest());
}

void describe('aws-chunked: the AWS documented example', () => {
  const data = Buffer.alloc(65536 + 1024, 'a');
  const ctx = { seed: EX_SEED, date: new Date(EX_DATE), secret: EX_SECRET, accessKeyId: EX_AKID, amzDate: '20130524T000000Z', scope: '20130524/us-east-1/s3/aws4_request' };

  void it('verifies the seed signature and reproduces the chunk signatures', async () => {
    const auth = exampleAuth();
    assert.deepEqual(auth.payload, { kind: 'streaming-signed', trailer: false });
    assert.equal(auth.chunkSigning?.seedSignature, EX_SEED);
    const { body, signatures } = await signedChunked(data, 65536, ctx);
    assert.deepEqual(signatures, EX_CHUNK_SIGNATURES);
    assert.equal(body.length, 66824);
  });

  void it('decodes the body split at random points', async () => {
    const auth = exampleAuth();
    const { body } = await signedChunked(data, 65536, ctx);
    const rnd = random(42);
    for (const maxPiece of [1000, 7, 20000, body.length]) {
      const out = await decode(createPayloadDecoder(auth, exampleRequest().headers), randomSplits(body, rnd, maxPiece));
      assert.ok(out.equals(data));
    }
  });

  void it('rejects a tampered chunk, a tampered signature and a wrong length', async () => {
    const auth = exampleAuth();
    const { body } = await signedChunked(data, 65536, ctx);
    const tampered = Buffer.from(body);
    tampered[100] = 0x62;
    await decodeFails('SignatureDoesNotMatch', createPayloadDecoder(auth, exampleRequest().headers), [tampered]);
    const badSig = Buffer.from(body.toString('latin1').replace(EX_CHUNK_SIGNATURES[1]!, EX_CHUNK_SIGNATURES[0]!), 'latin1');
    await decodeFails('SignatureDoesNotMatch', createPayloadDecoder(auth, exampleRequest().headers), [badSig]);
    await decodeFails('IncompleteBody', createPayloadDecoder(auth, { 'x-amz-decoded-content-length': '66561' }), [body]);
    await decodeFails('IncompleteBody', createPayloadDecoder(auth, { 'x-amz-decoded-content-length': '100' }), [body]);
    await decodeFails('IncompleteBody', createPayloadDecoder(auth, exampleRequest().headers), [body.subarray(0, body.length - 1)]);
    await decodeFails('IncompleteBody', createPayloadDecoder(auth, exampleRequest().headers), [body.subarray(0, 60000)]);
  });

  void it('emits data before a chunk ends (bounded memory)', async () => {
    const auth = exampleAuth();
    const { body } = await signedChunked(data, 65536, ctx);
    const decoder = createPayloadDecoder(auth, exampleRequest().headers);
    const seen: Buffer[] = [];
    decoder.on('data', (c: Buffer) => seen.push(c));
    decoder.write(body.subarray(0, 30000));
    await new Promise((r) => setImmediate(r));
    assert.ok(Buffer.concat(seen).length > 29000);
    decoder.destroy();
  });
});

// ------------------------------------------------------------------ small signed bodies

const T0 = Date.UTC(2026, 10, 26, 17, 51, 52);

async function signedSetup(trailer: boolean, trailers?: Record<string, string>) {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  const mode = trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
  const headers: Record<string, string> = { 'x-amz-content-sha256': mode, 'x-amz-decoded-content-length': String(data.length), 'content-encoding': 'aws-chunked' };
  if (trailers !== undefined) headers['x-amz-trailer'] = Object.keys(trailers).join(',');
  const signed = toSignable(await signer('s3').sign(request('PUT', '/b/k', headers), { signingDate: new Date(T0) }));
  const auth = new SigV4Verifier(credentials(), new FakeClock(T0), { maxClockSkewSeconds: 900 }).verify(signed);
  const ctx = { seed: auth.chunkSigning!.seedSignature, date: new Date(T0), secret: SECRET, accessKeyId: AKID, amzDate: '20261126T175152Z', scope: '20261126/us-east-1/s3/aws4_request' };
  const { body } = await signedChunked(data, 8, ctx, trailers);
  return { data, auth, headers: signed.headers, body };
}

void describe('aws-chunked: signed chunks and trailers', () => {
  void it('decodes at every split point and byte by byte', async () => {
    const { data, auth, headers, body } = await signedSetup(false);
    for (let k = 0; k <= body.length; k++) {
      const out = await decode(createPayloadDecoder(auth, headers), [body.subarray(0, k), body.subarray(k)]);
      assert.ok(out.equals(data), `split at ${k}`);
    }
    const bytes = Array.from(body, (b) => Buffer.from([b]));
    assert.ok((await decode(createPayloadDecoder(auth, headers), bytes)).equals(data));
  });

  void it('verifies signed trailers at every split point', async () => {
    const trailers = { 'x-amz-checksum-crc32': 'OUqyfQ==' };
    const { data, auth, headers, body } = await signedSetup(true, trailers);
    for (let k = 0; k <= body.length; k++) {
      const decoder = createPayloadDecoder(auth, headers);
      const out = await decode(decoder, [body.subarray(0, k), body.subarray(k)]);
      assert.ok(out.equals(data));
      assert.deepEqual(decoder.trailers(), trailers);
    }
    const tampered = Buffer.from(body.toString('latin1').replace('OUqyfQ==', 'AAAAAA=='), 'latin1');
    await decodeFails('SignatureDoesNotMatch', createPayloadDecoder(auth, headers), [tampered]);
    const unsignedTrailer = Buffer.from(body.toString('latin1').replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''), 'latin1');
    await decodeFails('InvalidRequest', createPayloadDecoder(auth, headers), [unsignedTrailer]);
  });

  void it('rejects malformed framing', async () => {
    const { auth, headers, body } = await signedSetup(false);
    const text = body.toString('latin1');
    const cases: [ErrorCode, string][] = [
      ['InvalidRequest', text.replace(/^8;/, 'zz;')],
      ['InvalidRequest', text.replace(/^8;chunk-signature=[0-9a-f]+/, '8')],
      ['InvalidRequest', text.replace('\r\n', '\n')],
      ['InvalidRequest', `${text}junk`],
      ['InvalidRequest', text.replace(/\r\n$/, 'x-amz-checksum-crc32:AAAAAA==\r\n\r\n')],
      ['InvalidRequest', `${'f'.repeat(9000)}\r\n`],
      ['IncompleteBody', ''],
    ];
    for (const [code, bad] of cases) await decodeFails(code, createPayloadDecoder(auth, headers), [Buffer.from(bad, 'latin1')]);
  });
});

// ------------------------------------------------------------------ other modes

void describe('payload decoders for non-chunked modes', () => {
  const base = { accessKeyId: AKID, service: 's3', region: 'us-east-1', presigned: false } as const;

  void it('checks a signed sha256 payload', async () => {
    const auth: AuthResult = { ...base, payload: { kind: 'sha256', hash: sha256('hello world') } };
    assert.equal((await decode(createPayloadDecoder(auth, {}), [Buffer.from('hello '), Buffer.from('world')])).toString(), 'hello world');
    await decodeFails('XAmzContentSHA256Mismatch', createPayloadDecoder(auth, {}), [Buffer.from('hello there')]);
  });

  void it('passes unsigned and computed payloads through', async () => {
    for (const kind of ['unsigned', 'computed'] as const) {
      const decoder = createPayloadDecoder({ ...base, payload: { kind } }, {});
      assert.equal((await decode(decoder, [Buffer.from('a'), Buffer.from('b')])).toString(), 'ab');
      assert.deepEqual(decoder.trailers(), {});
    }
  });

  void it('decodes the JS SDK streaming unsigned-trailer upload and verifies its CRC32 trailer', async () => {
    const sink: Captured[] = [];
    const client = capturingS3Client(sink, { statusCode: 200, headers: { etag: '"x"' } });
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: Readable.from([payload.subarray(0, 70_000), payload.subarray(70_000)]), ContentLength: payload.length }));
    const { signable, body } = sink[0]!;
    const auth = new SigV4Verifier(credentials(), new FakeClock(Date.now()), { maxClockSkewSeconds: 900 }).verify(signable);
    assert.deepEqual(auth.payload, { kind: 'streaming-unsigned-trailer' });
    const rnd = random(7);
    for (const maxPiece of [3, 5000, body.length]) {
      const decoder = createPayloadDecoder(auth, signable.headers);
      const verifier = createChecksumVerifier(signable.headers, () => decoder.trailers());
      const out: Buffer[] = [];
      await pipeline(Readable.from(randomSplits(body, rnd, maxPiece)), decoder, verifier, async (source: AsyncIterable<Buffer>) => {
        for await (const c of source) out.push(c);
      });
      assert.ok(Buffer.concat(out).equals(payload));
      assert.deepEqual(Object.keys(verifier.verifiedChecksums()), ['CRC32']);
    }
    const corrupted = Buffer.from(body);
    corrupted[1000] = corrupted[1000]! ^ 1;
    const decoder = createPayloadDecoder(auth, signable.headers);
    const verifier = createChecksumVerifier(signable.headers, () => decoder.trailers());
    await assert.rejects(pipeline(Readable.from([corrupted]), decoder, verifier, new Writable({ write: (_c, _e, done) => done() })), (err: unknown) =>
      isInferqError(err, 'BadDigest'),
    );
  });

  void it('requires the chunk-signing context for streaming-signed results', () => {
    assert.throws(() => createPayloadDecoder({ ...base, payload: { kind: 'streaming-signed', trailer: false } }, {}), (err: unknown) => isInferqError(err, 'InternalError'));
  });
});
