/** The SageMaker Runtime API front. */
export { ACCOUNT_ID, createRuntimeApi, routeRuntimeRequest } from './api.js';
export type { RuntimeApi, RuntimeOperation, RuntimeRoute } from './api.js';
