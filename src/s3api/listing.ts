/**
 * ListObjectsV2 and ListObjects (v1): parameters, continuation tokens and the XML answer. Contents
 * carry an Owner in v1 always and in v2 only with `fetch-owner=true`, as in S3.
 */
import { InferqError } from '../errors/index.js';
import type { ListObjectsPage, ObjectInfo } from '../objects/index.js';
import { bucketOf, OWNER_XML, sendXml, type S3Request } from './context.js';
import { renderXml, xmlDate, type XmlNode } from './xml.js';

const UNRESERVED = /[A-Za-z0-9\-_.*/]/;

/**
 * `encoding-type=url` as S3 answers it (form encoding that keeps `/`): a space becomes `+`;
 * letters, digits, `-_.*` and `/` stay; every other byte of the UTF-8 key is `%XX` (`+` is `%2B`,
 * `%` is `%25`). Clients decode with form decoding (botocore's unquote_plus).
 */
export function urlEncodeKey(key: string): string {
  let out = '';
  for (const ch of key) {
    if (ch === ' ') out += '+';
    else if (UNRESERVED.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function parseMaxKeys(raw: string | undefined): number {
  if (raw === undefined) return 1000;
  if (!/^\d+$/.test(raw)) throw new InferqError('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: raw });
  return Math.min(Number(raw), 1000);
}

function encodeToken(after: string): string {
  return Buffer.from(`v1:${after}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith('v1:') || encodeToken(text.slice(3)) !== token) {
    throw new InferqError('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  return text.slice(3);
}

function contents(objects: readonly ObjectInfo[], encode: (s: string) => string, withOwner: boolean): [string, XmlNode][] {
  return objects.map((o) => ['Contents', [
    ['Key', encode(o.key)],
    ['LastModified', xmlDate(o.lastModified)],
    ['ETag', o.etag],
    ['Size', o.size],
    ['Owner', withOwner ? OWNER_XML : undefined],
    ['StorageClass', 'STANDARD'],
  ]]);
}

function listingParams(r: S3Request): { prefix: string; delimiter?: string; maxKeys: number; encode: (s: string) => string; encodingType?: string } {
  const q = r.address.query;
  const encodingType = q.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw new InferqError('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  const delimiter = q.get('delimiter') || undefined;
  return {
    prefix: q.get('prefix') ?? '',
    ...(delimiter ? { delimiter } : {}),
    maxKeys: parseMaxKeys(q.get('max-keys')),
    encode: encodingType ? urlEncodeKey : (s: string) => s,
    ...(encodingType ? { encodingType } : {}),
  };
}

async function listPage(r: S3Request, p: ReturnType<typeof listingParams>, after: string | undefined): Promise<ListObjectsPage> {
  return r.deps.store.listObjects(bucketOf(r), {
    prefix: p.prefix,
    ...(p.delimiter ? { delimiter: p.delimiter } : {}),
    maxKeys: p.maxKeys,
    ...(after ? { after } : {}),
  });
}

/** GET /bucket?list-type=2 */
export async function listObjectsV2(r: S3Request): Promise<void> {
  const q = r.address.query;
  const p = listingParams(r);
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after');
  const after = token !== undefined ? decodeToken(token) : startAfter;
  const page = await listPage(r, p, after || undefined);
  sendXml(r.res, 200, renderXml('ListBucketResult', [
    ['Name', bucketOf(r)],
    ['Prefix', p.encode(p.prefix)],
    ['Delimiter', p.delimiter === undefined ? undefined : p.encode(p.delimiter)],
    ['MaxKeys', p.maxKeys],
    ['KeyCount', page.objects.length + page.commonPrefixes.length],
    ['IsTruncated', page.isTruncated],
    ['EncodingType', p.encodingType],
    ['ContinuationToken', token],
    ['NextContinuationToken', page.isTruncated && page.nextAfter !== undefined ? encodeToken(page.nextAfter) : undefined],
    ['StartAfter', startAfter === undefined ? undefined : p.encode(startAfter)],
    ...contents(page.objects, p.encode, q.get('fetch-owner') === 'true'),
    ...page.commonPrefixes.map((cp): [string, XmlNode] => ['CommonPrefixes', [['Prefix', p.encode(cp)]]]),
  ]));
}

/** GET /bucket (v1) */
export async function listObjectsV1(r: S3Request): Promise<void> {
  const p = listingParams(r);
  const marker = r.address.query.get('marker') ?? '';
  const page = await listPage(r, p, marker || undefined);
  sendXml(r.res, 200, renderXml('ListBucketResult', [
    ['Name', bucketOf(r)],
    ['Prefix', p.encode(p.prefix)],
    ['Marker', p.encode(marker)],
    ['NextMarker', page.isTruncated && page.nextAfter !== undefined ? p.encode(page.nextAfter) : undefined],
    ['Delimiter', p.delimiter === undefined ? undefined : p.encode(p.delimiter)],
    ['MaxKeys', p.maxKeys],
    ['IsTruncated', page.isTruncated],
    ['EncodingType', p.encodingType],
    ...contents(page.objects, p.encode, true),
    ...page.commonPrefixes.map((cp): [string, XmlNode] => ['CommonPrefixes', [['Prefix', p.encode(cp)]]]),
  ]));
}
