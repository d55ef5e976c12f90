/**
 * The ObjectStore port on any S3 API (AWS S3, MinIO, Ceph, moto, another inferq) through
 * `@aws-sdk/client-s3`. Bodies stream both ways (upload.ts); inputs are validated here with the
 * local store's rules, so both backends refuse the same names and keys with the same codes; S3
 * service errors become catalogue errors by code and status (errors.ts). Conditions S3 cannot
 * state in one header (`If-Match: *`, a list of ETags) are resolved to the current ETag first:
 * S3 then still checks the write atomically against that version. The object description a write
 * returns is built from what was sent and what S3 answered (copies and completions read it back).
 */
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { InferqError, isInferqError } from '../../errors/index.js';
import { keyBytes, validateBucketName, validatePartNumber } from '../local/validate.js';
import type {
  BucketInfo, ByteSpan, ChecksumAlgorithm, CompletedPart, CompleteMultipartUploadOptions, CopyObjectOptions, ListObjectsOptions, ListObjectsPage, ListPartsPage,
  ListUploadsOptions, ListUploadsPage, MultipartUploadOptions, ObjectInfo, ObjectPartHead, ObjectStore, ObjectStream, PartInfo, PartSelector, PutObjectOptions,
  RangeRequest, UploadInfo, UploadPartOptions, WritePrecondition,
} from '../port.js';
import { checksumsOf, etagPartCount, objectInfoOf, parseContentRange, preconditionParams, quoteEtag, rangeHeader, writeParams, type ObjectFields } from './convert.js';
import { mapS3Error, s3Call } from './errors.js';
import { listObjectsPage, listUploadsPage } from './listing.js';
import { abortUpload, completeUpload, createUpload, listParts, uploadPart, UploadBook } from './multipart.js';
import { writeBody } from './upload.js';

/** The object store on an S3 backend. */
export class S3ObjectStore implements ObjectStore {
  private readonly uploads: UploadBook;

  /** `region` is the backend's (a bucket outside us-east-1 is created with its LocationConstraint). */
  constructor(private readonly client: S3Client, private readonly region: string) {
    this.uploads = new UploadBook(client);
  }

