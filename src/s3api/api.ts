/**
 * The S3 front: dispatches an authenticated S3 request to its operation over the ObjectStore port.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResult } from '../auth/index.js';
import { getBucketAcl, getBucketVersioning, getObjectAcl } from './access-settings.js';
import { listBuckets } from './bucket-listing.js';
import { createBucket, deleteBucket, deleteObjects, getBucketLocation, headBucket } from './buckets.js';
import type { S3ApiDeps, S3Request } from './context.js';
import { listObjectsV1, listObjectsV2 } from './listing.js';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listParts, uploadPart } from './multipart.js';
import { copyObject, deleteObject, getObject, headObject, putObject } from './objects.js';
import { uploadPartCopy } from './part-copy.js';
import { parseS3Address, resolveOperation, type S3Address, type S3Operation } from './route.js';
import { listMultipartUploads } from './upload-listing.js';

const HANDLERS: Readonly<Record<S3Operation, (r: S3Request) => Promise<void>>> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  ListObjectsV2: listObjectsV2,
  ListObjects: listObjectsV1,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  CopyObject: copyObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
  GetBucketVersioning: getBucketVersioning,
  GetBucketAcl: getBucketAcl,
  GetObjectAcl: getObjectAcl,
};

/** The S3 API over an object store. */
export interface S3Api {
  /** Serves one request whose signature was verified; rejects with InferqError on failure. */
  handle(req: IncomingMessage, res: ServerResponse, auth: AuthResult, onOperation?: (operation: S3Operation) => void): Promise<S3Operation>;
  /** The bucket, key and query a request addresses (path or virtual-hosted style). */
  address(req: IncomingMessage): S3Address;
}

/** Creates the S3 front. */
export function createS3Api(deps: S3ApiDeps): S3Api {
  const address = (req: IncomingMessage): S3Address => parseS3Address(req.url ?? '/', req.headers, deps.virtualHostDomain);
  return {
    address,
    async handle(req, res, auth, onOperation) {
      const target = address(req);
      const operation = resolveOperation(req.method ?? 'GET', target, req.headers);
      onOperation?.(operation);
      await HANDLERS[operation]({ req, res, auth, address: target, deps });
      return operation;
    },
  };
}
