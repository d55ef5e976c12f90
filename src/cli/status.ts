/**
 * `inferq status`: instances and backlog of every endpoint of a running server; `--watch` redraws
 * every second until Ctrl-C (loads only the HTTP client and the signer, like the one-shot form).
 */
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveClientConfig, type ClientConfig } from '../config/light.js';
import { noExtra } from './args.js';
import { failIfError, readAll, send } from './client.js';
import type { FlagValues } from './commands.js';

interface StatusDoc {
  readonly EndpointName: string;
  readonly EndpointStatus: string;
  readonly Health?: string;
  readonly Instances?: { Current: number; Healthy: number; Starting: number; Min: number; Max: number };
  readonly InFlight?: number;
  readonly Backlog?: { Queued: number; Running: number; OldestQueuedAgeSeconds: number };
  readonly FailureReason?: string;
}

/** One table row; an endpoint that is off gets its reason after the last column (it sets no column width). */
function row(doc: StatusDoc): string[] {
  if (doc.EndpointStatus !== 'InService' || !doc.Instances || !doc.Backlog) return [doc.EndpointName, 'off', '-', '-', '-', '-', '-', doc.FailureReason ?? ''];
  const i = doc.Instances;
  return [doc.EndpointName, doc.Health ?? '', `${i.Healthy}/${i.Current} (min ${i.Min}, max ${i.Max})`, String(doc.InFlight ?? 0), String(doc.Backlog.Queued), String(doc.Backlog.Running), `${doc.Backlog.OldestQueuedAgeSeconds}s`];
}

async function fetchStatus(config: ClientConfig): Promise<StatusDoc[]> {
  const res = await failIfError(await send(config, 'sagemaker', 'GET', '/endpoints', {}));
  return (JSON.parse((await readAll(res.body)).toString('utf8')) as { Endpoints: StatusDoc[] }).Endpoints;
}

/** The table of `docs`, one line a row, ending in a newline. */
export function renderTable(docs: readonly StatusDoc[]): string {
  const rows = [['ENDPOINT', 'HEALTH', 'INSTANCES', 'IN FLIGHT', 'QUEUED', 'RUNNING', 'OLDEST'], ...docs.map(row)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => `${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()}\n`).join('');
}

/** Prints a table of the server's endpoints (`--json` prints the documents). */
export async function runStatus(config: ClientConfig, json: boolean, out: Writable): Promise<number> {
  const docs = await fetchStatus(config);
  out.write(json ? `${JSON.stringify(docs, null, 2)}\n` : renderTable(docs));
  return 0;
}

/** ANSI: cursor home, clear the screen. */
const CLEAR = '\x1b[H\x1b[2J';

/**
 * Redraws the status every `intervalMs` until `signal` aborts (Ctrl-C): the table after clearing
 * the screen, or with `json` one line of JSON (`{"time":…,"Endpoints":[…]}`) per tick. A failed
 * fetch is shown in place of the table and retried on the next tick.
 */
export async function watchStatus(config: ClientConfig, json: boolean, out: Writable, signal: AbortSignal, intervalMs = 1000): Promise<number> {
  while (!signal.aborted) {
    const started = Date.now();
    try {
      const docs = await fetchStatus(config);
      const time = new Date().toISOString();
      out.write(json ? `${JSON.stringify({ time, Endpoints: docs })}\n` : `${CLEAR}${time}  (every ${intervalMs / 1000} s, Ctrl-C to stop)\n\n${renderTable(docs)}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      out.write(json ? `${JSON.stringify({ time: new Date().toISOString(), error: message })}\n` : `${CLEAR}inferq status: ${message}\n`);
    }
    await sleep(Math.max(0, intervalMs - (Date.now() - started)), undefined, { signal }).catch(() => undefined);
  }
  return 0;
}

/** Runs `inferq status` with its parsed flags; resolves with the exit code. */
export function statusCommand(rest: readonly string[], values: FlagValues<'status'>): Promise<number> {
  noExtra('status', rest);
  const endpointUrl = values['endpoint-url'];
  const config = resolveClientConfig(endpointUrl !== undefined ? { endpointUrl } : {});
  if (values.watch !== true) return runStatus(config, values.json ?? false, process.stdout);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return watchStatus(config, values.json ?? false, process.stdout, stop.signal).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
}
