/**
 * Model clients: how inferq calls a model that follows the SageMaker container contract, either a
 * server already running at a URL or a process inferq supervises, plus the built-in echo model.
 */
export { ModelCallError } from './port.js';
export type { InstanceSnapshot, ManagedModel, ModelCallFailure, ModelClient, ModelHealth, ModelInvocation, ModelResponse } from './port.js';
export { createHttpModelClient } from './http-client.js';
export type { HttpModelClientOptions } from './http-client.js';
export { createCommandModelClient } from './command-client.js';
export type { CommandModelClient, CommandModelClientOptions } from './command-client.js';
export { waitForHealthy } from './health.js';
export { builtinModelCommand } from './builtin-command.js';
export type { BuiltinModelName } from './builtin-command.js';
