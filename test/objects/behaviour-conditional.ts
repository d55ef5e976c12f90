/**
 * Conditional writes in the ObjectStore behaviour suite (registered by behaviour.ts): `ifNoneMatch`
 * and `ifMatch` on putObject, copyObject and completeMultipartUpload, checked atomically with the
 * commit, and racing writers of which exactly one wins.
 */
import assert from 'node:assert/strict';
import { isInferqError } from '../../src/errors/index.js';
import type { ObjectStore } from '../../src/objects/index.js';
import { bodyOf, etagOf, MiB, pseudoRandomBytes, readAll, rejectsWith } from './helpers.js';
import { it } from './suite.js';

async function text(store: ObjectStore, bucket: string, key: string): Promise<string> {
  return (await readAll((await store.getObject(bucket, key)).body)).toString();
}

/** Settles every promise; returns how many fulfilled and the error codes of the others. */
async function outcomes(promises: readonly Promise<unknown>[]): Promise<{ won: number[]; codes: string[] }> {
  const settled = await Promise.allSettled(promises);
  const won: number[] = [];
  const codes: string[] = [];
  settled.forEach((s, i) => {
    if (s.status === 'fulfilled') won.push(i);
    else codes.push(isInferqError(s.reason) ? s.reason.code : String(s.reason));
  });
  return { won, codes };
}

