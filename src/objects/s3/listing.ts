/**
 * Listings on an S3 backend: ListObjectsV2 and ListMultipartUploads pages in the port's terms.
 * The port continues "strictly after an entry" (a key or a rolled-up common prefix); S3's
 * StartAfter continues after a key, so a common prefix that `after` lies inside is dropped here
 * (one entry more is asked for to keep the page full). Keys travel URL-encoded (EncodingType
 * url), so any key survives the XML.
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ListObjectsOptions, ListObjectsPage, ListUploadsOptions, ListUploadsPage, ObjectInfo, UploadInfo } from '../port.js';
import { checksumSetting, quoteEtag } from './convert.js';
import { s3Call } from './errors.js';

/** S3's largest page. */
const MAX_PAGE = 1000;

const byteCompare = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Decodes a value of an `EncodingType=url` answer. */
function decoded(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}

interface Entry {
  readonly value: string;
  readonly object?: ObjectInfo;
}

/** One page of objects and common prefixes, strictly after `options.after`. */
export async function listObjectsPage(client: S3Client, bucket: string, options: ListObjectsOptions, ensureBucket: () => Promise<void>): Promise<ListObjectsPage> {
  const maxKeys = Math.max(0, Math.min(MAX_PAGE, Math.floor(options.maxKeys)));
  if (maxKeys === 0) {
    await ensureBucket();
    return { objects: [], commonPrefixes: [], isTruncated: false };
  }
  const out = await s3Call({ bucket }, () => client.send(new ListObjectsV2Command({
    Bucket: bucket,
    EncodingType: 'url',
    MaxKeys: Math.min(MAX_PAGE, maxKeys + 1),
    ...(options.prefix ? { Prefix: options.prefix } : {}),
    ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
    ...(options.after !== undefined ? { StartAfter: options.after } : {}),
  })));
  const entries: Entry[] = [
    ...(out.Contents ?? []).map((o): Entry => {
      const key = decoded(o.Key);
      return {
        value: key,
        object: {
          bucket, key, size: o.Size ?? 0, etag: quoteEtag(o.ETag ?? ''), lastModified: o.LastModified ?? new Date(0),
          contentType: 'binary/octet-stream', userMetadata: {}, httpHeaders: {}, checksums: {},
        },
      };
    }),
    ...(out.CommonPrefixes ?? []).map((p): Entry => ({ value: decoded(p.Prefix) })),
  ].sort((a, b) => byteCompare(a.value, b.value));
  const after = options.after;
  const kept = after === undefined ? entries : entries.filter((e) => byteCompare(e.value, after) > 0);
  const page = kept.slice(0, maxKeys);
  const isTruncated = kept.length > maxKeys || out.IsTruncated === true;
  const last = page.at(-1);
  return {
    objects: page.flatMap((e) => (e.object ? [e.object] : [])),
    commonPrefixes: page.flatMap((e) => (e.object ? [] : [e.value])),
    isTruncated: isTruncated && last !== undefined,
    ...(isTruncated && last !== undefined ? { nextAfter: last.value } : {}),
  };
}

/** One page of uploads in progress. */
export async function listUploadsPage(client: S3Client, bucket: string, options: ListUploadsOptions, ensureBucket: () => Promise<void>): Promise<ListUploadsPage> {
  const maxUploads = Math.max(0, Math.min(MAX_PAGE, Math.floor(options.maxUploads)));
  if (maxUploads === 0) {
    await ensureBucket();
    return { uploads: [], commonPrefixes: [], isTruncated: false };
  }
  const out = await s3Call({ bucket }, () => client.send(new ListMultipartUploadsCommand({
    Bucket: bucket,
    EncodingType: 'url',
    MaxUploads: maxUploads,
    ...(options.prefix ? { Prefix: options.prefix } : {}),
    ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
    ...(options.keyMarker !== undefined ? { KeyMarker: options.keyMarker } : {}),
    ...(options.uploadIdMarker !== undefined ? { UploadIdMarker: options.uploadIdMarker } : {}),
  })));
  const uploads: UploadInfo[] = (out.Uploads ?? []).map((u) => {
    const alg = checksumSetting(u.ChecksumAlgorithm);
    const type = u.ChecksumType;
    return {
      bucket, key: decoded(u.Key), uploadId: u.UploadId ?? '', initiated: u.Initiated ?? new Date(0),
      ...(alg !== undefined && (type === 'COMPOSITE' || type === 'FULL_OBJECT') ? { checksumAlgorithm: alg, checksumType: type } : {}),
    };
  });
  const commonPrefixes = (out.CommonPrefixes ?? []).map((p) => decoded(p.Prefix));
  if (out.IsTruncated !== true) return { uploads, commonPrefixes, isTruncated: false };
  const nextKeyMarker = out.NextKeyMarker !== undefined ? decoded(out.NextKeyMarker) : undefined;
  return {
    uploads, commonPrefixes, isTruncated: true,
    ...(nextKeyMarker !== undefined ? { nextKeyMarker } : {}),
    ...(out.NextUploadIdMarker ? { nextUploadIdMarker: out.NextUploadIdMarker } : {}),
  };
}
