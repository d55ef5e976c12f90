/**
 * The commands of `inferq`: their flags (the parseArgs options of each, so that a flag another
 * command takes is still an unknown flag here), and the help texts built from them, with the
 * environment variables each reads (named by the config module, the one reader of the environment).
 * Pure data and string building: main.ts loads this for every command, so it imports nothing heavy.
 */
import type { parseArgs } from 'node:util';
import { CLIENT_ENVIRONMENT, MODEL_ENVIRONMENT, SERVER_ENVIRONMENT, type EnvironmentVariable } from '../config/light.js';

/** One flag: its parseArgs type, the placeholder of its value, and its help line. */
interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly value?: string;
  readonly help: string;
}

type Flags = Readonly<Record<string, FlagSpec>>;

/** One command: synopsis, description, flags and the environment it reads. */
interface CommandSpec {
  readonly synopsis: string;
  readonly summary: string;
  readonly description: string;
  readonly flags: Flags;
  readonly env: readonly EnvironmentVariable[];
}

const HELP = { help: { type: 'boolean', short: 'h', help: 'show this help' } } as const;

const ENDPOINT_URL = { type: 'string', value: 'URL', help: 'the inferq (or SageMaker-compatible) server; default INFERQ_URL, AWS_ENDPOINT_URL, then http://127.0.0.1:8080' } as const;

const SERVE_FLAGS = {
  config: { type: 'string', value: 'FILE', help: 'YAML configuration file (see README: Configuration reference)' },
  host: { type: 'string', value: 'H', help: 'address to bind (default 127.0.0.1)' },
  port: { type: 'string', value: 'N', help: 'port to bind (default 8080; 0 picks a free port)' },
  'data-dir': { type: 'string', value: 'DIR', help: 'where objects and queues are stored (default ./data)' },
  ...HELP,
} as const;

const WORKER_FLAGS = { config: SERVE_FLAGS.config, 'data-dir': SERVE_FLAGS['data-dir'], ...HELP } as const;

const INVOKE_FLAGS = {
  input: { type: 'string', value: 'FILE', help: 'the file to send (required)' },
  'content-type': { type: 'string', value: 'T', help: 'the Content-Type the model receives' },
  wait: { type: 'boolean', help: 'follow the request and write the result, or print the failure and exit 1' },
  out: { type: 'string', value: 'FILE', help: 'with --wait, write the result to FILE instead of stdout' },
  'endpoint-url': ENDPOINT_URL,
  bucket: { type: 'string', value: 'B', help: 'bucket the input is uploaded to (default inferq-inputs; created if missing)' },
  'inference-id': { type: 'string', value: 'ID', help: 'the InferenceId; the same ID with the same file again is a replay of that request (same InferenceId and OutputLocation), with another file a conflict' },
  ...HELP,
} as const;

const STATUS_FLAGS = {
  'endpoint-url': ENDPOINT_URL,
  json: { type: 'boolean', help: 'print the status documents as JSON instead of a table' },
  watch: { type: 'boolean', help: 'redraw the table every second until Ctrl-C (with --json: one JSON line a second)' },
  ...HELP,
} as const;

const REQUESTS_FLAGS = {
  status: { type: 'string', value: 'S', help: 'list only requests in status S: Queued, Running, Succeeded, Failed, Expired or Cancelled' },
  'endpoint-url': ENDPOINT_URL,
  json: { type: 'boolean', help: 'print the status documents as JSON instead of a table' },
  ...HELP,
} as const;

const MODEL_FLAGS = {
  handler: { type: 'string', value: 'FILE', help: 'the module exporting invoke(body, ctx) and optionally load() (required; TypeScript: run node --import tsx)' },
  port: { type: 'string', value: 'N', help: 'port to listen on (default SAGEMAKER_BIND_TO_PORT, then PORT, then 8080)' },
  host: { type: 'string', value: 'H', help: 'address to listen on (default 127.0.0.1)' },
  'max-body-bytes': { type: 'string', value: 'N', help: 'largest request body accepted (default 104857600, 100 MiB)' },
  'exit-with-parent': { type: 'boolean', help: 'exit when stdin (a pipe from the parent) closes' },
  ...HELP,
} as const;

