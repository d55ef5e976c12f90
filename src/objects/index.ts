/** Public surface of the object storage layer: the ObjectStore port and its backends. */
export type {
  BucketInfo,
  ByteSpan,
  ChecksumAlgorithm,
  ChecksumType,
  CompletedPart,
  CompleteMultipartUploadOptions,
  CopyObjectOptions,
  ListObjectsOptions,
  ListObjectsPage,
  ListPartsPage,
  ListUploadsOptions,
  ListUploadsPage,
  MultipartUploadOptions,
  ObjectInfo,
  ObjectMetadata,
  ObjectPartHead,
  ObjectStore,
  ObjectStream,
  PartInfo,
  PartSelector,
  PutObjectOptions,
  RangeRequest,
  UploadInfo,
  UploadPartOptions,
  WritePrecondition,
} from './port.js';
export { INLINE_MAX_BYTES, openLocalObjectStore } from './local/index.js';
export type { LocalObjectStoreOptions } from './local/index.js';
export { openS3ObjectStore } from './s3/index.js';
export type { S3ObjectStoreOptions } from './s3/index.js';
