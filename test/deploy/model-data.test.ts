/**
 * fetchModelData against the real local ObjectStore: a model.tar.gz made by the tar CLI is
 * unpacked into the target, a second fetch of an existing target does nothing, an archive with a
 * climbing or symbolic-link member is refused with nothing left behind, a missing object or bucket
 * is "not found", and an uncompressed S3Prefix is copied with its relative paths (a key that climbs
 * out is refused). modelDirFor names one directory per model and URL.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { fetchModelData, modelDirFor } from '../../src/deploy/index.js';
import { isInferqError } from '../../src/errors/index.js';
import { openLocalObjectStore, type ObjectStore } from '../../src/objects/index.js';
import { pythonArchive as buildArchive } from '../helpers/archives.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-model-data-'));
const modelsDir = join(dir, 'data', 'models');
let store: ObjectStore;

before(async () => {
  store = await openLocalObjectStore({ dataDir: join(dir, 'store') });
  await store.createBucket('models');
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function put(key: string, body: string | Buffer): Promise<void> {
  await store.putObject('models', key, Readable.from([typeof body === 'string' ? Buffer.from(body) : body]));
}

/** Asserts that `promise` rejects with ControlPlaneValidation whose message matches `message`. */
async function refuses(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isInferqError(err, 'ControlPlaneValidation'), `expected ControlPlaneValidation, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  });
}

/** The names in the models directory (leftover temporary directories would show here). */
const leftovers = (): string[] => (existsSync(modelsDir) ? readdirSync(modelsDir) : []);

/** A tar.gz built with python's tarfile in the test's directory (see helpers/archives.ts). */
const pythonArchive = (name: string, members: string): Buffer => buildArchive(dir, name, members);

test('a model.tar.gz made by tar is unpacked into the target, and fetched only once', async () => {
  const src = join(dir, 'src');
  mkdirSync(join(src, 'code'), { recursive: true });
  writeFileSync(join(src, 'code', 'inference.py'), 'print("hi")\n');
  writeFileSync(join(src, 'weights.bin'), Buffer.alloc(70_000, 7));
  execFileSync('tar', ['czf', join(dir, 'model.tar.gz'), '-C', src, '.']);
  await put('m1/model.tar.gz', readFileSync(join(dir, 'model.tar.gz')));
  const url = 's3://models/m1/model.tar.gz';
  const target = modelDirFor(join(dir, 'data'), 'My-Model', url);
  await fetchModelData(store, { url, compressed: true }, target);
  assert.equal(readFileSync(join(target, 'code', 'inference.py'), 'utf8'), 'print("hi")\n');
  assert.deepEqual(readFileSync(join(target, 'weights.bin')), Buffer.alloc(70_000, 7));
  assert.deepEqual(leftovers(), [target.split('/').at(-1)]);
  // A second call for an existing target does not fetch again (the object is gone now).
  await store.deleteObject('models', 'm1/model.tar.gz');
  await fetchModelData(store, { url, compressed: true }, target);
  assert.equal(readFileSync(join(target, 'code', 'inference.py'), 'utf8'), 'print("hi")\n');
});

test('archives with a climbing member or a symbolic link are refused and nothing is left in the target', async () => {
  const cases: [string, string, RegExp][] = [
    ['climb', `add(t, 'ok.txt', b'ok')\nadd(t, '../x', b'evil')`, /The model data s3:\/\/models\/climb\.tar\.gz cannot be used: .*member "\.\.\/x" would be written outside the model directory/],
    ['symlink', `add(t, 'etc', type=tarfile.SYMTYPE, link='/etc')\nadd(t, 'etc/passwd', b'x')`, /member "etc" is a link/],
  ];
  for (const [name, members, message] of cases) {
    await put(`${name}.tar.gz`, pythonArchive(name, members));
    const target = join(modelsDir, `refused-${name}`);
    await refuses(fetchModelData(store, { url: `s3://models/${name}.tar.gz`, compressed: true }, target), message);
    assert.equal(existsSync(target), false, `${name}: no target`);
    assert.deepEqual(leftovers().filter((n) => n.includes('refused')), [], `${name}: no temporary directory`);
  }
  assert.equal(existsSync(join(modelsDir, 'x')), false);
});

