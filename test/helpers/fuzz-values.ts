/**
 * Test helper for the fuzz test: a small seeded PRNG (mulberry32, so a seed replays exactly) and
 * pools of hostile values: numbers, dates, ranges, URLs, percent-encodings (broken, overlong,
 * unicode), header-safe junk, and XML documents (truncated, entity-laden, deeply nested).
 */

/** A seeded pseudo-random generator (mulberry32). */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return this.next() % n;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Numbers as text: huge, negative, fractional, exponent, hex, padded, empty. */
export const NUMBERS = ['0', '1', '-1', '1e400', '1e3', '99999999999999999999999', '2147483648', '4294967296', '9007199254740993', 'NaN', 'Infinity', '0x10', '1.5', ' 7 ', '', '00000000000000000000001', '-0', '+5', '1_000', '١٢'];

/** Dates as text. */
export const DATES = ['garbage', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Sat, 13 Sep 275760 00:00:00 GMT', '99999-01-01', '2026-13-45T99:99:99Z', '0', '-1', 'Tue, 31 Feb 2026 25:61:61 GMT', ''];

/** Range headers, valid and not. */
export const RANGES = ['bytes=0-0', 'bytes=0-', 'bytes=-1', 'bytes=-0', 'bytes=5-2', 'bytes=99999999999999999999-', 'bytes=-99999999999999999999', 'bytes=1-2,3-4', 'bytes=', 'bytes=-', 'items=0-1', 'bytes=18446744073709551616-18446744073709551617', 'bytes=9007199254740993-9007199254740999', 'bytes=0-1e3', 'bytes = 0-1'];

/** InputLocation and URL-like values. */
export const LOCATIONS = ['https://[::1/x', 'https://[::1]/x', 'https://a', 'https://', 's3://', 's3://b', 's3://b/', 's3:///k', 'https://%zz/', 'https://bucket.s3.amazonaws.com/%E0%A4%A', 'https://bucket.s3.amazonaws.com/%ff', 'https://s3.amazonaws.com/b/%C0%80', 'https://s3.amazonaws.com/', 's3://fuzz-bucket/obj-1', 's3://fuzz-bucket/missing', 's3://No_Such/Bucket', 'https://user:pass@h/x', 'https://h:99999/x', 'https://h:-1/x', 'http://x/y', 'https://xn--/x', 'https://a..b/x', 'https://fuzz-bucket.s3.amazonaws.com/obj-1', 'https:// spaced/x', 'https://\u00e9/x', 'https://a/%00'];

/** ETag lists. */
export const ETAGS = ['"abc"', '*', 'W/"x"', ',,,', '""', '"', 'W/', '"d41d8cd98f00b204e9800998ecf8427e"'];

/** Header-safe junk (tab, printable ASCII and latin1 only: anything else never gets past node's parser). */
export const HEADER_JUNK = ['', ' ', '\t', '%', '%00', '\u00e9\u00ff', 'a'.repeat(5000), '<x>&amp;', '"', "'", ';;;;', '=', 'null', 'undefined', '[object Object]', '{"a":1}', 'aws-chunked', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', '../../etc/passwd', 'x\u00c3\u00a9y', 'AAAA', '=?utf-8?b?w6k=?='];

/** Raw query or path text: broken and overlong escapes, encoded control bytes and unicode, raw specials. */
export const ENCODED_JUNK = ['%', '%z', '%zz', '%e2%82', '%C0%80', '%ED%A0%80', '%F4%90%80%80', '%FF', '%00', '%0A', '%0D%0A', '%7F', '%01', '%09', '%E2%82%AC', '%F0%9F%98%80', '%2F', '%2f..%2f', '..', '.', '', '+', '%2B', '%20', '%25', '%%', '&', '=', '==', 'a'.repeat(3000), '%41'.repeat(2000), '~', '*', "'()!", '%3C%3F%3E', '%EF%BF%BE', '%EF%BB%BF'];

/** Any one hostile text value, for places that accept free text. */
export function textValue(rng: Prng): string {
  switch (rng.int(6)) {
    case 0: return rng.pick(NUMBERS);
    case 1: return rng.pick(DATES);
    case 2: return rng.pick(HEADER_JUNK);
    case 3: return rng.pick(ETAGS);
    case 4: return rng.pick(LOCATIONS);
    default: return rng.bytes(1 + rng.int(12)).toString('latin1').replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
  }
}

/** Percent-encodes every byte of a string's UTF-8 form. */
export function percentAll(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** A value to put raw into a query or path: a junk encoding, an encoded hostile text, or random encoded bytes. */
export function encodedValue(rng: Prng): string {
  switch (rng.int(4)) {
    case 0: return rng.pick(ENCODED_JUNK);
    case 1: return percentAll(textValue(rng));
    case 2: return [...rng.bytes(1 + rng.int(10))].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    default: return rng.pick(ENCODED_JUNK) + rng.pick(ENCODED_JUNK);
  }
}

/** Header values that are mostly right for `name` but hostile. */
export function headerValueFor(rng: Prng, name: string): string {
  if (name === 'range') return rng.pick(RANGES);
  if (name.startsWith('if-') && name.endsWith('match')) return rng.pick(ETAGS);
  if (name.includes('since') || name === 'expires') return rng.pick(DATES);
  if (name.includes('length') || name.endsWith('seconds')) return rng.pick(NUMBERS);
  if (name.includes('location')) return rng.pick(LOCATIONS);
  return textValue(rng);
}

const XML_ENTITIES = '<!DOCTYPE d [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>';

/** Whole hostile XML documents: entity bombs, external entities, deep nesting, wrong roots, junk. */
export function xmlDocument(rng: Prng, root: string, inner: string): string {
  switch (rng.int(12)) {
    case 0: return `<?xml version="1.0"?>${XML_ENTITIES}<${root}>${inner}<Key>&e;&e;&e;</Key></${root}>`;
    case 1: return `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><${root}>${inner}&x;</${root}>`;
    case 2: return `<${root}>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</${root}>`;
    case 3: return `<${root}>${inner}`;
    case 4: return `<Other>${inner}</Other>`;
    case 5: return `<${root}><${root}>${inner}</${root}></${root}>`;
    case 6: return `<${root}>${inner.replace(/<\/?[A-Za-z]+>/, '')}</${root}>`;
    case 7: return `<?xml version="1.0" encoding="UTF-16"?><${root}>${inner}</${root}>`;
    case 8: return `<${root} xmlns:x="urn:x"><x:Part><x:PartNumber>1</x:PartNumber></x:Part>${inner}</${root}>`;
    case 9: return `<${root}>${inner}<![CDATA[]]>&#0;&#xFFFFFFFF;&unknown;</${root}>`;
    case 10: return `<${root}>${inner.replace(/>\d+</, `>${rng.pick(NUMBERS)}<`)}</${root}>`;
    default: return rng.bytes(1 + rng.int(200)).toString('latin1');
  }
}
