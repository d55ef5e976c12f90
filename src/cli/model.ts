/** `inferq model serve --handler FILE`: a JavaScript module served as a SageMaker-contract model server. */
import { ConfigError, modelPortFromEnv } from '../config/light.js';
import { DEFAULT_MAX_BODY_BYTES, runHandlerServer } from '../models/index.js';
import { parsePort } from './args.js';
import type { FlagValues } from './commands.js';

/** Runs `inferq model serve` with its parsed flags; resolves with the exit code. */
export function modelCommand(rest: readonly string[], values: FlagValues<'model'>): Promise<number> {
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
