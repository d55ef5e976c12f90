/**
 * A {@link ManagedModel} around one ModelClient whose capacity inferq cannot change (a `url`
 * model): capacity is the per-instance concurrency while it is healthy, and demand reports are
 * only recorded for the snapshot.
 */
import { invokeCounted } from './call-tracking.js';
import type { InstanceSnapshot, ManagedModel, ModelClient, ModelInvocation, ModelResponse } from './port.js';

/**
 * Wraps `client` as a ManagedModel with one instance: `capacity()` is `perInstanceConcurrency`
 * while the client is healthy and 0 otherwise; `reportDemand` does not scale anything.
 * @example
 * const model = createSingleModel(createHttpModelClient({ baseUrl, logger }), 4);
 */
export function createSingleModel(client: ModelClient, perInstanceConcurrency: number): ManagedModel {
  if (!Number.isInteger(perInstanceConcurrency) || perInstanceConcurrency < 1) {
    throw new RangeError(`perInstanceConcurrency must be a positive integer, got ${perInstanceConcurrency}`);
  }
  let inFlight = 0;
  let waiting = 0;
  return {
    description: client.description,
    invoke(call: ModelInvocation): Promise<ModelResponse> {
      inFlight += 1;
      return invokeCounted(client, call, () => {
        inFlight -= 1;
      });
    },
    health: () => client.health(),
    onHealthChange: (listener) => client.onHealthChange(listener),
    start: () => client.start(),
    stop: () => client.stop(),
    capacity: () => (client.health() === 'healthy' ? perInstanceConcurrency : 0),
    reportDemand(count: number): void {
      waiting = Math.max(0, count);
    },
    snapshot(): InstanceSnapshot {
      const health = client.health();
      return {
        instances: health === 'stopped' ? 0 : 1,
        healthy: health === 'healthy' ? 1 : 0,
        starting: health === 'starting' ? 1 : 0,
        inFlight,
        waiting,
        min: 1,
        max: 1,
      };
    },
  };
}
