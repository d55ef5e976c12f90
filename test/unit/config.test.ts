import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, resolveConfig } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function file(yaml: string): string {
  const p = join(dir, `c${files++}.yaml`);
  writeFileSync(p, yaml);
  return p;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: loopback, port 8080, dev credentials, frozen', () => {
  const c = resolveConfig({}, '/tmp/x');
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.server.port, 8080);
  assert.equal(c.server.dataDir, '/tmp/x/data');
  assert.equal(c.server.usingDevCredentials, true);
  assert.deepEqual(c.server.credentials, [{ accessKeyId: 'test', secretAccessKey: 'test' }]);
  assert.ok(Object.isFrozen(c.server.credentials[0]));
  assert.throws(() => { (c.server as { port: number }).port = 1; }, TypeError);
});

test('flags override the file', () => {
  const c = resolveConfig({ configFile: file('server: { port: 9000, host: 127.0.0.2 }\n'), port: 9100, dataDir: '/d' });
  assert.equal(c.server.port, 9100);
  assert.equal(c.server.host, '127.0.0.2');
  assert.equal(c.server.dataDir, '/d');
});

test('configured credentials replace the dev pair', () => {
  const c = resolveConfig({ configFile: file('server:\n  credentials:\n    - { accessKeyId: AKIDX, secretAccessKey: s3cret }\n') });
  assert.equal(c.server.usingDevCredentials, false);
  assert.deepEqual(c.server.credentials, [{ accessKeyId: 'AKIDX', secretAccessKey: 's3cret' }]);
});

test('unknown keys and bad values are rejected with the key named', () => {
  assert.equal(configError(() => resolveConfig({ configFile: file('server: { prot: 1 }\n') })).key, 'server.prot');
  assert.equal(configError(() => resolveConfig({ configFile: file('sever: {}\n') })).key, 'sever');
  assert.equal(configError(() => resolveConfig({ configFile: file('server: { port: "x" }\n') })).key, 'server.port');
  assert.equal(configError(() => resolveConfig({ configFile: file('server: { port: 70000 }\n') })).key, 'server.port');
  assert.equal(configError(() => resolveConfig({ configFile: file('server: { credentials: [ { accessKeyId: AKID9 } ] }\n') })).key, 'server.credentials.0.secretAccessKey');
  assert.equal(configError(() => resolveConfig({ configFile: file('- a\n- b\n') })).key, '(root)');
  assert.equal(configError(() => resolveConfig({ configFile: file('server: [\n') })).key, '--config');
  assert.equal(configError(() => resolveConfig({ configFile: '/nonexistent/inferq.yaml' })).key, '--config');
  assert.equal(configError(() => resolveConfig({ port: 1.5 })).key, '--port');
});

test('queue durability: power-loss by default, process-crash on request, nothing else', () => {
  assert.equal(resolveConfig({}, '/tmp/x').server.queueDurability, 'power-loss');
  assert.equal(resolveConfig({ configFile: file('server: { queueDurability: process-crash }\n') }).server.queueDurability, 'process-crash');
  const err = configError(() => resolveConfig({ configFile: file('server: { queueDurability: fast }\n') }));
  assert.equal(err.key, 'server.queueDurability');
  assert.match(err.message, /power-loss/);
});

test('maxConcurrentInvocations: 64 for the built-in echo model, 4 for any other, an explicit value wins', () => {
  const c = resolveConfig({ configFile: file([
    'endpoints:',
    '  - { name: e, model: { builtin: echo } }',
    '  - { name: v, model: { builtin: vad } }',
    '  - { name: u, model: { url: "http://127.0.0.1:9" } }',
    '  - { name: c, model: { command: [node, m.js] } }',
    '  - { name: e2, model: { builtin: echo }, async: { maxConcurrentInvocations: 2 } }',
  ].join('\n')) });
  assert.deepEqual(c.endpoints.map((e) => [e.name, e.async.maxConcurrentInvocations]), [['e', 64], ['v', 4], ['u', 4], ['c', 4], ['e2', 2]]);
  assert.equal(resolveConfig({}, '/tmp/x').endpoints.find((e) => e.name === 'echo')?.async.maxConcurrentInvocations, 64, 'the default echo endpoint');
});

