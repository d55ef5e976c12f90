/**
 * Whole-object checksums of multipart uploads: composite checksums against the values AWS S3
 * returns for one part "123456789", and full-object CRCs combined from parts against the CRC
 * computed over the whole bytes, for random splits (including empty parts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { combineCrcs, compositeChecksum, computeChecksum, isCombinable } from '../../src/auth/index.js';

const CHECK = Buffer.from('123456789');

describe('composite checksums', () => {
  it('match what S3 answers for a one-part upload of "123456789"', () => {
    // Values as S3 returns them (recorded by the OpenStack Swift s3api tests against AWS).
    const expected = { CRC32: '7kxlUA==-1', CRC32C: 'pzJFoA==-1', SHA1: 'zGcEPHvP9e6lVmvZsfPHT9mlz10=-1', SHA256: 'KSsNAHVmgy25S/rmic1w0at3KBH9RLn0nYVQ7p6mpJQ=-1' } as const;
    for (const [alg, value] of Object.entries(expected) as [keyof typeof expected, string][]) {
      assert.equal(compositeChecksum(alg, [computeChecksum(alg, CHECK)]), value, alg);
    }
  });

  it('hash the concatenated binary part checksums and count the parts', () => {
    const parts = [randomBytes(100), randomBytes(7), randomBytes(1)];
    const sums = parts.map((p) => computeChecksum('SHA256', p));
    const raw = Buffer.concat(sums.map((s) => Buffer.from(s, 'base64')));
    assert.equal(compositeChecksum('SHA256', sums), `${computeChecksum('SHA256', raw)}-3`);
  });
});

describe('full-object CRCs combined from parts', () => {
  it('only CRC32, CRC32C and CRC64NVME combine', () => {
    assert.deepEqual((['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const).filter(isCombinable), ['CRC32', 'CRC32C', 'CRC64NVME']);
  });

  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`${alg}: combining part CRCs equals the CRC of the whole`, () => {
      for (let trial = 0; trial < 20; trial++) {
        const count = 1 + (trial % 5);
        const parts = Array.from({ length: count }, (_, i) => randomBytes(trial === 3 && i === 1 ? 0 : 1 + Math.floor(Math.random() * 5000)));
        const combined = combineCrcs(alg, parts.map((p) => ({ checksum: computeChecksum(alg, p), size: p.length })));
        assert.equal(combined, computeChecksum(alg, Buffer.concat(parts)), `${alg} trial ${trial}`);
      }
    });
  }

  it('CRC64NVME of "123456789" split in three combines to the check value', () => {
    const parts = [CHECK.subarray(0, 2), CHECK.subarray(2, 7), CHECK.subarray(7)];
    const combined = combineCrcs('CRC64NVME', parts.map((p) => ({ checksum: computeChecksum('CRC64NVME', p), size: p.length })));
    assert.equal(Buffer.from(combined, 'base64').toString('hex'), 'ae8b14860a799888');
  });
});