  async createBucket(name: string): Promise<void> {
    validateBucketName(name);
    if (await this.bucketExists(name)) throw new InferqError('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
    const location = this.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } };
    await s3Call({ bucket: name }, () => this.client.send(new CreateBucketCommand({ Bucket: name, ...location })));
  }

  /** Whether the bucket exists (403: it is another account's, BucketAlreadyExists). */
  private async bucketExists(name: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: name }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      if (status === 403) throw new InferqError('BucketAlreadyExists', 'The requested bucket name is not available. Select a different name and try again.', { BucketName: name }, { cause: err });
      throw mapS3Error(err, { bucket: name, notFound: 'NoSuchBucket' });
    }
  }

  /** Throws NoSuchBucket unless the bucket exists. */
  private async requireBucket(name: string): Promise<void> {
    await s3Call({ bucket: name, notFound: 'NoSuchBucket' }, () => this.client.send(new HeadBucketCommand({ Bucket: name })));
  }

  async headBucket(name: string): Promise<BucketInfo> {
    await this.requireBucket(name);
    const listed = (await this.listBuckets()).find((b) => b.name === name);
    return listed ?? { name, createdAt: new Date(0) };
  }

  async listBuckets(): Promise<readonly BucketInfo[]> {
    const out: BucketInfo[] = [];
    let token: string | undefined;
    do {
      const page = await s3Call({}, () => this.client.send(new ListBucketsCommand(token === undefined ? {} : { ContinuationToken: token })));
      for (const b of page.Buckets ?? []) if (b.Name) out.push({ name: b.Name, createdAt: b.CreationDate ?? new Date(0) });
      token = page.ContinuationToken;
    } while (token);
    return out;
  }

  async deleteBucket(name: string): Promise<void> {
    const uploads = await this.listMultipartUploads(name, { maxUploads: 1 });
    if (uploads.uploads.length > 0) throw new InferqError('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
    await s3Call({ bucket: name }, () => this.client.send(new DeleteBucketCommand({ Bucket: name })));
  }

  /**
   * A precondition as S3 headers: `ifMatch` with `*` or several ETags is resolved to the current
   * object's ETag (NoSuchKey when there is none, PreconditionFailed when it is not listed).
   */
  private async condition(bucket: string, key: string, precondition: WritePrecondition | undefined): Promise<{ IfNoneMatch?: string; IfMatch?: string }> {
    if (precondition === undefined || 'ifNoneMatch' in precondition) return preconditionParams(precondition);
    const wanted = precondition.ifMatch.split(',').map((e) => e.trim()).filter(Boolean);
    if (wanted.length === 1 && wanted[0] !== '*') return { IfMatch: quoteEtag(wanted[0]!) };
    const current = await this.headObject(bucket, key);
    if (wanted.includes('*') || wanted.some((e) => quoteEtag(e) === current.etag)) return { IfMatch: current.etag };
    throw new InferqError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
  }

  async putObject(bucket: string, key: string, body: Readable, options?: PutObjectOptions): Promise<ObjectInfo> {
    keyBytes(key);
    const condition = await this.condition(bucket, key, options?.precondition);
    const known = options?.checksums !== undefined && typeof options.checksums !== 'function' ? (Object.keys(options.checksums)[0] as ChecksumAlgorithm | undefined) : undefined;
    const algorithm = options?.checksumAlgorithm ?? known;
    const written = await writeBody({ client: this.client, bucket, key, condition }, body, options, algorithm);
    const partsCount = etagPartCount(written.etag);
    return {
      bucket, key, size: written.size, etag: written.etag, lastModified: new Date(),
      contentType: options?.contentType ?? 'binary/octet-stream',
      userMetadata: { ...(options?.userMetadata ?? {}) },
      httpHeaders: { ...(options?.httpHeaders ?? {}) },
      checksums: written.checksums,
      ...(partsCount === undefined ? {} : { partsCount }),
    };
  }

  async getObject(bucket: string, key: string, select?: RangeRequest | PartSelector): Promise<ObjectStream> {
    keyBytes(key);
    const part = select !== undefined && 'partNumber' in select ? select.partNumber : undefined;
    if (part !== undefined) validatePartNumber(part);
    const range = select !== undefined && !('partNumber' in select) ? select : undefined;
    if (range !== undefined && 'suffix' in range && range.suffix === 0) {
      await this.headObject(bucket, key);
      throw new InferqError('InvalidRange', 'The requested range is not satisfiable', { RangeRequested: 'bytes=-0' });
    }
    const out = await s3Call({ bucket, key, unsatisfiable: part === undefined ? 'InvalidRange' : 'InvalidPartNumber' }, () => this.client.send(new GetObjectCommand({
      Bucket: bucket, Key: key, ChecksumMode: 'ENABLED', ...(part === undefined ? {} : { PartNumber: part }), ...(range === undefined ? {} : { Range: rangeHeader(range) }),
    })));
    const body = out.Body as Readable | undefined;
    if (body === undefined) throw new InferqError('InternalError', 'The S3 backend answered GetObject without a body.');
    const info = objectInfoOf(bucket, key, out, select === undefined);
    const span = select === undefined ? undefined : this.spanOf(out, info, part);
    if (range !== undefined && span !== undefined && span.end < span.start) {
      body.destroy();
      throw new InferqError('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(info.size) });
    }
    const partChecksums = part === undefined ? undefined : partChecksumsOf(out, info);
    return { info, body, ...(span === undefined ? {} : { range: span }), ...(partChecksums === undefined ? {} : { partChecksums }) };
  }

  /** The bytes a part or range answer covers (the whole object when the server sent all of it). */
  private spanOf(out: ObjectFields, info: ObjectInfo, part: number | undefined): ByteSpan {
    const sent = parseContentRange(out.ContentRange);
    if (sent) return { start: sent.start, end: sent.end };
    if (part !== undefined && part > 1 && info.partsCount === undefined) {
      throw new InferqError('InvalidPartNumber', 'The requested partnumber is not satisfiable', { PartNumberRequested: String(part), ActualPartCount: '1' });
    }
    return { start: 0, end: info.size - 1 };
  }

  async headObject(bucket: string, key: string): Promise<ObjectInfo> {
    keyBytes(key);
    const out = await this.headOrMissing(bucket, key, undefined);
    return objectInfoOf(bucket, key, out, true);
  }

  /** HEAD of an object (or a part); a bare 404 is told apart into NoSuchBucket and NoSuchKey. */
  private async headOrMissing(bucket: string, key: string, part: number | undefined): Promise<ObjectFields> {
    try {
      return await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED', ...(part === undefined ? {} : { PartNumber: part }) }));
    } catch (err) {
      const mapped = mapS3Error(err, { bucket, key, notFound: 'NoSuchKey', unsatisfiable: 'InvalidPartNumber' });
      if (isInferqError(mapped, 'NoSuchKey')) await this.requireBucket(bucket);
      throw mapped;
    }
  }

  async headObjectPart(bucket: string, key: string, select: PartSelector): Promise<ObjectPartHead> {
    keyBytes(key);
    validatePartNumber(select.partNumber);
    const out = await this.headOrMissing(bucket, key, select.partNumber);
    const info = objectInfoOf(bucket, key, out, false);
    const range = this.spanOf(out, info, select.partNumber);
    const partChecksums = partChecksumsOf(out, info);
    return { info, range, ...(partChecksums === undefined ? {} : { partChecksums }) };
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    keyBytes(key);
    await s3Call({ bucket, key }, () => this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
  }

  async copyObject(srcBucket: string, srcKey: string, dstBucket: string, dstKey: string, options: CopyObjectOptions): Promise<ObjectInfo> {
    keyBytes(srcKey);
    keyBytes(dstKey);
    if (srcBucket === dstBucket && srcKey === dstKey && options.metadataDirective === 'COPY') {
      throw new InferqError('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
    }
    const condition = await this.condition(dstBucket, dstKey, options.precondition);
    const out = await s3Call({ bucket: srcBucket, key: srcKey }, () => this.client.send(new CopyObjectCommand({
      Bucket: dstBucket, Key: dstKey, CopySource: `${srcBucket}/${encodeURIComponent(srcKey)}`, MetadataDirective: options.metadataDirective,
      ...(options.metadataDirective === 'REPLACE' ? writeParams(options.metadata) : {}), ...condition,
    })));
    const etag = quoteEtag(out.CopyObjectResult?.ETag ?? '');
    const info = await this.headObject(dstBucket, dstKey);
    return info.etag === etag ? info : Object.assign({}, info, { etag });
  }

  async listObjects(bucket: string, options: ListObjectsOptions): Promise<ListObjectsPage> {
    return listObjectsPage(this.client, bucket, options, () => this.requireBucket(bucket));
  }

  async createMultipartUpload(bucket: string, key: string, options?: MultipartUploadOptions): Promise<UploadInfo> {
    return createUpload(this.uploads, bucket, key, options);
  }

  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Readable, options?: UploadPartOptions): Promise<PartInfo> {
    return uploadPart(this.uploads, bucket, key, uploadId, partNumber, body, options);
  }

  async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: readonly CompletedPart[], options?: CompleteMultipartUploadOptions): Promise<ObjectInfo> {
    const condition = await this.condition(bucket, key, options?.precondition);
    const done = await completeUpload(this.uploads, bucket, key, uploadId, parts, options, condition);
    let info: ObjectInfo;
    try {
      info = await this.headObject(bucket, key);
    } catch (err) {
      if (done.repeated && isInferqError(err, 'NoSuchKey')) throw noSuchUpload(uploadId);
      throw err;
    }
    if (done.repeated && info.etag !== done.etag) throw noSuchUpload(uploadId);
    return info;
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await abortUpload(this.uploads, bucket, key, uploadId);
  }

  async listParts(bucket: string, key: string, uploadId: string, options: { maxParts: number; partNumberMarker?: number }): Promise<ListPartsPage> {
    return listParts(this.uploads, bucket, key, uploadId, options);
  }

  async listMultipartUploads(bucket: string, options: ListUploadsOptions): Promise<ListUploadsPage> {
    return listUploadsPage(this.client, bucket, options, () => this.requireBucket(bucket));
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}

function noSuchUpload(uploadId: string): InferqError {
  return new InferqError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

/**
 * A part read's own checksum: what the answer names for a part of a multipart object, unless it
 * is the object's COMPOSITE value (`-N`) or a FULL_OBJECT checksum (which describes no part).
 */
function partChecksumsOf(out: ObjectFields, info: ObjectInfo): Partial<Record<ChecksumAlgorithm, string>> | undefined {
  if (info.partsCount === undefined || out.ChecksumType === 'FULL_OBJECT') return undefined;
  const checksums = checksumsOf(out);
  const entries = Object.entries(checksums).filter(([, v]) => !/-\d+$/.test(v));
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