test('body limits: 64 MiB of unverified bodies and a 30 s body timeout by default; the budget must fit every real-time body', () => {
  const c = resolveConfig({}, '/tmp/x');
  assert.equal(c.server.maxUnverifiedBodyBytes, 64 * 1024 * 1024);
  assert.equal(c.server.bodyTimeoutSeconds, 30);
  const set = resolveConfig({ configFile: file('server: { maxUnverifiedBodyBytes: 8388608, bodyTimeoutSeconds: 1.5 }\n') });
  assert.deepEqual([set.server.maxUnverifiedBodyBytes, set.server.bodyTimeoutSeconds], [8388608, 1.5]);
  assert.equal(configError(() => resolveConfig({ configFile: file('server: { bodyTimeoutSeconds: 0 }\n') })).key, 'server.bodyTimeoutSeconds');
  const tooSmall = configError(() => resolveConfig({ configFile: file('server: { maxUnverifiedBodyBytes: 1048576 }\nendpoints:\n  - { name: e, model: { builtin: echo } }\n') }));
  assert.equal(tooSmall.key, 'endpoints.0.realtime.maxBodyBytes');
  assert.match(tooSmall.message, /server\.maxUnverifiedBodyBytes/);
});

test('a non-loopback bind without credentials is refused; with credentials it is allowed', () => {
  const err = configError(() => resolveConfig({ host: '0.0.0.0' }));
  assert.equal(err.key, 'server.credentials');
  assert.match(err.message, /not loopback/);
  const ok = resolveConfig({ host: '0.0.0.0', configFile: file('server: { credentials: [ { accessKeyId: AKID1, secretAccessKey: x } ] }\n') });
  assert.equal(ok.server.host, '0.0.0.0');
});

test('duplicate access key ids are rejected', () => {
  const err = configError(() => resolveConfig({ configFile: file('server: { credentials: [ { accessKeyId: AKID1, secretAccessKey: x }, { accessKeyId: AKID1, secretAccessKey: y } ] }\n') }));
  assert.equal(err.key, 'server.credentials.1.accessKeyId');
});

test('worker.storageRetry*: defaults 1 s and 30 s; the longest wait may not be shorter than the first', () => {
  const c = resolveConfig({}, '/tmp/x');
  assert.equal(c.worker.storageRetryInitialSeconds, 1);
  assert.equal(c.worker.storageRetryMaxSeconds, 30);
  const set = resolveConfig({ configFile: file('worker: { storageRetryInitialSeconds: 0.5, storageRetryMaxSeconds: 5 }\n') });
  assert.equal(set.worker.storageRetryInitialSeconds, 0.5);
  assert.equal(set.worker.storageRetryMaxSeconds, 5);
  assert.equal(configError(() => resolveConfig({ configFile: file('worker: { storageRetryInitialSeconds: 10, storageRetryMaxSeconds: 5 }\n') })).key, 'worker.storageRetryMaxSeconds');
  assert.equal(configError(() => resolveConfig({ configFile: file('worker: { storageRetryInitialSeconds: 0 }\n') })).key, 'worker.storageRetryInitialSeconds');
});

