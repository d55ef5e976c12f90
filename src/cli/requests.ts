/**
 * `inferq requests list|get|cancel|retry ENDPOINT [ID]`: the asynchronous requests of a running
 * server through the status API (list with `--status`, one request's status, cancel, re-run), as
 * a table or, with `--json`, the status documents. Same conventions as `inferq status`.
 */
import type { Writable } from 'node:stream';
import { ConfigError, resolveClientConfig, type ClientConfig } from '../config/light.js';
import { noExtra } from './args.js';
import { failIfError, readAll, send } from './client.js';
import type { FlagValues } from './commands.js';

interface RequestDoc {
  readonly InferenceId: string;
  readonly Status: string;
  readonly Attempts: number;
  readonly ReceivedTime?: string;
  readonly FinishedTime?: string;
  readonly FailureReason?: string;
}

const ACTIONS = ['list', 'get', 'cancel', 'retry'] as const;
type Action = (typeof ACTIONS)[number];

/** Most requests `list` prints (pages of 1,000 are followed until then). */
const LIST_LIMIT = 10_000;

function table(docs: readonly RequestDoc[], out: Writable): void {
  const rows = [['INFERENCE ID', 'STATUS', 'ATTEMPTS', 'RECEIVED', 'FINISHED', 'FAILURE'], ...docs.map((d) => [
    d.InferenceId, d.Status, String(d.Attempts), d.ReceivedTime ?? '-', d.FinishedTime ?? '-', d.FailureReason ?? '',
  ])];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) out.write(`${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()}\n`);
}

async function call(config: ClientConfig, method: string, path: string): Promise<unknown> {
  const res = await failIfError(await send(config, 'sagemaker', method, path, {}));
  return JSON.parse((await readAll(res.body)).toString('utf8')) as unknown;
}

async function listAll(config: ClientConfig, endpoint: string, status: string | undefined): Promise<RequestDoc[]> {
  const docs: RequestDoc[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ maxResults: '1000' });
    if (status !== undefined) query.set('status', status);
    if (token !== undefined) query.set('nextToken', token);
    const page = await call(config, 'GET', `/endpoints/${encodeURIComponent(endpoint)}/async-invocations?${query.toString()}`) as { Invocations: RequestDoc[]; NextToken?: string };
    docs.push(...page.Invocations);
    token = page.NextToken;
  } while (token !== undefined && docs.length < LIST_LIMIT);
  return docs.slice(0, LIST_LIMIT);
}

/** Runs one action; resolves with the exit code. */
export async function runRequests(config: ClientConfig, action: Action, endpoint: string, id: string | undefined, status: string | undefined, json: boolean, out: Writable): Promise<number> {
  let docs: RequestDoc[];
  if (action === 'list') docs = await listAll(config, endpoint, status);
  else {
    const path = `/endpoints/${encodeURIComponent(endpoint)}/async-invocations/${encodeURIComponent(id ?? '')}`;
    const method = action === 'get' ? 'GET' : action === 'cancel' ? 'DELETE' : 'POST';
    docs = [await call(config, method, action === 'retry' ? `${path}/retry` : path) as RequestDoc];
  }
  if (json) out.write(`${JSON.stringify(action === 'list' ? docs : docs[0], null, 2)}\n`);
  else table(docs, out);
  return 0;
}

function isAction(word: string | undefined): word is Action {
  return (ACTIONS as readonly (string | undefined)[]).includes(word);
}

/** Runs `inferq requests` with its parsed flags; resolves with the exit code. */
export function requestsCommand(rest: readonly string[], values: FlagValues<'requests'>): Promise<number> {
  const [action, endpoint, id, ...extra] = rest;
  if (!isAction(action)) throw new ConfigError('requests', `the first argument must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(action ?? '')}`);
  if (endpoint === undefined) throw new ConfigError(`requests ${action}`, 'the ENDPOINT argument is missing');
  if (action === 'list') noExtra('requests list', id === undefined ? extra : [id, ...extra]);
  else {
    if (id === undefined) throw new ConfigError(`requests ${action}`, 'the ID argument is missing');
    noExtra(`requests ${action}`, extra);
    if (values.status !== undefined) throw new ConfigError(`requests ${action}`, '--status is only for list');
  }
  const endpointUrl = values['endpoint-url'];
  return runRequests(resolveClientConfig(endpointUrl !== undefined ? { endpointUrl } : {}), action, endpoint, id, values.status, values.json ?? false, process.stdout);
}
