/**
 * `s3://bucket/key` locations of model data, as CreateModel's `ModelDataUrl` and
 * `ModelDataSource.S3DataSource.S3Uri` give them.
 */
import { InferqError } from '../errors/index.js';

/** A bucket and a key (or key prefix, possibly empty). */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Splits `s3://bucket/key`.
 * @throws InferqError ControlPlaneValidation when `url` is not an s3:// URL naming a bucket; `field` names where it came from.
 */
export function parseS3Url(url: string, field: string): S3Location {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!m) throw new InferqError('ControlPlaneValidation', `${field} "${url}" must be an s3://bucket/key URL of inferq's object store.`);
  return { bucket: m[1]!, key: m[2] ?? '' };
}
