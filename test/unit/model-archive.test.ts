/**
 * unpackModelArchive on archives made by Python's tarfile (the tool SageMaker users build
 * model.tar.gz with): files, directories and long names (pax) are unpacked; a member that climbs
 * out (`../`), an absolute path, a symbolic or hard link, and a device are refused with nothing
 * left behind; a non-gzip body and an archive over the size bound are refused.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { unpackModelArchive } from '../../src/deploy/index.js';
import { pythonArchive } from '../helpers/archives.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-archive-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A tar.gz built with python's tarfile in the test's directory (see helpers/archives.ts). */
const archive = (name: string, members: string): Buffer => pythonArchive(dir, name, members);

test('files, directories and long names are unpacked under the target', async () => {
  const long = `deep/${'x'.repeat(150)}.bin`;
  const tar = archive('good', `add(t, 'code', type=tarfile.DIRTYPE)\nadd(t, 'code/inference.py', b'print(1)')\nadd(t, 'weights.bin', b'\\x00\\x01' * 1000)\nadd(t, ${JSON.stringify(long)}, b'long')\nadd(t, './dot/a.txt', b'a')`);
  const target = join(dir, 'out-good');
  assert.deepEqual(await unpackModelArchive(Readable.from([tar]), target, 1 << 20), { files: 4, directories: 1, bytes: 8 + 2000 + 4 + 1 });
  assert.equal(readFileSync(join(target, 'code/inference.py'), 'utf8'), 'print(1)');
  assert.equal(readFileSync(join(target, long), 'utf8'), 'long');
  assert.equal(readFileSync(join(target, 'dot/a.txt'), 'utf8'), 'a');
});

test('members that escape the target, links and devices are refused and nothing is written', async () => {
  const cases: [string, string, RegExp][] = [
    ['climb', `add(t, 'ok.txt', b'ok')\nadd(t, '../evil.txt', b'x')`, /member "\.\.\/evil\.txt" would be written outside the model directory/],
    ['climb-inner', `add(t, 'a/../../evil.txt', b'x')`, /would be written outside/],
    ['absolute', `add(t, '/tmp/evil.txt', b'x')`, /member "\/tmp\/evil\.txt" has an absolute path/],
    ['symlink', `add(t, 'etc', type=tarfile.SYMTYPE, link='/etc')\nadd(t, 'etc/passwd', b'x')`, /member "etc" is a link/],
    ['hardlink', `add(t, 'h', type=tarfile.LNKTYPE, link='../../outside')`, /member "h" is a link/],
    ['device', `add(t, 'null', type=tarfile.CHRTYPE)`, /member "null" is neither a file nor a directory/],
  ];
  for (const [name, members, message] of cases) {
    const target = join(dir, `out-${name}`);
    await assert.rejects(unpackModelArchive(Readable.from([archive(name, members)]), target, 1 << 20), (err: Error & { code?: string }) => err.code === 'ControlPlaneValidation' && message.test(err.message), name);
    assert.equal(existsSync(target), false, `${name}: nothing written`);
  }
  assert.equal(existsSync(join(dir, 'evil.txt')), false);
});

test('a body that is not gzip, and an archive larger than the bound unpacked, are refused', async () => {
  await assert.rejects(unpackModelArchive(Readable.from([Buffer.from('not gzip')]), join(dir, 'out-text'), 1 << 20), /The model archive is refused: it is not gzip-compressed\./);
  const big = gzipSync(Buffer.alloc(1 << 20));
  await assert.rejects(unpackModelArchive(Readable.from([big]), join(dir, 'out-big'), 1024), /it is larger than 1024 bytes unpacked/);
});
