/**
 * The built-in echo model, started through builtinModelCommand('echo') by the supervising client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { builtinModelCommand, createCommandModelClient, waitForHealthy } from '../../src/models/index.js';
import { ROOT, call, readAll, recordingLogger } from './helpers.js';

test('builtinModelCommand points at the echo server source under tsx', () => {
  const command = builtinModelCommand('echo');
  assert.equal(command[0], process.execPath);
  assert.deepEqual(command.slice(1, 3), ['--import', 'tsx']);
  assert.match(command[3]!, /src\/models\/builtin\/echo-server\.ts$/);
  assert.ok(existsSync(command[3]!));
});

test('the echo model echoes bytes, content type and custom attributes; exits 0 on SIGTERM', async () => {
  const logger = recordingLogger();
  const client = createCommandModelClient({ name: 'echo', command: builtinModelCommand('echo'), env: {}, baseEnv: process.env, cwd: ROOT, logger, pingIntervalMs: 200, stopGraceMs: 5000 });
  await client.start();
  try {
    assert.equal(await waitForHealthy(client, 20_000), true);
    const payload = randomBytes(3 * 1024 * 1024 + 7);
    const res = await client.invoke(call(payload, { contentType: 'image/png', customAttributes: 'a=b' }));
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'image/png');
    assert.equal(res.customAttributes, 'a=b');
    const back = await readAll(res.body);
    assert.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(payload).digest('hex'));

    const chunked = await client.invoke({ body: Readable.from(['x', 'y', 'z']), inferenceId: 'c', signal: new AbortController().signal });
    assert.equal(chunked.contentType, 'application/octet-stream');
    assert.equal(chunked.customAttributes, undefined);
    assert.equal((await readAll(chunked.body)).toString(), 'xyz');
  } finally {
    await client.stop();
  }
  assert.ok(logger.lines.some((l) => /echo model received SIGTERM/.test(l)));
  assert.ok(logger.lines.some((l) => /model process exited .*"code":0/.test(l)));
});
