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

/**
 * How a multipart object's checksum was computed: `COMPOSITE` is the checksum of the part
 * checksums (the value ends in `-N`), `FULL_OBJECT` a checksum of all the bytes.
 */
export type ChecksumType = 'COMPOSITE' | 'FULL_OBJECT';

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
  /** How `checksums` were computed; absent means of the whole bytes (FULL_OBJECT). */
  readonly checksumType?: ChecksumType;
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
  /** A condition on the object currently at the key, checked atomically with the write's commit. */
  readonly precondition?: WritePrecondition;
  /**
   * The body's length in bytes, when the writer knows it. A backend that must state a length
   * before sending (S3) then streams the body as one request; without it, it writes part by part.
   */
  readonly contentLength?: number;
  /**
   * The algorithm `checksums` will name, when it is known before the body (the request announced
   * it). A backend that computes checksums itself (S3) computes this one while the body streams.
   */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

/**
 * A conditional write (S3's `If-None-Match: *` / `If-Match: "etag"` on PutObject,
 * CompleteMultipartUpload and CopyObject). The store checks it in the same transaction that makes
 * the new object visible, so of two racing `ifNoneMatch` writers exactly one succeeds. A failed
 * condition is PreconditionFailed; `ifMatch` on a missing key is NoSuchKey. Nothing is written.
 */
export type WritePrecondition =
  /** Write only if no object exists at the key. */
  | { readonly ifNoneMatch: '*' }
  /** Write only if the current object's ETag is one of these (comma-separated, quoted or not; `*` is any object). */
  | { readonly ifMatch: string };

/**
 * A requested byte range as parsed from `Range: bytes=…`: `{start, end}` (end inclusive, may be
 * absent: to the end) or `{suffix}` (the last N bytes).
 */
export type RangeRequest = { readonly start: number; readonly end?: number } | { readonly suffix: number };

/**
 * One part of an object by number (GET/HEAD `?partNumber=N`): part N (1-based, in completion order)
 * of an object made by a multipart upload; part 1 of any other object is the whole object.
 */
export interface PartSelector {
  readonly partNumber: number;
}

/** An inclusive byte range of an object; a part read of an empty part has `end = start - 1`. */
export interface ByteSpan {
  readonly start: number;
  readonly end: number;
}

/** A streamed object body with what it covers. */
export interface ObjectStream {
  readonly info: ObjectInfo;
  readonly body: Readable;
  /** The resolved inclusive range when a range or a part was requested. */
  readonly range?: ByteSpan;
  /** For a part read: the part's checksum (see {@link ObjectPartHead.partChecksums}). */
  readonly partChecksums?: Readonly<Partial<Record<ChecksumAlgorithm, string>>>;
}

/** HEAD of one part of an object (see {@link PartSelector}). */
export interface ObjectPartHead {
  readonly info: ObjectInfo;
  readonly range: ByteSpan;
  /**
   * The part's own checksum (base64, of its bytes) when the object is a multipart object with a
   * COMPOSITE checksum; absent otherwise (the object's checksum does not describe the part).
   */
  readonly partChecksums?: Readonly<Partial<Record<ChecksumAlgorithm, string>>>;
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
  /** The part's checksum (base64) under its upload's checksum algorithm, when the upload has one. */
  readonly checksum?: string;
}

/** An in-progress multipart upload. */
export interface UploadInfo {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
  /** The algorithm every part is checksummed with (CreateMultipartUpload `ChecksumAlgorithm`). */
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  /** How the object's checksum is computed from the parts; set exactly when `checksumAlgorithm` is. */
  readonly checksumType?: ChecksumType;
}

/** Options of CreateMultipartUpload: the object's metadata and its checksum algorithm. */
export interface MultipartUploadOptions extends PutObjectOptions {
  readonly checksumAlgorithm?: ChecksumAlgorithm;
  /** Requires `checksumAlgorithm`; FULL_OBJECT only for CRC32, CRC32C, CRC64NVME. */
  readonly checksumType?: ChecksumType;
}

