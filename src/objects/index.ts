/** Public surface of the object storage layer: the ObjectStore port and its backends. */
export type {
  BucketInfo,
  ByteSpan,
  ChecksumAlgorithm,
  CompleteUploadOptions,
  CopyObjectOptions,
  ListObjectsOptions,
  ListObjectsPage,
  ListPartsPage,
  ListUploadsOptions,
  ListUploadsPage,
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
  WritePrecondition,
} from './port.js';
export { INLINE_MAX_BYTES, openLocalObjectStore } from './local/index.js';
export type { LocalObjectStoreOptions } from './local/index.js';
