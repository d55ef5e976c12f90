/**
 * The `onAvailable` listeners of a queue backend, shared by every backend: subscribe, and tell
 * each listener which endpoints have new work (a throwing listener is logged, the rest still run).
 */
import type { Logger } from '../util/index.js';

/** Listeners told when an endpoint's jobs become claimable. */
export class AvailabilityListeners {
  private readonly listeners = new Set<(endpoint: string) => void>();

  constructor(private readonly logger: Logger) {}

  /** Whether anyone listens (callers skip building the endpoint list when not). */
  get size(): number {
    return this.listeners.size;
  }

  /** Adds `listener` (the same function may subscribe twice); returns its unsubscribe. */
  add(listener: (endpoint: string) => void): () => void {
    const wrapped = (endpoint: string): void => listener(endpoint);
    this.listeners.add(wrapped);
    return () => void this.listeners.delete(wrapped);
  }

  /** Tells every listener about each endpoint; `later` defers it to the next turn (after the caller's settle). */
  tell(endpoints: Iterable<string>, later = true): void {
    if (this.listeners.size === 0) return;
    const list = [...endpoints];
    const tellAll = (): void => {
      for (const endpoint of list) {
        for (const listener of [...this.listeners]) {
          try {
            listener(endpoint);
          } catch (err) {
            this.logger.warn('job availability listener threw', { endpoint, error: err });
          }
        }
      }
    };
    if (later) setImmediate(tellAll);
    else tellAll();
  }
}