test('objects: the embedded store by default; s3 with an endpoint, a region, path style and optional keys', () => {
  assert.deepEqual(resolveConfig({}, '/tmp/x').objects, { backend: 'local' });
  const s3 = resolveConfig({ configFile: file('objects:\n  backend: s3\n  s3: { endpoint: "http://minio:9000/", region: eu-west-1, forcePathStyle: true, accessKeyId: AK, secretAccessKey: SK }\n') });
  assert.deepEqual(s3.objects, { backend: 's3', s3: { endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: true, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } } });
  assert.ok(Object.isFrozen(s3.objects));
  const aws = resolveConfig({ configFile: file('objects: { backend: s3 }\n') });
  assert.deepEqual(aws.objects, { backend: 's3', s3: { region: 'us-east-1', forcePathStyle: false } }, 'AWS S3 with the default credential chain');
  assert.deepEqual(resolveConfig({ configFile: file('objects: { backend: local, s3: { region: eu-west-1 } }\n') }).objects, { backend: 'local' });
  assert.equal(configError(() => resolveConfig({ configFile: file('objects: { backend: minio }\n') })).key, 'objects.backend');
  assert.equal(configError(() => resolveConfig({ configFile: file('objects: { backend: s3, s3: { endpoint: "ftp://x" } }\n') })).key, 'objects.s3.endpoint');
  assert.equal(configError(() => resolveConfig({ configFile: file('objects: { backend: s3, s3: { accessKeyId: AK } }\n') })).key, 'objects.s3.secretAccessKey');
  assert.equal(configError(() => resolveConfig({ configFile: file('objects: { backend: s3, s3: { bucket: x } }\n') })).key, 'objects.s3.bucket');
});

