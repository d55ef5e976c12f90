#!/usr/bin/env node
/**
 * The `inferq` command line: finds the command, checks its flags, and loads only the modules that
 * command uses (`await import()` per command: `version` and help texts load no server code, `invoke`
 * and `status` only the HTTP client and the signer). Only this module exits the process.
 */
import { parseArgs } from 'node:util';
import { noExtra } from './args.js';
import { allFlags, commandHelp, COMMANDS, isCommand, usage, type CommandName, type FlagValues } from './commands.js';
import { version } from './version.js';

type Runner<C extends CommandName> = (rest: readonly string[], values: FlagValues<C>) => Promise<number>;

const RUNNERS: { readonly [C in CommandName]: Runner<C> } = {
  serve: async (rest, values) => (await import('./serve.js')).serveCommand(rest, values),
  worker: async (rest, values) => (await import('./serve.js')).workerCommand(rest, values),
  invoke: async (rest, values) => (await import('./invoke.js')).invokeCommand(rest, values),
  model: async (rest, values) => (await import('./model.js')).modelCommand(rest, values),
  status: async (rest, values) => (await import('./status.js')).statusCommand(rest, values),
  requests: async (rest, values) => (await import('./requests.js')).requestsCommand(rest, values),
  version: (rest) => {
    noExtra('version', rest);
    process.stdout.write(`${version()}\n`);
    return Promise.resolve(0);
  },
};

/** A flag-level mistake (unknown flag, missing value): reported with a pointer to the command's help, exit 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses the flags of one command; a flag of another command is an unknown flag here. @throws UsageError */
function parseFlags<C extends CommandName>(name: C, argv: string[]): { positionals: string[]; values: FlagValues<C> } {
  const flags = COMMANDS[name].flags;
  const { tokens } = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: false, tokens: true });
  const unknown = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(flags, t.name));
  if (unknown?.kind === 'option') throw new UsageError(`unknown flag ${unknown.rawName}`);
  try {
    const { positionals, values } = parseArgs({ args: argv, options: flags, allowPositionals: true, strict: true });
    return { positionals, values: values as FlagValues<C> };
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? err.code : undefined;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError((err as Error).message);
    throw err;
  }
}

/** `inferq help [COMMAND]`. */
function help(topic: string | undefined): number {
  if (topic === undefined) {
    process.stdout.write(usage());
    return 0;
  }
  if (!isCommand(topic)) {
    process.stderr.write(`inferq: unknown command ${JSON.stringify(topic)}\n\n${usage()}`);
    return 2;
  }
  process.stdout.write(commandHelp(topic));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  // A first, lenient pass over every command's flags only finds the command (flags may come first).
  const { values, positionals } = parseArgs({ args: argv, options: allFlags(), allowPositionals: true, strict: false });
  const [command, ...rest] = positionals;
  if (command === undefined) {
    if (values['help'] === true) return help(undefined);
    process.stderr.write(usage());
    return 2;
  }
  if (command === 'help') return help(rest[0]);
  if (!isCommand(command)) {
    process.stderr.write(`inferq: unknown command ${JSON.stringify(command)}\n\n${usage()}`);
    return 2;
  }
  return runCommand(command, argv);
}

async function runCommand<C extends CommandName>(command: C, argv: string[]): Promise<number> {
  let parsed: { positionals: string[]; values: FlagValues<C> };
  try {
    parsed = parseFlags(command, argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`inferq ${command}: ${err.message}\nRun \`inferq ${command} --help\` for its flags.\n`);
    return 2;
  }
  // Every command has --help; a generic C does not narrow FlagValues<C> enough to see it.
  if ((parsed.values as { readonly help?: boolean }).help === true) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  const runner: Runner<C> = RUNNERS[command];
  return runner(parsed.positionals.slice(1), parsed.values);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  async (err: unknown) => {
    const { describeFailure } = await import('./failure.js');
    const { line, status } = describeFailure(err);
    process.stderr.write(`inferq: ${line}\n`);
    process.exit(status);
  },
);