test('a missing object or bucket, and a body that is not gzip, fail with the URL in the message', async () => {
  const target = join(modelsDir, 'missing');
  await refuses(fetchModelData(store, { url: 's3://models/nothing/model.tar.gz', compressed: true }, target), /^The model data s3:\/\/models\/nothing\/model\.tar\.gz was not found in the object store\.$/);
  await refuses(fetchModelData(store, { url: 's3://no-such-bucket/model.tar.gz', compressed: true }, target), /s3:\/\/no-such-bucket\/model\.tar\.gz was not found/);
  await refuses(fetchModelData(store, { url: 's3://no-such-bucket/prefix/', compressed: false }, target), /s3:\/\/no-such-bucket\/prefix\/ was not found/);
  await refuses(fetchModelData(store, { url: 's3://models/empty-prefix/', compressed: false }, target), /s3:\/\/models\/empty-prefix\/ was not found/);
  await refuses(fetchModelData(store, { url: 's3://models', compressed: true }, target), /names no object/);
  await refuses(fetchModelData(store, { url: 'https://models/x.tar.gz', compressed: true }, target), /must be an s3:\/\/bucket\/key URL/);
  await put('text.tar.gz', 'not gzip at all');
  await refuses(fetchModelData(store, { url: 's3://models/text.tar.gz', compressed: true }, target), /cannot be used: The model archive is refused: it is not gzip-compressed/);
  assert.equal(existsSync(target), false);
  assert.deepEqual(leftovers().filter((n) => n.includes('missing')), []);
});

test('an uncompressed prefix is copied with its relative paths; only keys under the prefix', async () => {
  await put('raw/config.json', '{"a":1}');
  await put('raw/sub/deeper/weights.bin', Buffer.alloc(10_000, 3));
  await put('raw/empty-dir/', '');
  await put('rawer/not-mine.txt', 'no');
  await put('other/not-mine.txt', 'no');
  const target = join(modelsDir, 'raw-model');
  await fetchModelData(store, { url: 's3://models/raw', compressed: false }, target);
  assert.equal(readFileSync(join(target, 'config.json'), 'utf8'), '{"a":1}');
  assert.deepEqual(readFileSync(join(target, 'sub', 'deeper', 'weights.bin')), Buffer.alloc(10_000, 3));
  assert.deepEqual(readdirSync(join(target, 'empty-dir')), []);
  assert.deepEqual(readdirSync(target).sort(), ['config.json', 'empty-dir', 'sub']);
});

test('an uncompressed prefix with a key that climbs out is refused and nothing is left', async () => {
  await put('bad/ok.txt', 'ok');
  await put('bad/../../escaped.txt', 'evil');
  const target = join(modelsDir, 'bad-model');
  await refuses(fetchModelData(store, { url: 's3://models/bad/', compressed: false }, target), /object key "bad\/\.\.\/\.\.\/escaped\.txt" escapes the model directory/);
  assert.equal(existsSync(target), false);
  assert.equal(existsSync(join(modelsDir, 'escaped.txt')), false);
  assert.deepEqual(leftovers().filter((n) => n.includes('bad-model')), []);
});

test('an aborted fetch leaves nothing behind', async () => {
  await put('abort/a.txt', 'a');
  const target = join(modelsDir, 'aborted');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(fetchModelData(store, { url: 's3://models/abort/', compressed: false }, target, controller.signal), { name: 'AbortError' });
  assert.equal(existsSync(target), false);
});

test('modelDirFor: the lower-cased model name and the first 12 hex of the URL hash', () => {
  const a = modelDirFor('/data', 'MyModel', 's3://b/k.tar.gz');
  assert.match(a, /^\/data\/models\/mymodel-[0-9a-f]{12}$/);
  assert.equal(modelDirFor('/data', 'mymodel', 's3://b/k.tar.gz'), a);
  assert.notEqual(modelDirFor('/data', 'MyModel', 's3://b/k2.tar.gz'), a);
});
