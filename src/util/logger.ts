/**
 * A small structured logger writing one line per event to a stream (stderr by default): as text
 * (`time LEVEL [name] message key=value…`) or as one JSON object a line (`server.logFormat: json`).
 */
import type { Writable } from 'node:stream';

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured logger; `fields` are appended as `key=value`. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose lines carry `name` (e.g. an endpoint's name). */
  child(name: string): Logger;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === 'string') return /^[\w./:@-]*$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** How lines are written. */
export type LogFormat = 'text' | 'json';

/** One JSON line: time, level, name and msg first, then the fields (an Error as its message). */
function jsonLine(lvl: LogLevel, name: string, msg: string, fields?: Record<string, unknown>): string {
  const doc: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, name, msg };
  if (fields) {
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined && !(k in doc)) doc[k] = v instanceof Error ? v.message : v;
    }
  }
  return `${JSON.stringify(doc)}\n`;
}

/** Creates a logger that drops lines below `level`. */
export function createLogger(level: LogLevel = 'info', out: Writable = process.stderr, name = 'inferq', format: LogFormat = 'text'): Logger {
  const write = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    if (format === 'json') {
      out.write(jsonLine(lvl, name, msg, fields));
      return;
    }
    const extra = fields ? Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}=${formatValue(v)}`).join('') : '';
    out.write(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${name}] ${msg}${extra}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (child) => createLogger(level, out, `${name}:${child}`, format),
  };
}

/** A logger that writes nothing (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
