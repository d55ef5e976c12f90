/** Public surface of the error catalogue. */
export { ERROR_CATALOGUE, InferqError, isErrorCode, isInferqError, isStorageFault, toInferqError, toStorageFault } from './catalogue.js';
export type { StorageFaultCode } from './storage.js';
export type { ErrorCode, ErrorSpec } from './catalogue.js';
export { renderErrorsDoc } from './doc.js';
export { StartupError, isStartupError } from './startup.js';
export type { StartupProblem } from './startup.js';
