/** Public surface of the object storage layer: the ObjectStore port and its backends. */
export type {
  BucketInfo,
  ChecksumAlgorithm,
  ChecksumType,
  CompletedPart,
  CompleteMultipartUploadOptions,
  CopyObjectOptions,
  ListObjectsOptions,
  ListObjectsPage,
  ListPartsPage,
  MultipartUploadOptions,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  ObjectStream,
  PartInfo,
  PutObjectOptions,
  RangeRequest,
  UploadInfo,
  UploadPartOptions,
} from './port.js';
export { INLINE_MAX_BYTES, openLocalObjectStore } from './local/index.js';
export type { LocalObjectStoreOptions } from './local/index.js';
