/**
 * Deploying API-created endpoints: the translation of stored SageMaker control-plane documents
 * into the EndpointConfig inferq serves, and the fetch of a model's data into the data dir.
 */
export { deploymentOf, modelDataOf } from './translate.js';
export type { Deployment, DeploymentInput } from './translate.js';
export { MODEL_ARCHIVE_MAX_BYTES, fetchModelData, modelDirFor } from './model-data.js';
export type { ModelDataSource } from './model-data.js';
export { unpackModelArchive } from './archive.js';
export type { UnpackResult } from './archive.js';
