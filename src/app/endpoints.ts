/**
 * Which configured endpoints this process can serve: a built-in model whose optional dependency
 * is not installed is switched off (with the reason) instead of failing the start.
 */
import type { EndpointConfig } from '../config/index.js';
import { builtinModelAvailable } from '../models/index.js';

/** An endpoint that is configured but off. */
export interface DisabledEndpoint {
  readonly name: string;
  readonly reason: string;
}

/** Splits the configured endpoints into those served and those switched off. */
export function availableEndpoints(configured: readonly EndpointConfig[]): { endpoints: EndpointConfig[]; disabled: DisabledEndpoint[] } {
  const endpoints: EndpointConfig[] = [];
  const disabled: DisabledEndpoint[] = [];
  for (const endpoint of configured) {
    const availability = endpoint.model.kind === 'builtin' ? builtinModelAvailable(endpoint.model.builtin) : { ok: true as const };
    if (availability.ok) endpoints.push(endpoint);
    else disabled.push({ name: endpoint.name, reason: availability.reason });
  }
  return { endpoints, disabled };
}
