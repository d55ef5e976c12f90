/**
 * Resolves the configuration once at start-up: reads the YAML file, applies flags, validates the
 * result through the schema, checks cross-field rules and deep-freezes it. This is the only module
 * that reads `process.env`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve as resolvePath } from 'node:path';
import { YAMLError, parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError, DEV_CREDENTIALS } from './common.js';
import { configFileSchema, endpointSchema, type objectsSchema } from './schema.js';
import { systemErrorReason } from '../util/index.js';
import type { ConfigOverrides, EndpointConfig, EndpointNotificationConfig, ImageModel, ModelConfig, ObjectsConfig, QueueConfig, ResolvedConfig, S3Path, TopicConfig } from './types.js';

/** The images every inferq knows: the built-in models. */
const BUILTIN_IMAGES: Readonly<Record<string, ImageModel>> = { 'inferq/echo': { kind: 'builtin', builtin: 'echo' }, 'inferq/vad': { kind: 'builtin', builtin: 'vad' } };

function resolveImages(raw: z.output<typeof configFileSchema>['images'], configDir: string): Record<string, ImageModel> {
  const images: Record<string, ImageModel> = Object.assign({}, BUILTIN_IMAGES);
  for (const [image, m] of Object.entries(raw)) {
    images[image] = m.command !== undefined
      ? { kind: 'command', command: m.command, env: m.env ?? {}, ...(m.cwd !== undefined ? { cwd: resolvePath(configDir, m.cwd) } : {}) }
      : { kind: 'url', url: m.url ?? '' };
  }
  return images;
}

/** Default async output/failure bucket. */
export const DEFAULT_ASYNC_BUCKET = 'inferq-async';

/** The endpoints served when the config names none. */
const DEFAULT_ENDPOINTS: readonly z.input<typeof endpointSchema>[] = [
  { name: 'echo', model: { builtin: 'echo' } },
  { name: 'vad', model: { builtin: 'vad' } },
];

/** `async.maxConcurrentInvocations` when the endpoint gives none, for any model but the built-in echo. */
export const DEFAULT_MAX_CONCURRENT_INVOCATIONS = 4;

/**
 * `async.maxConcurrentInvocations` of the built-in echo model when the endpoint gives none: it
 * answers at once, so the calls in flight, not the model, bound its throughput; 64 lets batches
 * of claims, object commits and finishes form (see the async row (b) of `npm run bench`).
 */
export const ECHO_MAX_CONCURRENT_INVOCATIONS = 64;

/** The default calls in flight per instance of `model`. */
function defaultMaxConcurrentInvocations(model: ModelConfig): number {
  return model.kind === 'builtin' && model.builtin === 'echo' ? ECHO_MAX_CONCURRENT_INVOCATIONS : DEFAULT_MAX_CONCURRENT_INVOCATIONS;
}

function parseS3Path(uri: string): S3Path {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return { bucket, prefix };
}

function resolveObjects(raw: z.output<typeof objectsSchema>): ObjectsConfig {
  // objects.s3 may stay in the file while the backend is local (it is then unused).
  if (raw.backend === 'local') return { backend: 'local' };
  const { s3 } = raw;
  return {
    backend: 's3',
    s3: {
      region: s3.region,
      forcePathStyle: s3.forcePathStyle,
      ...(s3.endpoint !== undefined ? { endpoint: s3.endpoint.replace(/\/+$/, '') } : {}),
      ...(s3.accessKeyId !== undefined && s3.secretAccessKey !== undefined ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
    },
  };
}

function resolveTopics(raw: z.output<typeof configFileSchema>['topics']): Record<string, TopicConfig> {
  const topics: Record<string, TopicConfig> = {};
  for (const [name, t] of Object.entries(raw)) {
    if (t.webhook !== undefined) {
      topics[name] = { name, target: { kind: 'webhook', url: t.webhook.url, secret: t.webhook.secret, timeoutMs: t.webhook.timeoutSeconds * 1000 } };
    } else if (t.sns !== undefined) {
      const s = t.sns;
      topics[name] = {
        name,
        target: {
          kind: 'sns',
          topicArn: s.topicArn,
          region: s.region ?? s.topicArn.split(':')[3] ?? 'us-east-1',
          ...(s.endpoint !== undefined ? { endpoint: s.endpoint.replace(/\/+$/, '') } : {}),
          ...(s.accessKeyId !== undefined && s.secretAccessKey !== undefined ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey } } : {}),
        },
      };
    }
  }
  return topics;
}