/** Runs `fn` with the environment variables in `vars` set (undefined: unset), restoring them after. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return fn();
  } finally {
    apply(saved);
  }
}

test('queue: sqlite by default; postgres takes its URL from the file or INFERQ_QUEUE_URL and the password from the URL or PGPASSWORD', () => {
  withEnv({ INFERQ_QUEUE_URL: undefined, PGPASSWORD: undefined }, () => {
    assert.deepEqual(resolveConfig({}, '/tmp/x').queue, { backend: 'sqlite' });
    const fromFile = resolveConfig({ configFile: file('queue: { backend: postgres, url: "postgres://u:pw@db:5432/q" }\n') }).queue;
    assert.deepEqual(fromFile, { backend: 'postgres', url: 'postgres://u:pw@db:5432/q', schema: 'inferq', maxConnections: 10 });
    const pooled = resolveConfig({ configFile: file('queue: { backend: postgres, url: "postgres://u@db/q", maxConnections: 40 }\n') }).queue;
    assert.equal(pooled.backend === 'postgres' ? pooled.maxConnections : undefined, 40);
    assert.equal(configError(() => resolveConfig({ configFile: file('queue: { backend: postgres, url: "postgres://u@db/q", maxConnections: 1 }\n') })).key, 'queue.maxConnections');
    assert.equal(configError(() => resolveConfig({ configFile: file('queue: { backend: postgres }\n') })).key, 'queue.url');
    assert.equal(configError(() => resolveConfig({ configFile: file('queue: { url: "postgres://db/q" }\n') })).key, 'queue.url');
    assert.equal(configError(() => resolveConfig({ configFile: file('queue: { backend: postgres, url: "mysql://db/q" }\n') })).key, 'queue.url');
    assert.equal(configError(() => resolveConfig({ configFile: file('queue: { backend: postgres, url: "postgres://db/q", schema: "Bad-Name" }\n') })).key, 'queue.schema');
    assert.equal(configError(() => resolveConfig({ configFile: file('queue: { backend: redis }\n') })).key, 'queue.backend');
  });
  withEnv({ INFERQ_QUEUE_URL: 'postgres://env@db:5432/q', PGPASSWORD: 'secret' }, () => {
    const fromEnv = resolveConfig({ configFile: file('queue: { backend: postgres, schema: jobs_a }\n') }).queue;
    assert.deepEqual(fromEnv, { backend: 'postgres', url: 'postgres://env@db:5432/q', password: 'secret', schema: 'jobs_a', maxConnections: 10 });
    const fileWins = resolveConfig({ configFile: file('queue: { backend: postgres, url: "postgres://u:pw@db/q" }\n') }).queue;
    assert.deepEqual(fileWins, { backend: 'postgres', url: 'postgres://u:pw@db/q', schema: 'inferq', maxConnections: 10 }, 'a password in the URL wins over PGPASSWORD');
    assert.deepEqual(resolveConfig({}, '/tmp/x').queue, { backend: 'sqlite' }, 'INFERQ_QUEUE_URL alone does not switch the backend');
  });
});

test('async.retry: off by default; defaults, 429 as a number, the backoff cap, bad keys named', () => {
  const endpoint = (retry: string): string => file(`endpoints:\n  - name: e\n    model: { builtin: echo }\n    async: ${retry}\n`);
  assert.equal(resolveConfig({ configFile: endpoint('{}') }).endpoints[0]?.async.retry, undefined);
  assert.deepEqual(resolveConfig({ configFile: endpoint('{ retry: {} }') }).endpoints[0]?.async.retry, {
    maxAttempts: 3, on: ['5xx', '429', 'timeout', 'connection'], backoffMs: 1000, maxBackoffMs: 60_000,
  });
  const custom = resolveConfig({ configFile: endpoint('{ retry: { maxAttempts: 5, on: [429, timeout], backoffSeconds: 2, maxBackoffSeconds: 1 } }') }).endpoints[0]?.async.retry;
  assert.deepEqual(custom, { maxAttempts: 5, on: ['429', 'timeout'], backoffMs: 2000, maxBackoffMs: 2000 });
  assert.equal(configError(() => resolveConfig({ configFile: endpoint('{ retry: { on: [4xx] } }') })).key, 'endpoints.0.async.retry.on.0');
  assert.equal(configError(() => resolveConfig({ configFile: endpoint('{ retry: { on: [] } }') })).key, 'endpoints.0.async.retry.on');
  assert.equal(configError(() => resolveConfig({ configFile: endpoint('{ retry: { attempts: 2 } }') })).key, 'endpoints.0.async.retry.attempts');
  assert.equal(configError(() => resolveConfig({ configFile: endpoint('{ retry: { maxAttempts: 0 } }') })).key, 'endpoints.0.async.retry.maxAttempts');
});

test('worker.listen, advertiseUrl and the forwarding key: loopback derives a key, anything else needs a secret', () => {
  withEnv({ INFERQ_FORWARD_SECRET: undefined }, () => {
    const c = resolveConfig({}, '/tmp/x');
    assert.deepEqual(c.worker.listen, { host: '127.0.0.1', port: 0 });
    assert.equal(c.worker.advertiseUrl, undefined);
    assert.match(c.worker.forwardKey, /^[0-9a-f]{64}$/, 'derived from the dev credentials');
    assert.equal(resolveConfig({}, '/tmp/y').worker.forwardKey, c.worker.forwardKey, 'the same credentials derive the same key');
    const v6 = resolveConfig({ configFile: file('worker: { listen: "[::1]:9090" }\n') });
    assert.deepEqual(v6.worker.listen, { host: '::1', port: 9090 });
    const open = configError(() => resolveConfig({ configFile: file('worker: { listen: "0.0.0.0:9090" }\n') }));
    assert.equal(open.key, 'worker.forwardSecret');
    assert.match(open.message, /not loopback.*forwardSecret or INFERQ_FORWARD_SECRET/);
    const set = resolveConfig({ configFile: file('worker: { listen: "0.0.0.0:9090", forwardSecret: "0123456789abcdef", advertiseUrl: "http://10.1.2.3:9090" }\n') });
    assert.equal(set.worker.forwardKey, '0123456789abcdef');
    assert.equal(set.worker.advertiseUrl, 'http://10.1.2.3:9090');
    assert.equal(configError(() => resolveConfig({ configFile: file('worker: { forwardSecret: short }\n') })).key, 'worker.forwardSecret');
    assert.equal(configError(() => resolveConfig({ configFile: file('worker: { listen: "nohost" }\n') })).key, 'worker.listen');
    assert.equal(configError(() => resolveConfig({ configFile: file('worker: { listen: "h:99999" }\n') })).key, 'worker.listen');
  });
  withEnv({ INFERQ_FORWARD_SECRET: 'from-the-environment-1' }, () => {
    const c = resolveConfig({ configFile: file('worker: { listen: "0.0.0.0:0" }\n') });
    assert.equal(c.worker.forwardKey, 'from-the-environment-1');
  });
  withEnv({ INFERQ_FORWARD_SECRET: 'short' }, () => {
    assert.equal(configError(() => resolveConfig({})).key, 'INFERQ_FORWARD_SECRET');
  });
});
