/**
 * Whole-object checksums of multipart uploads, from the checksums of their parts: S3's
 * *composite* checksum (the checksum of the concatenated binary part checksums, then `-N`) and the
 * *full-object* CRC (CRC32, CRC32C, CRC64NVME of all the bytes), which is combined from the part
 * CRCs and sizes without reading the bytes again: crc(A‖B) = crc(A)·x^(8|B|) mod P ⊕ crc(B) for the
 * reflected CRCs whose initial value equals their final xor (all three here), as zlib's
 * crc32_combine does. The polynomial arithmetic uses BigInt: a few hundred operations a part.
 */
import type { ChecksumAlgorithm } from '../objects/index.js';
import { computeChecksum } from './checksums.js';

/** The CRCs whose parts can be combined into a full-object checksum. */
export type CombinableAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';

/** Reflected polynomial and width of each combinable CRC. */
const CRC: Readonly<Record<CombinableAlgorithm, { readonly width: number; readonly poly: bigint }>> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: 0x82f63b78n },
  CRC64NVME: { width: 64, poly: 0x9a6c9329ac4bc9b5n },
};

/** Whether `alg` supports the FULL_OBJECT checksum type of multipart uploads. */
export function isCombinable(alg: ChecksumAlgorithm): alg is CombinableAlgorithm {
  return alg in CRC;
}

/** a·b mod P in the reflected representation (the top bit is x^0). */
function multModP(a: bigint, b: bigint, width: number, poly: bigint): bigint {
  if (a === 0n) return 0n;
  let m = 1n << BigInt(width - 1);
  let p = 0n;
  let bb = b;
  for (;;) {
    if (a & m) {
      p ^= bb;
      if ((a & (m - 1n)) === 0n) return p;
    }
    m >>= 1n;
    bb = bb & 1n ? (bb >> 1n) ^ poly : bb >> 1n;
  }
}

/** x^(8·n) mod P. */
function xPow8n(n: number, width: number, poly: bigint): bigint {
  let square = 1n << BigInt(width - 2); // x^1
  for (let k = 0; k < 3; k++) square = multModP(square, square, width, poly); // x^8
  let p = 1n << BigInt(width - 1); // x^0
  let rest = BigInt(n);
  while (rest > 0n) {
    if (rest & 1n) p = multModP(square, p, width, poly);
    rest >>= 1n;
    if (rest > 0n) square = multModP(square, square, width, poly);
  }
  return p;
}

function toBigInt(digest: Buffer): bigint {
  return BigInt(`0x${digest.toString('hex') || '0'}`);
}

function fromBigInt(value: bigint, width: number): Buffer {
  return Buffer.from(value.toString(16).padStart(width / 4, '0'), 'hex');
}

/**
 * The full-object CRC of the concatenation of parts, from each part's CRC (base64, as on the
 * wire) and byte size. `parts` must not be empty.
 */
export function combineCrcs(alg: CombinableAlgorithm, parts: readonly { readonly checksum: string; readonly size: number }[]): string {
  const { width, poly } = CRC[alg];
  let crc: bigint | undefined;
  for (const part of parts) {
    const next = toBigInt(Buffer.from(part.checksum, 'base64'));
    crc = crc === undefined ? next : multModP(xPow8n(part.size, width, poly), crc, width, poly) ^ next;
  }
  if (crc === undefined) throw new RangeError('combineCrcs needs at least one part');
  return fromBigInt(crc, width).toString('base64');
}

/**
 * S3's composite checksum: the checksum of the concatenated binary part checksums (base64 each),
 * base64, followed by `-N` (the number of parts).
 */
export function compositeChecksum(alg: ChecksumAlgorithm, partChecksums: readonly string[]): string {
  const raw = Buffer.concat(partChecksums.map((c) => Buffer.from(c, 'base64')));
  return `${computeChecksum(alg, raw)}-${partChecksums.length}`;
}