function resolveNotification(raw: z.output<typeof endpointSchema>['async']['notification'], key: string, topics: Readonly<Record<string, TopicConfig>>): EndpointNotificationConfig | undefined {
  if (raw === undefined) return undefined;
  for (const field of ['successTopic', 'errorTopic'] as const) {
    const name = raw[field];
    if (name !== undefined && !Object.hasOwn(topics, name)) {
      const known = Object.keys(topics);
      throw new ConfigError(`${key}.${field}`, `unknown topic ${name} (${known.length > 0 ? `topics: ${known.join(', ')}` : 'no topics: section defines any'})`);
    }
  }
  return Object.assign(
    {
      includeBodyOnSuccess: raw.includeInferenceResponseIn.includes('SUCCESS_NOTIFICATION_TOPIC'),
      includeBodyOnError: raw.includeInferenceResponseIn.includes('ERROR_NOTIFICATION_TOPIC'),
    },
    raw.successTopic !== undefined ? { successTopic: raw.successTopic } : {},
    raw.errorTopic !== undefined ? { errorTopic: raw.errorTopic } : {},
  );
}

/**
 * Resolves one parsed endpoint (file or API) to its EndpointConfig; `key` prefixes the keys of
 * its errors (`endpoints.0`); relative `cwd`s are resolved against `configDir`.
 * @throws ConfigError naming the bad key.
 */
export function resolveEndpoint(e: z.output<typeof endpointSchema>, key: string, configDir: string, topics: Readonly<Record<string, TopicConfig>>): EndpointConfig {
  const m = e.model;
  const pingIntervalMs = m.pingIntervalSeconds * 1000;
  const startTimeoutMs = m.startTimeoutSeconds * 1000;
  const model: ModelConfig = m.url !== undefined
    ? { kind: 'url', url: m.url.replace(/\/+$/, ''), pingIntervalMs }
    : m.command !== undefined
      ? { kind: 'command', command: m.command, env: m.env ?? {}, ...(m.cwd !== undefined ? { cwd: resolvePath(configDir, m.cwd) } : {}), startTimeoutMs, pingIntervalMs }
      : { kind: 'builtin', builtin: m.builtin ?? 'echo', startTimeoutMs, pingIntervalMs };
  if (m.url !== undefined && (e.instances.min !== 1 || e.instances.max !== 1)) {
    throw new ConfigError(`${key}.instances`, 'instances apply to command and built-in models; a url model is one server');
  }
  return {
    name: e.name,
    model,
    instances: { min: e.instances.min, max: e.instances.max, targetBacklogPerInstance: e.instances.targetBacklogPerInstance, idleTimeoutMs: e.instances.idleTimeoutSeconds * 1000 },
    realtime: { maxBodyBytes: e.realtime.maxBodyBytes, timeoutMs: e.realtime.timeoutSeconds * 1000, startTimeoutMs: e.realtime.startTimeoutSeconds * 1000, maxWaiting: e.realtime.maxWaiting },
    async: {
      output: parseS3Path(e.async.outputPath ?? `s3://${DEFAULT_ASYNC_BUCKET}/${e.name}/output`),
      failure: parseS3Path(e.async.failurePath ?? `s3://${DEFAULT_ASYNC_BUCKET}/${e.name}/failures`),
      maxConcurrentInvocations: e.async.maxConcurrentInvocations ?? defaultMaxConcurrentInvocations(model),
      maxAttempts: e.async.maxAttempts,
      ...optionalNotification(resolveNotification(e.async.notification, `${key}.async.notification`, topics)),
      ...(e.async.retry ? {
        retry: {
          maxAttempts: e.async.retry.maxAttempts,
          on: [...new Set(e.async.retry.on)],
          backoffMs: e.async.retry.backoffSeconds * 1000,
          maxBackoffMs: Math.max(e.async.retry.backoffSeconds, e.async.retry.maxBackoffSeconds) * 1000,
        },
      } : {}),
    },
  };
}

