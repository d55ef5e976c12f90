/** Test helper: the real AWS clients (aws CLI, boto3 via python3, JS SDK v3) pointed at a server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { S3Client } from '@aws-sdk/client-s3';

export const DEV: { readonly accessKeyId: string; readonly secretAccessKey: string } = { accessKeyId: 'test', secretAccessKey: 'test' };
export const REGION = 'us-east-1';

export interface RunResult { code: number; stdout: string; stderr: string }

/** Environment for python/aws CLI children. */
export function awsEnv(url: string, creds: { accessKeyId: string; secretAccessKey: string } = DEV): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_ENDPOINT_URL: url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
}

/** How long one client command may run before it is killed (generous: 2 shared cores). */
export const RUN_TIMEOUT_MS = 100_000;

/** Runs a command and collects its output (never rejects on a non-zero exit; rejects when killed after `timeoutMs`). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = RUN_TIMEOUT_MS): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') { reject(new Error(`${cmd} ${err.killed ? `killed after ${timeoutMs} ms` : 'failed'}: ${err.message}\n${stderr}`, { cause: err })); return; }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs `aws --endpoint-url URL …`. */
export function aws(url: string, args: string[], creds?: { accessKeyId: string; secretAccessKey: string }): Promise<RunResult> {
  return run('aws', ['--endpoint-url', url, ...args], awsEnv(url, creds));
}

/** Python: `err(call, **kw)` runs a boto3 call and returns the [code, message, HTTP status] of the ClientError it raises, or None (needs botocore.exceptions imported). */
export const PY_CLIENT_ERROR = `def err(call, **kw):
    try:
        call(**kw)
    except botocore.exceptions.ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]
    return None
`;

/** Runs a python3 snippet with boto3 available; `url` is in env as AWS_ENDPOINT_URL. */
export function python(url: string, code: string, creds?: { accessKeyId: string; secretAccessKey: string }): Promise<RunResult> {
  return run('python3', ['-c', code], awsEnv(url, creds));
}

/**
 * Runs a boto3 snippet in which `rt` is a sagemaker-runtime client without retries (json, os,
 * botocore.config and botocore.exceptions are imported; `prelude` runs before `code`), asserts it
 * exited 0 and returns the JSON object it printed last.
 */
export async function boto3Runtime(url: string, code: string, prelude = ''): Promise<Record<string, unknown>> {
  const script = `import boto3, json, os, botocore.config, botocore.exceptions\nrt = boto3.client('sagemaker-runtime', config=botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}))\n${prelude}\n${code}`;
  const r = await python(url, script);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** A JS SDK v3 S3 client with default checksum settings. */
export function s3Client(url: string, creds: { accessKeyId: string; secretAccessKey: string } = DEV): S3Client {
  return new S3Client({ endpoint: url, region: REGION, credentials: creds, forcePathStyle: true, maxAttempts: 1 });
}
