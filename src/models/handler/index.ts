/**
 * Handler models: `inferq model serve --handler FILE` turns a module exporting `invoke(body, ctx)`
 * (and optionally `load()`) into a SageMaker-contract model server; the types and helpers a
 * handler uses to shape its responses.
 */
export { runHandlerServer, DEFAULT_MAX_BODY_BYTES } from './server.js';
export type { HandlerServerOptions } from './server.js';
export { HandlerLoadError, loadHandler } from './load-handler.js';
export { HANDLER_RESULT, HandlerError, isHandlerResult, result } from './types.js';
export type { HandlerBody, HandlerContext, HandlerModule, HandlerResult, JsonValue } from './types.js';