function resolveEndpoints(raw: z.output<typeof endpointSchema>[], configDir: string, topics: Readonly<Record<string, TopicConfig>> = {}): EndpointConfig[] {
  const seen = new Set<string>();
  return raw.map((e, i) => {
    if (seen.has(e.name)) throw new ConfigError(`endpoints.${i}.name`, `duplicate endpoint name ${e.name}`);
    seen.add(e.name);
    return resolveEndpoint(e, `endpoints.${i}`, configDir, topics);
  });
}

function optionalNotification(n: EndpointNotificationConfig | undefined): { notification?: EndpointNotificationConfig } {
  return n === undefined ? {} : { notification: n };
}

/** Whether `host` binds only the loopback interface. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

function formatIssue(issue: z.core.$ZodIssue, prefix: string): ConfigError {
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = [path, issue.keys[0]].filter(Boolean).join('.');
    return new ConfigError(key, `unknown key (allowed keys are listed in the README's configuration reference)`);
  }
  return new ConfigError(path || '(root)', issue.message);
}

/** Reads and parses the YAML file; `key` is how the file was named (`--config` or `INFERQ_CONFIG`). Errors are one line. */
function readConfigFile(file: string, key: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(key, `cannot read configuration file ${file}: ${systemErrorReason(err) ?? String(err)}`);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (err) {
    // The yaml package's message is its first line; the lines after it quote the file.
    const first = err instanceof YAMLError ? err.message.split('\n')[0]!.replace(/:\s*$/, '') : String(err);
    throw new ConfigError(key, `${file} is not valid YAML: ${first}`);
  }
}

/** The `queue:` section with INFERQ_QUEUE_URL and PGPASSWORD applied. */
function resolveQueue(raw: z.output<typeof configFileSchema>['queue']): QueueConfig {
  if (raw.backend === 'sqlite') {
    if (raw.url !== undefined) throw new ConfigError('queue.url', 'is only for queue.backend: postgres');
    return { backend: 'sqlite' };
  }
  const url = raw.url ?? process.env['INFERQ_QUEUE_URL'];
  if (url === undefined || url === '') throw new ConfigError('queue.url', 'queue.backend: postgres needs queue.url or the INFERQ_QUEUE_URL environment variable');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol) || parsed.hostname === '') {
    throw new ConfigError(raw.url !== undefined ? 'queue.url' : 'INFERQ_QUEUE_URL', 'must be a postgres://user@host:5432/database URL');
  }
  const password = parsed.password === '' ? process.env['PGPASSWORD'] : undefined;
  return { backend: 'postgres', url, schema: raw.schema, maxConnections: raw.maxConnections, ...(password !== undefined ? { password } : {}) };
}

/** `worker:` with `listen` parsed and the forwarding key settled (INFERQ_FORWARD_SECRET, or derived on loopback). */
function resolveWorker(raw: z.output<typeof configFileSchema>['worker'], credentials: readonly { readonly secretAccessKey: string }[]): ResolvedConfig['worker'] {
  const cut = raw.listen.lastIndexOf(':');
  const host = raw.listen.slice(0, cut).replace(/^\[(.*)\]$/, '$1');
  const port = Number(raw.listen.slice(cut + 1));
  if (port > 65535) throw new ConfigError('worker.listen', 'the port must be from 0 to 65535');
  const envSecret = process.env['INFERQ_FORWARD_SECRET'];
  if (raw.forwardSecret === undefined && envSecret !== undefined && envSecret !== '' && envSecret.length < 16) {
    throw new ConfigError('INFERQ_FORWARD_SECRET', 'must be at least 16 characters');
  }
  const secret = raw.forwardSecret ?? (envSecret !== undefined && envSecret !== '' ? envSecret : undefined);
  if (secret === undefined && !isLoopbackHost(host)) {
    throw new ConfigError('worker.forwardSecret', `worker.listen ${raw.listen} is not loopback: forwarded real-time calls must be authenticated, so set worker.forwardSecret or INFERQ_FORWARD_SECRET (the same in every API and worker process)`);
  }
  const derived = createHash('sha256').update('inferq-forward\0').update(credentials.map((c) => c.secretAccessKey).sort().join('\0')).digest('hex');
  const { listen: _listen, forwardSecret: _secret, ...rest } = raw;
  return Object.assign({}, rest, { listen: { host, port }, forwardKey: secret ?? derived });
}

