/** The SageMaker Runtime API front. */
export { ACCOUNT_ID, DEFAULT_RUNTIME_BODY_LIMIT, createRuntimeApi, routeRuntimeRequest } from './api.js';
export type { EndpointStatusDoc, RequestBody, RuntimeApi, RuntimeApiDeps, RuntimeOperation, RuntimeRoute } from './api.js';
export { MAX_INLINE_BODY_BYTES } from './async-request.js';
export type { AsyncSubmission } from './async-invoke.js';
export type { LifecycleOperations } from './lifecycle.js';
export type { RealtimeContext, RealtimeTarget } from './realtime.js';
export { BUFFERED_BODY_BYTES, FORWARD_ERROR_HEADER, sendForwardError, serveForwardedCall } from './forwarded.js';
export { encodeMessage, exceptionFrame, MAX_FRAME_PAYLOAD, payloadPartFrame, payloadPartFrames } from './eventstream.js';
export type { StreamException } from './eventstream.js';
export { describeJob } from './status.js';
export { resolveInputLocation, resultLocations, s3Uri } from './locations.js';
