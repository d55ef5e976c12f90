/** Bucket operations of the S3 front: Create/Head/DeleteBucket, GetBucketLocation, DeleteObjects (ListBuckets: bucket-listing.ts). */
import { InferqError, isInferqError } from '../errors/index.js';
import { readSmallBody } from './body.js';
import { bucketOf, header, sendEmpty, sendXml, type S3Request } from './context.js';
import { parseXmlBody, renderXml, type XmlNode } from './xml.js';

const MAX_XML_BYTES = 2 * 1024 * 1024;

/** PUT /bucket (an optional CreateBucketConfiguration body is validated and otherwise ignored). */
export async function createBucket(r: S3Request): Promise<void> {
  const body = await readSmallBody(r.req, r.auth, MAX_XML_BYTES);
  if (body.length > 0) {
    const doc = parseXmlBody(body);
    if (!('CreateBucketConfiguration' in doc)) throw new InferqError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  }
  await r.deps.store.createBucket(bucketOf(r));
  sendEmpty(r.res, 200, { Location: `/${bucketOf(r)}` });
}

/** HEAD /bucket */
export async function headBucket(r: S3Request): Promise<void> {
  await r.deps.store.headBucket(bucketOf(r));
  sendEmpty(r.res, 200, { 'x-amz-bucket-region': r.deps.region });
}

/** DELETE /bucket */
export async function deleteBucket(r: S3Request): Promise<void> {
  await r.deps.store.deleteBucket(bucketOf(r));
  sendEmpty(r.res, 204);
}

/** GET /bucket?location */
export async function getBucketLocation(r: S3Request): Promise<void> {
  await r.deps.store.headBucket(bucketOf(r));
  const region = r.deps.region === 'us-east-1' ? '' : r.deps.region;
  sendXml(r.res, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`);
}

function deleteKeys(doc: Record<string, unknown>): { keys: string[]; quiet: boolean } {
  const del = doc['Delete'];
  if (typeof del !== 'object' || del === null) throw new InferqError('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
  const d = del as Record<string, unknown>;
  const objects = Array.isArray(d['Object']) ? (d['Object'] as unknown[]) : [];
  const keys = objects.map((o) => {
    const key = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)['Key'] : undefined;
    if (typeof key !== 'string') throw new InferqError('MalformedXML', 'Each Object needs a Key.');
    return key;
  });
  if (keys.length === 0 || keys.length > 1000) throw new InferqError('MalformedXML', 'The request must list between 1 and 1000 objects.');
  return { keys, quiet: d['Quiet'] === 'true' };
}

/** POST /bucket?delete (Content-MD5 or an x-amz-checksum is required, as in S3). */
export async function deleteObjects(r: S3Request): Promise<void> {
  const hasDigest = header(r.req, 'content-md5') !== undefined || Object.keys(r.req.headers).some((h) => h.startsWith('x-amz-checksum-')) || header(r.req, 'x-amz-trailer') !== undefined;
  if (!hasDigest) throw new InferqError('InvalidRequest', 'Missing required header for this request: Content-MD5');
  const { keys, quiet } = deleteKeys(parseXmlBody(await readSmallBody(r.req, r.auth, MAX_XML_BYTES)));
  await r.deps.store.headBucket(bucketOf(r));
  const results: [string, XmlNode][] = [];
  for (const key of keys) {
    try {
      await r.deps.store.deleteObject(bucketOf(r), key);
      if (!quiet) results.push(['Deleted', [['Key', key]]]);
    } catch (err) {
      const code = isInferqError(err) ? err.spec.s3 : 'InternalError';
      results.push(['Error', [['Key', key], ['Code', code], ['Message', err instanceof Error ? err.message : String(err)]]]);
    }
  }
  sendXml(r.res, 200, renderXml('DeleteResult', results));
}
