/** The SageMaker control plane: models, endpoint configs and endpoints as stored resources, served as awsJson1_1. */
export { createControlPlaneApi } from './api.js';
export type { ControlPlaneApi } from './api.js';
export type { ConfigManagedEndpoint, ControlPlaneDeps } from './service.js';
export type { ArnScope } from './documents.js';