/** Options of UploadPart. */
export interface UploadPartOptions {
  /**
   * Verified checksums of the part's bytes; must include the upload's algorithm when it has one
   * (InvalidRequest otherwise). May be a function called after the body has ended.
   */
  readonly checksums?: Readonly<Partial<Record<ChecksumAlgorithm, string>>> | (() => Readonly<Partial<Record<ChecksumAlgorithm, string>>>);
  /** The part's length in bytes, when known (S3 backends need it, or buffer the part). */
  readonly contentLength?: number;
}

/** A part as listed in CompleteMultipartUpload. */
export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
  /** Part checksums the client listed (`ChecksumSHA256`, …), base64. */
  readonly checksums?: Readonly<Partial<Record<ChecksumAlgorithm, string>>>;
}

/** Options of CompleteMultipartUpload. */
export interface CompleteMultipartUploadOptions {
  /**
   * Computes the object's checksum from the validated parts (ascending, with their checksums)
   * for an upload with a checksum algorithm; called before the object becomes visible. It may
   * throw (e.g. BadDigest against a checksum the client expects), and then nothing is written.
   */
  readonly objectChecksum?: (upload: UploadInfo, parts: readonly PartInfo[]) => string;
  /** A condition on the key's current object, checked atomically with the commit; on failure the upload stays open. */
  readonly precondition?: WritePrecondition;
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
  /** A condition on the destination's current object, checked atomically with the commit. */
  readonly precondition?: WritePrecondition;
}

/** ListMultipartUploads parameters. */
export interface ListUploadsOptions {
  readonly prefix?: string;
  readonly delimiter?: string;
  /** 0–1000; the front clamps larger values to 1000. */
  readonly maxUploads: number;
  /** Start after this key (with `uploadIdMarker`: after that upload of this key). */
  readonly keyMarker?: string;
  readonly uploadIdMarker?: string;
}

/** One page of ListMultipartUploads: uploads in UTF-8 binary key order, then initiation order. */
export interface ListUploadsPage {
  readonly uploads: readonly UploadInfo[];
  /** Common prefixes (each ends with the delimiter), counted in maxUploads. */
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  /** When truncated: the last key or common prefix returned. */
  readonly nextKeyMarker?: string;
  /** When truncated after an upload: its id. */
  readonly nextUploadIdMarker?: string;
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
  /**
   * Fails with InvalidRange when the range starts beyond the object (and the object is non-empty),
   * with InvalidPartNumber when the object has fewer parts than the part asked for.
   */
  getObject(bucket: string, key: string, select?: RangeRequest | PartSelector): Promise<ObjectStream>;
  headObject(bucket: string, key: string): Promise<ObjectInfo>;
  /** The object and the bytes of one of its parts; InvalidPartNumber as for getObject. */
  headObjectPart(bucket: string, key: string, select: PartSelector): Promise<ObjectPartHead>;
  /** Deleting a missing key succeeds (as in S3); a missing bucket is NoSuchBucket. */
  deleteObject(bucket: string, key: string): Promise<void>;
  copyObject(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options: CopyObjectOptions): Promise<ObjectInfo>;
  listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsPage>;

  createMultipartUpload(bucket: string, key: string, options?: MultipartUploadOptions): Promise<UploadInfo>;
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, options?: UploadPartOptions): Promise<PartInfo>;
  /**
   * Parts must be ascending (InvalidPartOrder), uploaded with matching ETags (InvalidPart), and all
   * but the last ≥ 5 MiB (EntityTooSmall). For an upload with a checksum algorithm the parts must
   * be numbered 1, 2, 3, … (InvalidPartOrder), a listed part checksum must match the stored one
   * (InvalidPart), and COMPOSITE uploads must list every part's checksum (InvalidRequest); the
   * object's checksum is `options.objectChecksum` (required then; InternalError without it).
   * Completing again an upload that already completed answers the object it made, as long as it
   * is still the key's current object.
   */
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly CompletedPart[], options?: CompleteMultipartUploadOptions): Promise<ObjectInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): Promise<ListPartsPage>;
  /** The bucket's uploads in progress (NoSuchBucket when it does not exist). */
  listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsPage>;

  /** Releases files and handles. */
  close(): Promise<void>;
}
