/**
 * Health bookkeeping shared by the model clients: the current {@link ModelHealth}, change
 * listeners, and {@link waitForHealthy}, which waits on change events rather than polling.
 */
import type { Logger } from '../util/index.js';
import type { ModelClient, ModelHealth } from './port.js';

/**
 * Holds one client's health and notifies listeners when it changes.
 * @internal
 */
export class HealthState {
  private current: ModelHealth;
  private readonly listeners = new Set<(health: ModelHealth) => void>();

  constructor(private readonly logger: Logger, initial: ModelHealth = 'starting') {
    this.current = initial;
  }

  /** The current health. */
  get(): ModelHealth {
    return this.current;
  }

  /** Sets the health; listeners run only when it actually changes. */
  set(next: ModelHealth): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    this.logger.info('model health changed', { from: previous, to: next });
    for (const listener of [...this.listeners]) {
      try {
        listener(next);
      } catch (err) {
        this.logger.error('model health listener threw', { err });
      }
    }
  }

  /** Adds a listener; returns its unsubscribe function. */
  subscribe(listener: (health: ModelHealth) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/**
 * Resolves `true` as soon as `client` is healthy (immediately if it already is), or `false` when
 * `timeoutMs` passes first or the client is stopped. Event-driven: no polling.
 * @example
 * await client.start();
 * if (!(await waitForHealthy(client, 60_000))) throw new Error('model did not become healthy');
 */
export function waitForHealthy(client: ModelClient, timeoutMs: number): Promise<boolean> {
  if (client.health() === 'healthy') return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (result: boolean): void => {
      clearTimeout(timer);
      unsubscribe();
      resolve(result);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const unsubscribe = client.onHealthChange((health) => {
      if (health === 'healthy') finish(true);
      else if (health === 'stopped') finish(false);
    });
  });
}
