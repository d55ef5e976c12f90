/** Public surface of the object storage layer: the ObjectStore port and its backends. */
export type {
  BucketInfo,
  ChecksumAlgorithm,
  CopyObjectOptions,
  ListObjectsOptions,
  ListObjectsPage,
  ListPartsPage,
  ObjectInfo,
  ObjectMetadata,
  ObjectStore,
  ObjectStream,
  PartInfo,
  PutObjectOptions,
  RangeRequest,
  UploadInfo,
} from './port.js';
export { INLINE_MAX_BYTES, openLocalObjectStore } from './local/index.js';
export type { LocalObjectStoreOptions } from './local/index.js';
