/**
 * Cryptographic primitives of SigV4: SHA-256/HMAC helpers, signing-key derivation with a small
 * bounded cache, and constant-time comparison of hex signatures. Secrets are only ever passed to
 * `createHmac`; they are never logged or put into error messages.
 */
import { createHmac, hash } from 'node:crypto';

/** `AWS4-HMAC-SHA256`, the only algorithm inferq accepts. */
export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** Hex SHA-256 of the empty string. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Hex SHA-256 of a string (UTF-8) or bytes (one-shot `crypto.hash`, ~3× cheaper than a Hash object). */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** HMAC-SHA256 block size in bytes. */
const HMAC_BLOCK = 64;
/** Inner and outer padded keys of RFC 2104 per signing key, as latin1 strings. */
const PADS = new WeakMap<Buffer, { readonly inner: string; readonly outer: string }>();
const ASCII = /^[\x00-\x7f]*$/;

function padsOf(key: Buffer): { readonly inner: string; readonly outer: string } {
  let pads = PADS.get(key);
  if (pads === undefined) {
    const inner = Buffer.alloc(HMAC_BLOCK, 0x36);
    const outer = Buffer.alloc(HMAC_BLOCK, 0x5c);
    for (let i = 0; i < key.length; i++) {
      inner[i]! ^= key[i]!;
      outer[i]! ^= key[i]!;
    }
    pads = { inner: inner.toString('latin1'), outer: outer.toString('latin1') };
    PADS.set(key, pads);
  }
  return pads;
}

/**
 * Hex HMAC-SHA256 of a string (UTF-8) under `key`. For the usual case (a key of at most one block
 * and ASCII data, as every string to sign is) it is RFC 2104 spelled out as two one-shot hashes
 * over the key's cached pads: an Hmac object per call costs about three times as much, mostly in
 * creating and collecting it.
 */
export function hmacHex(key: Buffer, data: string): string {
  if (key.length > HMAC_BLOCK || !ASCII.test(data)) return createHmac('sha256', key).update(data, 'utf8').digest('hex');
  const pads = padsOf(key);
  const inner = hash('sha256', Buffer.from(pads.inner + data, 'latin1'), 'binary');
  return hash('sha256', Buffer.from(pads.outer + inner, 'latin1'), 'hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Derives the SigV4 signing key: HMAC chain `"AWS4"+secret → date → region → service → "aws4_request"`. */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * A bounded cache of derived signing keys per (secret, date, region, service). Oldest entries are
 * evicted first once `capacity` is reached; a hit is refreshed to the newest position.
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, Buffer>();
  /** The most recent answer: consecutive requests nearly always share one scope. */
  private last: { readonly secret: string; readonly date: string; readonly region: string; readonly service: string; readonly key: Buffer } | undefined;

  constructor(private readonly capacity = 256) {}

  /** The signing key for the scope, derived on a miss. */
  get(secret: string, date: string, region: string, service: string): Buffer {
    const last = this.last;
    if (last !== undefined && last.secret === secret && last.date === date && last.region === region && last.service === service) return last.key;
    const key = this.lookup(secret, date, region, service);
    this.last = { secret, date, region, service, key };
    return key;
  }

  private lookup(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}/${region}/${service}/${secret}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit;
    }
    const key = deriveSigningKey(secret, date, region, service);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(id, key);
    return key;
  }

  /** Number of cached keys (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Constant-time comparison of an expected signature (64 lower-case hex digits) with a provided
 * one: every character is compared, with no early exit, so the time taken does not depend on
 * where they differ. A provided value of another length never matches.
 */
export function signaturesEqual(expectedHex: string, providedHex: string): boolean {
  if (expectedHex.length !== 64 || providedHex.length !== 64) return false;
  let diff = 0;
  for (let i = 0; i < 64; i++) diff |= expectedHex.charCodeAt(i) ^ providedHex.charCodeAt(i);
  return diff === 0;
}
