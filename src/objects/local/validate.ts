/**
 * Input validation shared by the local backend: S3 bucket-name rules, key length/encoding rules
 * and multipart part numbers. Every failure is an InferqError with the S3 code S3 would send.
 */
import { InferqError } from '../../errors/index.js';

/** Largest object key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** Largest multipart part number. */
export const MAX_PART_NUMBER = 10_000;

const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;
const IP_SHAPED = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Throws InvalidBucketName unless `name` follows the S3 general-purpose bucket naming rules. */
export function validateBucketName(name: string): void {
  const fail = (why: string): never => {
    throw new InferqError('InvalidBucketName', `The specified bucket is not valid: ${why}.`, { BucketName: name });
  };
  if (name.length < 3 || name.length > 63) fail('length must be between 3 and 63 characters');
  if (!BUCKET_CHARS.test(name)) fail('only lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit');
  if (name.includes('..')) fail('adjacent periods are not allowed');
  if (IP_SHAPED.test(name)) fail('must not be formatted as an IP address');
  if (name.startsWith('xn--') || name.startsWith('sthree-')) fail('reserved prefix');
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3')) fail('reserved suffix');
}

/**
 * Validates an object key and returns its UTF-8 bytes (the stored, ordered form).
 * Empty or not well-formed (lone surrogates) → InvalidArgument; over 1024 bytes → KeyTooLongError.
 */
export function keyBytes(key: string): Buffer {
  if (key.length === 0) throw new InferqError('InvalidArgument', 'The object key must not be empty.', { ArgumentName: 'key' });
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > MAX_KEY_BYTES) {
    throw new InferqError('KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: String(MAX_KEY_BYTES), Size: String(bytes.length) });
  }
  if (bytes.toString('utf8') !== key) {
    throw new InferqError('InvalidArgument', 'The object key is not valid UTF-8.', { ArgumentName: 'key' });
  }
  return bytes;
}

/** Throws InvalidArgument unless `partNumber` is an integer in 1–10000. */
export function validatePartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new InferqError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: String(partNumber),
    });
  }
}
