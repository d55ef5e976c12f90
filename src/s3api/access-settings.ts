/**
 * Read-only bucket and object settings that inferq has exactly one answer for, served because
 * common tools ask before they write (rclone, s3fs, Terraform): versioning is never enabled
 * (GetBucketVersioning answers an empty configuration, as S3 does for a bucket that never had it),
 * and there are no ACLs beyond the one owner's full control (GetBucketAcl, GetObjectAcl).
 * Changing either is not supported (the router answers NotImplemented).
 */
import { bucketOf, keyOf, OWNER_ID, sendXml, type S3Request } from './context.js';
import { renderXml, S3_XMLNS } from './xml.js';

/** GET /bucket?versioning */
export async function getBucketVersioning(r: S3Request): Promise<void> {
  await r.deps.store.headBucket(bucketOf(r));
  sendXml(r.res, 200, renderXml('VersioningConfiguration', []));
}

/** The owner-only ACL every bucket and object has (literal: the Grantee carries an `xsi:type` attribute). */
const OWNER_ONLY_ACL = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="${S3_XMLNS}"><Owner><ID>${OWNER_ID}</ID><DisplayName>${OWNER_ID}</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${OWNER_ID}</ID><DisplayName>${OWNER_ID}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`;

/** GET /bucket?acl */
export async function getBucketAcl(r: S3Request): Promise<void> {
  await r.deps.store.headBucket(bucketOf(r));
  sendXml(r.res, 200, OWNER_ONLY_ACL);
}

/** GET /bucket/key?acl */
export async function getObjectAcl(r: S3Request): Promise<void> {
  await r.deps.store.headObject(bucketOf(r), keyOf(r));
  sendXml(r.res, 200, OWNER_ONLY_ACL);
}
