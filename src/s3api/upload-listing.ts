/** ListMultipartUploads (GET /bucket?uploads): parameters and the XML answer. */
import { InferqError } from '../errors/index.js';
import type { UploadInfo } from '../objects/index.js';
import { bucketOf, sendXml, type S3Request } from './context.js';
import { urlEncodeKey } from './listing.js';
import { renderXml, xmlDate, type XmlNode } from './xml.js';

const OWNER: XmlNode = [['ID', 'inferq'], ['DisplayName', 'inferq']];

function parseMaxUploads(raw: string | undefined): number {
  if (raw === undefined) return 1000;
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2147483647) {
    throw new InferqError('InvalidArgument', 'Argument max-uploads must be an integer between 0 and 2147483647', { ArgumentName: 'max-uploads', ArgumentValue: raw });
  }
  return Math.min(Number(raw), 1000);
}

function uploadEntry(upload: UploadInfo, encode: (s: string) => string): [string, XmlNode] {
  return ['Upload', [
    ['Key', encode(upload.key)],
    ['UploadId', upload.uploadId],
    ['Initiator', OWNER],
    ['Owner', OWNER],
    ['StorageClass', 'STANDARD'],
    ['Initiated', xmlDate(upload.initiated)],
    ['ChecksumAlgorithm', upload.checksumAlgorithm],
    ['ChecksumType', upload.checksumType],
  ]];
}

/** GET /bucket?uploads (prefix, delimiter, key-marker, upload-id-marker, max-uploads, encoding-type=url). */
export async function listMultipartUploads(r: S3Request): Promise<void> {
  const q = r.address.query;
  const encodingType = q.get('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw new InferqError('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  const encode = encodingType ? urlEncodeKey : (s: string): string => s;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') || undefined;
  const keyMarker = q.get('key-marker') ?? '';
  // As in S3, the upload-id marker counts only together with a key marker.
  const uploadIdMarker = keyMarker ? (q.get('upload-id-marker') ?? '') : '';
  const maxUploads = parseMaxUploads(q.get('max-uploads'));
  const page = await r.deps.store.listMultipartUploads(bucketOf(r), {
    maxUploads,
    ...(prefix ? { prefix } : {}),
    ...(delimiter ? { delimiter } : {}),
    ...(keyMarker ? { keyMarker } : {}),
    ...(uploadIdMarker ? { uploadIdMarker } : {}),
  });
  sendXml(r.res, 200, renderXml('ListMultipartUploadsResult', [
    ['Bucket', bucketOf(r)],
    ['KeyMarker', encode(keyMarker)],
    ['UploadIdMarker', uploadIdMarker],
    ['NextKeyMarker', page.nextKeyMarker === undefined ? undefined : encode(page.nextKeyMarker)],
    ['NextUploadIdMarker', page.nextUploadIdMarker],
    ['Prefix', encode(prefix)],
    ['Delimiter', delimiter === undefined ? undefined : encode(delimiter)],
    ['MaxUploads', maxUploads],
    ['EncodingType', encodingType],
    ['IsTruncated', page.isTruncated],
    ...page.uploads.map((u) => uploadEntry(u, encode)),
    ...page.commonPrefixes.map((cp): [string, XmlNode] => ['CommonPrefixes', [['Prefix', encode(cp)]]]),
  ]));
}
