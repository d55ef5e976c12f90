#!/usr/bin/env node
/** The `inferq` command line: parses arguments and runs a subcommand. Only this module exits the process. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, modelPortFromEnv, resolveClientConfig, resolveConfig, type ConfigOverrides } from '../config/index.js';
import { isStartupError } from '../errors/index.js';
import { DEFAULT_MAX_BODY_BYTES, runHandlerServer } from '../models/index.js';
import { ServerError } from './client.js';
import { runInvoke } from './invoke.js';
import { runStatus } from './status.js';
import { runServe, runWorker } from './serve.js';

const USAGE = `Usage: inferq <command> [options]

Commands:
  serve [--config FILE] [--host H] [--port N] [--data-dir DIR]
        Run the SageMaker Runtime API and the S3-compatible object store on one port.
  worker [--config FILE] [--data-dir DIR]
        Run only the workers (and models) against the data directory of a serve process.
  invoke ENDPOINT --input FILE [--content-type T] [--wait] [--out FILE]
         [--endpoint-url URL] [--bucket B] [--inference-id ID]
        Upload FILE, call InvokeEndpointAsync, and with --wait follow the request and write
        the result (stdout or --out) or print the failure (exit 1).
  model serve --handler FILE [--port N] [--host H] [--max-body-bytes N] [--exit-with-parent]
        Serve a JavaScript module exporting invoke(body, ctx) (and optionally load()) as a
        SageMaker-contract model server (GET /ping, POST /invocations). Port default:
        SAGEMAKER_BIND_TO_PORT, then PORT, then 8080. TypeScript handlers: node --import tsx.
  status [--endpoint-url URL] [--json]
        Instances (healthy/running, min, max), calls in flight and backlog of every endpoint.
  version
        Print the version.

Options:
  --config FILE    YAML configuration file (see README: Configuration reference)
  --host H         address to bind (default 127.0.0.1)
  --port N         port to bind (default 8080; 0 picks a free port)
  --data-dir DIR   where objects and queues are stored (default ./data)
  -h, --help       show this help
`;

function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) throw new ConfigError('--port', `must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function runModel(rest: string[], values: { handler?: string; port?: string; host?: string; 'max-body-bytes'?: string; 'exit-with-parent'?: boolean }): Promise<number> {
  const [sub, ...extra] = rest;
  if (sub !== 'serve') throw new ConfigError('model', `unknown subcommand ${JSON.stringify(sub ?? '')}: use inferq model serve --handler FILE`);
  if (extra.length > 0) throw new ConfigError('model serve', `unexpected argument ${JSON.stringify(extra[0])}`);
  if (values.handler === undefined) throw new ConfigError('--handler', 'required: the module exporting invoke(body, ctx)');
  const maxBody = values['max-body-bytes'];
  if (maxBody !== undefined && !/^[1-9]\d*$/.test(maxBody)) throw new ConfigError('--max-body-bytes', `must be a positive integer, got ${JSON.stringify(maxBody)}`);
  return runHandlerServer({
    handlerFile: values.handler,
    port: parsePort(values.port) ?? modelPortFromEnv(),
    ...(values.host !== undefined ? { host: values.host } : {}),
    maxBodyBytes: maxBody !== undefined ? Number(maxBody) : DEFAULT_MAX_BODY_BYTES,
    exitWithParent: values['exit-with-parent'] ?? false,
  });
}

const OPTIONS = {
  config: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  input: { type: 'string' },
  'content-type': { type: 'string' },
  wait: { type: 'boolean' },
  out: { type: 'string' },
  'endpoint-url': { type: 'string' },
  bucket: { type: 'string' },
  'inference-id': { type: 'string' },
  handler: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'exit-with-parent': { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type CliValues = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>>['values'];

function noExtra(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw new ConfigError(command, `unexpected argument ${JSON.stringify(rest[0])}`);
}

function clientConfig(values: CliValues): ReturnType<typeof resolveClientConfig> {
  return resolveClientConfig(values['endpoint-url'] !== undefined ? { endpointUrl: values['endpoint-url'] } : {});
}

function runInvokeCommand(rest: readonly string[], values: CliValues): Promise<number> {
  const [endpoint, ...extra] = rest;
  if (endpoint === undefined) throw new ConfigError('invoke', 'name the endpoint: inferq invoke ENDPOINT --input FILE');
  noExtra('invoke', extra);
  if (values.input === undefined) throw new ConfigError('--input', 'required: the file to send');
  return runInvoke(clientConfig(values), {
    endpoint,
    input: values.input,
    wait: values.wait ?? false,
    bucket: values.bucket ?? 'inferq-inputs',
    ...(values['content-type'] !== undefined ? { contentType: values['content-type'] } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values['inference-id'] !== undefined ? { inferenceId: values['inference-id'] } : {}),
  }, { stdout: process.stdout, stderr: process.stderr });
}

function serverOverrides(values: CliValues, withAddress: boolean): ConfigOverrides {
  const port = withAddress ? parsePort(values.port) : undefined;
  return {
    // eslint-disable-next-line no-restricted-syntax -- once per command line; every member is optional
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    ...(withAddress && values.host !== undefined ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case 'invoke':
      return runInvokeCommand(rest, values);
    case 'model':
      return runModel(rest, values);
    case 'status':
      noExtra(command, rest);
      return runStatus(clientConfig(values), values.json ?? false, process.stdout);
    case 'version':
      noExtra(command, rest);
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'serve':
      noExtra(command, rest);
      return runServe(resolveConfig(serverOverrides(values, true)), version());
    case 'worker':
      noExtra(command, rest);
      return runWorker(resolveConfig(serverOverrides(values, false)));
    default:
      process.stderr.write(`inferq: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

/** The one line printed for a failure, and the exit status: 2 for a bad configuration or environment, else 1. */
function describeFailure(err: unknown): { line: string; status: number } {
  if (err instanceof ConfigError) return { line: `configuration error: ${err.message}`, status: 2 };
  if (isStartupError(err)) return { line: err.message, status: 2 };
  if (err instanceof ServerError) return { line: `the server answered ${err.status} ${err.message}`, status: 1 };
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  if (code === 'ECONNREFUSED' || code === 'ENOENT') return { line: (err as Error).message, status: 1 };
  // `model serve` binds its port itself.
  if (code === 'EADDRINUSE') return { line: `${(err as Error).message}: the port is taken; choose another with --port`, status: 2 };
  if (code?.startsWith('ERR_PARSE_ARGS')) return { line: `${(err as Error).message}\n\n${USAGE}`, status: 2 };
  return { line: err instanceof Error ? err.stack ?? err.message : String(err), status: 1 };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const { line, status } = describeFailure(err);
    process.stderr.write(`inferq: ${line}\n`);
    process.exit(status);
  },
);