/** Freezes `value` and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the configuration from an optional YAML file, flags and defaults.
 * @throws ConfigError naming the first bad key.
 */
export function resolveConfig(overrides: ConfigOverrides = {}, cwd: string = process.cwd()): ResolvedConfig {
  const configFile = overrides.configFile ?? process.env['INFERQ_CONFIG'];
  const raw = configFile ? readConfigFile(resolvePath(cwd, configFile), overrides.configFile !== undefined ? '--config' : 'INFERQ_CONFIG') : {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('(root)', 'the configuration must be a YAML mapping');
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) throw formatIssue(parsed.error.issues[0]!, '');
  const server = { ...parsed.data.server };
  if (overrides.host !== undefined) server.host = overrides.host;
  if (overrides.port !== undefined) {
    if (!Number.isInteger(overrides.port) || overrides.port < 0 || overrides.port > 65535) throw new ConfigError('--port', 'must be an integer from 0 to 65535');
    server.port = overrides.port;
  }
  if (overrides.dataDir !== undefined) server.dataDir = overrides.dataDir;
  const configured = server.credentials;
  const usingDevCredentials = configured.length === 0;
  if (usingDevCredentials && !isLoopbackHost(server.host)) {
    throw new ConfigError('server.credentials', `binding ${server.host} (not loopback) needs credentials in the config file; the development pair test/test is only accepted on 127.0.0.1, ::1 or localhost`);
  }
  const ids = new Set<string>();
  for (const [i, c] of configured.entries()) {
    if (ids.has(c.accessKeyId)) throw new ConfigError(`server.credentials.${i}.accessKeyId`, `duplicate access key id ${c.accessKeyId}`);
    ids.add(c.accessKeyId);
  }
  const { storageRetryInitialSeconds, storageRetryMaxSeconds } = parsed.data.worker;
  if (storageRetryMaxSeconds < storageRetryInitialSeconds) {
    throw new ConfigError('worker.storageRetryMaxSeconds', `must be at least worker.storageRetryInitialSeconds (${storageRetryInitialSeconds})`);
  }
  const configDir = configFile ? dirname(resolvePath(cwd, configFile)) : cwd;
  const endpointsRaw = parsed.data.endpoints ?? DEFAULT_ENDPOINTS.map((e) => endpointSchema.parse(e));
  for (const [i, e] of endpointsRaw.entries()) {
    if (e.realtime.maxBodyBytes > server.maxUnverifiedBodyBytes) {
      throw new ConfigError(`endpoints.${i}.realtime.maxBodyBytes`, `${e.realtime.maxBodyBytes} is more than server.maxUnverifiedBodyBytes (${server.maxUnverifiedBodyBytes}); such bodies could never be accepted`);
    }
  }
  const topics = resolveTopics(parsed.data.topics);
  const n = parsed.data.notifications;
  if (n.maxBackoffSeconds < n.initialBackoffSeconds) {
    throw new ConfigError('notifications.maxBackoffSeconds', `must be at least notifications.initialBackoffSeconds (${n.initialBackoffSeconds})`);
  }
  return deepFreeze({
    endpoints: resolveEndpoints(endpointsRaw, configDir, topics),
    images: resolveImages(parsed.data.images, configDir),
    topics,
    notifications: { initialBackoffMs: n.initialBackoffSeconds * 1000, maxBackoffMs: n.maxBackoffSeconds * 1000, maxAgeMs: n.maxAgeSeconds * 1000, pollIntervalMs: n.pollIntervalSeconds * 1000 },
    worker: resolveWorker(parsed.data.worker, usingDevCredentials ? [DEV_CREDENTIALS] : configured),
    objects: resolveObjects(parsed.data.objects),
    queue: resolveQueue(parsed.data.queue),
    modelBaseEnv: { ...process.env },
    server: Object.assign({}, server, {
      dataDir: resolvePath(cwd, server.dataDir),
      credentials: usingDevCredentials ? [{ ...DEV_CREDENTIALS }] : configured,
      usingDevCredentials,
    }),
    ...(configFile ? { sourceFile: resolvePath(cwd, configFile) } : {}),
  });
}
