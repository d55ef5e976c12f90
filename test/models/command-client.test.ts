/**
 * The supervising model client with real child processes: environment, readiness, restart after a
 * crash, SIGTERM/SIGKILL on stop, and restart after the start timeout. Waits on events, not sleeps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelCallError, createCommandModelClient, waitForHealthy, type CommandModelClient, type CommandModelClientOptions } from '../../src/models/index.js';
import { FIXTURE_COMMAND, ROOT, call, healthHistory, nextHealth, readAll, recordingLogger } from './helpers.js';
import { alive } from '../helpers/process.js';

function fixtureClient(overrides: Partial<CommandModelClientOptions> = {}): CommandModelClient {
  return createCommandModelClient({
    name: 'fixture',
    command: FIXTURE_COMMAND,
    env: {},
    baseEnv: process.env,
    cwd: ROOT,
    logger: recordingLogger(),
    pingIntervalMs: 100,
    pingTimeoutMs: 500,
    stopGraceMs: 5000,
    restartBackoffMs: { initial: 50, max: 500 },
    ...overrides,
  });
}


async function inspect(client: CommandModelClient): Promise<{ pid: number; env: Record<string, string | undefined> }> {
  const res = await client.invoke(call('', { customAttributes: 'mode=inspect' }));
  assert.equal(res.status, 200);
  return JSON.parse((await readAll(res.body)).toString()) as { pid: number; env: Record<string, string | undefined> };
}

test('starts the command with baseEnv, env and the port variables; becomes healthy; logs output', async () => {
  const logger = recordingLogger();
  const client = fixtureClient({ logger, env: { FIXTURE_TAG: 'from-env', FIXTURE_BASE: 'env-wins' }, baseEnv: { ...process.env, FIXTURE_BASE: 'base', PORT: '1' } });
  const history = healthHistory(client);
  await assert.rejects(client.invoke(call('x')), { name: 'ModelCallError', failure: 'unreachable' });
  await client.start();
  try {
    assert.equal(await waitForHealthy(client, 20_000), true);
    const seen = await inspect(client);
    assert.equal(seen.pid, client.pid());
    assert.deepEqual(seen.env, { SAGEMAKER_BIND_TO_PORT: String(client.port()), PORT: String(client.port()), FIXTURE_TAG: 'from-env', FIXTURE_BASE: 'env-wins' });
    await logger.waitFor(/fixture listening port=\d+ .*"stream":"stdout"/);
    const res = await client.invoke(call('hello', { contentType: 'text/plain' }));
    assert.equal((await readAll(res.body)).toString(), 'hello');
  } finally {
    await client.stop();
  }
  assert.deepEqual(history, ['healthy', 'stopped']);
  await assert.rejects(client.invoke(call('x')), { name: 'ModelCallError', failure: 'unreachable' });
});

test('restarts the process after it is killed: unhealthy, then healthy again with a new pid', async () => {
  const client = fixtureClient();
  await client.start();
  try {
    assert.equal(await waitForHealthy(client, 20_000), true);
    const first = client.pid()!;
    const unhealthy = nextHealth(client, 'unhealthy');
    const starting = nextHealth(client, 'starting');
    process.kill(first, 'SIGKILL');
    await unhealthy;
    await starting;
    assert.equal(await waitForHealthy(client, 20_000), true);
    const second = (await inspect(client)).pid;
    assert.notEqual(second, first);
    assert.equal(second, client.pid());
  } finally {
    await client.stop();
  }
});

test('a crash during a call rejects it without a response (connection-lost, or stale-connection on a reused socket), then the model comes back', async () => {
  const client = fixtureClient();
  await client.start();
  try {
    assert.equal(await waitForHealthy(client, 20_000), true);
    const first = client.pid();
    const back = nextHealth(client, 'healthy');
    await assert.rejects(client.invoke(call('x', { customAttributes: 'mode=crash' })), (err: unknown) => {
      // A crash on a kept-alive socket is indistinguishable from a stale one; the worker retries that once.
      assert.ok(err instanceof ModelCallError && ['connection-lost', 'stale-connection'].includes(err.failure), String(err));
      return true;
    });
    await back;
    assert.notEqual(client.pid(), first);
  } finally {
    await client.stop();
  }
});

test('stop() sends SIGTERM and resolves after the child exits', async () => {
  const logger = recordingLogger();
  const client = fixtureClient({ logger });
  await client.start();
  assert.equal(await waitForHealthy(client, 20_000), true);
  const pid = client.pid()!;
  const started = Date.now();
  await client.stop();
  assert.ok(Date.now() - started < 4000);
  assert.equal(alive(pid), false);
  assert.ok(logger.lines.some((l) => /fixture got SIGTERM/.test(l)));
  assert.equal(client.health(), 'stopped');
  assert.equal(client.pid(), undefined);
});

test('stop() kills a child that ignores SIGTERM after stopGraceMs', async () => {
  const logger = recordingLogger();
  const client = fixtureClient({ logger, env: { FIXTURE_IGNORE_SIGTERM: '1' }, stopGraceMs: 300 });
  await client.start();
  assert.equal(await waitForHealthy(client, 20_000), true);
  const pid = client.pid()!;
  const started = Date.now();
  await client.stop();
  const took = Date.now() - started;
  assert.ok(took >= 290, `stop took ${took} ms`);
  assert.equal(alive(pid), false);
  assert.ok(logger.lines.some((l) => /fixture got SIGTERM/.test(l)));
  assert.ok(logger.lines.some((l) => /ignored SIGTERM; killing it/.test(l)));
});

test('a process that never passes /ping is restarted after startTimeoutMs', async () => {
  const logger = recordingLogger();
  const client = fixtureClient({ logger, env: { FIXTURE_PING: 'fail' }, startTimeoutMs: 600, stopGraceMs: 200 });
  const history = healthHistory(client);
  await client.start();
  try {
    await logger.waitFor(/model process started .*"pid":\d+/);
    await logger.waitFor(/did not become healthy in time/);
    await nextHealth(client, 'starting');
    const started = logger.lines.filter((l) => /model process started/.test(l)).map((l) => /"pid":(\d+)/.exec(l)?.[1]);
    assert.equal(started.length, 2);
    assert.notEqual(started[0], started[1]);
    assert.deepEqual(history, ['unhealthy', 'starting']);
  } finally {
    await client.stop();
  }
  assert.equal(client.health(), 'stopped');
});

test('a spawn failure is retried with backoff and stop() still settles', async () => {
  const logger = recordingLogger();
  const client = fixtureClient({ logger, command: ['/nonexistent/model-binary'] });
  await client.start();
  await logger.waitFor(/model process exited unexpectedly/);
  await logger.waitFor(/restarting model process/);
  await client.stop();
  assert.equal(client.health(), 'stopped');
});
