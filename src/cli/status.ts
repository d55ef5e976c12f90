/** `inferq status`: instances and backlog of every endpoint of a running server. */
import type { Writable } from 'node:stream';
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

/** Prints a table of the server's endpoints (`--json` prints the documents). */
export async function runStatus(config: ClientConfig, json: boolean, out: Writable): Promise<number> {
  const res = await failIfError(await send(config, 'sagemaker', 'GET', '/endpoints', {}));
  const { Endpoints } = JSON.parse((await readAll(res.body)).toString('utf8')) as { Endpoints: StatusDoc[] };
  if (json) {
    out.write(`${JSON.stringify(Endpoints, null, 2)}\n`);
    return 0;
  }
  const rows = [['ENDPOINT', 'HEALTH', 'INSTANCES', 'IN FLIGHT', 'QUEUED', 'RUNNING', 'OLDEST'], ...Endpoints.map(row)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) out.write(`${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()}\n`);
  return 0;
}

/** Runs `inferq status` with its parsed flags; resolves with the exit code. */
export function statusCommand(rest: readonly string[], values: FlagValues<'status'>): Promise<number> {
  noExtra('status', rest);
  const endpointUrl = values['endpoint-url'];
  return runStatus(resolveClientConfig(endpointUrl !== undefined ? { endpointUrl } : {}), values.json ?? false, process.stdout);
}