/** Every command, by name. */
export const COMMANDS = {
  serve: {
    synopsis: 'serve [--config FILE] [--host H] [--port N] [--data-dir DIR]',
    summary: 'Run the SageMaker Runtime API and the S3-compatible object store on one port.',
    description: 'Runs the API, the object store, the queue, the workers and the models in one process until SIGINT or SIGTERM. Flags win over the configuration file. Model processes inherit the environment.',
    flags: SERVE_FLAGS,
    env: SERVER_ENVIRONMENT,
  },
  worker: {
    synopsis: 'worker [--config FILE] [--data-dir DIR]',
    summary: 'Run only the workers (and models) against the data directory of a serve process.',
    description: 'Runs the workers and their models, without the HTTP API, against the data directory of a `serve` process (e.g. one with `worker: { enabled: false }`). Several may run at once.',
    flags: WORKER_FLAGS,
    env: SERVER_ENVIRONMENT,
  },
  invoke: {
    synopsis: 'invoke ENDPOINT --input FILE [--content-type T] [--wait] [--out FILE] [--endpoint-url URL] [--bucket B] [--inference-id ID]',
    summary: 'Upload FILE, call InvokeEndpointAsync, and with --wait follow the request.',
    description: 'Uploads FILE, calls InvokeEndpointAsync and prints the InferenceId and locations; with --wait follows the request (queued, running, done) and writes the result to stdout or --out, or prints the failure and exits 1.',
    flags: INVOKE_FLAGS,
    env: CLIENT_ENVIRONMENT,
  },
  model: {
    synopsis: 'model serve --handler FILE [--port N] [--host H] [--max-body-bytes N] [--exit-with-parent]',
    summary: 'Serve a JavaScript module as a SageMaker-contract model server.',
    description: 'Serves a module exporting invoke(body, ctx) (and optionally load()) as a model server (GET /ping, POST /invocations).',
    flags: MODEL_FLAGS,
    env: MODEL_ENVIRONMENT,
  },
  status: {
    synopsis: 'status [--endpoint-url URL] [--json] [--watch]',
    summary: 'Instances, calls in flight and backlog of every endpoint of a running server.',
    description: 'Prints each endpoint\'s health, instances (healthy/running, min, max), calls in flight and backlog (queued, running, age of the oldest queued request). With --watch the table is redrawn every second (the screen is cleared) until Ctrl-C; --json --watch prints one line of JSON a second.',
    flags: STATUS_FLAGS,
    env: CLIENT_ENVIRONMENT,
  },
  endpoints: {
    synopsis: 'endpoints list | describe NAME | delete NAME [--endpoint-url URL] [--json]',
    summary: 'List, describe or delete the endpoints of a running server (SageMaker control plane).',
    description: 'Calls ListEndpoints, DescribeEndpoint or DeleteEndpoint on a running server: endpoints created through the SageMaker API and those of the configuration file (which cannot be deleted this way). describe prints the DescribeEndpoint answer as JSON.',
    flags: STATUS_FLAGS,
    env: CLIENT_ENVIRONMENT,
  },
  requests: {
    synopsis: 'requests list|get|cancel|retry ENDPOINT [ID] [--status S] [--endpoint-url URL] [--json]',
    summary: 'List, inspect, cancel or re-run the asynchronous requests of an endpoint.',
    description: '`list ENDPOINT` prints the endpoint\'s requests, newest first (up to 10,000; --status S only those in status S). `get ENDPOINT ID` prints one request\'s status. `cancel ENDPOINT ID` cancels a queued or running request (it ends Cancelled, with a failure object saying so). `retry ENDPOINT ID` runs a Failed, Expired or Cancelled request again, with the same InferenceId and locations.',
    flags: REQUESTS_FLAGS,
    env: CLIENT_ENVIRONMENT,
  },
  version: {
    synopsis: 'version',
    summary: 'Print the version.',
    description: 'Prints the version of inferq.',
    flags: HELP,
    env: [],
  },
} as const satisfies Readonly<Record<string, CommandSpec>>;

/** A command name. */
export type CommandName = keyof typeof COMMANDS;

/** The parsed flags of one command. */
export type FlagValues<C extends CommandName> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: (typeof COMMANDS)[C]['flags'] }>>['values'];

/** Whether `name` is a command. */
export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The flags of every command together (to find the command before its own flags are checked). */
export function allFlags(): Flags {
  return Object.assign({}, ...Object.values(COMMANDS).map((c) => c.flags)) as Flags;
}

const WIDTH = 100;

/** Wraps `text` at word boundaries to `width` columns, indenting the continuation lines by `indent`. */
function wrap(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return `${[...lines, line].join(`\n${indent}`)}\n`;
}

function columns(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 4;
  return rows.map(([left, right]) => `  ${left.padEnd(width - 2)}${wrap(right, WIDTH - width, ' '.repeat(width))}`).join('');
}

/** The help of one command: usage, description, flags and environment variables. */
export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const flags = Object.entries(spec.flags).map(([flag, f]): [string, string] => [`${f.short ? `-${f.short}, ` : ''}--${flag}${f.value ? ` ${f.value}` : ''}`, f.help]);
  const env = spec.env.length === 0 ? 'Environment: none read.\n' : `Environment:\n${columns(spec.env.map((v) => [v.name, v.meaning]))}`;
  return `Usage: ${wrap(`inferq ${spec.synopsis}`, WIDTH, '         ')}\n${wrap(spec.description, WIDTH)}\nFlags:\n${columns(flags)}\n${env}`;
}

/** The overall help: every command with its summary. */
export function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]): [string, string] => [name, c.summary]);
  return `Usage: inferq <command> [flags]\n\nCommands:\n${columns([...rows, ['help [COMMAND]', 'Show this help, or the help of COMMAND.']])}\n${wrap('Run `inferq <command> --help` (or `inferq help <command>`) for the flags of a command and the environment variables it reads.', WIDTH)}`;
}
