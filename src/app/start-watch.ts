/**
 * Watching a new model version start, for the control plane's `Creating`/`Updating` → `InService`
 * or `Failed`: the model is healthy (answers `/ping`), or one of its processes exited first, or
 * the start timed out. The reason of a failure names the exit status and the model's last log
 * lines, which {@link recordingLogger} keeps as they pass to the real logger.
 */
import type { ManagedModel, ModelProcessExit } from '../models/index.js';
import type { Logger } from '../util/index.js';

/** Lines of the model's own output kept for a FailureReason. */
const KEPT_LINES = 8;

/** The last lines a model wrote, for its endpoint's FailureReason. */
export class RecentLines {
  private readonly lines: string[] = [];

  add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > KEPT_LINES) this.lines.shift();
  }

  list(): readonly string[] {
    return this.lines;
  }
}

/**
 * A logger that passes everything to `logger` and keeps, in `recent`, the lines the model process
 * wrote (those logged with a `stream` field: stdout or stderr; see models/process.ts).
 */
export function recordingLogger(logger: Logger, recent: RecentLines): Logger {
  const keep = (msg: string, fields?: Record<string, unknown>): void => {
    if (fields !== undefined && (fields['stream'] === 'stdout' || fields['stream'] === 'stderr')) recent.add(msg);
  };
  return {
    debug: (msg, fields) => { keep(msg, fields); logger.debug(msg, fields); },
    info: (msg, fields) => { keep(msg, fields); logger.info(msg, fields); },
    warn: (msg, fields) => { keep(msg, fields); logger.warn(msg, fields); },
    error: (msg, fields) => { keep(msg, fields); logger.error(msg, fields); },
    child: (name) => recordingLogger(logger.child(name), recent),
  };
}

/** Passes a model's unasked exits to the start watch; an exit before the watch began is kept for it. */
export class ExitRelay {
  private first: ModelProcessExit | undefined;
  private listener: ((exit: ModelProcessExit) => void) | undefined;

  /** For the model's `onExit`. */
  readonly emit = (exit: ModelProcessExit): void => {
    this.first ??= exit;
    this.listener?.(exit);
  };

  onExit(listener: (exit: ModelProcessExit) => void): void {
    this.listener = listener;
    if (this.first !== undefined) listener(this.first);
  }
}

/** How a start ended. */
export type StartResult = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };

/** What {@link watchStart} listens to. */
export interface StartWatch {
  readonly model: ManagedModel;
  readonly timeoutMs: number;
  /** The model's unasked exits. */
  readonly exits: ExitRelay;
  readonly recent: RecentLines;
  readonly signal: AbortSignal;
}

function exitText(exit: ModelProcessExit): string {
  if (exit.error !== undefined) return `could not be started (${exit.error.message})`;
  if (exit.signal !== null) return `was killed by signal ${exit.signal}`;
  return `exited with status ${exit.code ?? 'unknown'}`;
}

/** The FailureReason of a model process that exited before it was healthy. */
export function exitReason(exit: ModelProcessExit, recent: RecentLines): string {
  const lines = recent.list();
  const tail = lines.length > 0 ? ` Last log lines: ${lines.join(' | ')}` : '';
  return `The model process ${exitText(exit)} before it answered GET /ping.${tail}`;
}

/**
 * Resolves when the model is healthy, one of its processes exits unasked, the timeout passes or
 * `signal` aborts, also before the call (then as a failure the caller discards).
 */
export function watchStart(w: StartWatch): Promise<StartResult> {
  return new Promise<StartResult>((resolve) => {
    let done = false;
    const finish = (result: StartResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      w.signal.removeEventListener('abort', aborted);
      resolve(result);
    };
    const timer = setTimeout(() => finish({ healthy: false, reason: `The model did not answer GET /ping with 200 within ${Math.round(w.timeoutMs / 1000)} s.${w.recent.list().length > 0 ? ` Last log lines: ${w.recent.list().join(' | ')}` : ''}` }), w.timeoutMs);
    const aborted = (): void => finish({ healthy: false, reason: 'stopped' });
    w.signal.addEventListener('abort', aborted);
    const off = w.model.onHealthChange((health) => { if (health === 'healthy') finish({ healthy: true }); });
    w.exits.onExit((exit) => finish({ healthy: false, reason: exitReason(exit, w.recent) }));
    if (w.model.health() === 'healthy') finish({ healthy: true });
    // An abort before the watch began fires no 'abort' event: without this the watch would wait for the timeout.
    if (w.signal.aborted) aborted();
  });
}
