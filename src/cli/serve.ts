/** `inferq serve` and `inferq worker`: start the embedded product (or only its workers) and run until SIGINT/SIGTERM. */
import { startInferq, startWorkers, type RunningInferq } from '../app/index.js';
import { resolveConfig, type ConfigOverrides, type ResolvedConfig } from '../config/index.js';
import { createLogger, type Logger } from '../util/index.js';
import { noExtra, parsePort } from './args.js';
import type { FlagValues } from './commands.js';
import { version } from './version.js';

function overrides(values: FlagValues<'worker'> & { host?: string; port?: string }): ConfigOverrides {
  const port = parsePort(values.port);
  return {
    // eslint-disable-next-line no-restricted-syntax -- once per command line; every member is optional
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  };
}

/** Runs `inferq serve` with its parsed flags; resolves with the exit code. */
export function serveCommand(rest: readonly string[], values: FlagValues<'serve'>): Promise<number> {
  noExtra('serve', rest);
  return runServe(resolveConfig(overrides(values)), version());
}

/** Runs `inferq worker` with its parsed flags; resolves with the exit code. */
export function workerCommand(rest: readonly string[], values: FlagValues<'worker'>): Promise<number> {
  noExtra('worker', rest);
  return runWorker(resolveConfig(overrides(values)));
}

/** The start-up banner: URL, credentials in force and a copy-paste example. */
export function banner(config: ResolvedConfig, running: RunningInferq, version: string): string {
  const { server } = config;
  const { url } = running;
  const first = running.endpoints[0];
  const cred = server.credentials[0];
  const credLine = server.usingDevCredentials
    ? 'test / test (development pair, loopback only; set server.credentials in a config file to change)'
    : `${server.credentials.length} configured access key(s): ${server.credentials.map((c) => c.accessKeyId).join(', ')}`;
  const secret = server.usingDevCredentials ? cred?.secretAccessKey ?? '' : '<your secret>';
  return [
    `inferq ${version} listening on ${url}`,
    `  data dir:    ${server.dataDir}`,
    `  credentials: ${credLine}`,
    `  health:      curl ${url}/ping`,
    '  try:',
    `    export AWS_ACCESS_KEY_ID=${cred?.accessKeyId ?? ''} AWS_SECRET_ACCESS_KEY=${secret} AWS_DEFAULT_REGION=${server.region} AWS_ENDPOINT_URL=${url}`,
    '    aws s3 mb s3://demo && echo hello | aws s3 cp - s3://demo/hello.txt && aws s3 cp s3://demo/hello.txt -',
    ...(first ? [
      `    aws sagemaker-runtime invoke-endpoint-async --endpoint-name ${first.name} --input-location s3://demo/hello.txt --inference-id demo-1`,
      `    aws s3 cp s3://${first.async.output.bucket}/${[first.async.output.prefix, 'demo-1.out'].filter(Boolean).join('/')} -`,
      `    npx inferq invoke ${first.name} --input README.md --wait`,
    ] : []),
    `  endpoints:   ${running.endpoints.map((e) => `${e.name} (${describeModel(e)})`).join(', ') || 'none'}`,
    ...running.disabled.map((d) => `  off:         ${d.name} (${d.reason})`),
    '',
  ].join('\n');
}

function describeModel(e: ResolvedConfig['endpoints'][number]): string {
  const m = e.model;
  return m.kind === 'url' ? m.url : m.kind === 'builtin' ? `built-in ${m.builtin}` : m.command.join(' ');
}

/** Runs the server until a termination signal; resolves with the exit code. */
export async function runServe(config: ResolvedConfig, version: string): Promise<number> {
  const logger = createLogger(config.server.logLevel, process.stderr, 'inferq', config.server.logFormat);
  const running = await startInferq(config, logger);
  process.stdout.write(banner(config, running, version));
  return untilSignal(running, logger);
}

/** Runs only the workers until a termination signal. */
export async function runWorker(config: ResolvedConfig): Promise<number> {
  const logger = createLogger(config.server.logLevel, process.stderr, 'inferq', config.server.logFormat);
  const running = await startWorkers(config, logger);
  logger.info('workers running', { dataDir: config.server.dataDir, endpoints: config.endpoints.map((e) => e.name).join(',') });
  return untilSignal(running, logger);
}

function untilSignal(running: RunningInferq, logger: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn('second signal: exiting now', { signal });
        resolve(130);
        return;
      }
      signalled = true;
      logger.info('shutting down', { signal });
      running.stop().then(() => resolve(0), (err: unknown) => {
        logger.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
        resolve(1);
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
