/** Test helper: the real AWS clients (aws CLI, boto3 via python3, JS SDK v3) pointed at a server. */
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

/** Runs a command and collects its output (never rejects on a non-zero exit). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') { reject(new Error(err.message, { cause: err })); return; }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs `aws --endpoint-url URL …`. */
export function aws(url: string, args: string[], creds?: { accessKeyId: string; secretAccessKey: string }): Promise<RunResult> {
  return run('aws', ['--endpoint-url', url, ...args], awsEnv(url, creds));
}

/** Runs a python3 snippet with boto3 available; `url` is in env as AWS_ENDPOINT_URL. */
export function python(url: string, code: string, creds?: { accessKeyId: string; secretAccessKey: string }): Promise<RunResult> {
  return run('python3', ['-c', code], awsEnv(url, creds));
}

/** A JS SDK v3 S3 client with default checksum settings. */
export function s3Client(url: string, creds: { accessKeyId: string; secretAccessKey: string } = DEV): S3Client {
  return new S3Client({ endpoint: url, region: REGION, credentials: creds, forcePathStyle: true, maxAttempts: 1 });
}
