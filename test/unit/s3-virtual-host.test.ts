/**
 * Virtual-hosted–style addressing (no I/O): which Host headers name a bucket under
 * `server.s3VirtualHostDomain` and which are path style, and the config key itself.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, resolveConfig } from '../../src/config/index.js';
import { parseS3Address } from '../../src/s3api/index.js';

const dir = mkdtempSync(join(tmpdir(), 'inferq-vhost-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function address(url: string, host: string | undefined, domain?: string): { bucket?: string; key?: string; fromHost?: string } {
  const a = parseS3Address(url, host === undefined ? {} : { host }, domain);
  return { ...(a.bucket === undefined ? {} : { bucket: a.bucket }), ...(a.key === undefined ? {} : { key: a.key }), ...(a.bucketFromHost === undefined ? {} : { fromHost: a.bucketFromHost }) };
}

test('Host <bucket>.localhost (any port, any case) is virtual-hosted: the whole path is the key', () => {
  assert.deepEqual(address('/dir/a%20b.txt?x=1', 'photos.localhost:8080'), { bucket: 'photos', key: 'dir/a b.txt', fromHost: 'photos' });
  assert.deepEqual(address('/', 'photos.localhost'), { bucket: 'photos', fromHost: 'photos' });
  assert.deepEqual(address('//lead', 'Photos.LocalHost:1'), { bucket: 'photos', key: '/lead', fromHost: 'photos' });
  assert.deepEqual(address('/k', 'my.dotted.bucket.localhost:9'), { bucket: 'my.dotted.bucket', key: 'k', fromHost: 'my.dotted.bucket' });
  assert.deepEqual(address('/k', 'photos.localhost.:80'), { bucket: 'photos', key: 'k', fromHost: 'photos' });
});

test('every other Host is path style, never misrouted', () => {
  for (const host of ['127.0.0.1:8080', 'localhost:8080', 'localhost', 'example.com', 'my.bucket.example.com', '[::1]:8080', '.localhost', 'localhost.evil.com', 'notlocalhost', undefined]) {
    assert.deepEqual(address('/b/k/x', host), { bucket: 'b', key: 'k/x' }, String(host));
  }
  assert.deepEqual(address('/', '127.0.0.1:1'), {});
});

test('the domain is configurable; empty turns virtual hosting off', () => {
  assert.deepEqual(address('/k', 'my.bucket.s3.example.com', 's3.example.com'), { bucket: 'my.bucket', key: 'k', fromHost: 'my.bucket' });
  assert.deepEqual(address('/b/k', 's3.example.com', 's3.example.com'), { bucket: 'b', key: 'k' });
  assert.deepEqual(address('/b/k', 'photos.localhost', 's3.example.com'), { bucket: 'b', key: 'k' });
  assert.deepEqual(address('/b/k', 'photos.localhost', ''), { bucket: 'b', key: 'k' });
});

test('server.s3VirtualHostDomain: default localhost, any DNS name or empty, anything else names the key', () => {
  const write = (yaml: string): string => {
    const p = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(p, yaml);
    return p;
  };
  assert.equal(resolveConfig({}, dir).server.s3VirtualHostDomain, 'localhost');
  assert.equal(resolveConfig({ configFile: write('server: { s3VirtualHostDomain: s3.example.com }\n') }).server.s3VirtualHostDomain, 's3.example.com');
  assert.equal(resolveConfig({ configFile: write('server: { s3VirtualHostDomain: "" }\n') }).server.s3VirtualHostDomain, '');
  for (const bad of ['"http://x"', '"a..b"', '"-x.com"', '"x:80"']) {
    assert.throws(() => resolveConfig({ configFile: write(`server: { s3VirtualHostDomain: ${bad} }\n`) }), (err: unknown) => err instanceof ConfigError && err.key === 'server.s3VirtualHostDomain', bad);
  }
});
