/**
 * A ModelClient that runs the model itself: it starts `command` on a free loopback port, waits for
 * `GET /ping` to answer 200, keeps pinging, and restarts the process with exponential backoff when
 * it exits or never becomes healthy. `stop()` sends SIGTERM, then SIGKILL after a grace period.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../util/index.js';
import { HealthState } from './health.js';
import { closeModelTarget, createModelTarget, invokeModel, pingModel, type ModelTarget } from './http-call.js';
import { ModelCallError, type ModelClient, type ModelHealth, type ModelInvocation, type ModelResponse } from './port.js';
import { freeLoopbackPort, ModelProcess, type ProcessExit } from './process.js';

/** Options of {@link createCommandModelClient}. */
export interface CommandModelClientOptions {
  /** Endpoint or model name, for logs. */
  readonly name: string;
  /** Program and arguments; `command[0]` is spawned directly (no shell). */
  readonly command: readonly string[];
  /** Variables for the model (the container definition's Environment); win over `baseEnv`. */
  readonly env: Readonly<Record<string, string>>;
  /** The environment the child inherits (the composition root passes the process environment). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** Working directory of the child. Defaults to the current one. */
  readonly cwd?: string;
  /** Receives supervisor events and every line the model writes to stdout or stderr. */
  readonly logger: Logger;
  /**
   * How long a new process may take to answer its first `/ping` with 200 before it is restarted.
   * @default 240000
   */
  readonly startTimeoutMs?: number;
  /**
   * Time between pings once healthy.
   * @default 5000
   */
  readonly pingIntervalMs?: number;
  /**
   * Per-ping timeout.
   * @default 2000
   */
  readonly pingTimeoutMs?: number;
  /**
   * Consecutive failed pings after which a healthy process is reported unhealthy.
   * @default 3
   */
  readonly unhealthyAfter?: number;
  /**
   * How long the process gets to exit after SIGTERM before SIGKILL.
   * @default 30000
   */
  readonly stopGraceMs?: number;
  /**
   * Delay before a restart: starts at `initial`, doubles per consecutive failure, capped at `max`.
   * @default { initial: 500, max: 30000 }
   */
  readonly restartBackoffMs?: { readonly initial?: number; readonly max?: number };
  /**
   * A process that stayed up this long after becoming healthy resets the backoff to `initial`.
   * @default 60000
   */
  readonly stableAfterMs?: number;
  /** Told each time the process exits when it was not asked to (a crash, or a start that failed), before any restart. */
  readonly onExit?: (exit: ModelProcessExit) => void;
}

/** How a model process ended: its exit code or signal, or the error that kept it from spawning. */
export type ModelProcessExit = ProcessExit;

/** A supervised model process; adds introspection to {@link ModelClient}. */
export interface CommandModelClient extends ModelClient {
  /** The current process id, if a process is running. */
  pid(): number | undefined;
  /** The loopback port of the current process, if one is running. */
  port(): number | undefined;
}

/** While a process starts, /ping is retried every `elapsed / START_PING_DIVISOR` ms, within these bounds. */
const START_PING_MIN_MS = 10;
const START_PING_MAX_MS = 1000;
const START_PING_DIVISOR = 10;

interface Settings {
  readonly startTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
  readonly unhealthyAfter: number;
  readonly stopGraceMs: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly stableAfterMs: number;
}

function settingsOf(o: CommandModelClientOptions): Settings {
  return {
    startTimeoutMs: o.startTimeoutMs ?? 240_000,
    pingIntervalMs: o.pingIntervalMs ?? 5000,
    pingTimeoutMs: o.pingTimeoutMs ?? 2000,
    unhealthyAfter: Math.max(1, o.unhealthyAfter ?? 3),
    stopGraceMs: o.stopGraceMs ?? 30_000,
    backoffInitialMs: o.restartBackoffMs?.initial ?? 500,
    backoffMaxMs: o.restartBackoffMs?.max ?? 30_000,
    stableAfterMs: o.stableAfterMs ?? 60_000,
  };
}

/** Sleeps `ms`, returning early (without throwing) when `signal` aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks the signal
  }
}

/** The process being supervised right now. */
interface Current {
  readonly proc: ModelProcess;
  readonly target: ModelTarget;
  /** Whether it has answered a ping with 200 (invocations are forwarded from then on). */
  ready: boolean;
}

class CommandSupervisor {
  readonly health: HealthState;
  current: Current | undefined;
  private readonly settings: Settings;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private backoffMs: number;

  constructor(private readonly options: CommandModelClientOptions) {
    this.settings = settingsOf(options);
    this.backoffMs = this.settings.backoffInitialMs;
    this.health = new HealthState(options.logger);
  }

  get stopping(): boolean {
    return this.stopController.signal.aborted;
  }

