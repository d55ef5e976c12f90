/**
 * `inferq endpoints list|describe|delete`: the SageMaker control plane of a running server
 * (ListEndpoints, DescribeEndpoint, DeleteEndpoint over awsJson1_1), for operators without the
 * aws CLI at hand.
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { ConfigError, resolveClientConfig, type ClientConfig } from '../config/light.js';
import { ServerError, failIfError, readAll, send } from './client.js';
import type { FlagValues } from './commands.js';

interface EndpointSummary {
  readonly EndpointName: string;
  readonly EndpointStatus: string;
  readonly CreationTime: number;
  readonly LastModifiedTime: number;
}

/** Calls one control-plane operation; resolves to its JSON answer. */
async function call(config: ClientConfig, operation: string, request: object): Promise<Record<string, unknown>> {
  const body = Buffer.from(JSON.stringify(request), 'utf8');
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `SageMaker.${operation}` };
  const sha256 = createHash('sha256').update(body).digest('hex');
  const res = await failIfError(await send(config, 'sagemaker', 'POST', '/', headers, { data: body, length: body.length, sha256 }));
  return JSON.parse((await readAll(res.body)).toString('utf8')) as Record<string, unknown>;
}

/** Every endpoint, following NextToken, sorted by name. */
async function listAll(config: ClientConfig): Promise<EndpointSummary[]> {
  const all: EndpointSummary[] = [];
  let token: string | undefined;
  do {
    const page = await call(config, 'ListEndpoints', Object.assign({ SortBy: 'Name', SortOrder: 'Ascending', MaxResults: 100 }, token === undefined ? {} : { NextToken: token }));
    all.push(...(page['Endpoints'] as EndpointSummary[]));
    token = typeof page['NextToken'] === 'string' ? page['NextToken'] : undefined;
  } while (token !== undefined);
  return all;
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Runs one subcommand; resolves with the exit code. */
export async function runEndpoints(config: ClientConfig, args: readonly string[], json: boolean, out: Writable): Promise<number> {
  const [sub, name, ...extra] = args;
  if (extra.length > 0) throw new ConfigError('endpoints', `unexpected argument ${JSON.stringify(extra[0])}`);
  if (sub === 'list') {
    if (name !== undefined) throw new ConfigError('endpoints list', `unexpected argument ${JSON.stringify(name)}`);
    const endpoints = await listAll(config);
    if (json) {
      out.write(`${JSON.stringify(endpoints, null, 2)}\n`);
      return 0;
    }
    const rows = [['ENDPOINT', 'STATUS', 'CREATED', 'MODIFIED'], ...endpoints.map((e) => [e.EndpointName, e.EndpointStatus, isoTime(e.CreationTime), isoTime(e.LastModifiedTime)])];
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
    for (const r of rows) out.write(`${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()}\n`);
    return 0;
  }
  if (sub !== 'describe' && sub !== 'delete') throw new ConfigError('endpoints', `expected list, describe NAME or delete NAME, got ${JSON.stringify(sub ?? '')}`);
  if (name === undefined) throw new ConfigError(`endpoints ${sub}`, 'the endpoint NAME is missing');
  if (sub === 'describe') {
    out.write(`${JSON.stringify(await call(config, 'DescribeEndpoint', { EndpointName: name }), null, 2)}\n`);
    return 0;
  }
  await call(config, 'DeleteEndpoint', { EndpointName: name });
  await waitUntilGone(config, name);
  out.write(`deleted endpoint ${name}\n`);
  return 0;
}

/** How long `delete` waits for a `Deleting` endpoint to be gone (its queued requests failed, its model stopped). */
const DELETE_WAIT_MS = 120_000;
const DELETE_POLL_MS = 250;

/** Polls DescribeEndpoint until it answers ValidationException (the endpoint is gone), as the endpoint_deleted waiter does. */
async function waitUntilGone(config: ClientConfig, name: string): Promise<void> {
  const deadline = Date.now() + DELETE_WAIT_MS;
  for (;;) {
    try {
      await call(config, 'DescribeEndpoint', { EndpointName: name });
    } catch (err) {
      if (err instanceof ServerError && err.code === 'ValidationException') return;
      throw err;
    }
    if (Date.now() > deadline) throw new ConfigError('endpoints delete', `endpoint ${name} is still Deleting after ${DELETE_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, DELETE_POLL_MS));
  }
}

/** Runs `inferq endpoints …` with its parsed flags. */
export function endpointsCommand(rest: readonly string[], values: FlagValues<'endpoints'>): Promise<number> {
  const endpointUrl = values['endpoint-url'];
  return runEndpoints(resolveClientConfig(endpointUrl !== undefined ? { endpointUrl } : {}), rest, values.json ?? false, process.stdout);
}
