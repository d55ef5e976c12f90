/**
 * Settings of inferq's own client commands (`inferq invoke`): which server to talk to and with
 * which credentials. Flags win over the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_REGION / AWS_DEFAULT_REGION), which wins over the defaults
 * (http://127.0.0.1:8080 with the development pair test/test).
 */
import { ConfigError, DEV_CREDENTIALS, type EnvironmentVariable } from './common.js';

/** Where and how the CLI client connects. */
export interface ClientConfig {
  readonly endpointUrl: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

/** The variables the client commands read (`inferq invoke`, `inferq status`), in the order they are consulted. */
export const CLIENT_ENVIRONMENT: readonly EnvironmentVariable[] = Object.freeze([
  { name: 'INFERQ_URL', meaning: 'the server when --endpoint-url is not given' },
  { name: 'AWS_ENDPOINT_URL', meaning: 'the server when neither --endpoint-url nor INFERQ_URL is given (default http://127.0.0.1:8080)' },
  { name: 'AWS_ACCESS_KEY_ID', meaning: 'access key id to sign with (set both or neither; default the development pair test/test)' },
  { name: 'AWS_SECRET_ACCESS_KEY', meaning: 'the secret of AWS_ACCESS_KEY_ID' },
  { name: 'AWS_REGION', meaning: 'signing region (default us-east-1)' },
  { name: 'AWS_DEFAULT_REGION', meaning: 'signing region when AWS_REGION is not set' },
]);

/** Resolves client settings once. @throws ConfigError for a malformed URL or half-given credentials. */
export function resolveClientConfig(flags: { endpointUrl?: string } = {}): ClientConfig {
  const env = process.env;
  const endpointUrl = (flags.endpointUrl ?? env['INFERQ_URL'] ?? env['AWS_ENDPOINT_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(endpointUrl);
  } catch {
    throw new ConfigError('--endpoint-url', `not a URL: ${endpointUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('--endpoint-url', 'must be an http or https URL');
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('AWS_ACCESS_KEY_ID', 'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (then test/test is used)');
  }
  return Object.freeze({
    endpointUrl,
    accessKeyId: accessKeyId ?? DEV_CREDENTIALS.accessKeyId,
    secretAccessKey: secretAccessKey ?? DEV_CREDENTIALS.secretAccessKey,
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
  });
}
