/**
 * Builds one ManagedModel per configured endpoint: a pool of supervised processes for command and
 * built-in models, a single client for url models.
 */
import type { EndpointConfig } from '../config/index.js';
import {
  builtinModelCommand, createCommandModelClient, createHttpModelClient, createModelPool, createSingleModel, type ManagedModel, type ModelProcessExit,
} from '../models/index.js';
import type { Logger } from '../util/index.js';

/** Told when a model process of an endpoint exits unasked (the control plane reports it while the endpoint starts). */
export type ModelExitListener = (exit: ModelProcessExit) => void;

type ProcessModelConfig = Exclude<EndpointConfig['model'], { kind: 'url' }>;

/** A pool whose instances each run the endpoint's command; instance loggers are `<endpoint>#<index>`. */
function createProcessPool(endpoint: EndpointConfig, m: ProcessModelConfig, baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger, onExit?: ModelExitListener): ManagedModel {
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
      ...(onExit ? { onExit } : {}),
    }),
  });
}

/** Creates (does not start) the model of one endpoint; `onExit` hears its processes exit unasked. */
export function createModelClient(endpoint: EndpointConfig, baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger, onExit?: ModelExitListener): ManagedModel {
  const m = endpoint.model;
  return m.kind === 'url'
    ? createSingleModel(createHttpModelClient({ baseUrl: m.url, logger: logger.child(endpoint.name), pingIntervalMs: m.pingIntervalMs }), endpoint.async.maxConcurrentInvocations)
    : createProcessPool(endpoint, m, baseEnv, logger, onExit);
}

/** Creates (does not start) the models, keyed by endpoint name. */
export function createModelClients(endpoints: readonly EndpointConfig[], baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger): Map<string, ManagedModel> {
  return new Map(endpoints.map((endpoint) => [endpoint.name, createModelClient(endpoint, baseEnv, logger)]));
}
