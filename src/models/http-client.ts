/**
 * A ModelClient for a model server that is already running at a URL: invocations go straight to
 * `<baseUrl>/invocations`, and a pinger polls `GET /ping` to track health.
 */
import type { Logger } from '../util/index.js';
import { HealthState } from './health.js';
import { closeModelTarget, createModelTarget, invokeModel, pingModel } from './http-call.js';
import { ModelCallError, type ModelClient, type ModelHealth, type ModelInvocation, type ModelResponse } from './port.js';

/** Options of {@link createHttpModelClient}. */
export interface HttpModelClientOptions {
  /** Base URL of the model server, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  readonly logger: Logger;
  /**
   * Time between the end of one ping and the start of the next.
   * @default 5000
   */
  readonly pingIntervalMs?: number;
  /**
   * Per-ping timeout (the container contract allows 2 s).
   * @default 2000
   */
  readonly pingTimeoutMs?: number;
  /**
   * Consecutive failed pings after which a healthy model is reported unhealthy.
   * @default 1
   */
  readonly unhealthyAfter?: number;
}

/**
 * Creates a client for a model already running at `baseUrl`. `start()` sends the first ping at
 * once and returns without waiting for it; health is `starting` until that ping answers.
 * `stop()` ends the pinger and closes the client's connections (in-flight calls fail).
 * @example
 * const model = createHttpModelClient({ baseUrl: 'http://127.0.0.1:8080', logger });
 * await model.start();
 * await waitForHealthy(model, 10_000);
 */
export function createHttpModelClient(options: HttpModelClientOptions): ModelClient {
  const target = createModelTarget(options.baseUrl);
  const pingIntervalMs = options.pingIntervalMs ?? 5000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 2000;
  const unhealthyAfter = Math.max(1, options.unhealthyAfter ?? 1);
  const health = new HealthState(options.logger);
  const pingAbort = new AbortController();
  let started = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const pingLoop = async (): Promise<void> => {
    timer = undefined;
    const ok = await pingModel(target, pingTimeoutMs, pingAbort.signal);
    if (stopped) return;
    failures = ok ? 0 : failures + 1;
    if (ok) health.set('healthy');
    else if (failures >= unhealthyAfter || health.get() === 'starting') health.set('unhealthy');
    timer = setTimeout(() => void pingLoop(), pingIntervalMs);
    timer.unref();
  };

  return {
    description: options.baseUrl,
    invoke(call: ModelInvocation): Promise<ModelResponse> {
      if (stopped) return Promise.reject(new ModelCallError('unreachable', `model client for ${options.baseUrl} is stopped`));
      return invokeModel(target, call);
    },
    health: (): ModelHealth => health.get(),
    onHealthChange: (listener) => health.subscribe(listener),
    start(): Promise<void> {
      if (!started && !stopped) {
        started = true;
        void pingLoop();
      }
      return Promise.resolve();
    },
    stop(): Promise<void> {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      pingAbort.abort();
      closeModelTarget(target);
      health.set('stopped');
      return Promise.resolve();
    },
  };
}
