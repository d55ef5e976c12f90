/**
 * ListBuckets (`GET /`) with S3's paging: `max-buckets` (1–10000), `continuation-token`,
 * `prefix` and `bucket-region`. Without any of them every bucket is listed; with any of them a
 * page holds at most 10000 buckets (or max-buckets), a truncated page carries ContinuationToken and
 * each Bucket its BucketRegion. The token is opaque (base64url of a version tag and the last name).
 */
import { InferqError } from '../errors/index.js';
import { OWNER_XML, sendXml, type S3Request } from './context.js';
import { renderXml, xmlDate, type XmlNode } from './xml.js';

const MAX_PAGE = 10000;

function encodeToken(after: string): string {
  return Buffer.from(`b1:${after}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('b1:') || encodeToken(text.slice(3)) !== token) {
    throw new InferqError('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return text.slice(3);
}

function maxBuckets(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE) {
    throw new InferqError('InvalidArgument', `Argument max-buckets must be an integer between 1 and ${MAX_PAGE}`, { ArgumentName: 'max-buckets', ArgumentValue: raw });
  }
  return Number(raw);
}

/** GET / */
export async function listBuckets(r: S3Request): Promise<void> {
  const q = r.address.query;
  const max = maxBuckets(q.get('max-buckets'));
  const token = q.get('continuation-token');
  const after = token ? decodeToken(token) : undefined;
  const prefix = q.get('prefix');
  const region = q.get('bucket-region');
  const paged = max !== undefined || token !== undefined || prefix !== undefined || region !== undefined;
  const limit = max ?? (paged ? MAX_PAGE : Infinity);
  const all = region !== undefined && region !== r.deps.region ? [] : await r.deps.store.listBuckets();
  const matching = all.filter((b) => b.name.startsWith(prefix ?? '') && (after === undefined || b.name > after));
  const page = matching.slice(0, limit);
  const last = page.at(-1);
  const truncated = matching.length > page.length && last !== undefined;
  sendXml(r.res, 200, renderXml('ListAllMyBucketsResult', [
    ['Owner', OWNER_XML],
    ['Buckets', page.map((b): [string, XmlNode] => ['Bucket', [
      ['Name', b.name],
      ['CreationDate', xmlDate(b.createdAt)],
      ['BucketRegion', paged ? r.deps.region : undefined],
    ]])],
    ['ContinuationToken', truncated ? encodeToken(last.name) : undefined],
    ['Prefix', prefix],
  ]));
}
