/** Helpers shared by the ObjectStore behaviour suite: bodies, assertions and a reference lister. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { ListObjectsPage } from '../../src/objects/index.js';

/** One mebibyte. */
export const MiB = 1024 * 1024;

/** A readable over the given bytes. */
export function bodyOf(data: string | Buffer): Readable {
  return Readable.from([typeof data === 'string' ? Buffer.from(data) : data]);
}

export { readAll } from '../helpers/http.js';
export { rejectsWith } from '../helpers/inferq-errors.js';

/** Quoted hex MD5, the single-part ETag. */
export function etagOf(data: Buffer): string {
  return `"${createHash('md5').update(data).digest('hex')}"`;
}

/** The CRC32 of `data` as S3 writes it (base64 of the big-endian 4 bytes). */
export function crc32Of(data: Buffer): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
}

/** Deterministic pseudo-random bytes. */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A body that sends `first` and then fails with `error`. */
export function failingBody(first: Buffer, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
      } else {
        setImmediate(() => this.destroy(error));
      }
    },
  });
}

export const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** What a listing must return, computed naively from the full key set. */
export function referencePage(keys: readonly string[], opts: { prefix?: string; delimiter?: string; after?: string; maxKeys: number }): SimplePage {
  const prefix = opts.prefix ?? '';
  const entries: { value: string; isPrefix: boolean }[] = [];
  for (const key of [...keys].sort(byteCompare)) {
    if (!key.startsWith(prefix)) continue;
    const at = opts.delimiter ? key.indexOf(opts.delimiter, prefix.length) : -1;
    const entry = at < 0 ? { value: key, isPrefix: false } : { value: key.slice(0, at + (opts.delimiter ?? '').length), isPrefix: true };
    const last = entries.at(-1);
    if (last && last.isPrefix && entry.isPrefix && last.value === entry.value) continue;
    entries.push(entry);
  }
  const remaining = entries.filter((e) => opts.after === undefined || byteCompare(e.value, opts.after) > 0);
  const page = remaining.slice(0, opts.maxKeys);
  const isTruncated = opts.maxKeys > 0 && remaining.length > page.length;
  return {
    keys: page.filter((e) => !e.isPrefix).map((e) => e.value),
    prefixes: page.filter((e) => e.isPrefix).map((e) => e.value),
    isTruncated,
    nextAfter: isTruncated ? page.at(-1)?.value : undefined,
  };
}

export interface SimplePage {
  keys: string[];
  prefixes: string[];
  isTruncated: boolean;
  nextAfter: string | undefined;
}

export function simplify(page: ListObjectsPage): SimplePage {
  return { keys: page.objects.map((o) => o.key), prefixes: [...page.commonPrefixes], isTruncated: page.isTruncated, nextAfter: page.nextAfter };
}

/** Keys exercising byte order, separators and odd shapes. */
export function listingKeys(): string[] {
  const keys = new Set<string>(['a', 'a/', 'a//b', 'a//c/d', '/lead', '//double', 'a b', 'a.b', 'a-b', 'ab', 'ü/x', 'ü', '日本/語', '\u{1F600}/x', '\uFF5A/y', 'z']);
  for (const top of ['a', 'b', 'photos', 'é']) {
    for (const mid of ['2023', '2024', 'x y']) {
      for (let i = 0; i < 8; i++) keys.add(`${top}/${mid}/${String(i).padStart(3, '0')}.jpg`);
    }
    for (let i = 0; i < 10; i++) keys.add(`${top}/file-${i}`);
  }
  return [...keys];
}

