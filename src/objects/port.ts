/**
 * The ObjectStore port: what inferq needs from S3-compatible storage. The embedded local-disk
 * backend implements it first; an S3/MinIO backend (@aws-sdk/client-s3) slots in behind the same
 * interface and passes the same behaviour suite (test/objects/behaviour.ts).
 *
 * Glossary: a *bucket* holds *objects* addressed by *key* (any UTF-8 string of 1–1024 bytes);
 * an object's *ETag* is the quoted hex MD5 of its bytes, or for multipart objects the MD5 of the
 * concatenated binary part MD5s followed by `-N`.
 */
import type { Readable } from 'node:stream';

/** A bucket as listed. */
export interface BucketInfo {
  readonly name: string;
  readonly createdAt: Date;
}

/** Checksum algorithms S3 clients may send (`x-amz-checksum-<lower-case name>`). */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

/** Metadata stored with an object and returned on GET/HEAD. */
export interface ObjectMetadata {
  /** Content-Type; `binary/octet-stream` when the writer gave none (as S3 does). */
  readonly contentType: string;
  /** User metadata (`x-amz-meta-*`), names lower-case without the prefix. */
  readonly userMetadata: Readonly<Record<string, string>>;
  /** Other stored HTTP headers: cache-control, content-disposition, content-encoding, content-language, expires. */
  readonly httpHeaders: Readonly<Record<string, string>>;
  /** Checksums (base64, as on the wire) the writer sent and the server verified. */
  readonly checksums: Readonly<Partial<Record<ChecksumAlgorithm, string>>>;
}

/** A stored object's description (HEAD). */
export interface ObjectInfo extends ObjectMetadata {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** Quoted ETag, e.g. `"9e107d9d372bb6826bd81d3542a419d6"` or `"…-3"`. */
  readonly etag: string;
  readonly lastModified: Date;
  /** Number of parts for multipart objects. */
  readonly partsCount?: number;
}

/** What a writer may set on a new object; missing fields take S3's defaults. */
export interface PutObjectOptions {
  readonly contentType?: string;
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly httpHeaders?: Readonly<Record<string, string>>;
  /**
   * Verified checksums to record. May be a function called after the body stream has ended and
   * before the object becomes visible (trailing checksums are known only then).
   */
  readonly checksums?: Readonly<Partial<Record<ChecksumAlgorithm, string>>> | (() => Readonly<Partial<Record<ChecksumAlgorithm, string>>>);
}

/**
 * A requested byte range as parsed from `Range: bytes=…`: `{start, end}` (end inclusive, may be
 * absent: to the end) or `{suffix}` (the last N bytes).
 */
export type RangeRequest = { readonly start: number; readonly end?: number } | { readonly suffix: number };

/** A streamed object body with what it covers. */
export interface ObjectStream {
  readonly info: ObjectInfo;
  readonly body: Readable;
  /** The resolved inclusive range when a range was requested. */
  readonly range?: { readonly start: number; readonly end: number };
}

/** Listing parameters (ListObjectsV2 and v1 map onto these). */
export interface ListObjectsOptions {
  readonly prefix?: string;
  readonly delimiter?: string;
  /** 0–1000; the front clamps larger values to 1000. */
  readonly maxKeys: number;
  /** Return only entries strictly after this key (v2 StartAfter / continuation, v1 Marker). */
  readonly after?: string;
}

/** One page of a listing, in UTF-8 binary key order. */
export interface ListObjectsPage {
  readonly objects: readonly ObjectInfo[];
  /** Common prefixes (each ends with the delimiter), interleaved with keys in order, counted in maxKeys. */
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** When truncated: the last key or common prefix returned; pass as `after` to continue. */
  readonly nextAfter?: string;
}

/** A part of a multipart upload. */
export interface PartInfo {
  readonly partNumber: number;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: Date;
}

/** An in-progress multipart upload. */
export interface UploadInfo {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** One page of ListParts. */
export interface ListPartsPage {
  readonly upload: UploadInfo;
  readonly parts: readonly PartInfo[];
  readonly isTruncated: boolean;
  readonly nextPartNumberMarker?: number;
}

/** Options of CopyObject. */
export interface CopyObjectOptions {
  /** `COPY` keeps the source metadata (default); `REPLACE` takes `metadata` instead. */
  readonly metadataDirective: 'COPY' | 'REPLACE';
  readonly metadata?: PutObjectOptions;
}

/**
 * S3-compatible storage. Every method throws {@link InferqError} with the S3 code for expected
 * failures (NoSuchBucket, NoSuchKey, …). Writes are atomic: an object becomes visible only after
 * its whole body was stored; if the body stream errors, nothing is visible and nothing is left.
 */
export interface ObjectStore {
  createBucket(name: string): Promise<void>;
  headBucket(name: string): Promise<BucketInfo>;
  listBuckets(): Promise<readonly BucketInfo[]>;
  /** Fails with BucketNotEmpty while objects or multipart uploads remain. */
  deleteBucket(name: string): Promise<void>;

  putObject(bucket: string, key: string, body: Readable, options?: PutObjectOptions): Promise<ObjectInfo>;
  /** Fails with InvalidRange when the range starts beyond the object (and the object is non-empty). */
  getObject(bucket: string, key: string, range?: RangeRequest): Promise<ObjectStream>;
  headObject(bucket: string, key: string): Promise<ObjectInfo>;
  /** Deleting a missing key succeeds (as in S3); a missing bucket is NoSuchBucket. */
  deleteObject(bucket: string, key: string): Promise<void>;
  copyObject(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options: CopyObjectOptions): Promise<ObjectInfo>;
  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsPage>;

  createMultipartUpload(bucket: string, key: string, options?: PutObjectOptions): Promise<UploadInfo>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable): Promise<PartInfo>;
  /** Parts must be ascending (InvalidPartOrder), uploaded with matching ETags (InvalidPart), and all but the last ≥ 5 MiB (EntityTooSmall). */
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): Promise<ListPartsPage>;

  /** Releases files and handles. */
  close(): Promise<void>;
}
