/**
 * Model clients: how inferq calls a model that follows the SageMaker container contract, either a
 * server already running at a URL or a process inferq supervises; the built-in models (echo, vad);
 * and `inferq model serve`, which runs a JavaScript handler module as a model server.
 * Pools of supervised instances (and single URL models) are exposed as ManagedModels.
 */
export { ModelCallError } from './port.js';
export type { CallSignal, InstanceSnapshot, ManagedModel, ModelCallFailure, ModelClient, ModelHealth, ModelInvocation, ModelResponse } from './port.js';
export { createHttpModelClient } from './http-client.js';
export type { HttpModelClientOptions } from './http-client.js';
export { createCommandModelClient } from './command-client.js';
export type { CommandModelClient, CommandModelClientOptions, ModelProcessExit } from './command-client.js';
export { createModelPool } from './pool.js';
export type { ModelPool, ModelPoolOptions, PoolInstanceClient, PoolInstanceLimits, PoolInstanceView } from './pool.js';
export { createSingleModel } from './single-model.js';
export { waitForHealthy } from './health.js';
export { builtinModelAvailable, builtinModelCommand } from './builtin-command.js';
export type { BuiltinModelName } from './builtin-command.js';
export type { Availability } from './builtin/vad-assets.js';
export { DEFAULT_MAX_BODY_BYTES, HANDLER_RESULT, HandlerError, HandlerLoadError, isHandlerResult, loadHandler, result, runHandlerServer } from './handler/index.js';
export type { HandlerBody, HandlerContext, HandlerModule, HandlerResult, HandlerServerOptions, JsonValue } from './handler/index.js';