/** Registers the conditional-write tests; `get` returns the current test's store. */
export function registerConditionalWriteTests(get: () => ObjectStore): void {
  void it('putObject with ifNoneMatch creates only a missing key; ifMatch replaces only the named version', async () => {
    const store = get();
    await store.createBucket('cond');
    const first = await store.putObject('cond', 'k', bodyOf('first'), { precondition: { ifNoneMatch: '*' } });
    const details = await rejectsWith(store.putObject('cond', 'k', bodyOf('second'), { precondition: { ifNoneMatch: '*' } }), 'PreconditionFailed');
    assert.equal(details.Condition, 'If-None-Match');
    assert.equal(await text(store, 'cond', 'k'), 'first');

    await rejectsWith(store.putObject('cond', 'k', bodyOf('second'), { precondition: { ifMatch: etagOf(Buffer.from('other')) } }), 'PreconditionFailed');
    assert.equal(await text(store, 'cond', 'k'), 'first');
    const second = await store.putObject('cond', 'k', bodyOf('second'), { precondition: { ifMatch: first.etag } });
    await store.putObject('cond', 'k', bodyOf('third'), { precondition: { ifMatch: second.etag.replaceAll('"', '') } });
    await store.putObject('cond', 'k', bodyOf('fourth'), { precondition: { ifMatch: `"nope", ${etagOf(Buffer.from('third'))}` } });
    await store.putObject('cond', 'k', bodyOf('fifth'), { precondition: { ifMatch: '*' } });
    assert.equal(await text(store, 'cond', 'k'), 'fifth');

    const missing = await rejectsWith(store.putObject('cond', 'absent', bodyOf('x'), { precondition: { ifMatch: first.etag } }), 'NoSuchKey');
    assert.equal(missing.Key, 'absent');
    await rejectsWith(store.putObject('cond', 'absent', bodyOf('x'), { precondition: { ifMatch: '*' } }), 'NoSuchKey');
    await rejectsWith(store.headObject('cond', 'absent'), 'NoSuchKey');
    await rejectsWith(store.putObject('no-such-bucket', 'k', bodyOf('x'), { precondition: { ifNoneMatch: '*' } }), 'NoSuchBucket');
  });

  void it('of racing ifNoneMatch writers of one key exactly one wins, small or large', async () => {
    const store = get();
    await store.createBucket('race');
    for (const [key, size] of [['small', 100], ['large', 300_000]] as const) {
      const bodies = Array.from({ length: 8 }, (_, i) => pseudoRandomBytes(size, 100 + i));
      const { won, codes } = await outcomes(bodies.map((b) => store.putObject('race', key, bodyOf(b), { precondition: { ifNoneMatch: '*' } })));
      assert.equal(won.length, 1, `one winner for ${key}, got ${won.length}`);
      assert.ok(codes.every((c) => c === 'PreconditionFailed' || c === 'ConditionalRequestConflict'), codes.join(','));
      const stored = await readAll((await store.getObject('race', key)).body);
      assert.ok(stored.equals(bodies[won[0]!]!), 'the stored bytes are the winner\'s');
    }
    const page = await store.listObjects('race', { maxKeys: 10 });
    assert.deepEqual(page.objects.map((o) => o.key), ['large', 'small']);
  });

  void it('of racing ifMatch writers naming the same version exactly one wins', async () => {
    const store = get();
    await store.createBucket('cas');
    const base = await store.putObject('cas', 'counter', bodyOf('0'));
    const { won, codes } = await outcomes(Array.from({ length: 6 }, (_, i) => store.putObject('cas', 'counter', bodyOf(String(i + 1)), { precondition: { ifMatch: base.etag } })));
    assert.equal(won.length, 1);
    assert.ok(codes.every((c) => c === 'PreconditionFailed' || c === 'ConditionalRequestConflict'), codes.join(','));
    assert.equal(await text(store, 'cas', 'counter'), String(won[0]! + 1));
  });

  void it('copyObject honours a precondition on the destination', async () => {
    const store = get();
    await store.createBucket('cpy');
    await store.putObject('cpy', 'src', bodyOf('source'));
    const dst = await store.putObject('cpy', 'dst', bodyOf('destination'));
    await rejectsWith(store.copyObject('cpy', 'src', 'cpy', 'dst', { metadataDirective: 'COPY', precondition: { ifNoneMatch: '*' } }), 'PreconditionFailed');
    await rejectsWith(store.copyObject('cpy', 'src', 'cpy', 'dst', { metadataDirective: 'COPY', precondition: { ifMatch: '"0123"' } }), 'PreconditionFailed');
    assert.equal(await text(store, 'cpy', 'dst'), 'destination');
    await store.copyObject('cpy', 'src', 'cpy', 'dst', { metadataDirective: 'COPY', precondition: { ifMatch: dst.etag } });
    await store.copyObject('cpy', 'src', 'cpy', 'fresh', { metadataDirective: 'COPY', precondition: { ifNoneMatch: '*' } });
    assert.equal(await text(store, 'cpy', 'dst'), 'source');
    assert.equal(await text(store, 'cpy', 'fresh'), 'source');
  });

  void it('a completion whose precondition fails writes nothing and leaves the upload open', async () => {
    const store = get();
    await store.createBucket('mpc');
    const existing = await store.putObject('mpc', 'k', bodyOf('already here'));
    const upload = await store.createMultipartUpload('mpc', 'k');
    const parts = [pseudoRandomBytes(5 * MiB, 1), Buffer.from('tail')];
    const infos = [];
    for (const [i, p] of parts.entries()) infos.push(await store.uploadPart('mpc', 'k', upload.uploadId, i + 1, bodyOf(p)));
    const list = infos.map((p) => ({ partNumber: p.partNumber, etag: p.etag }));
    await rejectsWith(store.completeMultipartUpload('mpc', 'k', upload.uploadId, list, { precondition: { ifNoneMatch: '*' } }), 'PreconditionFailed');
    await rejectsWith(store.completeMultipartUpload('mpc', 'k', upload.uploadId, list, { precondition: { ifMatch: '"feed"' } }), 'PreconditionFailed');
    assert.equal(await text(store, 'mpc', 'k'), 'already here');
    assert.deepEqual((await store.listParts('mpc', 'k', upload.uploadId, { maxParts: 10 })).parts.map((p) => p.partNumber), [1, 2]);
    const done = await store.completeMultipartUpload('mpc', 'k', upload.uploadId, list, { precondition: { ifMatch: existing.etag } });
    assert.match(done.etag, /-2"$/);
    assert.ok((await readAll((await store.getObject('mpc', 'k')).body)).equals(Buffer.concat(parts)));

    const fresh = await store.createMultipartUpload('mpc', 'new');
    const part = await store.uploadPart('mpc', 'new', fresh.uploadId, 1, bodyOf('only'));
    await rejectsWith(store.completeMultipartUpload('mpc', 'new', fresh.uploadId, [{ partNumber: 1, etag: part.etag }], { precondition: { ifMatch: part.etag } }), 'NoSuchKey');
    await store.completeMultipartUpload('mpc', 'new', fresh.uploadId, [{ partNumber: 1, etag: part.etag }], { precondition: { ifNoneMatch: '*' } });
    assert.equal(await text(store, 'mpc', 'new'), 'only');
  });

  void it('of racing ifNoneMatch completions and puts of one key exactly one wins', async () => {
    const store = get();
    await store.createBucket('mprace');
    const lists = [];
    for (let i = 0; i < 3; i++) {
      const upload = await store.createMultipartUpload('mprace', 'k');
      const part = await store.uploadPart('mprace', 'k', upload.uploadId, 1, bodyOf(`upload ${i}`));
      lists.push({ id: upload.uploadId, parts: [{ partNumber: 1, etag: part.etag }] });
    }
    const writes: Promise<unknown>[] = lists.map((l) => store.completeMultipartUpload('mprace', 'k', l.id, l.parts, { precondition: { ifNoneMatch: '*' } }));
    writes.push(store.putObject('mprace', 'k', bodyOf('a put'), { precondition: { ifNoneMatch: '*' } }));
    const { won, codes } = await outcomes(writes);
    assert.equal(won.length, 1);
    assert.ok(codes.every((c) => c === 'PreconditionFailed' || c === 'ConditionalRequestConflict'), codes.join(','));
    const expected = won[0] === 3 ? 'a put' : `upload ${won[0]!}`;
    assert.equal(await text(store, 'mprace', 'k'), expected);
  });
}
