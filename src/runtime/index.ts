/** The SageMaker Runtime API front. */
export { ACCOUNT_ID, createRuntimeApi, routeRuntimeRequest } from './api.js';
export type { RuntimeApi, RuntimeApiDeps, RuntimeOperation, RuntimeRoute } from './api.js';
export { MAX_INLINE_BODY_BYTES } from './async-request.js';
export { describeJob } from './status.js';
export { resolveInputLocation, resultLocations, s3Uri } from './locations.js';