  start(): void {
    if (this.loop === undefined && !this.stopping) this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.current?.proc.terminate(this.settings.stopGraceMs);
    await this.loop;
    this.health.set('stopped');
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.runOneProcess();
      } catch (err) {
        this.options.logger.error('model supervisor error', { err });
      }
      if (this.stopping) break;
      this.health.set('unhealthy');
      this.options.logger.info('restarting model process', { inMs: this.backoffMs });
      await pause(this.backoffMs, this.stopController.signal);
      this.backoffMs = Math.min(this.backoffMs * 2, this.settings.backoffMaxMs);
    }
  }

  private environment(port: number): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.options.baseEnv)) if (value !== undefined) env[key] = value;
    return Object.assign(env, this.options.env, { SAGEMAKER_BIND_TO_PORT: String(port), PORT: String(port) });
  }

  /** Runs one process from spawn to exit. */
  private async runOneProcess(): Promise<void> {
    const port = await freeLoopbackPort();
    if (this.stopping) return;
    const { logger, command, cwd } = this.options;
    const proc = new ModelProcess({ command, env: this.environment(port), logger, ...(cwd !== undefined ? { cwd } : {}) }, port);
    const current: Current = { proc, target: createModelTarget(`http://127.0.0.1:${port}`), ready: false };
    this.current = current;
    logger.info('model process started', { pid: proc.pid, port });
    this.health.set('starting');
    const gone = new AbortController();
    void proc.exited.then(() => gone.abort());
    const signal = AbortSignal.any([gone.signal, this.stopController.signal]);
    let healthySince: number | undefined;
    try {
      if (await this.waitUntilReady(current.target, signal)) {
        current.ready = true;
        healthySince = performance.now();
        this.health.set('healthy');
        await this.monitor(current.target, signal);
      } else if (proc.running && !this.stopping) {
        logger.error('model did not become healthy in time; restarting it', { startTimeoutMs: this.settings.startTimeoutMs });
        await proc.terminate(this.settings.stopGraceMs);
      }
      this.logExit(await proc.exited);
    } finally {
      closeModelTarget(current.target);
      if (this.current === current) this.current = undefined;
    }
    if (healthySince !== undefined && performance.now() - healthySince >= this.settings.stableAfterMs) {
      this.backoffMs = this.settings.backoffInitialMs;
    }
  }

  /**
   * Pings until 200 (true), the start timeout, exit or stop (false). The pause between pings is a
   * tenth of the time the start has taken so far (10 ms to 1 s), so a model that becomes ready is
   * seen within about 10 % of its own start-up time, at the cost of a few dozen refused connects.
   */
  private async waitUntilReady(target: ModelTarget, signal: AbortSignal): Promise<boolean> {
    const started = performance.now();
    const deadline = started + this.settings.startTimeoutMs;
    while (!signal.aborted) {
      const now = performance.now();
      if (deadline - now <= 0) return false;
      if (await pingModel(target, Math.min(this.settings.pingTimeoutMs, deadline - now), signal)) return !signal.aborted;
      const interval = Math.min(START_PING_MAX_MS, Math.max(START_PING_MIN_MS, (performance.now() - started) / START_PING_DIVISOR));
      await pause(Math.min(interval, Math.max(0, deadline - performance.now())), signal);
    }
    return false;
  }

  /** Pings a healthy process until it exits or the client stops. */
  private async monitor(target: ModelTarget, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      await pause(this.settings.pingIntervalMs, signal);
      if (signal.aborted) return;
      const ok = await pingModel(target, this.settings.pingTimeoutMs, signal);
      if (signal.aborted) return;
      failures = ok ? 0 : failures + 1;
      if (ok) this.health.set('healthy');
      else if (failures >= this.settings.unhealthyAfter) this.health.set('unhealthy');
    }
  }

  private logExit(exit: ProcessExit): void {
    const fields = { code: exit.code, signal: exit.signal, err: exit.error };
    if (this.stopping) this.options.logger.info('model process exited', fields);
    else {
      this.options.logger.error('model process exited unexpectedly', fields);
      this.options.onExit?.(exit);
    }
  }
}

/**
 * Creates a client that supervises a model process. The child gets `baseEnv`, then `env`, then
 * `SAGEMAKER_BIND_TO_PORT` and `PORT` set to a free loopback port, and must serve the container
 * contract there. `start()` spawns the first process and returns; await {@link waitForHealthy}
 * for readiness. `invoke` rejects with `ModelCallError('unreachable')` until the current process
 * has answered a ping; after that calls are forwarded while it runs, even during a failing-ping
 * streak (a busy single-threaded model may miss pings; the worker decides from `health()`).
 * @example
 * const model = createCommandModelClient({ name: 'echo', command: builtinModelCommand('echo'),
 *   env: {}, baseEnv: inheritedEnv, logger: logger.child('echo') });
 * await model.start();
 */
export function createCommandModelClient(options: CommandModelClientOptions): CommandModelClient {
  if (options.command.length === 0) throw new TypeError(`model ${options.name}: command is empty`);
  const supervisor = new CommandSupervisor(options);
  return {
    description: options.command.join(' '),
    invoke(call: ModelInvocation): Promise<ModelResponse> {
      const current = supervisor.current;
      if (supervisor.stopping || current === undefined || !current.ready || !current.proc.running) {
        return Promise.reject(new ModelCallError('unreachable', `model ${options.name} has no healthy process`));
      }
      return invokeModel(current.target, call);
    },
    health: (): ModelHealth => supervisor.health.get(),
    onHealthChange: (listener) => supervisor.health.subscribe(listener),
    start(): Promise<void> {
      supervisor.start();
      return Promise.resolve();
    },
    stop: () => supervisor.stop(),
    pid: () => supervisor.current?.proc.pid,
    port: () => supervisor.current?.proc.port,
  };
}
