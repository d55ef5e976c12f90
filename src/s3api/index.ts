/** The S3-compatible HTTP API (a front over the ObjectStore port). */
export { createS3Api } from './api.js';
export type { S3Api } from './api.js';
export type { S3ApiDeps } from './context.js';
export { sendS3Error } from './errors.js';
export { DEFAULT_VIRTUAL_HOST_DOMAIN, parseS3Address } from './route.js';
export type { S3Address, S3Operation } from './route.js';
