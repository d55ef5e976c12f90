/**
 * Application Auto Scaling for SageMaker endpoint variants: scalable targets (instance counts,
 * scale-to-zero with MinCapacity 0) and scaling policies as stored resources, served as
 * awsJson1_1, and what they set for an endpoint (`scalingOf`, for the composition root).
 */
export { createAutoscalingApi } from './api.js';
export type { AutoscalingApi } from './api.js';
export type { AutoscalingDeps } from './targets.js';
export { deregisterEndpointTargets, scalingOf } from './scaling.js';
export type { EndpointScaling } from './scaling.js';
