/**
 * Builds one ManagedModel per configured endpoint: a pool of supervised processes for command and
 * built-in models, a single client for url models.
 */
import type { EndpointConfig } from '../config/index.js';
import {
  builtinModelCommand, createCommandModelClient, createHttpModelClient, createModelPool, createSingleModel, type ManagedModel,
} from '../models/index.js';
import type { Logger } from '../util/index.js';

type ProcessModelConfig = Exclude<EndpointConfig['model'], { kind: 'url' }>;

/** A pool whose instances each run the endpoint's command; instance loggers are `<endpoint>#<index>`. */
function createProcessPool(endpoint: EndpointConfig, m: ProcessModelConfig, baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger): ManagedModel {
  const command = m.kind === 'command' ? m.command : builtinModelCommand(m.builtin);
  return createModelPool({
    name: endpoint.name,
    description: command.join(' '),
    perInstanceConcurrency: endpoint.async.maxConcurrentInvocations,
    instances: endpoint.instances,
    logger: logger.child(endpoint.name),
    createInstance: (index) => createCommandModelClient({
      name: `${endpoint.name}#${index}`,
      command,
      env: m.kind === 'command' ? m.env : {},
      baseEnv,
      ...(m.kind === 'command' && m.cwd !== undefined ? { cwd: m.cwd } : {}),
      logger: logger.child(`${endpoint.name}#${index}`),
      startTimeoutMs: m.startTimeoutMs,
      pingIntervalMs: m.pingIntervalMs,
    }),
  });
}

/** Creates (does not start) the models, keyed by endpoint name. */
export function createModelClients(endpoints: readonly EndpointConfig[], baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger): Map<string, ManagedModel> {
  const models = new Map<string, ManagedModel>();
  for (const endpoint of endpoints) {
    const m = endpoint.model;
    const model = m.kind === 'url'
      ? createSingleModel(createHttpModelClient({ baseUrl: m.url, logger: logger.child(endpoint.name), pingIntervalMs: m.pingIntervalMs }), endpoint.async.maxConcurrentInvocations)
      : createProcessPool(endpoint, m, baseEnv, logger);
    models.set(endpoint.name, model);
  }
  return models;
}
