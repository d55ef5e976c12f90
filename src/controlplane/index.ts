/** The SageMaker control plane: models, endpoint configs and endpoints as stored resources, served as awsJson1_1. */
export { createControlPlaneApi } from './api.js';
export type { ControlPlaneApi } from './api.js';
export type { ConfigManagedEndpoint, ControlPlaneDeps } from './service.js';
export type { ArnScope } from './documents.js';
/** awsJson helpers shared with src/autoscaling: request parsing in SageMaker's "validation error detected" form, stored documents. */
export { parseJsonBody, parseRequest } from './wire.js';
export { readDoc } from './documents.js';
export { listEndpointRecords, modelRequestOf, recordStartOutcome, removeDeletedEndpoint } from './deployments.js';
export type { EndpointRecord, StartOutcome } from './deployments.js';
