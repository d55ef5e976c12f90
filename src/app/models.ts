/** Builds one ModelClient per configured endpoint (url, command or built-in). */
import type { EndpointConfig } from '../config/index.js';
import { builtinModelCommand, createCommandModelClient, createHttpModelClient, type ModelClient } from '../models/index.js';
import type { Logger } from '../util/index.js';

/** Creates (does not start) the model clients, keyed by endpoint name. */
export function createModelClients(endpoints: readonly EndpointConfig[], baseEnv: Readonly<Record<string, string | undefined>>, logger: Logger): Map<string, ModelClient> {
  const models = new Map<string, ModelClient>();
  for (const endpoint of endpoints) {
    const log = logger.child(endpoint.name);
    const m = endpoint.model;
    const client = m.kind === 'url'
      ? createHttpModelClient({ baseUrl: m.url, logger: log, pingIntervalMs: m.pingIntervalMs })
      : createCommandModelClient({
        name: endpoint.name,
        command: m.kind === 'command' ? m.command : builtinModelCommand(m.builtin === 'vad' ? 'echo' : m.builtin),
        env: m.kind === 'command' ? m.env : {},
        baseEnv,
        ...(m.kind === 'command' && m.cwd !== undefined ? { cwd: m.cwd } : {}),
        logger: log,
        startTimeoutMs: m.startTimeoutMs,
        pingIntervalMs: m.pingIntervalMs,
      });
    models.set(endpoint.name, client);
  }
  return models;
}
