/**
 * Test helper for endpoints deployed through the SageMaker control plane: boto3 scripts with the
 * `sagemaker`, `sagemaker-runtime`, `s3` and `application-autoscaling` clients (no retries) and
 * python helpers to deploy an endpoint and run its waiters, inferq's own status document of an
 * endpoint (`GET /endpoints/<name>`), a poll with a deadline for states no event announces, and
 * model data: a python model server that answers what it finds in SM_MODEL_DIR, and tar.gz archives
 * made with python's tarfile (any member names, symbolic links).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { invokeRaw, signed } from './async.js';
import { PY_CLIENT_ERROR, python } from './clients.js';

/**
 * Python run before every script: clients `sm`, `rt`, `s3` (path style) and `aas`; `err(call,
 * **kw)` → `[code, message, HTTP status]` or None; `wait(name, waiter, attempts)` → None once the waiter passed,
 * else the WaiterError's text; `deploy(...)` creates model, endpoint config and endpoint.
 */
export const CONTROL_PRELUDE = `import boto3, json, os, time, botocore.config, botocore.exceptions
_cfg = botocore.config.Config(retries={'max_attempts': 1, 'mode': 'standard'}, s3={'addressing_style': 'path'})
sm = boto3.client('sagemaker', config=_cfg)
rt = boto3.client('sagemaker-runtime', config=_cfg)
s3 = boto3.client('s3', config=_cfg)
aas = boto3.client('application-autoscaling', config=_cfg)
${PY_CLIENT_ERROR}def wait(name, waiter='endpoint_in_service', attempts=90):
    try:
        sm.get_waiter(waiter).wait(EndpointName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': attempts})
    except botocore.exceptions.WaiterError as e:
        return str(e)
    return None
def model(name, image, env=None, data=None):
    c = {'Image': image}
    if env: c['Environment'] = env
    if data: c['ModelDataUrl'] = data
    sm.create_model(ModelName=name, PrimaryContainer=c)
def config(name, model_name, count=1, output=None, concurrency=None, notification=None):
    kw = {}
    if output is not None:
        oc = {'S3OutputPath': output + '/out', 'S3FailurePath': output + '/failed'}
        if notification: oc['NotificationConfig'] = notification
        kw['AsyncInferenceConfig'] = {'OutputConfig': oc}
        if concurrency: kw['AsyncInferenceConfig']['ClientConfig'] = {'MaxConcurrentInvocationsPerInstance': concurrency}
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[{'VariantName': 'AllTraffic', 'ModelName': model_name, 'InitialInstanceCount': count, 'InstanceType': 'ml.m5.large'}], **kw)
def deploy(name, image, env=None, data=None, count=1, output=None, concurrency=None):
    model(name + '-model', image, env, data)
    config(name + '-cfg', name + '-model', count, output, concurrency)
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name + '-cfg')
    return sm.describe_endpoint(EndpointName=name)['EndpointStatus']
`;

/** Runs a boto3 script ({@link CONTROL_PRELUDE} first) against `url`, asserts exit 0 and returns the JSON it printed last. */
export async function controlScript(url: string, code: string): Promise<Record<string, unknown>> {
  const r = await python(url, `${CONTROL_PRELUDE}\n${code}`);
  assert.equal(r.code, 0, `boto3 script failed:\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

/** inferq's status document of an endpoint (`GET /endpoints/<name>`), or undefined when it has none. */
export async function endpointStatusDoc(base: string, name: string): Promise<Record<string, unknown> | undefined> {
  const res = await signed(base, 'sagemaker', 'GET', `/endpoints/${encodeURIComponent(name)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET /endpoints/${name}: ${res.status} ${res.body.toString('utf8')}`);
  return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
}

/**
 * Calls `check` every `intervalMs` until it returns a value other than undefined; throws with
 * `what` and the last value seen after `timeoutMs`. For states that no event or long poll reports.
 */
export async function pollUntil<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A model server in python: /invocations answers $SM_MODEL_DIR/weights.txt, the directory and its files. */
export const WEIGHTS_SERVER = `import http.server, json, os
d = os.environ['SM_MODEL_DIR']
class H(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body):
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer(200 if self.path == '/ping' else 404, b'{}')
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        files = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
        self.answer(200, json.dumps({'dir': d, 'weights': open(os.path.join(d, 'weights.txt')).read(), 'files': files}).encode())
    def log_message(self, *a):
        pass
port = int(os.environ.get('SAGEMAKER_BIND_TO_PORT') or os.environ.get('PORT') or 8080)
http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
`;

/**
 * Makes `<dir>/<name>.tar.gz` with python's tarfile: `files` (member name → text, names kept as
 * given, `../` included) and `symlinks` (member name → link target).
 */
export async function makeArchive(dir: string, name: string, files: Record<string, string>, symlinks: Record<string, string> = {}): Promise<string> {
  const file = join(dir, `${name}.tar.gz`);
  const r = await python('http://127.0.0.1:1', `import io, json, tarfile
with tarfile.open(${JSON.stringify(file)}, 'w:gz') as t:
    for name, text in json.loads(${JSON.stringify(JSON.stringify(files))}).items():
        data = text.encode(); info = tarfile.TarInfo(name); info.size = len(data); t.addfile(info, io.BytesIO(data))
    for name, target in json.loads(${JSON.stringify(JSON.stringify(symlinks))}).items():
        info = tarfile.TarInfo(name); info.type = tarfile.SYMTYPE; info.linkname = target; t.addfile(info)
`);
  assert.equal(r.code, 0, r.stderr);
  return file;
}

/** An accepted InvokeEndpointAsync: its id and the locations it answered. */
export interface SubmittedRequest {
  readonly id: string;
  readonly output: string;
  readonly failure: string;
}

/** InvokeEndpointAsync with an inline text body and custom attributes (the fixture's `mode=`); asserts 202. */
export async function submitAsync(base: string, endpoint: string, id: string, body: string, attributes = 'mode=echo'): Promise<SubmittedRequest> {
  const res = await invokeRaw(base, endpoint, { 'x-amzn-sagemaker-inference-id': id, 'x-amzn-sagemaker-content-type': 'text/plain', 'x-amzn-sagemaker-custom-attributes': attributes }, Buffer.from(body));
  assert.equal(res.status, 202, `${id}: ${res.body.toString('utf8')}`);
  return { id, output: String(res.headers['x-amzn-sagemaker-outputlocation']), failure: String(res.headers['x-amzn-sagemaker-failurelocation']) };
}
